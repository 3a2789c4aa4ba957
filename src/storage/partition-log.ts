import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { PARTITION_LEADER_EPOCH } from '../protocol/records/layout.js';
import { readControlRecord } from '../protocol/records/batch.js';
import { scanLeaderBatches, stageAppend, type AppendBatch } from './append-validation.js';
import { cleanLog, commitCleaned, emptyCleanResult, finishSwap, planCleaning, type CleanResult } from './cleaner.js';
import { isCompacted, isDeleteEnabled, type LogConfig } from './config.js';
import { LogDurability, type DurabilityHost } from './durability.js';
import { ErrorCode, StorageError } from './errors.js';
import { exists, flatString, partitionDirName, readFileOrUndefined, syncDir, writeFileAtomic } from './files.js';
import type { FlushScheduler } from './flush-scheduler.js';
import { LeaderEpochCache, type EpochCacheOwner } from './leader-epoch-cache.js';
import type { LogDirHealth } from './log-dir-health.js';
import { firstAppendTime, loadSegments, prepareDir, readTopicId, rebuildProducerState } from './log-loader.js';
import {
  findMaxTimestampOffset,
  findOffsetForTimestamp,
  readBatches,
  retryOnSegmentGone,
  type LogReadView,
  type ReadResult,
  type RecordTimestamps,
} from './log-reader.js';
import { ProducerSnapshots } from './producer-snapshots.js';
import { ProducerStateManager, type ProducerStateView } from './producer-state.js';
import { isPastSegmentMs, mustRoll, segmentsPastRetention, segmentsWhollyBelow } from './retention.js';
import type { SegmentFdCache } from './segment-fds.js';
import { LogSegment } from './segment.js';
import { TxnIndex } from './txn-index.js';
import { WalRecordType } from './wal.js';
import { WriteQueue, type SegmentWrite, type WriteQueueHooks } from './write-queue.js';

export type { AppendBatch } from './append-validation.js';
export type { ReadResult } from './log-reader.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** -1 for CreateTime topics. */
  logAppendTime: number;
  logStartOffset: number;
  /** True when the batch was a retry of one already in the log (original offsets returned). */
  duplicate?: boolean;
}

export interface OpenOptions {
  /** Flushed offset from recovery-point-offset-checkpoint; segments from the one holding it on are scanned after a crash. */
  recoveryPoint?: number;
  /** From log-start-offset-checkpoint. */
  logStartOffset?: number;
  /** Whether the previous shutdown was clean; default: `<dataDir>/.kafka_cleanshutdown` exists. */
  cleanShutdown?: boolean;
  /** From cleaner-offset-checkpoint: offsets below it were cleaned already (compacted logs). */
  cleanerCheckpoint?: number;
  /** The broker's bound on open segment files (the LogManager's); none: segments keep their fds until closed. */
  fdCache?: SegmentFdCache;
}

/** What a PartitionLog tells its owner (see PartitionLog.listener). */
export interface PartitionLogListener {
  /** The high watermark advanced (wake parked fetches, complete acks=all). */
  onHighWatermark?(hw: number): void;
  /** durableEndOffset advanced (a replicated leader recomputes its high watermark). */
  onDurable?(durableEnd: number): void;
  /** Written data reached the segment file (wakes parked follower fetches). */
  onWritten?(writtenEnd: number): void;
}

export interface CompactOptions {
  /** Clean even when min.cleanable.dirty.ratio / max.compaction.lag.ms would not ask for it. */
  force?: boolean;
}

/**
 * One topic-partition's log: segment files in Kafka's layout, offset assignment, idempotent
 * producer checks, durable appends, reads by offset or timestamp, retention and recovery. The
 * jobs live in their own modules; this class holds the state and composes them:
 *   log-loader.ts        loading and recovery, producer state rebuilt from snapshots
 *   append-validation.ts offsets and producer checks of an append (nothing changes on failure)
 *   write-queue.ts       ordered segment writes and the tasks between them
 *   durability.ts        fsync policy (group commit / flush.messages, flush.ms), acks waiting on it
 *   log-reader.ts        fetch and ListOffsets reads
 *   retention.ts         when to roll, which segments retention deletes
 *   cleaner.ts           when and how to compact
 *
 * Offsets progress through these marks (each <= the previous):
 *   logEndOffset      assigned (synchronously in append order)
 *   writtenEndOffset  written to the segment file (readable)
 *   durableEndOffset  satisfies the flush policy: fsynced (group commit) or written (interval mode)
 *   highWatermark     visible to consumers. With `autoAdvanceHighWatermark` (the single-node
 *                     default) HW follows durableEndOffset; a replicated setup turns it off and
 *                     calls setHighWatermark(ISR minimum).
 *   recoveryPoint     fsynced: in the segment files, or in the WAL when it is on (survives a
 *                     power failure). segmentRecoveryPoint (<= it): fsynced in the segment
 *                     files; recovery after a crash scans from there (Kafka's recovery point).
 */
