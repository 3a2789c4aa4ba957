// Task runners: the loops around a connector's SourceTask / SinkTask that convert, transform,
// produce or consume, store offsets and report state. At-least-once: source offsets are written
// only after Kafka acknowledged the records; sink offsets are committed only after put + flush.
import type { Consumer, IHeaders, Kafka, Message, Producer, RecordMetadata } from 'kafkajs';
import { splitList } from './config-def.js';
import { createConverter, type Converter } from './converters.js';
import type { ConnectRecord, ConnectorPlugin, Header, SinkRecord, SinkTask, SourceRecord, SourceTask } from './sdk.js';
import { buildTransformChain, type Transform } from './transforms.js';

export type TaskState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'RESTARTING';

export interface TaskHost {
  kafka: Kafka;
  producer: Producer;
  workerConfig: Record<string, string>;
  reportState(state: TaskState, trace?: string): void;
  /** Committed source offset for a partition, from the offset topic. */
  readOffset(partition: Record<string, unknown>): Record<string, unknown> | null;
  writeOffsets(entries: { partition: Record<string, unknown>; offset: Record<string, unknown> }[]): Promise<void>;
  recordTopic(topic: string): void;
  log(msg: string): void;
  /** Set when the worker runs source tasks exactly-once (`exactly.once.source.support=enabled`). */
  exactlyOnce?: ExactlyOnceHost;
}

/**
 * What an exactly-once source task needs from its worker (KIP-618): a transactional producer whose
 * id belongs to the task (opening it fences any older instance of the task), and the offset-topic
 * records that go into the same transaction as the data.
 */
export interface ExactlyOnceHost {
  transactionalId: string;
  openProducer(): Promise<Producer>;
  offsetMessages(entries: OffsetEntry[]): { topic: string; messages: Message[] };
  /** Resolves once the worker's offset view includes a committed transaction's offset records. */
  awaitOffsets(results: RecordMetadata[], count: number): Promise<void>;
}

type OffsetEntry = { partition: Record<string, unknown>; offset: Record<string, unknown> };

