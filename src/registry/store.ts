// Registry state kept in the compacted single-partition `_schemas` topic with Confluent's keyed
// records, so Confluent tooling can read it and a restart rebuilds everything by replaying it.
// Every write goes through the log: produce, then wait until the reader has applied it.
import type { Producer } from '@platformatic/kafka';
import { newAdmin, newProducer, PartitionReader, type KafkaAccess, type RawRecord } from '../http/kafka.js';
import type { SchemaReference, SchemaType } from './schemas.js';

export const SCHEMAS_TOPIC = '_schemas';

export interface StoredSchema {
  id: number;
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
  /** Identity used for "same schema → same id" (type, canonical text, references). */
  identity: string;
  normalizedIdentity: string;
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  deleted: boolean;
  metadata?: unknown;
  ruleSet?: unknown;
}

export interface SubjectConfig {
  compatibilityLevel?: string;
  normalize?: boolean;
  [k: string]: unknown;
}

interface SchemaKey {
  keytype: 'SCHEMA' | 'CONFIG' | 'MODE' | 'DELETE_SUBJECT' | 'CLEAR_SUBJECT' | 'NOOP';
  subject?: string | null;
  version?: number;
  magic: number;
}

export class RegistryState {
  readonly schemas = new Map<number, StoredSchema>();
  /** subject → version → entry, versions ascending by insertion. */
  readonly subjects = new Map<string, Map<number, SubjectVersion>>();
  readonly byIdentity = new Map<string, number>();
  readonly byNormalizedIdentity = new Map<string, number>();
  /** '' is the global config / mode. */
  readonly configs = new Map<string, SubjectConfig>();
  readonly modes = new Map<string, string>();
  maxId = 0;

  apply(key: SchemaKey, value: Record<string, unknown> | null): void {
    const subject = key.subject ?? '';
    switch (key.keytype) {
      case 'SCHEMA': {
        const versions = this.subjects.get(subject);
        if (value === null) {
          versions?.delete(key.version!);
          if (versions && versions.size === 0) this.subjects.delete(subject);
          return;
        }
        const id = value.id as number;
        if (id > this.maxId) this.maxId = id;
        if (!this.schemas.has(id)) {
          const schemaType = ((value.schemaType as string) ?? 'AVRO') as SchemaType;
          const stored: StoredSchema = {
            id,
            schemaType,
            schema: value.schema as string,
            references: (value.references as SchemaReference[]) ?? [],
            identity: (value.identity as string) ?? `${schemaType}\u0000${value.schema as string}`,
            normalizedIdentity: (value.normalizedIdentity as string) ?? `${schemaType}\u0000${value.schema as string}`,
          };
          this.schemas.set(id, stored);
          if (!this.byIdentity.has(stored.identity)) this.byIdentity.set(stored.identity, id);
          if (!this.byNormalizedIdentity.has(stored.normalizedIdentity)) this.byNormalizedIdentity.set(stored.normalizedIdentity, id);
        }
        let m = versions;
        if (!m) {
          m = new Map();
          this.subjects.set(subject, m);
        }
        m.set(key.version!, {
          subject,
          version: key.version!,
          id,
          deleted: value.deleted === true,
          metadata: value.metadata ?? undefined,
          ruleSet: value.ruleSet ?? undefined,
        });
        return;
      }
      case 'CONFIG':
        if (value === null) this.configs.delete(subject);
        else this.configs.set(subject, value as SubjectConfig);
        return;
      case 'MODE':
        if (value === null) this.modes.delete(subject);
        else this.modes.set(subject, value.mode as string);
        return;
      case 'DELETE_SUBJECT': {
        const upTo = (value?.version as number) ?? Infinity;
        for (const v of this.subjects.get(subject)?.values() ?? []) if (v.version <= upTo) v.deleted = true;
        return;
      }
      case 'CLEAR_SUBJECT':
      case 'NOOP':
        return;
    }
  }

  /** Versions of a subject in ascending order. */
  versions(subject: string, includeDeleted: boolean): SubjectVersion[] {
    const m = this.subjects.get(subject);
    if (!m) return [];
    return [...m.values()].filter((v) => includeDeleted || !v.deleted).sort((a, b) => a.version - b.version);
  }
}

