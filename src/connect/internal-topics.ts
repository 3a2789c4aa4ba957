// The worker's durable state: three compacted topics (configs, offsets, statuses) in Kafka
// Connect's key/value formats, read from the beginning at start and tailed afterwards. Writes go
// to Kafka and complete once the worker has read its own record back, so in-memory state is always
// exactly the log's state, in log order — the same view on every worker of the group.
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';

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
    const ends: { topic: string; partition: number; offset: bigint }[] = [];
    for (const topic of [this.names.config, this.names.offset, this.names.status]) {
      for (const p of await this.admin.fetchTopicOffsets(topic)) ends.push({ topic, partition: p.partition, offset: BigInt(p.high) });
    }
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
    const topic = kind === 'config' ? this.names.config : kind === 'offset' ? this.names.offset : this.names.status;
    const res = await this.producer.send({
      topic,
      acks: -1,
      messages: entries.map((e) => ({ key: e.key, value: e.value === null ? null : JSON.stringify(e.value) })),
    });
    // One partition (always so for the config topic): wait for the whole batch; several: for each
    // partition's first record (the result does not say how many records each partition got).
    const count = res.length === 1 ? BigInt(entries.length) : 1n;
    await Promise.all(res.map((r) => this.waitFor(topic, r.partition, BigInt(r.baseOffset ?? '0') + count)));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
