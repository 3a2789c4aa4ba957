// Owns the partitions hosted on this broker: follows the metadata store (topic created, updated,
// deleted, partition state changed) to open, reconfigure and drop the local replicas, looks them
// up for produce/fetch, and parks fetch requests until data arrives. Nobody calls it to create a
// topic: whoever changes the store (the admin path here, another broker in a cluster) is heard
// through onChange, and `applied(topic)` waits until that change is reflected locally.
import type { BrokerConfig } from '../config/config.js';
import { topicLogConfig } from '../config/topic-config.js';
import type { LogConfig, LogManager } from '../storage/index.js';
import type { MetadataChange, MetadataStore, TopicRecord } from './metadata-store.js';
import { Partition } from './partition.js';

/** What the request path needs to know about a topic's configs: the log's plus produce-time checks. */
export interface TopicSettings extends LogConfig {
  minInsyncReplicas: number;
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  compressionType: string;
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  /** Per topic, the tail of the queue of changes being applied (one at a time, in store order). */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, Error>();
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: Pick<MetadataStore, 'topics' | 'topic' | 'partitionState' | 'onChange'>,
    private readonly logs: LogManager,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** Opens the replicas of every topic in the store, then follows the store's changes. */
  async start(): Promise<void> {
    for (const topic of this.metadata.topics()) await this.ensureTopic(topic);
    this.metadata.onChange((change) => this.onMetadataChange(change));
    this.expiryTimer = setInterval(() => this.expireProducers(Date.now()), this.config.getInt('producer.id.expiration.check.interval.ms'));
    this.expiryTimer.unref?.();
  }

  close(): void {
    clearInterval(this.expiryTimer);
  }

  /** producer.id.expiration.ms: forgets idle producers on every hosted partition. Returns the count. */
  expireProducers(now: number): number {
    const expirationMs = this.config.getInt('producer.id.expiration.ms');
    let removed = 0;
    for (const p of this.partitions.values()) removed += p.log.expireProducers(now, expirationMs);
    return removed;
  }

  /**
   * Resolves once every store change to `topic` heard so far is applied to the local replicas;
   * rejects with the error that applying one of them raised.
   */
  async applied(topic: string): Promise<void> {
    await this.pending.get(topic);
    const failure = this.failures.get(topic);
    if (failure) {
      this.failures.delete(topic);
      throw failure;
    }
  }

  private onMetadataChange(change: MetadataChange): void {
    switch (change.kind) {
      case 'topic-created':
      case 'topic-updated': {
        const name = change.topic.name;
        this.enqueue(name, async () => {
          const topic = this.metadata.topic(name);
          if (!topic) return;
          await this.ensureTopic(topic);
          this.updateTopicConfig(topic);
        });
        break;
      }
      case 'topic-deleted':
        this.enqueue(change.name, () => this.deleteTopic(change.name));
        break;
      case 'partition-state': {
        const p = this.get(change.topic, change.partition);
        if (!p) break;
        p.leaderId = change.state.leader;
        p.leaderEpoch = change.state.leaderEpoch;
        p.isr = [...change.state.isr];
        break;
      }
    }
  }

  private enqueue(topic: string, work: () => Promise<void>): void {
    const run = async () => {
      try {
        await work();
      } catch (err) {
        this.failures.set(topic, err as Error);
        this.log(`applying a metadata change of topic ${topic} failed: ${(err as Error).message}`);
      }
    };
    const next = (this.pending.get(topic) ?? Promise.resolve()).then(run);
    this.pending.set(topic, next);
    void next.then(() => {
      if (this.pending.get(topic) === next) this.pending.delete(topic);
    });
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(key(topic, partition));
  }

  all(): Iterable<Partition> {
    return this.partitions.values();
  }

  /** Effective settings of a topic: its overrides over the broker's defaults. */
  settingsFor(topic: TopicRecord): TopicSettings {
    const c = topicLogConfig(this.config, topic.configs);
    return {
      segmentBytes: c.segmentBytes,
      segmentMs: c.segmentMs,
      retentionMs: c.retentionMs,
      retentionBytes: c.retentionBytes,
      flushMessages: c.flushMessages,
      flushMs: c.flushMs,
      indexIntervalBytes: c.indexIntervalBytes,
      maxMessageBytes: c.maxMessageBytes,
      cleanupPolicy: c.cleanupPolicy.join(','),
      messageTimestampType: c.messageTimestampType === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
      fileDeleteDelayMs: c.fileDeleteDelayMs,
      deleteRetentionMs: c.deleteRetentionMs,
      minCompactionLagMs: c.minCompactionLagMs,
      maxCompactionLagMs: c.maxCompactionLagMs,
      minCleanableDirtyRatio: c.minCleanableDirtyRatio,
      minInsyncReplicas: c.minInsyncReplicas,
      timestampBeforeMaxMs: c.messageTimestampBeforeMaxMs,
      timestampAfterMaxMs: c.messageTimestampAfterMaxMs,
      compressionType: c.compressionType,
    };
  }

  /** Opens (creating when missing) the local replicas of a topic. */
  private async ensureTopic(topic: TopicRecord): Promise<void> {
    const settings = this.settingsFor(topic);
    for (const assignment of topic.partitions) {
      if (!assignment.replicas.includes(this.nodeId)) continue;
      if (this.partitions.has(key(topic.name, assignment.partition))) continue;
      const state = this.metadata.partitionState(topic.name, assignment.partition);
      const log =
        this.logs.get(topic.name, assignment.partition) ??
        (await this.logs.create(topic.name, assignment.partition, topic.topicId, settings));
      const partition = new Partition(
        topic.name,
        assignment.partition,
        topic.topicId,
        log,
        settings,
        state?.leader ?? this.nodeId,
        state?.leaderEpoch ?? 0,
        assignment.replicas,
        state?.isr ?? [this.nodeId],
      );
      log.cleanerDedupeBufferBytes = () => this.config.getLong('log.cleaner.dedupe.buffer.size');
      // Single node: everything durable in the log is committed.
      if (log.highWatermark < log.logEndOffset) log.setHighWatermark(log.logEndOffset);
      this.partitions.set(key(topic.name, assignment.partition), partition);
    }
  }

  /** Re-resolves every topic's configs against the broker defaults (a broker config changed). */
  reapplyTopicConfigs(): void {
    for (const t of this.metadata.topics()) this.updateTopicConfig(t);
  }

  /** Applies changed topic configs to the open logs. */
  private updateTopicConfig(topic: TopicRecord): void {
    const settings = this.settingsFor(topic);
    for (const p of this.partitions.values()) {
      if (p.topic !== topic.name) continue;
      p.settings = settings;
      p.log.updateConfig(settings);
    }
  }

  private async deleteTopic(name: string): Promise<void> {
    for (const [k, p] of this.partitions) {
      if (p.topic !== name) continue;
      this.partitions.delete(k);
      p.wakeWaiters();
    }
    await this.logs.deleteTopic(name);
  }

  /**
   * Waits until any of the partitions' high watermark advances, or the timeout passes.
   * Used by Fetch long-polls.
   */
  waitForAppend(partitions: Partition[], timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const cancels: (() => void)[] = [];
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        for (const c of cancels) c();
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      for (const p of partitions) cancels.push(p.onNextAdvance(finish));
    });
  }
}