export function errorTrace(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

function toKafkaHeaders(headers: Header[] | undefined): IHeaders | undefined {
  if (!headers || headers.length === 0) return undefined;
  const out: IHeaders = {};
  for (const h of headers) out[h.key] = h.value === null ? undefined : h.value;
  return out;
}

/** errors.tolerance=all skips bad records (logging and/or dead-lettering them); none fails the task. */
class ErrorHandler {
  readonly tolerateAll: boolean;
  private readonly dlqTopic: string | undefined;
  private readonly contextHeaders: boolean;
  private readonly logErrors: boolean;
  constructor(
    private readonly config: Record<string, string>,
    private readonly host: TaskHost,
    private readonly connector: string,
    private readonly taskId: number,
  ) {
    this.tolerateAll = config['errors.tolerance'] === 'all';
    this.dlqTopic = config['errors.deadletterqueue.topic.name'] || undefined;
    this.contextHeaders = config['errors.deadletterqueue.context.headers.enable'] === 'true';
    this.logErrors = config['errors.log.enable'] === 'true';
  }
  async handle(
    err: unknown,
    stage: string,
    original: { topic: string; partition: number; offset: string; key: Buffer | null; value: Buffer | null } | null,
  ): Promise<void> {
    if (!this.tolerateAll) throw err;
    if (this.logErrors) this.host.log(`error in ${stage} for ${this.connector}-${this.taskId}, record skipped: ${errorTrace(err)}`);
    if (!this.dlqTopic || !original) return;
    const headers: IHeaders = {};
    if (this.contextHeaders) {
      const e = err instanceof Error ? err : new Error(String(err));
      headers['__connect.errors.topic'] = original.topic;
      headers['__connect.errors.partition'] = String(original.partition);
      headers['__connect.errors.offset'] = original.offset;
      headers['__connect.errors.connector.name'] = this.connector;
      headers['__connect.errors.task.id'] = String(this.taskId);
      headers['__connect.errors.stage'] = stage;
      headers['__connect.errors.class.name'] = this.config['connector.class'] ?? '';
      headers['__connect.errors.exception.class.name'] = e.name;
      headers['__connect.errors.exception.message'] = e.message;
      headers['__connect.errors.exception.stacktrace'] = e.stack ?? '';
    }
    await this.host.producer.send({ topic: this.dlqTopic, acks: -1, messages: [{ key: original.key, value: original.value, headers }] });
  }
}

interface Runner {
  start(): Promise<void>;
  setPaused(paused: boolean): void;
  stop(): Promise<void>;
}

abstract class BaseRunner implements Runner {
  protected stopping = false;
  protected paused = false;
  protected readonly abort = new AbortController();
  protected readonly transform: Transform;
  protected readonly keyConverter: Converter;
  protected readonly valueConverter: Converter;
  protected readonly errors: ErrorHandler;
  protected loop: Promise<void> = Promise.resolve();
  private resumeWaiters: (() => void)[] = [];

  constructor(
    protected readonly plugin: ConnectorPlugin,
    protected readonly connector: string,
    protected readonly taskId: number,
    protected readonly config: Record<string, string>,
    protected readonly host: TaskHost,
  ) {
    this.transform = buildTransformChain(config);
    this.keyConverter = createConverter('key.converter', config, host.workerConfig);
    this.valueConverter = createConverter('value.converter', config, host.workerConfig);
    this.errors = new ErrorHandler(config, host, connector, taskId);
  }

  abstract start(): Promise<void>;

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.onPauseChange(paused);
    if (!paused) for (const w of this.resumeWaiters.splice(0)) w();
    if (!this.stopping) this.host.reportState(paused ? 'PAUSED' : 'RUNNING');
  }
  protected onPauseChange(_paused: boolean): void {}

  protected waitResumed(): Promise<void> {
    if (!this.paused || this.stopping) return Promise.resolve();
    return new Promise((r) => this.resumeWaiters.push(r));
  }

  protected fail(err: unknown): void {
    if (this.stopping) return;
    this.host.log(`task ${this.connector}-${this.taskId} failed: ${errorTrace(err)}`);
    this.host.reportState('FAILED', errorTrace(err));
    this.stopping = true;
    this.abort.abort();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    for (const w of this.resumeWaiters.splice(0)) w();
    await this.loop.catch(() => {});
  }
}

export class SourceTaskRunner extends BaseRunner {
  private task!: SourceTask;
  private pendingOffsets = new Map<string, OffsetEntry>();
  private lastFlush = Date.now();
  /** Exactly-once: the task's transactional producer and the records of the open transaction. */
  private txnProducer: Producer | null = null;
  private txnRecords: SourceRecord[] = [];

  async start(): Promise<void> {
    const eos = this.host.exactlyOnce;
    // Open the transactional producer before the task reads its offsets: InitProducerId fences
    // every older instance of this task, so no zombie can commit offsets after we read them.
    if (eos) this.txnProducer = await eos.openProducer();
    this.task = this.plugin.createTask() as SourceTask;
    await this.task.start(this.config, {
      connectorName: this.connector,
      taskId: this.taskId,
      offset: (p) => this.host.readOffset(p),
    });
    this.host.reportState(this.paused ? 'PAUSED' : 'RUNNING');
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const flushInterval = Number(this.host.workerConfig['offset.flush.interval.ms'] ?? '1000');
    // transaction.boundary: poll (default) commits each poll's records; interval commits every
    // transaction.boundary.interval.ms (default offset.flush.interval.ms).
    const perPoll = (this.config['transaction.boundary'] ?? 'poll') === 'poll';
    const commitInterval = Number(this.config['transaction.boundary.interval.ms'] ?? flushInterval);
    try {
      while (!this.stopping) {
        await this.waitResumed();
        if (this.stopping) break;
        const records = await this.task.poll(this.abort.signal);
        if (this.stopping) break;
        if (this.txnProducer) {
          if (records?.length) this.stage(records);
          if ((perPoll && (records?.length ?? 0) > 0) || Date.now() - this.lastFlush >= commitInterval) await this.commitTransaction();
          continue;
        }
        if (records?.length) await this.send(records);
        if (Date.now() - this.lastFlush >= flushInterval || (records?.length ?? 0) > 0) await this.flushOffsets();
      }
      if (this.txnProducer) await this.commitTransaction();
      else await this.flushOffsets();
    } catch (err) {
      this.fail(err);
    } finally {
      await Promise.resolve(this.task.stop()).catch(() => {});
      await this.txnProducer?.disconnect().catch(() => {});
    }
  }

