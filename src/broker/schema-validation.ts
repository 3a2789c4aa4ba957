// Broker-side schema validation (as Confluent Server offers): on a topic with
// `confluent.key.schema.validation` / `confluent.value.schema.validation`, every produced record's
// key / value must carry a schema id — Confluent's wire format (magic byte 0 + 4-byte id) or the
// `__key_schema_id` / `__value_schema_id` header (magic 0 + 4-byte id) — that the Schema Registry
// has registered under the topic's subject (per `confluent.*.subject.name.strategy`). A batch with
// a record that fails is rejected whole with INVALID_RECORD and a record error naming its index.
//
// The registry is asked over its REST API (`confluent.schema.registry.url`, else the in-process
// registry of `fjord dev` / startBroker({ registry: true })); answers are cached per schema id,
// bounded in entries and time. Topics without the configs never reach this code.
import { ErrorCode } from '../protocol/errors.js';
import { decodeRecords, type BatchInfo, type DecodedRecord } from '../protocol/records/batch.js';

export interface SchemaValidationSettings {
  key: boolean;
  value: boolean;
  keyStrategy: string;
  valueStrategy: string;
}

const TOPIC_NAME_STRATEGY = 'io.confluent.kafka.serializers.subject.TopicNameStrategy';
const RECORD_NAME_STRATEGY = 'io.confluent.kafka.serializers.subject.RecordNameStrategy';
const KEY_HEADER = '__key_schema_id';
const VALUE_HEADER = '__value_schema_id';
const CACHE_ENTRIES = 10_000;
/** Subjects of an id can grow (the same schema registered under another subject) or shrink. */
const KNOWN_TTL_MS = 60_000;
/** An unknown id may be registered a moment later: ask again soon. */
const UNKNOWN_TTL_MS = 1_000;
const REQUEST_TIMEOUT_MS = 5_000;

interface SchemaInfo {
  /** Subjects the id is registered under; empty when the registry does not know the id. */
  subjects: string[];
  /** Fully qualified record name (for the record-name strategies), when the schema has one. */
  recordName: string | undefined;
}

export type ValidationFailure = { errorCode: number; message: string; recordIndex?: number };

export class SchemaValidator {
  private readonly cache = new Map<number, { at: number; info: SchemaInfo }>();
  private readonly inFlight = new Map<number, Promise<SchemaInfo>>();
  /** Set by startBroker / `fjord dev` when they run the registry in this process. */
  localRegistryUrl: string | undefined;

  constructor(private readonly configuredUrl: () => string | null) {}

  private registryUrl(): string | undefined {
    const url = this.configuredUrl() ?? this.localRegistryUrl;
    return url ? url.replace(/\/+$/, '') : undefined;
  }