export class PartitionLog implements DurabilityHost, WriteQueueHooks, EpochCacheOwner {
  readonly dir: string;
  /** "<topic>-<partition>": how WAL records name the partition. */
  readonly walKey: string;
  topicId: string;
  config: LogConfig;
  /** Single-node mode: HW = durableEndOffset. Set false when replication manages the HW. */
  autoAdvanceHighWatermark = true;
  /**
   * Told when the high watermark, durableEndOffset or writtenEndOffset advance (the Partition
   * holding this log: one object reference rather than a closure per event and partition).
   */
  listener?: PartitionLogListener;
  /** Optional exact-record resolver for compressed batches in offsetForTimestamp (e.g. using the codec). */
  recordTimestamps?: RecordTimestamps;
  /** log.cleaner.dedupe.buffer.size (read at each pass, so dynamic changes apply); unset = unbounded. */
  cleanerDedupeBufferBytes?: () => number;
  /** The disk's state (low space refuses appends); shared by the logs of one log dir. */
  dirHealth?: LogDirHealth;
  /** One line per storage state change of this partition (offline after an I/O error). */
  onStorageEvent?: (msg: string) => void;
  /** Aborted transactions (`.txnindex`), for read_committed fetches. */
  readonly txnIndex: TxnIndex;
  readonly leaderEpochCache = new LeaderEpochCache();

  private segments: LogSegment[] = [];
  private _logStartOffset = 0;
  private _logEndOffset = 0;
  private _writtenEndOffset = 0;
  private _highWatermark = 0;
  private readonly producerState = new ProducerStateManager();
  private readonly snapshots: ProducerSnapshots;
  /** Created by the first write or task (an idle log holds none); see writeQueue. */
  private writes: WriteQueue | undefined;
  private readonly durability: LogDurability;
  private failed: StorageError | undefined;
  /** Set while a write that hit ENOSPC/EDQUOT is rolled back to what is on disk. */
  private rollingBack = false;
  private closed = false;
  private closingEpoch = false;
  /** The checkpoint write in flight (undefined when none: an idle log holds no promise). */
  private epochWrite: Promise<void> | undefined;
  private epochDirty = false;
  /** Serializes changes of the segment list that delete files (retention, truncation, cleaner swaps). */
  private segmentsLock: Promise<unknown> | undefined;
  private _cleanerCheckpoint = -1;
  private cleaning: Promise<CleanResult> | undefined;
  private stopCleaner = false;
  /** Earliest delete horizon of a tombstone the cleaner kept (-1: none known). */
  private deleteHorizonDue = -1;

  private constructor(
    readonly dataDir: string,
    readonly topic: string,
    readonly partition: number,
    topicId: string,
    config: LogConfig,
    syncer: FlushScheduler,
    private readonly fdCache: SegmentFdCache | undefined,
  ) {
    this.walKey = flatString(partitionDirName(topic, partition));
    this.dir = flatString(path.join(dataDir, this.walKey));
    this.topicId = topicId;
    this.config = config;
    this.leaderEpochCache.owner = this;
    this.txnIndex = new TxnIndex(this.dir);
    this.snapshots = new ProducerSnapshots(this.dir);
    // The log is its own write-queue and durability host: no per-partition hook objects or closures.
    this.durability = new LogDurability(this, syncer);
  }

  /** "<topic>-<partition>" (the same string as walKey: built once, not per read). */
  private get writeQueue(): WriteQueue {
    return (this.writes ??= new WriteQueue(this));
  }

  /** Resolves when every queued write and task has run. */
  private drainWrites(): Promise<void> {
    return this.writes === undefined ? Promise.resolve() : this.writes.drain();
  }

  private get name(): string {
    return this.walKey;
  }

  // ---------------------------------------------------------------- open / recovery

  /** Opens (creating if needed) `<dataDir>/<topic>-<partition>` and runs recovery. */
  static async open(
    dataDir: string,
    topic: string,
    partition: number,
    topicId: string,
    config: LogConfig,
    syncer: FlushScheduler,
    opts: OpenOptions = {},
  ): Promise<PartitionLog> {
    const log = new PartitionLog(dataDir, topic, partition, topicId, config, syncer, opts.fdCache);
    const clean = opts.cleanShutdown ?? (await exists(path.join(dataDir, CLEAN_SHUTDOWN_FILE)));
    await log.load(clean, opts.recoveryPoint ?? 0, opts.logStartOffset ?? 0);
    if (opts.cleanerCheckpoint !== undefined) log._cleanerCheckpoint = opts.cleanerCheckpoint;
    return log;
  }

  /** Reads `<dir>/partition.metadata` (topic id), or undefined. */
  static readTopicId(dir: string): Promise<string | undefined> {
    return readTopicId(dir);
  }

