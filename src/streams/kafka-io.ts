// Kafka plumbing for the runtime, on @platformatic/kafka: a partition reader built on the raw
// Fetch API (restore, global tables and task input all read explicit partitions at explicit
// offsets, which a subscription-only consumer cannot do), Java-compatible murmur2 partitioning,
// and internal-topic creation.
import { Admin, Consumer, type BaseOptions, type ClusterMetadata } from '@platformatic/kafka';
import type { ClientSecurityOptions } from '../security/client-security.js';

/** Kafka's murmur2 (the Java client's default partitioner hash). */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const len = data.length;
  let h = 0x9747b28c ^ len;
  const len4 = len >> 2;
  for (let i = 0; i < len4; i++) {
    let k = data.readInt32LE(i * 4);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const idx = len4 * 4;
  const tail = len & 3;
  if (tail === 3) h ^= data[idx + 2]! << 16;
  if (tail >= 2) h ^= data[idx + 1]! << 8;
  if (tail >= 1) {
    h ^= data[idx]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

export function partitionForKey(key: Buffer, numPartitions: number): number {
  return (murmur2(key) & 0x7fffffff) % numPartitions;
}

export interface FetchedRecord {
  offset: bigint;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Map<string, Buffer>;
}

export interface FetchPosition {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface FetchResult {
  records: FetchedRecord[];
  /** Next offset to fetch (past control records and skipped aborted data). */
  next: bigint;
  /** High watermark, or last stable offset under read_committed. */
  end: bigint;
}

const IS_TRANSACTIONAL = 0x10;
const IS_CONTROL = 0x20;

/** Options every client of the runtime starts from; `security` (TLS, SASL) goes to each connection. */
export function baseClientOptions(clientId: string, servers: string[], security: ClientSecurityOptions = {}): BaseOptions {
  return { ...security, clientId, bootstrapBrokers: servers, connectTimeout: 5000, requestTimeout: 30_000, timeout: 15_000, retries: 5, retryDelay: 200, autocreateTopics: false } as BaseOptions;
}

/** The broker refused the SASL login (wrong credentials, mechanism not enabled). */
export class KafkaAuthenticationError extends Error {
  override name = 'KafkaAuthenticationError';
}

/**
 * @platformatic/kafka reports a refused login as "metadata failed 6 times" several wrappers above
 * the AuthenticationError; a KafkaAuthenticationError naming the user says what went wrong.
 * Other errors come back unchanged.
 */
export function explainClientError(err: unknown, servers: string[], security: ClientSecurityOptions): unknown {
  if (err instanceof KafkaAuthenticationError) return err;
  const seen = new Set<unknown>();
  const find = (e: unknown, match: (code: string) => boolean): { message?: string } | null => {
    if (!e || typeof e !== 'object' || seen.has(e)) return null;
    seen.add(e);
    const x = e as { code?: unknown; errors?: unknown[]; cause?: unknown; message?: string };
    if (typeof x.code === 'string' && match(x.code)) return x;
    for (const inner of [...(Array.isArray(x.errors) ? x.errors : []), x.cause]) {
      const hit = find(inner, match);
      if (hit) return hit;
    }
    return null;
  };
  if (find(err, (c) => c === 'PLT_KFK_AUTHENTICATION')) {
    const user = typeof security.sasl?.username === 'string' ? ` as ${security.sasl.username}` : '';
    return new KafkaAuthenticationError(`authentication${user} with ${security.sasl?.mechanism ?? 'SASL'} at ${servers.join(',')} failed (wrong credentials or mechanism not enabled)`, { cause: err });
  }
  seen.clear();
  // Node's TLS errors: certificate not trusted, host name mismatch, handshake failure.
  const tls = security.tls ? find(err, (c) => /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|^ERR_TLS|^ERR_SSL/.test(c)) : null;
  if (tls) return new Error(`TLS connection to ${servers.join(',')} failed: ${tls.message} (check ssl.ca.location)`, { cause: err });
  return err;
}

export class PartitionReader {
  readonly client: Consumer;
  private metadata: ClusterMetadata | null = null;
  constructor(
    opts: BaseOptions,
    private readonly readCommitted: boolean,
  ) {
    this.client = new Consumer({ ...opts, groupId: `${opts.clientId}-reader` } as ConstructorParameters<typeof Consumer>[0]) as Consumer;
  }

  async refresh(topics: string[]): Promise<ClusterMetadata> {
    this.metadata = await this.client.metadata({ topics, forceUpdate: true });
    return this.metadata;
  }

  async partitionsOf(topic: string): Promise<number> {
    let md = this.metadata;
    if (!md?.topics.get(topic)) md = await this.refresh([...(md?.topics.keys() ?? []), topic]);
    return md.topics.get(topic)?.partitionsCount ?? 0;
  }

  /** End offsets: high watermark, or the last stable offset under read_committed. */
  async endOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    const res = await this.client.listOffsets({ topics: [topic], partitions: { [topic]: partitions }, isolationLevel: this.readCommitted ? 1 : 0 });
    const arr = res.get(topic) ?? [];
    const out = new Map<number, bigint>();
    for (const p of partitions) out.set(p, arr[p] ?? 0n);
    return out;
  }

  async startOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    const res = await this.client.listOffsets({ topics: [topic], partitions: { [topic]: partitions }, timestamp: -2n });
    const arr = res.get(topic) ?? [];
    const out = new Map<number, bigint>();
    for (const p of partitions) out.set(p, arr[p] ?? 0n);
    return out;
  }

  /** One fetch round over all positions (grouped by leader), waiting up to maxWaitMs for data. */
  async fetch(positions: FetchPosition[], maxWaitMs: number, maxBytesPerPartition = 1 << 20): Promise<Map<string, FetchResult>> {
    const out = new Map<string, FetchResult>();
    if (positions.length === 0) return out;
    const topics = [...new Set(positions.map((p) => p.topic))];
    let md = this.metadata;
    if (!md || topics.some((t) => !md!.topics.get(t))) md = await this.refresh([...new Set([...(md?.topics.keys() ?? []), ...topics])]);
    const byLeader = new Map<number, Map<string, FetchPosition[]>>();
    const idToTopic = new Map<string, string>();
    for (const pos of positions) {
      const tm = md.topics.get(pos.topic);
      if (!tm?.partitions[pos.partition]) continue;
      idToTopic.set(tm.id, pos.topic);
      const leader = tm.partitions[pos.partition]?.leader ?? -1;
      const m = byLeader.get(leader) ?? new Map<string, FetchPosition[]>();
      byLeader.set(leader, m);
      const l = m.get(tm.id) ?? [];
      l.push(pos);
      m.set(tm.id, l);
    }
    const wanted = new Map(positions.map((p) => [`${p.topic}:${p.partition}`, p.offset]));
    await Promise.all(
      [...byLeader].map(async ([leader, tmap]) => {
        let response: Awaited<ReturnType<Consumer['fetch']>>;
        try {
          response = await this.client.fetch({
            node: leader,
            topics: [...tmap].map(([topicId, ps]) => ({
              topicId,
              partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
            })),
            maxWaitTime: maxWaitMs,
            minBytes: 1,
            maxBytes: 16 << 20,
            isolationLevel: this.readCommitted ? 1 : 0,
          });
        } catch {
          this.metadata = null; // leadership moved or topic changed: refresh next round
          return;
        }
        for (const tr of response.responses) {
          const topic = idToTopic.get(tr.topicId);
          if (!topic) continue;
          for (const pr of tr.partitions) {
            const key = `${topic}:${pr.partitionIndex}`;
            const from = wanted.get(key) ?? 0n;
            if (pr.errorCode !== 0) {
              this.metadata = null;
              continue;
            }
            out.set(key, decodeBatches(pr.records ?? [], from, pr.abortedTransactions ?? [], this.readCommitted ? pr.lastStableOffset : pr.highWatermark));
          }
        }
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }
}

interface BatchLike {
  firstOffset: bigint;
  lastOffsetDelta: number;
  firstTimestamp: bigint;
  attributes: number;
  producerId: bigint;
  records: Array<{ offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null; headers: Array<[Buffer | null, Buffer | null]> }>;
}

function decodeBatches(batches: unknown[], from: bigint, aborted: Array<{ producerId: bigint; firstOffset: bigint }>, end: bigint): FetchResult {
  const records: FetchedRecord[] = [];
  let next = from;
  // Aborted transactions (read_committed): skip a producer's data from its first aborted offset until its abort marker.
  const pendingAborts = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  const abortingProducers = new Set<bigint>();
  for (const raw of batches as BatchLike[]) {
    const last = raw.firstOffset + BigInt(raw.lastOffsetDelta);
    if (last + 1n > next) next = last + 1n;
    while (pendingAborts.length && pendingAborts[0]!.firstOffset <= last) abortingProducers.add(pendingAborts.shift()!.producerId);
    if (raw.attributes & IS_CONTROL) {
      abortingProducers.delete(raw.producerId);
      continue;
    }
    if (raw.attributes & IS_TRANSACTIONAL && abortingProducers.has(raw.producerId)) continue;
    for (const r of raw.records) {
      const offset = raw.firstOffset + BigInt(r.offsetDelta);
      if (offset < from) continue;
      let headers: Map<string, Buffer> | undefined;
      if (r.headers?.length) {
        headers = new Map();
        for (const [hk, hv] of r.headers) if (hk) headers.set(hk.toString(), hv ?? Buffer.alloc(0));
      }
      records.push({ offset, timestamp: Number(raw.firstTimestamp + BigInt(r.timestampDelta)), key: r.key ?? null, value: r.value ?? null, headers });
    }
  }
  return { records, next, end };
}

export interface InternalTopicSpec {
  name: string;
  partitions: number;
  /** Topic configs (cleanup.policy, retention.ms ...). */
  configs: Array<{ name: string; value: string }>;
}

export async function ensureTopics(opts: BaseOptions, wanted: InternalTopicSpec[], replicationFactor: number): Promise<void> {
  if (wanted.length === 0) return;
  const admin = new Admin(opts);
  try {
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    for (const t of wanted) {
      if (existing.has(t.name)) continue;
      try {
        await admin.createTopics({
          topics: [t.name],
          partitions: t.partitions,
          replicas: replicationFactor,
          configs: t.configs,
        });
      } catch (err) {
        // Another instance may have created it first.
        if (!/already exists/i.test(String((err as Error)?.message) + JSON.stringify((err as { errors?: unknown }).errors ?? ''))) throw err;
      }
    }
  } finally {
    await admin.close().catch(() => {});
  }
}
