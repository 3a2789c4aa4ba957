// Owns the partitions hosted on this broker: follows the metadata store (topic created, updated,
// deleted, partition state changed) to open, reconfigure and drop the local replicas, looks them
// up for produce/fetch, and parks fetch requests until data arrives. Nobody calls it to create a
// topic: whoever changes the store (the admin path here, another broker in a cluster) is heard
// through onChange, and `applied(topic)` waits until that change is reflected locally.
//
// Replication: a partition state naming this broker leader makes the replica leader (epoch from
// the state); naming another broker makes it a follower fetching from that leader (replica-
// fetcher.ts). As leader it shrinks the ISR of followers lagging more than
// replica.lag.time.max.ms and expands it when a follower catches up, by compare-and-set on the
// stored partition state (leader and epoch unchanged), re-reading and re-deciding when the CAS
// loses, as Kafka's leader does through AlterPartition.
import type { SchemaValidationSettings } from '../broker/schema-validation.js';
import type { BrokerConfig } from '../config/config.js';
import { topicLogConfig } from '../config/topic-config.js';
import type { LogConfig, LogManager } from '../storage/index.js';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../protocol/errors.js';
import { formatOffsetCheckpoint, readOffsetCheckpoint, writeFileAtomic } from '../storage/files.js';
import type { MetadataChange, MetadataStore, PartitionState, TopicRecord } from './metadata-store.js';
import { Partition } from './partition.js';
import { ReplicaFetcherManager } from './replica-fetcher.js';
import { interBrokerSecurity, type InterBrokerSecurity } from './inter-broker-security.js';
import { parseThrottledReplicas, ReplicationQuota, type ThrottledReplicas } from './replication-quota.js';

