// A partition replica hosted on this broker: its log, its role (leader or follower), the high
// watermark, and the parked fetches woken when the high watermark moves.
//
// Single node (replicas = [this broker]): the log advances the high watermark to its durable end
// by itself, acks=all == acks=1, nothing below changes that path.
//
// Replicated (Kafka's leader/ISR design): as leader it tracks each follower's fetch offset and
// last caught-up time; the high watermark is the minimum over the ISR of the offsets each member
// holds durably (a follower's fetch offset only counts for data it has fsynced, unless
// fjord.flush.mode=kafka, where a follower's write counts as Kafka's in-memory replication does);
// acks=all appends complete once the high watermark passes them. As follower it appends the
// leader's batches (see replica-fetcher.ts) and takes the high watermark from fetch responses.
import { decodeRecordsSync } from '../protocol/records/batch.js';
import { ErrorCode } from '../protocol/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import type { AppendResult, PartitionLog, PartitionLogListener } from '../storage/index.js';
import type { TopicSettings } from './replica-manager.js';

export type BatchInfoForAppend = Parameters<PartitionLog['append']>[1];

export type ReplicaRole = 'leader' | 'follower';

/** What the leader knows of one follower (Kafka's Replica state). */
export interface FollowerState {
  /** Fetch offset the follower last reported: everything below is durable on it; -1 = unknown. */
  offset: number;
  /** Last time the follower was caught up with the leader's log end (ISR membership). */
  lastCaughtUpMs: number;
  /** Leader log end and time of the previous fetch (Kafka's caught-up rule). */
  lastFetchLeaderEnd: number;
  lastFetchMs: number;
}

export interface AppendOptions {
  logAppendTime?: number;
  /**
   * Wait for the high watermark to pass the batches (acks=all; coordinator writes). Default
   * true. acks=1 passes false: done on the leader's local (durable) append.
   */
  waitForReplication?: boolean;
  /** acks=all: REQUEST_TIMED_OUT after this long (the Produce request's timeout). */
  timeoutMs?: number;
}

interface PendingAck {
  endOffset: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const recordTimestamps = (batch: Buffer): ReturnType<typeof decodeRecordsSync> => decodeRecordsSync(batch);

export class Partition implements PartitionLogListener {
  // The waiter sets and the followers map are created on first use: an idle partition (most of
  // them on a broker with thousands) holds none.
  private waiters: Set<() => void> | undefined;
  /** Parked follower fetches: woken when new data is written (not only when the HW moves). */
  private dataWaiters: Set<() => void> | undefined;
  /** acks=all appends waiting for the high watermark, in offset order. */
  private pendingAcks: PendingAck[] = [];
  role: ReplicaRole;
  private _followers: Map<number, FollowerState> | undefined;
  /** Offset at which this broker's leadership epoch began (ISR expansion needs a follower past it). */
  leaderEpochStartOffset = 0;
  /** Bumped on every role change: a replica fetcher drops work begun under an older one. */
  generation = 0;
  /** Follower work that must finish before this replica may lead (truncation in progress). */
  followerWork: Promise<void> | undefined;
  /** Asks the controller side (ReplicaManager) to change the ISR by compare-and-set. */
  onIsrChangeWanted?: (partition: Partition, isr: number[]) => void;
  /** Consumer fetches (KIP-392) this replica answered with records while a follower. */
  consumerReadsAsFollower = 0;
  /** Told once per follower term when a consumer first reads records from this follower. */
  onFirstConsumerReadAsFollower?: (partition: Partition) => void;
  private consumerReadGeneration = -1;

  constructor(
    readonly topic: string,
    readonly index: number,
    public topicId: string,
    public log: PartitionLog,
    public settings: TopicSettings,
    public leaderId: number,
    public leaderEpoch: number,
    public replicas: number[],
    public isr: number[],
    readonly nodeId: number = leaderId,
  ) {
    this.role = leaderId === nodeId ? 'leader' : 'follower';
    this.attach(log);
  }

  /** A log reloaded from disk after going offline (I/O error) replaces the failed one. */
  replaceLog(log: PartitionLog): void {
    this.log = log;
    this.attach(log);
    this.wakeWaiters();
  }

  private attach(log: PartitionLog): void {
    // The Partition is the log's listener (onHighWatermark, onWritten, onDurable below): no
    // closures per partition.
    log.listener = this;
    // ListOffsets by timestamp must find the exact record inside compressed batches too.
    log.recordTimestamps = recordTimestamps;
  }

  /** @internal PartitionLogListener: the high watermark advanced. */
  onHighWatermark(): void {
    this.wakeWaiters();
    if (this.pendingAcks.length > 0) this.completeAcks();
  }

  /** @internal PartitionLogListener: data reached the segment file. */
  onWritten(): void {
    this.wakeDataWaiters();
  }

