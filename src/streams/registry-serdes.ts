// Avro, JSON Schema and Protobuf serdes over a Confluent-compatible schema registry (Fjord's
// built-in one, or Confluent's): Confluent's wire format (magic byte 0, 4-byte big-endian schema
// id, then Avro binary / JSON text / message-index path + Protobuf binary), so Confluent
// serializers in any language read what they write and the other way round. Serdes are
// synchronous, so schema ids and writer schemas are fetched ahead: `await serde.prefetch()`,
// which KafkaStreams.start() does for every registry serde created (prefetchRegistrySerdes).
import avro from 'avsc';
import { Ajv, type ValidateFunction } from 'ajv';
import protobuf from 'protobufjs';
import { parseSchema, type SchemaType } from '../registry/schemas.js';
import type { Serde } from './serdes.js';

export interface RegistrySerdeConfig {
  'schema.registry.url': string;
  /** Writer (and reader) schema; required to serialize. Without it, records decode with their writer schema. */
  schema?: object | string;
  /** Key serde (subject `<topic>-key`) instead of value (`<topic>-value`). */
  isKey?: boolean;
  /** Topics this serde writes or reads under TopicNameStrategy (their subjects are prefetched). */
  topics?: string[];
  /** Register the writer schema under each subject (default true), else look it up. */
  'auto.register.schemas'?: boolean;
  /** TopicNameStrategy (default) or RecordNameStrategy (subject = the record's full name). */
  'subject.name.strategy'?: 'TopicNameStrategy' | 'RecordNameStrategy';
  'basic.auth.user.info'?: string;
}

export type AvroSerdeConfig = RegistrySerdeConfig;
export type JsonSchemaSerdeConfig = RegistrySerdeConfig;

export interface ProtobufSerdeConfig extends RegistrySerdeConfig {
  /** `.proto` text of the writer schema. */
  schema?: string;
  /** The message type to write (default: the file's first top-level message). */
  messageName?: string;
}

const created = new Set<RegistrySerde<any>>();

/**
 * Prefetches every registry serde made so far (KafkaStreams.start() calls it before processing). A serde
 * that fails (registry down, incompatible schema) is reported, not thrown: it may belong to another
 * app in this process, and using it fails with a clear error anyway.
 */
export async function prefetchRegistrySerdes(): Promise<Error[]> {
  const results = await Promise.allSettled([...created].map((s) => s.prefetch()));
  return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
}

/** Registry access, subjects, prefetching and the wire-format header, shared by the three formats. */
abstract class RegistrySerde<T> implements Serde<T> {
  protected abstract readonly schemaType: SchemaType;
  private readonly url: string;
  /** The writer schema's text as registered (avsc's canonical form would drop field defaults the registry checks). */
  protected readonly writerText: string | null;
  private readonly idBySubject = new Map<string, number>();
  private prefetched: Promise<void> | null = null;

  constructor(protected readonly config: RegistrySerdeConfig) {
    this.url = (config['schema.registry.url'] ?? '').replace(/\/+$/, '');
    if (!this.url) throw new Error(`${new.target.name} needs schema.registry.url`);
    const schema = config.schema;
    this.writerText = schema === undefined ? null : typeof schema === 'string' ? schema : JSON.stringify(schema);
    created.add(this);
  }

  /** The writer schema's record / message name (RecordNameStrategy). */
  protected abstract recordName(): string | undefined;
  /** Remembers the reader for a schema id the registry holds under a prefetched subject. */
  protected abstract addSchema(id: number, text: string, isWriter: boolean): void;
  protected abstract hasSchema(id: number): boolean;
  /** The bytes after magic byte and id. */
  protected abstract encodeBody(value: T): Buffer;
  protected abstract decodeBody(id: number, body: Buffer, topic: string): T;

