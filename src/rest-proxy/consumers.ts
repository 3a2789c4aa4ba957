// REST Proxy v2 consumer instances: each is a Kafka group member (@platformatic/kafka
// Consumer) whose fetched records wait in a bounded buffer until a GET …/records takes them.
// Instances idle longer than consumer.instance.timeout.ms are closed.
import { randomUUID } from 'node:crypto';
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { HttpError } from '../http/server.js';
import { newConsumer, type KafkaAccess } from '../http/kafka.js';

export type ConsumerFormat = 'binary' | 'json' | 'avro' | 'jsonschema' | 'protobuf';
const BUFFER_LIMIT = 5000;

export interface ConsumerConfig {
  format: ConsumerFormat;
  autoOffsetReset: 'earliest' | 'latest';
  autoCommit: boolean;
  requestTimeoutMs: number;
}

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

export class ConsumerInstance {
  readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private buffer: Msg[] = [];
  private wake: (() => void) | undefined;
  topics: string[] = [];
  /** Next offset to hand out per "topic:partition" (what a commit without body commits). */
  readonly positions = new Map<string, bigint>();
  private seeks = new Map<string, bigint>();
  lastUsed = Date.now();
  private failure: Error | undefined;

  constructor(
    kafka: KafkaAccess,
    readonly group: string,
    readonly name: string,
    readonly config: ConsumerConfig,
  ) {
    // The group coordinator may still be loading (a new __consumer_offsets): retry for ~10 s.
    this.consumer = newConsumer(kafka, group, { maxWaitTime: 200, sessionTimeout: 30_000, heartbeatInterval: 1000, retries: 40, retryDelay: 250 });
  }

  /** Requests in progress; an instance is never expired while one runs. */
  busy = 0;

  touch(): void {
    this.lastUsed = Date.now();
  }

  /** Runs a request against this instance, keeping it alive meanwhile. */
  async use<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
      this.touch();
    }
  }

  async subscribe(topics: string[]): Promise<void> {
    await this.stopStream();
    this.topics = topics;
    this.buffer = [];
    if (topics.length) await this.startStream();
  }

  private async startStream(): Promise<void> {
    const manual = this.seeks.size > 0;
    const offsets = [...this.seeks].map(([tp, offset]) => {
      const i = tp.lastIndexOf(':');
      return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)), offset };
    });
    this.seeks.clear();
    const stream = await this.consumer.consume({
      topics: this.topics,
      mode: manual ? 'manual' : 'committed',
      fallbackMode: this.config.autoOffsetReset,
      ...(manual ? { offsets } : {}),
      autocommit: false,
      maxWaitTime: 200,
    });
    this.stream = stream;
    stream.on('data', (m: Msg) => {
      this.buffer.push(m);
      if (this.buffer.length >= BUFFER_LIMIT) stream.pause();
      this.wake?.();
    });
    stream.on('error', (err: Error) => {
      this.failure = err;
      this.wake?.();
    });
  }

  private async stopStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s) await s.close().catch(() => {});
  }

  /** Records fetched so far, waiting up to timeoutMs for the first; bounded by maxBytes. */
  async records(timeoutMs: number, maxBytes: number): Promise<Msg[]> {
    if (!this.stream) throw new HttpError(409, 40903, 'Consumer instance is not subscribed to any topic');
    if (this.buffer.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
    if (this.failure && this.buffer.length === 0) {
      const f = this.failure;
      this.failure = undefined;
      throw new HttpError(500, 50002, `Kafka error: ${f.message}`);
    }
    const out: Msg[] = [];
    let bytes = 0;
    while (this.buffer.length) {
      const m = this.buffer[0]!;
      const size = (m.key?.length ?? 0) + (m.value?.length ?? 0);
      if (out.length > 0 && bytes + size > maxBytes) break;
      this.buffer.shift();
      out.push(m);
      bytes += size;
      this.positions.set(`${m.topic}:${m.partition}`, m.offset + 1n);
    }
    if (this.stream?.isPaused() && this.buffer.length < BUFFER_LIMIT / 2) this.stream.resume();
    if (this.config.autoCommit && out.length) await this.commit(this.currentPositions()).catch(() => {});
    return out;
  }

  currentPositions(): { topic: string; partition: number; offset: bigint }[] {
    return [...this.positions].map(([tp, offset]) => {
      const i = tp.lastIndexOf(':');
      return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)), offset };
    });
  }

  async commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commit({ offsets: offsets.map((o) => ({ ...o, leaderEpoch: -1 })) });
  }

  /** Moves positions (seek): the buffered records are dropped and fetching restarts there. */
  async seek(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    for (const o of offsets) this.seeks.set(`${o.topic}:${o.partition}`, o.offset);
    // Keep the other partitions where they were.
    for (const [tp, off] of this.positions) if (!this.seeks.has(tp)) this.seeks.set(tp, off);
    for (const o of offsets) this.positions.set(`${o.topic}:${o.partition}`, o.offset);
    await this.stopStream();
    this.buffer = [];
    if (this.topics.length) await this.startStream();
  }

  async close(): Promise<void> {
    await this.stopStream();
    await Promise.resolve(this.consumer.close(true)).catch(() => {});
  }
}

export class ConsumerInstances {
  private instances = new Map<string, ConsumerInstance>();
  private sweeper: NodeJS.Timeout;

  constructor(
    private readonly kafka: KafkaAccess,
    private readonly timeoutMs: number,
  ) {
    this.sweeper = setInterval(() => void this.expire(), Math.min(1000, Math.max(50, timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** `access` is the HTTP user's Kafka identity when the proxy authenticates users. */
  create(group: string, name: string | undefined, config: ConsumerConfig, access: KafkaAccess = this.kafka): ConsumerInstance {
    const id = name ?? `rest-consumer-${randomUUID()}`;
    const key = `${group}\u0000${id}`;
    if (this.instances.has(key)) throw new HttpError(409, 40902, `Consumer with specified consumer ID already exists in the specified consumer group.`);
    const inst = new ConsumerInstance({ ...access, clientId: `${this.kafka.clientId}-${id}` }, group, id, config);
    this.instances.set(key, inst);
    return inst;
  }

  get(group: string, name: string): ConsumerInstance {
    const inst = this.instances.get(`${group}\u0000${name}`);
    if (!inst) throw new HttpError(404, 40403, 'Consumer instance not found.');
    inst.touch();
    return inst;
  }

  async remove(group: string, name: string): Promise<void> {
    const inst = this.get(group, name);
    this.instances.delete(`${group}\u0000${name}`);
    await inst.close();
  }

  private async expire(): Promise<void> {
    const now = Date.now();
    for (const [key, inst] of this.instances) {
      if (inst.busy === 0 && now - inst.lastUsed > this.timeoutMs) {
        this.instances.delete(key);
        await inst.close();
      }
    }
  }

  get size(): number {
    return this.instances.size;
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((i) => i.close()));
  }
}
