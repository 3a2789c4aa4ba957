// The worker's durable state: three compacted topics (configs, offsets, statuses) in Kafka
// Connect's key/value formats, read from the beginning at start and tailed afterwards. Writes go
// to Kafka and complete once the worker has read its own record back, so in-memory state is always
// exactly the log's state, in log order — the same view on every worker of the group.
import { randomUUID } from 'node:crypto';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Admin, Consumer, Kafka, Message, Producer, RecordMetadata } from 'kafkajs';

export interface InternalTopicNames {
  config: string;
  offset: string;
  status: string;
}

export type StateListener = (topic: 'config' | 'offset' | 'status', key: string, value: unknown) => void;

export class InternalTopics {
  private producer!: Producer;
  private consumer!: Consumer;
  private admin!: Admin;
  /** topic → partition → next offset to read */
  private readonly positions = new Map<string, Map<number, bigint>>();
  private readonly waiters: { topic: string; partition: number; offset: bigint; resolve: () => void }[] = [];
  readonly configs = new Map<string, unknown>();
  readonly offsets = new Map<string, unknown>();
  readonly statuses = new Map<string, unknown>();
  private listener: StateListener = () => {};

  constructor(
    private readonly kafka: Kafka,
    private readonly bootstrap: string[],
    readonly names: InternalTopicNames,
    private readonly partitions: { offset: number; status: number },
  ) {}

  onChange(listener: StateListener): void {
    this.listener = listener;
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const existing = new Set(await this.admin.listTopics());
    const compact = [{ name: 'cleanup.policy', value: 'compact' }];
    const want = [
      { topic: this.names.config, numPartitions: 1, configEntries: compact },
      { topic: this.names.offset, numPartitions: this.partitions.offset, configEntries: compact },
      { topic: this.names.status, numPartitions: this.partitions.status, configEntries: compact },
    ].filter((t) => !existing.has(t.topic));
    if (want.length) {
      try {
        await this.admin.createTopics({ topics: want, waitForLeaders: true });
      } catch (err) {
        // Another worker of the group may have created them at the same moment.
        if (!/already exists/i.test(String((err as Error).message))) throw err;
      }
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.consumer = this.kafka.consumer({
      groupId: `__fjord-connect-state-${randomUUID()}`,
      maxWaitTimeInMs: 200,
      sessionTimeout: 30_000,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.names.config, this.names.offset, this.names.status], fromBeginning: true });
    const ends = await this.stableEnds();
    // Control records (transaction markers) reach no eachMessage; the batch's last offset covers them.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, (e) => {
      const { topic, partition, lastOffset } = e.payload;
      if (lastOffset !== null && lastOffset !== undefined) this.advance(topic, partition, BigInt(lastOffset) + 1n);
    });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const key = message.key?.toString('utf8') ?? '';
        const value = message.value === null ? null : JSON.parse(message.value.toString('utf8'));
        this.apply(topic, key, value);
        this.advance(topic, partition, BigInt(message.offset) + 1n);
      },
    });
    // Rebuild: read every partition up to its end offset at start.
    await Promise.all(ends.map((e) => this.waitFor(e.topic, e.partition, e.offset)));
  }

  /**
   * Where the rebuild stops: each partition's last stable offset, as a read_committed consumer's
   * endOffsets in Kafka. With exactly-once sources the offset topic may hold a transaction of a
   * killed task that stays open until the task restarts here; waiting for the high watermark
   * would wait for that restart. (kafkajs' admin asks only for high watermarks.)
   */
  private async stableEnds(): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    const topics = [this.names.config, this.names.offset, this.names.status];
    const metadata = await this.admin.fetchTopicMetadata({ topics });
    const admin = new PlatformaticAdmin({ clientId: 'fjord-connect-state', bootstrapBrokers: this.bootstrap });
    try {
      const listed = await admin.listOffsets({
        isolationLevel: 1,
        topics: metadata.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionId, timestamp: -1n })) })),
      });
      return listed.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.offset })));
    } finally {
      await admin.close().catch(() => {});
    }
  }

  private apply(topic: string, key: string, value: unknown): void {
    const kind = topic === this.names.config ? 'config' : topic === this.names.offset ? 'offset' : 'status';
    const map = kind === 'config' ? this.configs : kind === 'offset' ? this.offsets : this.statuses;
    if (value === null) map.delete(key);
    else map.set(key, value);
    this.listener(kind, key, value);
  }

  private advance(topic: string, partition: number, next: bigint): void {
    let m = this.positions.get(topic);
    if (!m) this.positions.set(topic, (m = new Map()));
    if ((m.get(partition) ?? 0n) >= next) return;
    m.set(partition, next);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.topic === topic && w.partition === partition && next >= w.offset) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private waitFor(topic: string, partition: number, offset: bigint): Promise<void> {
    if (offset <= 0n || (this.positions.get(topic)?.get(partition) ?? 0n) >= offset) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ topic, partition, offset, resolve }));
  }

  /** Appends key → value (null = tombstone) and resolves once this worker's view includes it. */
  async write(kind: 'config' | 'offset' | 'status', key: string, value: unknown): Promise<void> {
    await this.writeMany(kind, [{ key, value }]);
  }

  async writeMany(kind: 'config' | 'offset' | 'status', entries: { key: string; value: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    const batch = this.messagesFor(kind, entries);
    const res = await this.producer.send({ ...batch, acks: -1 });
    await this.awaitReadBack(batch.topic, res, entries.length);
  }

  /** The topic and messages that store `entries` (for a caller that writes them in its own transaction). */
  messagesFor(kind: 'config' | 'offset' | 'status', entries: { key: string; value: unknown }[]): { topic: string; messages: Message[] } {
    const topic = kind === 'config' ? this.names.config : kind === 'offset' ? this.names.offset : this.names.status;
    return { topic, messages: entries.map((e) => ({ key: e.key, value: e.value === null ? null : JSON.stringify(e.value) })) };
  }

  /** Resolves once this worker's view includes records written with result `res` (`count` records). */
  async awaitReadBack(topic: string, res: RecordMetadata[], count: number): Promise<void> {
    // One partition (always so for the config topic): wait for the whole batch; several: for each
    // partition's first record (the result does not say how many records each partition got).
    const n = res.length === 1 ? BigInt(count) : 1n;
    await Promise.all(res.filter((r) => r.topicName === topic).map((r) => this.waitFor(topic, r.partition, BigInt(r.baseOffset ?? '0') + n)));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