  private subjectFor(topic: string): string {
    if (this.config['subject.name.strategy'] === 'RecordNameStrategy') {
      const name = this.recordName();
      if (!name) throw new Error('RecordNameStrategy needs a named writer schema');
      return name;
    }
    return `${topic}-${this.config.isKey ? 'key' : 'value'}`;
  }

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json' };
    if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json';
    const auth = this.config['basic.auth.user.info'];
    if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    const res = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error(`schema registry ${method} ${path}: ${res.status} ${parsed?.message ?? text}`) as Error & { status?: number };
      err.status = res.status;
      throw err;
    }
    return parsed;
  }

  /** Registers (or looks up) the writer schema under each subject and loads every schema version of those subjects. */
  prefetch(): Promise<void> {
    this.prefetched ??= (async () => {
      const subjects = new Set<string>();
      if (this.config['subject.name.strategy'] === 'RecordNameStrategy' && this.writerText !== null) subjects.add(this.subjectFor(''));
      for (const t of this.config.topics ?? []) subjects.add(this.subjectFor(t));
      for (const subject of subjects) {
        const path = `/subjects/${encodeURIComponent(subject)}`;
        if (this.writerText !== null) {
          const register = this.config['auto.register.schemas'] !== false;
          const r = await this.call('POST', register ? `${path}/versions` : path, { schema: this.writerText, schemaType: this.schemaType });
          this.idBySubject.set(subject, r.id);
          this.addSchema(r.id, this.writerText, true);
        }
        let versions: number[] = [];
        try {
          versions = await this.call('GET', `${path}/versions`);
        } catch (err) {
          if ((err as { status?: number }).status !== 404) throw err;
        }
        for (const v of versions) {
          const r = await this.call('GET', `${path}/versions/${v}`);
          if (!this.hasSchema(r.id) && (r.schemaType ?? 'AVRO') === this.schemaType) this.addSchema(r.id, r.schema, false);
        }
      }
    })();
    this.prefetched.catch(() => (this.prefetched = null));
    return this.prefetched;
  }

  /** Loads one schema id (for records written after prefetch under an id not seen yet). */
  async fetchSchemaId(id: number): Promise<void> {
    if (this.hasSchema(id)) return;
    const r = await this.call('GET', `/schemas/ids/${id}`);
    if ((r.schemaType ?? 'AVRO') !== this.schemaType) throw new Error(`schema ${id} is ${r.schemaType ?? 'AVRO'}, not ${this.schemaType}`);
    this.addSchema(id, r.schema, false);
  }

  serialize(topic: string, value: T): Buffer {
    if (this.writerText === null) throw new Error(`${this.constructor.name} without a schema can only deserialize`);
    const subject = this.subjectFor(topic);
    const id = this.idBySubject.get(subject);
    if (id === undefined) throw new Error(`no schema id for subject ${subject}: list topic ${topic} in the serde's topics (prefetched at start)`);
    const body = this.encodeBody(value);
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = 0;
    out.writeInt32BE(id, 1);
    body.copy(out, 5);
    return out;
  }

  deserialize(topic: string, data: Buffer): T {
    if (data.length < 5 || data[0] !== 0) throw new Error(`not Confluent wire format (magic byte ${data[0]}) on ${topic}`);
    const id = data.readInt32BE(1);
    if (!this.hasSchema(id)) throw new Error(`unknown schema id ${id} on ${topic} (not prefetched; call fetchSchemaId(${id}) or restart)`);
    return this.decodeBody(id, data.subarray(5), topic);
  }
}

export class AvroSerde<T = any> extends RegistrySerde<T> {
  protected readonly schemaType = 'AVRO';
  private readonly writer: avro.Type | null;
  private readonly typeById = new Map<number, avro.Type>();
  private readonly resolvers = new Map<number, avro.Type>();

  constructor(config: AvroSerdeConfig) {
    super(config);
    this.writer = this.writerText === null ? null : avro.Type.forSchema(JSON.parse(this.writerText) as avro.Schema);
  }

  protected recordName(): string | undefined {
    return this.writer?.name;
  }

  protected addSchema(id: number, text: string, isWriter: boolean): void {
    this.typeById.set(id, isWriter && this.writer ? this.writer : avro.Type.forSchema(JSON.parse(text)));
  }

  protected hasSchema(id: number): boolean {
    return this.typeById.has(id);
  }

  protected encodeBody(value: T): Buffer {
    return this.writer!.toBuffer(value);
  }

  protected decodeBody(id: number, body: Buffer): T {
    const writerType = this.typeById.get(id)!;
    if (!this.writer || writerType === this.writer) return writerType.fromBuffer(body) as T;
    let resolver = this.resolvers.get(id);
    if (!resolver) {
      resolver = this.writer.createResolver(writerType) as unknown as avro.Type;
      this.resolvers.set(id, resolver);
    }
    return this.writer.fromBuffer(body, resolver as never) as T;
  }
}

/**
 * JSON Schema: values are validated against the writer schema before they are written (as
 * Confluent's serializer does) and read back as plain JSON.
 */
export class JsonSchemaSerde<T = any> extends RegistrySerde<T> {
  protected readonly schemaType = 'JSON';
  private readonly validate: ValidateFunction | null;
  private readonly ids = new Set<number>();