  private async load(clean: boolean, recoveryPoint: number, logStartCheckpoint: number): Promise<void> {
    this.topicId = await prepareDir(this.dir, this.name, this.topicId);
    const loaded = await loadSegments(this.dir, this.config, clean, recoveryPoint, logStartCheckpoint, this.fdCache);
    this.segments = loaded.segments.slice(); // exact capacity (the loader's array grew by push)
    const active = this.active;
    active.firstAppendMs = active.size > 0 ? await firstAppendTime(active) : -1;

    const leo = active.nextOffset;
    this._logEndOffset = this._writtenEndOffset = leo;
    this.durability.resetTo(leo);
    this._logStartOffset = Math.min(Math.max(logStartCheckpoint, this.segments[0]!.baseOffset), leo);
    this._highWatermark = leo;
    if (!clean) await active.sync(true); // the previous process's writes may still be in the page cache

    // leader epochs: the checkpoint, then the epochs seen by recovery
    this.leaderEpochCache.owner = undefined;
    const epochText = await readFileOrUndefined(path.join(this.dir, 'leader-epoch-checkpoint'));
    if (epochText) this.leaderEpochCache.parse(epochText.toString('utf8'));
    this.leaderEpochCache.truncateFromEnd(leo);
    for (const e of loaded.scannedEpochs) if (e.offset < leo) this.leaderEpochCache.assign(e.epoch, e.offset);
    this.leaderEpochCache.truncateFromStart(this._logStartOffset);
    this.leaderEpochCache.owner = this;
    this.scheduleEpochCheckpoint();

    // producer state: latest snapshot at or below LEO, then replay batch headers after it
    await this.txnIndex.load(this.segments.map((s) => s.baseOffset));
    await this.rebuildProducerState(loaded.snapshots, leo);
    await syncDir(this.dir);
  }

  private rebuildProducerState(snapshots: number[], leo: number): Promise<void> {
    return rebuildProducerState(
      { segments: this.segments, producerState: this.producerState, txnIndex: this.txnIndex, snapshots: this.snapshots },
      snapshots,
      leo,
    );
  }

  // ---------------------------------------------------------------- accessors

  get logStartOffset(): number {
    return this._logStartOffset;
  }
  get logEndOffset(): number {
    return this._logEndOffset;
  }
  get writtenEndOffset(): number {
    return this._writtenEndOffset;
  }
  /** Offline after an I/O error or failed fsync (answers KAFKA_STORAGE_ERROR until reloaded). */
  get offline(): boolean {
    return this.failed !== undefined;
  }
  /** End offset of data that satisfies the flush policy (what acks=1/all may acknowledge on one node). */
  get durableEndOffset(): number {
    return this.durability.durableEndOffset;
  }
  get highWatermark(): number {
    return this._highWatermark;
  }
  /** Offset up to which the log is fsynced (in its segments or, with the WAL on, in the WAL). */
  get recoveryPoint(): number {
    return this.durability.fsyncedEnd;
  }
  /** Offset up to which the segment files are fsynced: recovery-point-offset-checkpoint. */
  get segmentRecoveryPoint(): number {
    return this.durability.recoveryPoint;
  }
  /** min(first open transaction offset, HW): the read_committed fetch bound. */
  get lastStableOffset(): number {
    const fuo = this.producerState.firstUnstableOffset();
    return fuo >= 0 ? Math.min(fuo, this._highWatermark) : this._highWatermark;
  }
  get sizeBytes(): number {
    let s = 0;
    for (const seg of this.segments) s += seg.size;
    return s;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  /** Base offsets of all segments (oldest first). */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }
  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  setHighWatermark(offset: number): void {
    const hw = Math.min(Math.max(offset, this._logStartOffset), this._logEndOffset);
    if (hw === this._highWatermark) return;
    const advanced = hw > this._highWatermark;
    this._highWatermark = hw;
    if (advanced) this.listener?.onHighWatermark?.(hw);
  }

  producerStates(): Iterable<ProducerStateView> {
    return this.producerState.views();
  }

  /** Epoch of the producer's transaction open in this partition, or -1 when none is open. */
  openTransactionEpoch(producerId: number): number {
    const e = this.producerState.get(producerId);
    return e && e.txnStartOffset >= 0 ? e.producerEpoch : -1;
  }

  /** Aborted transactions overlapping [fetchOffset, upperBound) (read_committed Fetch). */
  abortedTransactions(fetchOffset: number, upperBound: number): { producerId: number; firstOffset: number }[] {
    return this.txnIndex.collect(fetchOffset, upperBound);
  }