  /** Converts and transforms records; bad ones go to the error handler. Groups the rest by topic. */
  private async convert(records: SourceRecord[]): Promise<Map<string, Message[]>> {
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      let out: ConnectRecord | null;
      let key: Buffer | null;
      let value: Buffer | null;
      try {
        out = this.transform(record);
        if (out === null) continue;
        key = await this.keyConverter.fromConnectData(out.topic, out.keySchema, out.key);
        value = await this.valueConverter.fromConnectData(out.topic, out.valueSchema, out.value);
      } catch (err) {
        await this.errors.handle(err, 'TRANSFORMATION', null);
        continue;
      }
      let list = byTopic.get(out.topic);
      if (!list) {
        byTopic.set(out.topic, (list = []));
        this.host.recordTopic(out.topic);
      }
      list.push({
        key,
        value,
        headers: toKafkaHeaders(out.headers),
        partition: out.kafkaPartition ?? undefined,
        timestamp: out.timestamp != null ? String(out.timestamp) : undefined,
      });
    }
    return byTopic;
  }

  private async send(records: SourceRecord[]): Promise<void> {
    const byTopic = await this.convert(records);
    if (byTopic.size) {
      await this.host.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
    for (const record of records) {
      await this.task.commitRecord?.(record);
      this.pendingOffsets.set(JSON.stringify(record.sourcePartition), { partition: record.sourcePartition, offset: record.sourceOffset });
    }
  }

  private stage(records: SourceRecord[]): void {
    this.txnRecords.push(...records);
    for (const record of records) {
      this.pendingOffsets.set(JSON.stringify(record.sourcePartition), { partition: record.sourcePartition, offset: record.sourceOffset });
    }
  }

  /**
   * Exactly-once: the staged records and their source offsets in one transaction. Either both are
   * visible to read_committed readers (and to the worker's offset view) or neither is; a fenced
   * task fails here instead of committing.
   */
  private async commitTransaction(): Promise<void> {
    this.lastFlush = Date.now();
    const records = this.txnRecords;
    if (records.length === 0 && this.pendingOffsets.size === 0) return;
    const eos = this.host.exactlyOnce!;
    const byTopic = await this.convert(records);
    const offsets = [...this.pendingOffsets.values()];
    const offsetBatch = eos.offsetMessages(offsets);
    const txn = await this.txnProducer!.transaction();
    let results: RecordMetadata[];
    try {
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      topicMessages.push(offsetBatch);
      results = await txn.sendBatch({ acks: -1, topicMessages });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => {});
      throw err;
    }
    this.txnRecords = [];
    this.pendingOffsets.clear();
    for (const record of records) await this.task.commitRecord?.(record);
    await eos.awaitOffsets(results, offsets.length);
    await this.task.commit?.();
  }

  private async flushOffsets(): Promise<void> {
    this.lastFlush = Date.now();
    if (this.pendingOffsets.size === 0) return;
    const entries = [...this.pendingOffsets.values()];
    this.pendingOffsets.clear();
    await this.host.writeOffsets(entries);
    await this.task.commit?.();
  }
}