  /**
   * Checks every record of the batches (in request order); null when all pass. Decoding
   * decompresses, so this runs only for topics with validation on.
   */
  async validate(topic: string, buf: Buffer, batches: readonly BatchInfo[], settings: SchemaValidationSettings): Promise<ValidationFailure | null> {
    const base = this.registryUrl();
    if (!base) {
      return { errorCode: ErrorCode.INVALID_RECORD, message: `Topic ${topic} requires schema validation, but the broker has no Schema Registry (set confluent.schema.registry.url).` };
    }
    let recordIndex = 0;
    for (const b of batches) {
      let records: DecodedRecord[];
      try {
        records = await decodeRecords(buf, b.position);
      } catch (err) {
        return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: (err as Error).message };
      }
      for (const r of records) {
        for (const [isKey, on] of [[true, settings.key], [false, settings.value]] as const) {
          if (!on) continue;
          const reason = await this.check(base, topic, r, isKey, isKey ? settings.keyStrategy : settings.valueStrategy);
          if (reason === null) continue;
          if (typeof reason !== 'string') return reason;
          return { errorCode: ErrorCode.INVALID_RECORD, recordIndex, message: `Record ${recordIndex} of ${topic}: ${isKey ? 'key' : 'value'} ${reason}` };
        }
        recordIndex++;
      }
    }
    return null;
  }

  /** null = valid; a string = why not; a failure = the registry could not be asked. */
  private async check(base: string, topic: string, r: DecodedRecord, isKey: boolean, strategy: string): Promise<string | ValidationFailure | null> {
    const data = isKey ? r.key : r.value;
    // A null key or value (a tombstone) has no schema to check, as in Confluent Server.
    if (data === null) return null;
    const header = r.headers.find((h) => h.key === (isKey ? KEY_HEADER : VALUE_HEADER));
    const carrier = header?.value ?? data;
    if (carrier.length < 5 || carrier[0] !== 0) {
      return header
        ? `header ${header.key} does not hold a schema id (magic byte 0 + 4-byte id).`
        : 'does not start with a schema id (magic byte 0 + 4-byte id).';
    }
    const id = carrier.readInt32BE(1);
    let info: SchemaInfo;
    try {
      info = await this.lookup(base, id);
    } catch (err) {
      return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: `Schema Registry at ${base} could not be asked about schema id ${id}: ${(err as Error).message}` };
    }
    if (info.subjects.length === 0) return `has schema id ${id}, which the Schema Registry does not know.`;
    const suffix = isKey ? 'key' : 'value';
    let subject: string;
    if (strategy === TOPIC_NAME_STRATEGY) subject = `${topic}-${suffix}`;
    else if (!info.recordName) return `has schema id ${id}, whose schema has no record name for ${strategy.split('.').pop()}.`;
    else subject = strategy === RECORD_NAME_STRATEGY ? info.recordName : `${topic}-${info.recordName}`;
    if (!info.subjects.includes(subject)) return `has schema id ${id}, which is not registered under subject ${subject}.`;
    return null;
  }

  private lookup(base: string, id: number): Promise<SchemaInfo> {
    const hit = this.cache.get(id);
    const now = Date.now();
    if (hit && now - hit.at < (hit.info.subjects.length > 0 ? KNOWN_TTL_MS : UNKNOWN_TTL_MS)) return Promise.resolve(hit.info);
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.fetchInfo(base, id)
        .then((info) => {
          this.cache.delete(id);
          this.cache.set(id, { at: Date.now(), info });
          // Bounded: the oldest entries go first (Map iterates in insertion order).
          while (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
          return info;
        })
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  private async fetchInfo(base: string, id: number): Promise<SchemaInfo> {
    const get = async (path: string): Promise<unknown> => {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: { accept: 'application/vnd.schemaregistry.v1+json' } });
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status} for ${path}`);
      return res.json();
    };
    const versions = (await get(`/schemas/ids/${id}/versions`)) as { subject: string; version: number }[] | undefined;
    if (!versions || versions.length === 0) return { subjects: [], recordName: undefined };
    const schema = (await get(`/schemas/ids/${id}`)) as { schema?: string; schemaType?: string } | undefined;
    return { subjects: versions.map((v) => v.subject), recordName: schema?.schema ? recordNameOf(schema.schema, schema.schemaType ?? 'AVRO') : undefined };
  }
}

/** The record name Confluent's record-name strategies use: Avro full name, first Protobuf message, JSON title. */
function recordNameOf(schema: string, type: string): string | undefined {
  try {
    if (type === 'PROTOBUF') {
      const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(schema)?.[1];
      const msg = /^\s*message\s+(\w+)/m.exec(schema)?.[1];
      return msg ? (pkg ? `${pkg}.${msg}` : msg) : undefined;
    }
    const parsed = JSON.parse(schema) as { name?: string; namespace?: string; title?: string };
    if (type === 'JSON') return typeof parsed.title === 'string' ? parsed.title : undefined;
    if (typeof parsed.name !== 'string') return undefined;
    return parsed.name.includes('.') || !parsed.namespace ? parsed.name : `${parsed.namespace}.${parsed.name}`;
  } catch {
    return undefined;
  }
}