  /** @internal PartitionLogListener: the log's durable end advanced. */
  onDurable(): void {
    if (this.role === 'leader' && this.replicated) this.maybeAdvanceHighWatermark();
  }

  /** Leader side: followers by broker id. */
  get followers(): Map<number, FollowerState> {
    return (this._followers ??= new Map());
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  /** More than one replica: the high watermark is managed by replication, not by the log. */
  get replicated(): boolean {
    return this.replicas.length > 1 || this.replicas[0] !== this.nodeId;
  }

  /**
   * Appends validated batches as leader. Single node: resolves once the write is durable (the
   * log advances the high watermark to its durable end by itself). Replicated: resolves once the
   * high watermark passes the batches (unless waitForReplication is false), fails with
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync.replicas meanwhile,
   * NOT_LEADER_OR_FOLLOWER when leadership moves, REQUEST_TIMED_OUT after timeoutMs.
   */
  appendAsLeader(buf: Buffer, batches: BatchInfoForAppend, opts: AppendOptions | number = {}): Promise<AppendResult> {
    const o: AppendOptions = typeof opts === 'number' ? { logAppendTime: opts } : opts;
    if (this.role !== 'leader') {
      return Promise.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker does not lead ${this.topic}-${this.index}.`));
    }
    const appended = this.log.append(buf, batches, this.leaderEpoch, o.logAppendTime === undefined ? undefined : { logAppendTime: o.logAppendTime });
    if (!this.replicated || o.waitForReplication === false) return appended;
    return appended.then((r) => this.waitForHighWatermark(r.lastOffset + 1, o.timeoutMs).then(() => r));
  }

  /** Resolves once the high watermark reaches endOffset (see appendAsLeader for the failures). */
  waitForHighWatermark(endOffset: number, timeoutMs?: number): Promise<void> {
    if (this.role !== 'leader') {
      return Promise.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Leadership of ${this.topic}-${this.index} moved.`));
    }
    if (this.log.highWatermark >= endOffset) return this.checkIsrAfterAppend();
    return new Promise<void>((resolve, reject) => {
      const ack: PendingAck = { endOffset, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined && timeoutMs >= 0) {
        ack.timer = setTimeout(() => {
          this.pendingAcks = this.pendingAcks.filter((a) => a !== ack);
          reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Replication of ${this.topic}-${this.index} up to ${endOffset} did not finish within ${timeoutMs} ms.`));
        }, timeoutMs);
      }
      // appends complete in offset order; keep the list sorted
      let i = this.pendingAcks.length;
      while (i > 0 && this.pendingAcks[i - 1]!.endOffset > endOffset) i--;
      this.pendingAcks.splice(i, 0, ack);
    });
  }

  private checkIsrAfterAppend(): Promise<void> {
    const minIsr = this.settings.minInsyncReplicas;
    if (this.isr.length < minIsr) {
      return Promise.reject(
        new KafkaError(
          ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
          `The ISR of ${this.topic}-${this.index} shrank to ${this.isr.length}, below min.insync.replicas ${minIsr}, after the append.`,
        ),
      );
    }
    return Promise.resolve();
  }

  private completeAcks(): void {
    const hw = this.log.highWatermark;
    let n = 0;
    while (n < this.pendingAcks.length && this.pendingAcks[n]!.endOffset <= hw) n++;
    if (n === 0) return;
    const done = this.pendingAcks.splice(0, n);
    const tooFew = this.isr.length < this.settings.minInsyncReplicas;
    for (const a of done) {
      clearTimeout(a.timer);
      if (tooFew) void this.checkIsrAfterAppend().catch(a.reject);
      else a.resolve();
    }
  }

  /** Fails every acks=all append still waiting (leadership lost, partition deleted). */
  failPendingAcks(code: number, message: string): void {
    const all = this.pendingAcks;
    this.pendingAcks = [];
    for (const a of all) {
      clearTimeout(a.timer);
      a.reject(new KafkaError(code, message));
    }
  }

  // ------------------------------------------------------------------ leader side

  /** Becomes leader at `epoch` (the caller made sure no follower work is in flight). */
  becomeLeader(epoch: number, isr: number[], now = Date.now()): void {
    this.generation++;
    this.role = 'leader';
    this.leaderId = this.nodeId;
    this.leaderEpoch = epoch;
    this.isr = [...isr];
    this.log.autoAdvanceHighWatermark = !this.replicated;
    this.leaderEpochStartOffset = this.log.logEndOffset;
    // Kafka assigns the new epoch at the log end at once, so OffsetForLeaderEpoch answers right.
    if (epoch > this.log.leaderEpochCache.latestEpoch()) this.log.leaderEpochCache.assign(epoch, this.log.logEndOffset);
    this._followers?.clear();
    for (const id of this.replicas) {
      if (id === this.nodeId) continue;
      // Unknown offset until the follower fetches; it has replica.lag.time.max.ms to do so.
      this.followers.set(id, { offset: -1, lastCaughtUpMs: now, lastFetchLeaderEnd: -1, lastFetchMs: now });
    }
    if (!this.replicated && this.log.highWatermark < this.log.durableEndOffset) this.log.setHighWatermark(this.log.durableEndOffset);
    this.maybeAdvanceHighWatermark();
  }

  /** Becomes a follower of `leader` (-1: none known). Pending acks=all appends fail. */
  becomeFollower(leader: number, epoch: number, isr: number[]): void {
    this.generation++;
    this.role = 'follower';
    this.leaderId = leader;
    this.leaderEpoch = epoch;
    this.isr = [...isr];
    this.log.autoAdvanceHighWatermark = false;
    this._followers?.clear();
    this.failPendingAcks(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Leadership of ${this.topic}-${this.index} moved to broker ${leader}.`);
    this.wakeWaiters();
    this.wakeDataWaiters();
  }

  /** The ISR changed in the store (same leader and epoch). */
  isrChanged(isr: number[]): void {
    this.isr = [...isr];
    if (this.role !== 'leader') return;
    this.maybeAdvanceHighWatermark();
    if (this.pendingAcks.length > 0) this.completeAcks();
  }

  /**
   * A follower fetched from `fetchOffset`: it holds (durably) everything below it. Updates its
   * caught-up time the way Kafka does (caught up with the log end now, or with the log end of its
   * previous fetch), the high watermark, and asks for ISR expansion when it has caught up.
   */
  recordFollowerFetch(replicaId: number, fetchOffset: number, now = Date.now()): void {
    if (this.role !== 'leader') return;
    let f = this.followers.get(replicaId);
    if (!f) {
      if (!this.replicas.includes(replicaId)) return;
      f = { offset: -1, lastCaughtUpMs: now, lastFetchLeaderEnd: -1, lastFetchMs: now };
      this.followers.set(replicaId, f);
    }
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpMs = now;
    else if (fetchOffset >= f.lastFetchLeaderEnd) f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
    f.lastFetchLeaderEnd = leaderEnd;
    f.lastFetchMs = now;
    f.offset = fetchOffset;
    this.maybeAdvanceHighWatermark();
    if (
      !this.isr.includes(replicaId) &&
      fetchOffset >= this.log.highWatermark &&
      fetchOffset >= this.leaderEpochStartOffset
    ) {
      this.onIsrChangeWanted?.(this, [...this.isr, replicaId].sort((a, b) => a - b));
    }
  }

  /** ISR members (other than this leader) not caught up for longer than lagMaxMs. */
  laggingFollowers(now: number, lagMaxMs: number): number[] {
    const out: number[] = [];
    for (const id of this.isr) {
      if (id === this.nodeId) continue;
      const f = this.followers.get(id);
      if (!f || now - f.lastCaughtUpMs > lagMaxMs) out.push(id);
    }
    return out;
  }

  /** HW = min over the ISR of what each member holds durably (leader: its durable end). */
  maybeAdvanceHighWatermark(): void {
    if (this.role !== 'leader' || !this.replicated) return;
    let hw = this.log.durableEndOffset;
    for (const id of this.isr) {
      if (id === this.nodeId) continue;
      const f = this.followers.get(id);
      if (!f || f.offset < 0) return; // an ISR member not heard from yet holds the HW back
      if (f.offset < hw) hw = f.offset;
    }
    if (hw > this.log.highWatermark) this.log.setHighWatermark(hw);
  }

  /** A consumer fetch read records from this replica while it follows (KIP-392). */
  noteConsumerReadAsFollower(): void {
    this.consumerReadsAsFollower++;
    if (this.consumerReadGeneration === this.generation) return;
    this.consumerReadGeneration = this.generation;
    this.onFirstConsumerReadAsFollower?.(this);
  }

  // ------------------------------------------------------------------ fetch waiting

  /** Parked fetches (and other waiters) for the next high watermark advance. */
  get waiterCount(): number {
    return this.waiters?.size ?? 0;
  }

  /** Registers a one-shot callback for the next high watermark advance; returns its canceller. */
  onNextAdvance(callback: () => void): () => void {
    const ws = (this.waiters ??= new Set());
    ws.add(callback);
    return () => ws.delete(callback);
  }

  /** Registers a one-shot callback for the next write to the log (follower fetches); returns its canceller. */
  onNextWrite(callback: () => void): () => void {
    const ws = (this.dataWaiters ??= new Set());
    ws.add(callback);
    return () => ws.delete(callback);
  }

  wakeWaiters(): void {
    const ws = this.waiters;
    if (ws === undefined || ws.size === 0) return;
    const current = [...ws];
    ws.clear();
    for (const w of current) w();
  }

  private wakeDataWaiters(): void {
    const ws = this.dataWaiters;
    if (ws === undefined || ws.size === 0) return;
    const current = [...ws];
    ws.clear();
    for (const w of current) w();
  }
}