  constructor(config: JsonSchemaSerdeConfig) {
    super(config);
    this.validate = this.writerText === null ? null : new Ajv({ strict: false }).compile(JSON.parse(this.writerText) as object);
  }

  protected recordName(): string | undefined {
    const title = this.writerText === null ? undefined : (JSON.parse(this.writerText) as { title?: unknown }).title;
    return typeof title === 'string' ? title : undefined;
  }

  protected addSchema(id: number, text: string): void {
    parseSchema('JSON', text);
    this.ids.add(id);
  }

  protected hasSchema(id: number): boolean {
    return this.ids.has(id);
  }

  protected encodeBody(value: T): Buffer {
    if (!this.validate!(value)) throw new Error(`value does not match the JSON schema: ${this.validate!.errors?.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
    return Buffer.from(JSON.stringify(value));
  }

  protected decodeBody(_id: number, body: Buffer): T {
    return JSON.parse(body.toString('utf8')) as T;
  }
}

/** Writes Confluent's message-index path: [0] as the single byte 0, else a zigzag-varint count and indexes. */
function messageIndexes(path: number[]): Buffer {
  if (path.length === 1 && path[0] === 0) return Buffer.from([0]);
  const out: number[] = [];
  for (const n of [path.length, ...path]) {
    let z = (n << 1) ^ (n >> 31);
    while (z > 0x7f) {
      out.push((z & 0x7f) | 0x80);
      z >>>= 7;
    }
    out.push(z);
  }
  return Buffer.from(out);
}

/** Reads the message-index path; returns it and where the message bytes start. */
function readMessageIndexes(buf: Buffer): { path: number[]; offset: number } {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= buf.length || shift > 28) throw new Error('invalid Protobuf message-index path');
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    return (result >>> 1) ^ -(result & 1);
  };
  const count = varint();
  if (count < 0 || count > 64) throw new Error('invalid Protobuf message-index path');
  const path = count === 0 ? [0] : Array.from({ length: count }, varint);
  return { path, offset: pos };
}

/** The messages of a parsed file, in declaration order (what message indexes count). */
function topMessages(text: string): protobuf.Type[] {
  const parsed = parseSchema('PROTOBUF', text);
  if (parsed.type !== 'PROTOBUF') return [];
  const ns = (parsed.pkg ? parsed.root.lookup(parsed.pkg) : parsed.root) as protobuf.Namespace;
  return parsed.topLevel.map((n) => ns.nested?.[n]).filter((t): t is protobuf.Type => t instanceof protobuf.Type);
}

/** Protobuf: values are plain objects (64-bit integers as numbers, enums as names). */
export class ProtobufSerde<T = any> extends RegistrySerde<T> {
  protected readonly schemaType = 'PROTOBUF';
  private readonly writer: protobuf.Type | null = null;
  private readonly writerPath: Buffer = Buffer.from([0]);
  private readonly messagesById = new Map<number, protobuf.Type[]>();

  constructor(config: ProtobufSerdeConfig) {
    super(config);
    if (this.writerText !== null) {
      const messages = topMessages(this.writerText);
      const i = config.messageName ? messages.findIndex((m) => m.name === config.messageName || m.fullName.replace(/^\./, '') === config.messageName) : 0;
      if (i < 0 || !messages[i]) throw new Error(`ProtobufSerde: message ${config.messageName ?? '(first)'} not found in the schema`);
      this.writer = messages[i]!;
      this.writerPath = messageIndexes([i]);
    }
  }

  protected recordName(): string | undefined {
    return this.writer?.fullName.replace(/^\./, '');
  }

  protected addSchema(id: number, text: string): void {
    this.messagesById.set(id, topMessages(text));
  }

  protected hasSchema(id: number): boolean {
    return this.messagesById.has(id);
  }

  protected encodeBody(value: T): Buffer {
    const w = this.writer!;
    const err = w.verify(value as Record<string, unknown>);
    if (err) throw new Error(`value does not match Protobuf message ${w.name}: ${err}`);
    return Buffer.concat([this.writerPath, Buffer.from(w.encode(w.fromObject(value as Record<string, unknown>)).finish())]);
  }

  protected decodeBody(id: number, body: Buffer, topic: string): T {
    const { path, offset } = readMessageIndexes(body);
    let type: protobuf.Type | undefined = this.messagesById.get(id)![path[0]!];
    for (const i of path.slice(1)) type = type?.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)[i];
    if (!type) throw new Error(`Protobuf message index ${path.join(',')} not found in schema ${id} on ${topic}`);
    return type.toObject(type.decode(body.subarray(offset)), { longs: Number, enums: String, defaults: true }) as T;
  }
}