  /** Drops producer state idle past producer.id.expiration.ms; returns how many producers went. */
  expireProducers(now: number, expirationMs: number): number {
    return this.producerState.removeExpired(now, expirationMs);
  }

  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.leaderEpochCache.endOffsetFor(epoch, this._logEndOffset);
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    for (const s of this.segments) s.indexIntervalBytes = config.indexIntervalBytes;
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends validated batches. Offsets are assigned synchronously (before this returns its
   * promise); the promise resolves once the data is durable per the flush policy.
   */
  append(buf: Buffer, batches: AppendBatch[], leaderEpoch: number, opts: { logAppendTime?: number } = {}): Promise<AppendResult> {
    try {
      return this.appendSync(buf, batches, leaderEpoch, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Throws when the log takes no appends now (offline, closed, rolling back, disk low on space). */
  private checkWritable(): void {
    if (this.failed) throw this.failed;
    if (this.closed) throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.name} is closed`);
    if (this.rollingBack) throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.name} is rolling back a write that found no space; retry`);
    if (this.dirHealth && !this.dirHealth.acceptingAppends) throw this.dirHealth.refusal();
  }

  private appendSync(buf: Buffer, batches: AppendBatch[], leaderEpoch: number, opts: { logAppendTime?: number }): Promise<AppendResult> {
    this.checkWritable();
    if (batches.length === 0) throw new StorageError(ErrorCode.CORRUPT_MESSAGE, 'no batches');
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime' && opts.logAppendTime !== undefined ? opts.logAppendTime : -1;

    // 1. offsets + producer checks (staged; nothing changes if any batch fails)
    const staged = stageAppend(buf, batches, this._logEndOffset, this.producerState);
    if (staged.kind === 'duplicate') {
      const r: AppendResult = {
        baseOffset: staged.batch.firstOffset,
        lastOffset: staged.batch.lastOffset,
        logAppendTime,
        logStartOffset: this._logStartOffset,
        duplicate: true,
      };
      return this.durability.wait(this._logEndOffset).then(() => r);
    }
    const baseOffset = this._logEndOffset;
    const next = staged.next;

    // 2. roll if needed (the segment's fd is open from here on)
    const seg = this.segmentForWrite(staged.bytes, next - 1, Date.now());

    // 3. assign: rewrite baseOffset + partitionLeaderEpoch in place, update indexes
    let off = baseOffset;
    let pos = seg.size;
    const startPos = pos;
    const bufs: Buffer[] = [];
    for (const b of batches) {
      buf.writeBigInt64BE(BigInt(off), b.position);
      buf.writeInt32BE(leaderEpoch, b.position + PARTITION_LEADER_EPOCH);
      const last = off + b.lastOffsetDelta;
      const maxTs = logAppendTime >= 0 ? logAppendTime : b.maxTimestamp;
      seg.trackAppend(last, maxTs, pos, b.size);
      const prev = bufs[bufs.length - 1];
      const slice = buf.subarray(b.position, b.position + b.size);
      if (prev && prev.buffer === slice.buffer && prev.byteOffset + prev.length === slice.byteOffset) {
        bufs[bufs.length - 1] = buf.subarray(prev.byteOffset - buf.byteOffset, b.position + b.size);
      } else bufs.push(slice);
      pos += b.size;
      off = last + 1;
    }
    seg.size = pos;
    for (const e of staged.producers.values()) this.producerState.set(e);
    if (staged.aborts) {
      const fuo = this.producerState.firstUnstableOffset();
      for (const a of staged.aborts) this.txnIndex.append({ ...a, lastStableOffset: fuo >= 0 ? fuo : a.lastOffset + 1 }, seg.baseOffset);
    }
    if (leaderEpoch > this.leaderEpochCache.latestEpoch()) this.leaderEpochCache.assign(leaderEpoch, baseOffset);
    this._logEndOffset = next;
    this.writeQueue.write(seg, startPos, bufs, staged.bytes, next, staged.messages);

    const result: AppendResult = { baseOffset, lastOffset: next - 1, logAppendTime, logStartOffset: this._logStartOffset };
    return this.durability.wait(next).then(() => result);
  }

  // ---------------------------------------------------------------- replication (follower side)

  /**
   * Appends record batches fetched from the partition leader as they are: their offsets and
   * partition leader epochs are kept (a follower's log is a copy of the leader's), the leader
   * epoch cache follows the batches' epochs, producer state is updated without sequence checks.
   * Batches wholly below the log end are skipped; a trailing partial batch is ignored; a corrupt
   * batch or one starting below the log end throws. Resolves once the data is durable per the
   * flush policy (group commit: fsynced), with the new log end offset.
   */
  appendAsFollower(buf: Buffer): Promise<number> {
    try {
      return this.appendAsFollowerSync(buf);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private appendAsFollowerSync(buf: Buffer): Promise<number> {
    this.checkWritable();
    const { infos, start, end, next } = scanLeaderBatches(buf, this._logEndOffset, this.name);
    if (infos.length === 0) return this.durability.wait(this._logEndOffset).then(() => this._logEndOffset);
    const total = end - start;
    const seg = this.segmentForWrite(total, next - 1, Date.now());
    const startPos = seg.size;
    let segPos = startPos;
    let messages = 0;
    let bufPos = start;
    for (const info of infos) {
      seg.trackAppend(info.lastOffset, info.maxTimestamp, segPos, info.size);
      if (info.producerId >= 0) {
        const batch = buf.subarray(bufPos, bufPos + info.size);
        const ctl = info.isControl ? readControlRecord(batch) : undefined;
        const cur = this.producerState.get(info.producerId);
        if (ctl && ctl.type === 0 && cur && cur.txnStartOffset >= 0) {
          const abort = { producerId: info.producerId, firstOffset: cur.txnStartOffset, lastOffset: info.baseOffset };
          this.producerState.set(ProducerStateManager.apply(cur, info, info.baseOffset, info.lastOffset, ctl));
          const fuo = this.producerState.firstUnstableOffset();
          this.txnIndex.append({ ...abort, lastStableOffset: fuo >= 0 ? fuo : abort.lastOffset + 1 }, seg.baseOffset);
        } else {
          this.producerState.set(ProducerStateManager.apply(cur, info, info.baseOffset, info.lastOffset, ctl));
        }
      }
      if (info.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch()) this.leaderEpochCache.assign(info.partitionLeaderEpoch, info.baseOffset);
      messages += info.recordCount;
      segPos += info.size;
      bufPos += info.size;
    }
    seg.size = segPos;
    this._logEndOffset = next;
    this.writeQueue.write(seg, startPos, [buf.subarray(start, end)], total, next, messages);
    return this.durability.wait(next).then(() => next);
  }

  /** Drops the whole log and restarts it empty at `offset` (a follower far behind the leader's log start). */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.drainWrites();
    await this.durability.settled();
    await this.durability.beforeTruncation(WalRecordType.Reset, offset);
    await this.withSegmentsLock(async () => {
      for (const s of this.segments) await this.deleteSegment(s, 0);
      this.segments = [this.newSegment(offset)];
      this._logStartOffset = offset;
      this._logEndOffset = this._writtenEndOffset = offset;
      this.durability.resetTo(offset);
      this._highWatermark = offset;
      this.leaderEpochCache.clear();
      this.scheduleEpochCheckpoint();
      for (const s of await this.snapshots.list()) await this.snapshots.remove(s);
      await this.rebuildProducerState([], offset);
      this._cleanerCheckpoint = -1;
    });
  }

  /**
   * WAL replay at start: appends the batches of one WAL data record that this log lacks (those
   * it has are skipped). Throws when they do not start at the log end (a gap: the WAL lacks
   * what the segments lost).
   */
  replayWalData(buf: Buffer): Promise<number> {
    try {
      const { infos } = scanLeaderBatches(buf, this._logEndOffset, this.name);
      const first = infos[0];
      if (first && first.baseOffset !== this._logEndOffset) {
        throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.name}: WAL batch at ${first.baseOffset} does not follow the log end ${this._logEndOffset}`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.appendAsFollower(buf);
  }

  /** Resolves when every queued write has reached the segment files. */
  drained(): Promise<void> {
    return this.drainWrites();
  }

  // ---------------------------------------------------------------- writes and durability

  /** @internal WriteQueueHooks: a write reached the segment file. */
  segmentWritten(w: SegmentWrite): void {
    this._writtenEndOffset = Math.max(this._writtenEndOffset, w.endOffset);
    this.durability.written(w);
    this.listener?.onWritten?.(this._writtenEndOffset);
  }

  /**
   * After a write failed for lack of space: rejects the appends that were not written (the
   * producer retries), cuts the partial write off the file, and rebuilds the in-memory end,
   * indexes and producer state from the segment as it is on disk. Appends are refused meanwhile.
   * @internal WriteQueueHooks
   */
  async rollBackToWritten(err: Error): Promise<void> {
    this.rollingBack = true;
    const keep = this._writtenEndOffset;
    this.durability.rejectAbove(keep, new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.name}: ${err.message}; the append was not written (retriable)`));
    try {
      await this.withSegmentsLock(async () => {
        this.segments = this.segments.slice();
        while (this.segments.length > 1 && this.active.baseOffset >= keep) {
          await this.deleteSegment(this.segments.pop()!, 0);
        }
        const seg = this.active;
        await seg.recover(false); // truncates the partial batch, rebuilds the in-memory indexes
        if (seg.size === 0) seg.firstAppendMs = -1;
        const leo = seg.nextOffset;
        this._logEndOffset = leo;
        this._writtenEndOffset = Math.min(this._writtenEndOffset, leo);
        this.leaderEpochCache.truncateFromEnd(leo);
        await this.rebuildProducerState(await this.snapshots.list(), leo);
      });
      this.dirHealth?.noSpace(this.name, err, this._logEndOffset);
      if (!this.dirHealth) this.onStorageEvent?.(`${this.name}: rolled back to offset ${this._logEndOffset} after ${err.message}`);
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.rollingBack = false;
    }
  }

  /** @internal DurabilityHost / WriteQueueHooks: an I/O error takes the log offline. */
  fail(e: Error): StorageError {
    if (!this.failed) {
      this.onStorageEvent?.(
        `${this.name} is offline after an I/O error (${e.message}): nothing past offset ${this.durability.durableEndOffset} was acknowledged; ` +
          'it answers KAFKA_STORAGE_ERROR until it is reloaded from disk, which the broker retries by itself once the log dir accepts writes again',
      );
    }
    this.failed = new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.name}: ${e.message}`);
    this.durability.rejectAll(this.failed, true);
    return this.failed;
  }

  /** @internal DurabilityHost: durableEndOffset moved to `end` (advanced: it grew). */
  durableAdvanced(end: number, advanced: boolean): void {
    if (this.autoAdvanceHighWatermark) this.setHighWatermark(end);
    if (advanced) this.listener?.onDurable?.(end);
  }

  /** fdatasyncs every segment with written data; called by the FlushScheduler (or flush()). */
  syncNow(): Promise<void> {
    return this.durability.syncNow();
  }

  /** flush.ms in interval mode (called by the LogManager's background task). */
  maybeFlush(now: number): Promise<void> | undefined {
    return this.durability.maybeFlush(now, this.closed);
  }

  // ---------------------------------------------------------------- roll

  /** Unlinks a segment's files (its fd lives on for in-flight reads for delayMs). */
  private deleteSegment(seg: LogSegment, delayMs: number): Promise<void> {
    this.durability.forget(seg);
    this.durability.dirChanged();
    return seg.delete(delayMs);
  }

  private newSegment(baseOffset: number): LogSegment {
    this.durability.dirChanged();
    const seg = LogSegment.createSync(this.dir, baseOffset, -1, this.fdCache);
    seg.indexIntervalBytes = this.config.indexIntervalBytes;
    return seg;
  }

  /** The segment a write of `total` bytes ending at `lastOffset` goes to (rolled first when due). */
  private segmentForWrite(total: number, lastOffset: number, now: number): LogSegment {
    let seg = this.active;
    if (mustRoll(seg, total, lastOffset, now, this.config)) seg = this.roll(now);
    // An idle, clean active segment may have lost its fd to the open-file bound: reopened here,
    // synchronously, before offsets are assigned (a failure refuses the append, retriable).
    // Usually an O(1) touch of the LRU.
    try {
      seg.openForAppend();
    } catch (e) {
      throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.name}: cannot open ${seg.logPath}: ${(e as Error).message}`);
    }
    if (seg.firstAppendMs < 0) seg.firstAppendMs = now;
    return seg;
  }

  /** Rolls when the active segment is older than segment.ms. Returns true when it rolled. */
  maybeRoll(now: number): boolean {
    if (this.closed || this.rollingBack || !isPastSegmentMs(this.active, now, this.config)) return false;
    this.roll(now);
    return true;
  }

  /** Starts a new active segment at the log end offset (synchronously); finishing the old one is queued. */
  roll(_now = Date.now()): LogSegment {
    const old = this.active;
    if (old.size === 0) return old;
    const leo = this._logEndOffset;
    old.finalizeTimeIndex();
    const seg = this.newSegment(leo);
    this.segments.push(seg);
    const snapshot = this.producerState.serialize();
    this.writeQueue.task(async () => {
      await old.persistIndexes(true);
      await old.sync();
      await this.txnIndex.flush();
      await this.snapshots.write(leo, snapshot);
      await this.snapshots.prune(this.segments[0]!.baseOffset);
    });
    return seg;
  }

  // ---------------------------------------------------------------- read

  /** The segments and bounds a read sees (the segment list is replaced, never spliced). */
  private readView(): LogReadView {
    return { name: this.name, segments: this.segments, logStartOffset: this._logStartOffset, logEndOffset: this._logEndOffset };
  }

  /**
   * Raw batches starting with the one holding fetchOffset: whole batches only, never one whose
   * last offset is >= maxOffset, at most maxBytes unless minOneBatch lets the first one through.
   * `alloc` supplies the read buffers (Fetch: pooled, reused once the response is written).
   */
  read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean, alloc?: (size: number) => Buffer): Promise<ReadResult> {
    return retryOnSegmentGone(() => readBatches(this.readView(), fetchOffset, maxBytes, maxOffset, minOneBatch, alloc));
  }

  /** Earliest offset whose timestamp is >= ts (ListOffsets by timestamp), or null. */
  offsetForTimestamp(ts: number): Promise<{ offset: number; timestamp: number } | null> {
    return retryOnSegmentGone(() => findOffsetForTimestamp(this.readView(), ts, this.recordTimestamps));
  }

  /** ListOffsets MAX_TIMESTAMP: the largest timestamp and the last offset of its batch. */
  maxTimestampOffset(): { offset: number; timestamp: number } {
    return findMaxTimestampOffset(this.readView());
  }

  // ---------------------------------------------------------------- compaction

  /** Offsets below this were cleaned by the last pass (-1: unknown, the whole log counts as dirty). */
  get cleanerCheckpoint(): number {
    return this._cleanerCheckpoint;
  }

  /**
   * One cleaner pass (cleanup.policy contains 'compact'): keeps the latest record per key in the
   * non-active segments below the high watermark / last stable offset / min.compaction.lag.ms
   * boundary, when min.cleanable.dirty.ratio, max.compaction.lag.ms or an expired tombstone
   * delete horizon asks for it (or opts.force). Never touches the active segment. Concurrent
   * calls return 'busy'.
   */
  compact(now = Date.now(), opts: CompactOptions = {}): Promise<CleanResult> {
    if (!isCompacted(this.config)) return Promise.resolve(emptyCleanResult('not-compacted'));
    if (this.closed || this.stopCleaner || this.failed) return Promise.resolve(emptyCleanResult('closed'));
    if (this.cleaning) return Promise.resolve(emptyCleanResult('busy'));
    const p = this.runCleanerPass(now, opts).finally(() => {
      if (this.cleaning === p) this.cleaning = undefined;
    });
    this.cleaning = p;
    return p;
  }

  private async stopCleaning(): Promise<void> {
    this.stopCleaner = true;
    if (this.cleaning) await this.cleaning.catch(() => undefined);
  }

  private async runCleanerPass(now: number, opts: CompactOptions): Promise<CleanResult> {
    const segs = this.segments;
    const plan = await planCleaning(
      {
        segments: segs,
        logStartOffset: this._logStartOffset,
        logEndOffset: this._logEndOffset,
        lastStableOffset: this.lastStableOffset,
        cleanerCheckpoint: this._cleanerCheckpoint,
        deleteHorizonDue: this.deleteHorizonDue,
      },
      this.config,
      now,
      opts.force === true,
    );
    if (!('first' in plan)) return plan;
    const producerLast = new Map<number, number>();
    for (const e of this.producerState.producers.values()) {
      const last = e.batches[e.batches.length - 1];
      if (last) producerLast.set(e.producerId, last.lastOffset);
    }
    const result = await cleanLog(
      {
        dir: this.dir,
        sources: segs.slice(plan.first, plan.end),
        allSegments: segs.slice(),
        firstDirty: plan.firstDirty,
        endOffset: plan.endOffset,
        scanEnd: this._highWatermark,
        now,
        config: this.config,
        producerLast,
        shouldStop: () => this.stopCleaner || this.closed || this.failed !== undefined,
        dedupeBufferBytes: this.cleanerDedupeBufferBytes?.(),
        swap: (group, sizes, cleaned) => this.swapCleaned(group, sizes, cleaned),
      },
      emptyCleanResult('cleaned', plan.firstDirty, plan.endOffset, plan.ratio),
    );
    if (result.reason === 'cleaned' || result.reason === 'unchanged') {
      this._cleanerCheckpoint = result.endOffset;
      this.deleteHorizonDue = result.nextDeleteHorizon;
    }
    return result;
  }

  /**
   * Replaces `group` by the cleaned segment (files still at `.cleaned` names). Runs in the
   * write queue (after pending index writes of rolled segments) under the segments lock. The
   * old segments' fds stay open for in-flight reads (file.delete.delay.ms).
   */
  private swapCleaned(group: LogSegment[], sizes: number[], cleaned: LogSegment): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.writeQueue.task(async () => {
        try {
          resolve(await this.withSegmentsLock(() => this.swapLocked(group, sizes, cleaned)));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }

  private async swapLocked(group: LogSegment[], sizes: number[], cleaned: LogSegment): Promise<boolean> {
    if (this.closed || this.stopCleaner || this.failed) return false;
    const i = this.segments.indexOf(group[0]!);
    if (i < 0 || i + group.length >= this.segments.length) return false;
    for (let k = 0; k < group.length; k++) {
      if (this.segments[i + k] !== group[k] || group[k]!.size !== sizes[k]) return false;
    }
    await commitCleaned(cleaned); // commit point: recovery completes the swap from here on
    // From here on the cleaned segment counts against the open-file bound; pinned until its file
    // has its final name (closed before, it could not be reopened by path).
    cleaned.fdCache = this.fdCache;
    cleaned.acquire();
    this.fdCache?.touch(cleaned);
    try {
      const next = this.segments.slice();
      next.splice(i, group.length, cleaned);
      this.segments = next; // copy-on-write: in-flight reads keep the old list
      for (const old of group) await this.deleteSegment(old, this.config.fileDeleteDelayMs ?? 0);
      await finishSwap(cleaned);
      // the merged segment's .txnindex holds its group's aborted transactions
      await this.txnIndex.rewrite(this.segments.map((s) => s.baseOffset), (base) => base === cleaned.baseOffset);
    } catch (e) {
      this.fail(e as Error);
      throw e;
    } finally {
      cleaned.release();
    }
    return true;
  }

  // ---------------------------------------------------------------- deletion / retention / truncation

  /** DeleteRecords: moves logStartOffset to `offset` (<= HW) and deletes segments wholly below it. */
  async deleteRecordsBefore(offset: number): Promise<number> {
    if (offset > this._highWatermark || offset < 0) {
      throw new StorageError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot delete records before ${offset}: high watermark is ${this._highWatermark}`);
    }
    if (offset <= this._logStartOffset) return this._logStartOffset;
    this._logStartOffset = offset;
    this.leaderEpochCache.truncateFromStart(offset);
    await this.withSegmentsLock(() => this.deleteOldest(segmentsWhollyBelow(this.segments, this._logStartOffset)));
    return this._logStartOffset;
  }

  /**
   * Deletes whole non-active segments past retention.ms / retention.bytes (cleanup.policy
   * 'delete' or 'compact,delete'); returns how many.
   */
  async applyRetention(now: number): Promise<number> {
    if (!isDeleteEnabled(this.config)) return 0;
    return this.withSegmentsLock(async () => {
      const n = segmentsPastRetention(this.segments, this.config, this._highWatermark, now);
      await this.deleteOldest(n);
      return n;
    });
  }

  /** Runs fn while no other segment-list change that deletes files runs. */
  private withSegmentsLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = (this.segmentsLock ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.segmentsLock = tail;
    // an idle log holds no settled promise
    void tail.then(() => {
      if (this.segmentsLock === tail) this.segmentsLock = undefined;
    });
    return run;
  }

  /** Caller holds the segments lock. */
  private async deleteOldest(n: number): Promise<void> {
    if (n <= 0) return;
    const gone = this.segments.slice(0, n);
    this.segments = this.segments.slice(n); // copy-on-write: in-flight reads keep their list
    const newStart = this.segments[0]!.baseOffset;
    if (newStart > this._logStartOffset) {
      this._logStartOffset = newStart;
      this.leaderEpochCache.truncateFromStart(newStart);
    }
    for (const s of gone) await this.deleteSegment(s, this.config.fileDeleteDelayMs ?? 0);
    await this.txnIndex.removeSegments(gone.map((s) => s.baseOffset), newStart);
    await this.snapshots.prune(this.segments[0]!.baseOffset);
  }

  /** Removes everything at or after `offset` (replica truncation). */
  async truncateTo(offset: number): Promise<void> {
    if (offset >= this._logEndOffset) return;
    await this.drainWrites();
    await this.durability.settled();
    await this.durability.beforeTruncation(WalRecordType.Truncate, offset);
    await this.withSegmentsLock(() => this.truncateLocked(offset));
  }

  private async truncateLocked(offset: number): Promise<void> {
    if (offset >= this._logEndOffset) return;
    offset = Math.max(offset, 0);
    if (offset <= this._logStartOffset || offset <= this.segments[0]!.baseOffset) {
      // truncate fully and restart at offset
      const old = this.segments;
      this.segments = [];
      for (const s of old) await this.deleteSegment(s, 0);
      this.segments.push(this.newSegment(offset));
      this._logStartOffset = offset;
    } else {
      this.segments = this.segments.slice();
      while (this.segments.length > 1 && this.active.baseOffset >= offset) {
        await this.deleteSegment(this.segments.pop()!, 0);
      }
      const seg = this.active;
      const pos = await seg.positionOf(offset);
      await seg.truncateAt(pos);
      await seg.recover(false);
      await seg.persistIndexes(true);
      if (seg.size === 0) seg.firstAppendMs = -1;
    }
    const leo = this.active.nextOffset;
    this._logEndOffset = this._writtenEndOffset = leo;
    this.durability.truncatedTo(leo);
    if (this._highWatermark > leo) this._highWatermark = leo;
    this.leaderEpochCache.truncateFromEnd(leo);
    await this.snapshots.removeAbove(leo);
    await this.rebuildProducerState(await this.snapshots.list(), leo);
    if (this._cleanerCheckpoint > leo) this._cleanerCheckpoint = -1;
  }

  // ---------------------------------------------------------------- checkpoints, flush, close

  /** @internal EpochCacheOwner: the leader epoch cache changed. */
  leaderEpochsChanged(): void {
    this.scheduleEpochCheckpoint();
  }

  private scheduleEpochCheckpoint(): void {
    if (this.epochDirty) return;
    this.epochDirty = true;
    const write = (this.epochWrite ?? Promise.resolve()).then(async () => {
      this.epochDirty = false;
      if (this.closed && !this.closingEpoch) return;
      await writeFileAtomic(path.join(this.dir, 'leader-epoch-checkpoint'), this.leaderEpochCache.format()).catch(() => undefined);
    });
    this.epochWrite = write;
    const done = (): void => {
      if (this.epochWrite === write) this.epochWrite = undefined;
    };
    void write.then(done, done);
  }

  /** Writes all queued data, index tails and fsyncs. */
  async flush(): Promise<void> {
    await this.drainWrites();
    for (const s of this.segments) await s.persistIndexes(false);
    this.durability.markDirty(this.segments);
    await this.durability.syncNow();
    if (this.failed) throw this.failed;
  }

  /** Flushes, writes indexes and a producer-state snapshot at the log end, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopCleaning();
    if (!this.failed) {
      await this.drainWrites();
      this.active.finalizeTimeIndex();
      await this.flush().catch(() => undefined);
      for (const s of this.segments) await s.persistIndexes(true).catch(() => undefined);
      await this.txnIndex.flush().catch(() => undefined);
      await this.snapshots.write(this._logEndOffset, this.producerState.serialize()).catch(() => undefined);
      await this.snapshots.prune(this.segments[0]!.baseOffset).catch(() => undefined);
    }
    this.closingEpoch = true;
    this.closed = true;
    this.durability.scheduler.cancel(this.durability);
    await this.epochWrite;
    for (const s of this.segments) await s.closeFd();
  }

  /** Closes and removes the partition directory (topic deletion). */
  async delete(): Promise<void> {
    await this.stopCleaning();
    this.closed = true;
    this.durability.scheduler.cancel(this.durability);
    await this.drainWrites();
    await this.epochWrite;
    for (const s of this.segments) await s.retire(); // never reopened by path (a new topic may take the name)
    this.durability.rejectAll(new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, 'log deleted'), false);
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  /** Test/diagnostic hook: abandons the log like a crash (no flush, no snapshot, no index writes). */
  async abandonForTest(): Promise<void> {
    await this.stopCleaning();
    await this.drainWrites();
    this.closed = true;
    this.durability.scheduler.cancel(this.durability);
    await this.epochWrite;
    for (const s of this.segments) await s.closeFd();
  }
}