/** What the request path needs to know about a topic's configs: the log's plus produce-time checks. */
export interface TopicSettings extends LogConfig {
  minInsyncReplicas: number;
  /** Broker-side schema validation (confluent.*.schema.validation); null when off. */
  schemaValidation: SchemaValidationSettings | null;
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  compressionType: string;
  /** This broker's partitions of the topic in leader./follower.replication.throttled.replicas. */
  leaderThrottled?: ThrottledReplicas;
  followerThrottled?: ThrottledReplicas;
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
  private isrTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Inter-broker listener, TLS and SASL; read on the first connection to a leader. */
  private interBroker: InterBrokerSecurity | undefined;
  /** ISR changes in flight, by partition key (one CAS at a time per partition). */
  private readonly isrUpdates = new Map<string, Promise<void>>();
  readonly fetchers: ReplicaFetcherManager;
  /** Replication throttles (leader.replication.throttled.rate / follower.replication.throttled.rate). */
  readonly leaderQuota: ReplicationQuota;
  readonly followerQuota: ReplicationQuota;
  /** High watermarks of replicated partitions from replication-offset-checkpoint (Kafka's file). */
  private savedHighWatermarks = new Map<string, number>();
  private hwTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: Pick<MetadataStore, 'topics' | 'topic' | 'partitionState' | 'onChange'> &
      Partial<Pick<MetadataStore, 'brokers' | 'updatePartitionState'>>,
    private readonly logs: LogManager,
    private readonly log: (msg: string) => void = () => {},
  ) {
    const quotaWindow = { windows: () => config.getInt('replication.quota.window.num'), windowMs: () => config.getInt('replication.quota.window.size.seconds') * 1000 };
    this.leaderQuota = new ReplicationQuota({ rate: () => config.getLong('leader.replication.throttled.rate'), ...quotaWindow });
    this.followerQuota = new ReplicationQuota({ rate: () => config.getLong('follower.replication.throttled.rate'), ...quotaWindow });
    this.fetchers = new ReplicaFetcherManager({
      nodeId,
      quota: this.followerQuota,
      brokers: () => this.metadata.brokers?.() ?? [],
      maxWaitMs: () => config.getInt('replica.fetch.wait.max.ms'),
      minBytes: () => config.getInt('replica.fetch.min.bytes'),
      maxBytes: () => config.getInt('replica.fetch.response.max.bytes'),
      partitionMaxBytes: () => config.getInt('replica.fetch.max.bytes'),
      backoffMs: () => config.getInt('replica.fetch.backoff.ms'),
      socketTimeoutMs: () => config.getInt('replica.socket.timeout.ms'),
      log,
      interBroker: () => (this.interBroker ??= interBrokerSecurity(config)),
    });
  }

  /** Opens the replicas of every topic in the store, then follows the store's changes. */
  async start(): Promise<void> {
    this.savedHighWatermarks = await readOffsetCheckpoint(this.hwCheckpointFile);
    for (const topic of this.metadata.topics()) await this.ensureTopic(topic);
    // A partition reloaded from disk after an I/O error takes its new log.
    this.logs.onReloaded = (log) => this.get(log.topic, log.partition)?.replaceLog(log);
    this.hwTimer = setInterval(
      () => void this.checkpointHighWatermarks().catch(() => undefined),
      this.config.getLong('replica.high.watermark.checkpoint.interval.ms'),
    );
    this.hwTimer.unref?.();
    this.metadata.onChange((change) => {
      if (!this.closed) this.onMetadataChange(change);
    });
    this.expiryTimer = setInterval(() => this.expireProducers(Date.now()), this.config.getInt('producer.id.expiration.check.interval.ms'));
    this.expiryTimer.unref?.();
    // Kafka checks for lagging followers every replica.lag.time.max.ms / 2.
    const lagMax = this.config.getLong('replica.lag.time.max.ms');
    this.isrTimer = setInterval(() => this.shrinkIsrs(Date.now()), Math.max(10, Math.floor(lagMax / 2)));
    this.isrTimer.unref?.();
  }

  private get hwCheckpointFile(): string {
    return join(this.logs.dataDir, 'replication-offset-checkpoint');
  }

  private highWatermarkCheckpoint(): string {
    const entries: { topic: string; partition: number; offset: number }[] = [];
    for (const p of this.partitions.values()) if (p.replicated) entries.push({ topic: p.topic, partition: p.index, offset: p.highWatermark });
    return formatOffsetCheckpoint(entries);
  }

  /**
   * Writes replication-offset-checkpoint: a restarted replica starts from a high watermark that
   * was committed, instead of exposing its whole log or hiding all of it until the first fetch round.
   */
  async checkpointHighWatermarks(): Promise<void> {
    if (this.closed) return;
    await writeFileAtomic(this.hwCheckpointFile, this.highWatermarkCheckpoint());
  }

  close(): void {
    if (!this.closed && this.hwTimer) {
      // Synchronous: close() runs before the logs close; the file is small.
      try {
        const tmp = `${this.hwCheckpointFile}.tmp`;
        writeFileSync(tmp, this.highWatermarkCheckpoint());
        renameSync(tmp, this.hwCheckpointFile);
      } catch (err) {
        this.log(`writing replication-offset-checkpoint failed: ${(err as Error).message}`);
      }
    }
    this.closed = true;
    clearInterval(this.hwTimer);
    clearInterval(this.expiryTimer);
    clearInterval(this.isrTimer);
    this.fetchers.close();
    for (const p of this.partitions.values()) {
      p.failPendingAcks(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'The broker is shutting down.');
    }
  }

  // ------------------------------------------------------------------ roles

  /**
   * Applies a partition state to the local replica: become leader (new epoch), become follower
   * (new leader or epoch), or only take the new ISR.
   */
  private applyState(p: Partition, state: PartitionState): void {
    if (this.closed) return;
    if (state.leader === this.nodeId) {
      if (p.role === 'leader' && p.leaderEpoch === state.leaderEpoch) {
        p.isrChanged(state.isr);
        return;
      }
      this.fetchers.remove(p);
      const become = () => {
        // The store may have moved on while follower work finished: apply the latest state.
        const latest = this.metadata.partitionState(p.topic, p.index) ?? state;
        if (latest.leader !== this.nodeId || this.closed || this.get(p.topic, p.index) !== p) return;
        if (p.role === 'leader' && p.leaderEpoch === latest.leaderEpoch) return;
        p.becomeLeader(latest.leaderEpoch, latest.isr);
        this.log(`${p.topic}-${p.index}: leader at epoch ${latest.leaderEpoch}, ISR [${latest.isr.join(',')}]`);
      };
      // Leading while a truncation still cuts the log would lose appends: let it finish first.
      if (p.followerWork) {
        p.role = 'follower';
        p.generation++;
        void p.followerWork.catch(() => undefined).then(become);
      } else become();
      return;
    }
    if (p.role === 'follower' && p.leaderId === state.leader && p.leaderEpoch === state.leaderEpoch) {
      p.isrChanged(state.isr);
      return;
    }
    const wasLeader = p.role === 'leader';
    p.becomeFollower(state.leader, state.leaderEpoch, state.isr);
    if (wasLeader) this.log(`${p.topic}-${p.index}: follower of ${state.leader} at epoch ${state.leaderEpoch}`);
    if (state.leader >= 0 && p.replicas.includes(this.nodeId)) this.fetchers.add(p, state.leader);
    else this.fetchers.remove(p);
  }

  /** Shrinks the ISR of every led partition with followers lagging past replica.lag.time.max.ms. */
  shrinkIsrs(now: number): void {
    if (this.closed) return;
    const lagMax = this.config.getLong('replica.lag.time.max.ms');
    for (const p of this.partitions.values()) {
      if (p.role !== 'leader' || !p.replicated) continue;
      const lagging = p.laggingFollowers(now, lagMax);
      if (lagging.length === 0) continue;
      this.changeIsr(p, p.isr.filter((id) => !lagging.includes(id)));
    }
  }

  /**
   * Writes a new ISR by compare-and-set (leader and epoch unchanged). On a lost CAS re-reads the
   * state and re-decides: still leader at the same epoch → recompute from the replica's view.
   */
  private changeIsr(p: Partition, wanted: number[]): void {
    const k = key(p.topic, p.index);
    if (this.isrUpdates.has(k) || !this.metadata.updatePartitionState) return;
    const update = this.metadata.updatePartitionState;
    const run = async () => {
      for (let attempt = 0; attempt < 5 && !this.closed; attempt++) {
        const current = this.metadata.partitionState(p.topic, p.index);
        if (!current || current.leader !== this.nodeId || current.leaderEpoch !== p.leaderEpoch || p.role !== 'leader') return;
        // KIP-841: a broker that is fenced or in controlled shutdown never joins an ISR, or the
        // controller's hand-over would be undone while the leaving broker still fetches.
        const members = this.metadata.brokers?.call(this.metadata);
        const eligible = members && new Set(members.filter((b) => !b.shuttingDown).map((b) => b.nodeId));
        // Only assigned replicas (from the store, read together with `current`: the controller
        // ends a reassignment by writing the state and the replica list in one transaction, so
        // the two agree): a replica a reassignment removed may still be fetching. A replica an
        // ongoing reassignment is removing is still assigned and may rejoin, as in Kafka.
        const assigned = this.metadata.topic(p.topic)?.partitions.find((a) => a.partition === p.index)?.replicas ?? p.replicas;
        const isr = (attempt === 0 ? wanted : this.recomputeIsr(p, current.isr)).filter(
          (id) => assigned.includes(id) && (!eligible || current.isr.includes(id) || eligible.has(id)),
        );
        if (sameMembers(isr, current.isr) || !isr.includes(this.nodeId)) return;
        const next: PartitionState = { leader: current.leader, leaderEpoch: current.leaderEpoch, isr, version: current.version };
        const ok = await update.call(this.metadata, p.topic, p.index, next, current.version);
        if (ok) {
          this.log(`${p.topic}-${p.index}: ISR [${current.isr.join(',')}] -> [${isr.join(',')}]`);
          // The store's change notification applies it too; applying now keeps HW/acks prompt.
          if (p.role === 'leader' && p.leaderEpoch === current.leaderEpoch) p.isrChanged(isr);
          return;
        }
      }
    };
    const done = run()
      .catch((err: Error) => this.log(`${p.topic}-${p.index}: ISR update failed: ${err.message}`))
      .finally(() => this.isrUpdates.delete(k));
    this.isrUpdates.set(k, done);
  }

  /** ISR from the leader's current view: drop lagging members, add caught-up followers. */
  private recomputeIsr(p: Partition, stored: number[]): number[] {
    const now = Date.now();
    const lagging = new Set(p.laggingFollowers(now, this.config.getLong('replica.lag.time.max.ms')));
    const isr = new Set(stored.filter((id) => !lagging.has(id)));
    for (const [id, f] of p.followers) {
      if (f.offset >= p.highWatermark && f.offset >= p.leaderEpochStartOffset && now - f.lastCaughtUpMs <= this.config.getLong('replica.lag.time.max.ms')) isr.add(id);
    }
    isr.add(this.nodeId);
    return [...isr].sort((a, b) => a - b);
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
        this.applyState(p, change.state);
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
      leaderThrottled: parseThrottledReplicas(topic.configs['leader.replication.throttled.replicas'], this.nodeId),
      followerThrottled: parseThrottledReplicas(topic.configs['follower.replication.throttled.replicas'], this.nodeId),
      schemaValidation:
        c.keySchemaValidation || c.valueSchemaValidation
          ? { key: c.keySchemaValidation, value: c.valueSchemaValidation, keyStrategy: c.keySubjectNameStrategy, valueStrategy: c.valueSubjectNameStrategy }
          : null,
    };
  }

  // One instance of each per broker, shared by every partition (they take the partition as argument).
  private readonly cleanerDedupeBufferBytes = (): number => this.config.getLong('log.cleaner.dedupe.buffer.size');
  private readonly isrChangeWanted = (p: Partition, isr: number[]): void => this.changeIsr(p, isr);
  private readonly firstConsumerReadAsFollower = (p: Partition): void =>
    this.log(`${p.topic}-${p.index}: serving consumer fetches as a follower of ${p.leaderId} (KIP-392)`);

  /** Opens (creating when missing) the local replicas of a topic. */
  private async ensureTopic(topic: TopicRecord): Promise<void> {
    const settings = this.settingsFor(topic);
    for (const assignment of topic.partitions) {
      const existing = this.partitions.get(key(topic.name, assignment.partition));
      if (existing) {
        this.updateReplicas(existing, assignment.replicas);
        continue;
      }
      if (!assignment.replicas.includes(this.nodeId)) continue;
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
        this.nodeId,
      );
      log.cleanerDedupeBufferBytes = this.cleanerDedupeBufferBytes;
      if (!partition.replicated) {
        // Single node: everything durable in the log is committed.
        if (log.highWatermark < log.logEndOffset) log.setHighWatermark(log.logEndOffset);
      } else {
        // Replicated: what is committed is learned from the ISR (leader) or the leader (follower).
        // Start from the checkpointed high watermark (committed when written), else the log start;
        // it catches up at the first fetch round.
        log.autoAdvanceHighWatermark = false;
        const saved = this.savedHighWatermarks.get(`${topic.name}-${assignment.partition}`);
        log.setHighWatermark(saved !== undefined ? Math.min(saved, log.logEndOffset) : log.logStartOffset);
      }
      partition.onIsrChangeWanted = this.isrChangeWanted;
      partition.onFirstConsumerReadAsFollower = this.firstConsumerReadAsFollower;
      this.partitions.set(key(topic.name, assignment.partition), partition);
      if (partition.replicated) {
        partition.role = 'follower';
        partition.leaderEpoch = -1; // not applied yet: the first state always takes effect
        this.applyState(partition, state ?? { leader: this.nodeId, leaderEpoch: 0, isr: [this.nodeId], version: 0 });
      }
    }
  }

  /**
   * The replica set changed (reassignment): the leader starts tracking added followers (they join
   * the ISR once caught up) and forgets removed ones; a replica removed from this broker stops
   * fetching (its files stay until the topic is deleted).
   */
  private updateReplicas(p: Partition, replicas: number[]): void {
    if (sameMembers(p.replicas, replicas) && p.replicas.length === replicas.length) return;
    p.replicas = [...replicas];
    if (!replicas.includes(this.nodeId)) {
      this.fetchers.remove(p);
      p.becomeFollower(-1, p.leaderEpoch, p.isr);
      return;
    }
    if (p.role !== 'leader') return;
    p.log.autoAdvanceHighWatermark = !p.replicated;
    const now = Date.now();
    for (const id of replicas) {
      if (id !== this.nodeId && !p.followers.has(id)) {
        p.followers.set(id, { offset: -1, lastCaughtUpMs: now, lastFetchLeaderEnd: -1, lastFetchMs: now });
      }
    }
    for (const id of [...p.followers.keys()]) if (!replicas.includes(id)) p.followers.delete(id);
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
      this.fetchers.remove(p);
      p.failPendingAcks(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} was deleted.`);
      p.wakeWaiters();
    }
    await this.logs.deleteTopic(name);
  }

  /**
   * Waits until any of the partitions' high watermark advances, or the timeout passes.
   * Used by Fetch long-polls.
   */
  waitForAppend(partitions: Partition[], timeoutMs: number, opts: { replica?: boolean } = {}): Promise<void> {
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
      for (const p of partitions) {
        cancels.push(p.onNextAdvance(finish));
        // Followers fetch past the high watermark: any write is news to them.
        if (opts.replica) cancels.push(p.onNextWrite(finish));
      }
    });
  }
}

function sameMembers(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  const sb = new Set(b);
  return a.every((x) => sb.has(x));
}