export class SinkTaskRunner extends BaseRunner {
  private task!: SinkTask;
  private consumer!: Consumer;
  private topics: string[] = [];

  async start(): Promise<void> {
    this.task = this.plugin.createTask() as SinkTask;
    await this.task.start(this.config, { connectorName: this.connector, taskId: this.taskId });
    this.consumer = this.host.kafka.consumer({
      groupId: this.config['consumer.override.group.id'] ?? `connect-${this.connector}`,
      maxWaitTimeInMs: 500,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      allowAutoTopicCreation: false,
    });
    await this.consumer.connect();
    this.topics = splitList(this.config['topics']);
    const regex = this.config['topics.regex'];
    await this.consumer.subscribe({ topics: regex ? [new RegExp(regex)] : this.topics, fromBeginning: true });
    for (const t of this.topics) this.host.recordTopic(t);
    this.host.reportState(this.paused ? 'PAUSED' : 'RUNNING');
    let finished!: () => void;
    this.loop = new Promise<void>((r) => (finished = r));
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.fail(e.payload.error);
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (this.stopping) return;
        if (!this.topics.includes(batch.topic)) {
          // topics.regex: remember matched topics so pause and /topics cover them.
          this.topics.push(batch.topic);
          this.host.recordTopic(batch.topic);
        }
        try {
          const records: SinkRecord[] = [];
          for (const m of batch.messages) {
            if (!isRunning() || isStale() || this.stopping) return;
            try {
              const k = await this.keyConverter.toConnectData(batch.topic, m.key);
              const v = await this.valueConverter.toConnectData(batch.topic, m.value);
              const headers: Header[] = Object.entries(m.headers ?? {}).flatMap(([key, val]) =>
                (Array.isArray(val) ? val : [val]).map((x) => ({ key, value: x === undefined ? null : (x as Buffer) })),
              );
              const rec: SinkRecord = {
                topic: batch.topic,
                kafkaPartition: batch.partition,
                kafkaOffset: BigInt(m.offset),
                keySchema: k.schema,
                key: k.value,
                valueSchema: v.schema,
                value: v.value,
                timestamp: Number(m.timestamp),
                headers,
              };
              const out = this.transform(rec);
              if (out !== null) records.push(out as SinkRecord);
            } catch (err) {
              await this.errors.handle(err, 'VALUE_CONVERTER', {
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
              });
            }
          }
          if (records.length) await this.task.put(records);
          await this.task.flush?.();
          const last = batch.messages[batch.messages.length - 1];
          if (last) {
            await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }]);
            resolveOffset(last.offset);
          }
          await heartbeat();
        } catch (err) {
          this.fail(err);
          // Leave the group without committing: the batch is redelivered after a restart.
          setImmediate(() => void this.shutdown().then(finished));
        }
      },
    });
    if (this.paused) this.onPauseChange(true);
    this.stopRequested = () => void this.shutdown().then(finished);
  }

  private stopRequested: () => void = () => {};
  private shutdownPromise: Promise<void> | null = null;

  private shutdown(): Promise<void> {
    if (!this.shutdownPromise) {
      this.shutdownPromise = (async () => {
        await this.consumer.disconnect().catch(() => {});
        await Promise.resolve(this.task.stop()).catch(() => {});
      })();
    }
    return this.shutdownPromise;
  }

  protected override onPauseChange(paused: boolean): void {
    if (!this.consumer) return;
    const topics = this.topics.map((topic) => ({ topic }));
    if (paused) this.consumer.pause(topics);
    else this.consumer.resume(topics);
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    this.stopRequested();
    await this.shutdown();
  }
}

export function createRunner(
  plugin: ConnectorPlugin,
  connector: string,
  taskId: number,
  config: Record<string, string>,
  host: TaskHost,
): Runner {
  return plugin.type === 'source'
    ? new SourceTaskRunner(plugin, connector, taskId, config, host)
    : new SinkTaskRunner(plugin, connector, taskId, config, host);
}
export type { Runner };
