// The REST Proxy's Kafka side: one admin and one producer shared by every request, topic
// metadata cached briefly, Kafka's default partitioner (murmur2 of the key) so HTTP producers
// land keys where Java/librdkafka producers do, and v2 consumer instances.
import type { Admin, Producer } from '@platformatic/kafka';
import { HttpError } from '../http/server.js';
import { newAdmin, newProducer, type KafkaAccess } from '../http/kafka.js';

export interface ProxyOptions {
  kafka: KafkaAccess;
  registryUrl?: string;
  consumerInstanceTimeoutMs?: number;
  /** Largest JSON request body (non-streaming); larger gets 413. */
  maxRequestBytes?: number;
  /** Largest single record in a streaming request. */
  maxRecordBytes?: number;
}

export interface OutRecord {
  key: Buffer | null;
  value: Buffer | null;
  partition?: number;
  headers?: [string, Buffer][];
  timestamp?: bigint;
}

export interface ProducedRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
}

/** Kafka's murmur2 (the Java client's default partitioner hash). */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const len4 = data.length & ~3;
  for (let i = 0; i < len4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length & 3;
  if (rest === 3) h ^= data[len4 + 2]! << 16;
  if (rest >= 2) h ^= data[len4 + 1]! << 8;
  if (rest >= 1) {
    h ^= data[len4]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

/** Every API error id and message inside a client error (they nest in `errors` / `cause`). */
export function errorText(err: unknown, depth = 0): string {
  if (!err || typeof err !== 'object' || depth > 6) return String(err ?? '');
  const e = err as { message?: string; apiId?: string; serverErrorMessage?: string; errors?: unknown[]; cause?: unknown };
  const parts = [e.message ?? '', e.apiId ?? '', e.serverErrorMessage ?? ''];
  for (const x of e.errors ?? []) parts.push(errorText(x, depth + 1));
  if (e.cause) parts.push(errorText(e.cause, depth + 1));
  return parts.join(' ');
}

interface TopicInfo {
  partitions: number;
  at: number;
}

export class KafkaSide {
  readonly admin: Admin;
  private producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private topics = new Map<string, TopicInfo>();
  private roundRobin = 0;
  clusterId = '';

  constructor(readonly options: ProxyOptions) {
    this.admin = newAdmin(options.kafka);
    this.producer = newProducer(options.kafka);
  }

  async start(): Promise<void> {
    const md = await this.admin.metadata({ topics: [] });
    this.clusterId = md.id;
  }

  async close(): Promise<void> {
    await Promise.resolve(this.producer.close()).catch(() => {});
    await Promise.resolve(this.admin.close()).catch(() => {});
  }

  forget(topic: string): void {
    this.topics.delete(topic);
  }

  /** Partition count; 404/40401 for an unknown topic. */
  async partitionCount(topic: string): Promise<number> {
    const cached = this.topics.get(topic);
    if (cached && Date.now() - cached.at < 5000) return cached.partitions;
    let count = 0;
    try {
      const md = await this.admin.metadata({ topics: [topic], forceUpdate: true });
      count = md.topics.get(topic)?.partitionsCount ?? md.topics.get(topic)?.partitions.length ?? 0;
    } catch (err) {
      const text = errorText(err);
      if (/AUTHORIZATION_FAILED/.test(text)) throw new HttpError(403, 40301, `Not authorized to access topic ${topic}.`);
      if (/UNKNOWN_TOPIC|does not host|unknown topic/i.test(text)) count = 0;
      else throw err;
    }
    if (count === 0) throw new HttpError(404, 40401, `Topic ${topic} not found.`);
    this.topics.set(topic, { partitions: count, at: Date.now() });
    return count;
  }

  /**
   * Produces records (acks=all) and answers each one's partition and offset, in input order.
   * Records are grouped by partition into one request; offsets within a partition's batch are
   * consecutive from the base offset the broker returns.
   */
  async produce(topic: string, records: OutRecord[]): Promise<ProducedRecord[]> {
    const n = await this.partitionCount(topic);
    // Records without key and partition stick to one partition per request (one batch), and the
    // next request takes the next partition: Kafka's sticky partitioning (KIP-480).
    let sticky = -1;
    const partitions = records.map((r) => {
      if (r.partition !== undefined) {
        if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= n) throw new HttpError(404, 40402, `Partition ${r.partition} of topic ${topic} not found.`);
        return r.partition;
      }
      if (r.key) return (murmur2(r.key) & 0x7fffffff) % n;
      if (sticky < 0) sticky = this.roundRobin++ % n;
      return sticky;
    });
    const now = BigInt(Date.now());
    const res = await this.producer.send({
      messages: records.map((r, i) => ({
        topic,
        partition: partitions[i]!,
        key: (r.key ?? undefined) as Buffer,
        value: r.value as Buffer,
        headers: r.headers ? new Map(r.headers.map(([k, v]) => [Buffer.from(k), v])) : undefined,
        timestamp: r.timestamp ?? now,
      })),
      acks: -1,
    });
    const base = new Map<number, bigint>();
    for (const o of res.offsets ?? []) if (o.topic === topic) base.set(o.partition, BigInt(o.offset));
    const seen = new Map<number, bigint>();
    return records.map((r, i) => {
      const p = partitions[i]!;
      const k = seen.get(p) ?? 0n;
      seen.set(p, k + 1n);
      return { partition: p, offset: (base.get(p) ?? -1n) + k, timestamp: r.timestamp ?? now };
    });
  }
}