export interface StoreOptions {
  kafka: KafkaAccess;
  topic?: string;
  log?: (msg: string) => void;
}

export class SchemaStore {
  readonly state = new RegistryState();
  private readonly topic: string;
  private reader!: PartitionReader;
  private producer!: Producer<Buffer, Buffer, Buffer, Buffer>;
  private appliedUpTo = 0n;
  private waiters: { offset: bigint; resolve: () => void }[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private writeChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: StoreOptions) {
    this.topic = options.topic ?? SCHEMAS_TOPIC;
  }

  async start(): Promise<void> {
    await this.ensureTopic();
    this.reader = new PartitionReader(this.options.kafka, this.topic, 0);
    this.producer = newProducer(this.options.kafka);
    const end = await this.reader.endOffset();
    while (this.reader.offset < end) this.applyAll(await this.reader.poll(100));
    this.running = true;
    this.loop = this.tail();
  }

  private async ensureTopic(): Promise<void> {
    const admin = newAdmin(this.options.kafka);
    try {
      const topics = await admin.listTopics({ includeInternals: true });
      if (topics.includes(this.topic)) return;
      try {
        await admin.createTopics({
          topics: [this.topic],
          partitions: 1,
          replicas: -1,
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        });
      } catch (err) {
        if (!/already exists/i.test(JSON.stringify(err, Object.getOwnPropertyNames(err)))) throw err;
      }
      // Wait until metadata shows a leader for the new partition.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const md = await admin.metadata({ topics: [this.topic] }).catch(() => undefined);
        if ((md?.topics.get(this.topic)?.partitions[0]?.leader ?? -1) >= 0) break;
        if (Date.now() > deadline) throw new Error(`topic ${this.topic} has no leader`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await Promise.resolve(admin.close()).catch(() => {});
    }
  }

  private async tail(): Promise<void> {
    while (this.running) {
      try {
        this.applyAll(await this.reader.poll(500));
      } catch (err) {
        if (!this.running) return;
        this.options.log?.(`registry: reading ${this.topic} failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private applyAll(records: RawRecord[]): void {
    for (const r of records) {
      if (r.key) {
        try {
          const key = JSON.parse(r.key.toString('utf8')) as SchemaKey;
          const value = r.value?.length ? (JSON.parse(r.value.toString('utf8')) as Record<string, unknown>) : null;
          this.state.apply(key, value);
        } catch (err) {
          this.options.log?.(`registry: skipping unreadable ${this.topic} record at ${r.offset}: ${(err as Error).message}`);
        }
      }
    }
    this.appliedUpTo = this.reader.offset;
    if (this.waiters.length) {
      const still: typeof this.waiters = [];
      for (const w of this.waiters) (w.offset < this.appliedUpTo ? w.resolve : () => still.push(w))();
      this.waiters = still;
    }
  }

  private waitApplied(offset: bigint): Promise<void> {
    if (offset < this.appliedUpTo) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ offset, resolve }));
  }

  /**
   * Runs `fn` alone (writes are serialized so id and version allocation see every earlier
   * write); `fn` calls `append` for each record.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writeChain.then(fn, fn);
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** Appends records to `_schemas` and resolves once the state reflects them. */
  async append(records: { key: SchemaKey; value: Record<string, unknown> | null }[]): Promise<void> {
    if (records.length === 0) return;
    const res = await this.producer.send({
      messages: records.map((r) => ({
        topic: this.topic,
        partition: 0,
        key: Buffer.from(JSON.stringify(r.key)),
        value: (r.value === null ? null : Buffer.from(JSON.stringify(r.value))) as Buffer,
      })),
      acks: -1,
    });
    const base = res.offsets?.find((o) => o.topic === this.topic)?.offset;
    if (base === undefined) throw new Error('no offset returned for the _schemas append');
    await this.waitApplied(BigInt(base) + BigInt(records.length - 1));
  }

  async close(): Promise<void> {
    this.running = false;
    await this.reader?.close();
    await this.loop?.catch(() => {});
    await Promise.resolve(this.producer?.close()).catch(() => {});
  }
}
