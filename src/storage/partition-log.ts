import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ATTRIBUTES, COMPRESSION_MASK, PARTITION_LEADER_EPOCH, TIMESTAMP_TYPE_LOG_APPEND } from '../protocol/records/layout.js';
import {
  batchSizeAt,
  checkBatchAt,
  decodeRecordsSync,
  readBatchInfo,
  readControlRecord,
  type StoredBatchInfo,
} from '../protocol/records/batch.js';
import { BATCH_HEADER_SIZE } from '../protocol/records/layout.js';
import {
  cleanerSettings,
  cleanLog,
  commitCleaned,
  emptyCleanResult,
  finishSwap,
  recoverSwaps,
  type CleanResult,
} from './cleaner.js';
import { NEVER, isCompacted, isDeleteEnabled, type LogConfig } from './config.js';
import { ErrorCode, StorageError } from './errors.js';
import {
  exists,
  offsetFileName,
  parseOffsetFileName,
  partitionDirName,
  readFileOrUndefined,
  syncDir,
  writeFileAtomic,
} from './files.js';
import type { FlushScheduler, Syncable } from './flush-scheduler.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { isNoSpaceError, type LogDirHealth } from './log-dir-health.js';
import { ProducerStateManager, type ProducerStateEntry, type ProducerStateView } from './producer-state.js';
import { LogSegment, SegmentGoneError } from './segment.js';
import { TxnIndex } from './txn-index.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const INT32_MAX = 0x7fffffff;

/** One already-validated batch inside the buffer passed to append(). */
export interface AppendBatch {
  position: number;
  size: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  isTransactional: boolean;
  isControl: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** -1 for CreateTime topics. */
  logAppendTime: number;
  logStartOffset: number;
  /** True when the batch was a retry of one already in the log (original offsets returned). */
  duplicate?: boolean;
}

export interface ReadResult {
  chunks: Buffer[];
  bytes: number;
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
}

export interface CompactOptions {
  /** Clean even when min.cleanable.dirty.ratio / max.compaction.lag.ms would not ask for it. */
  force?: boolean;
}

type WriteOp = { kind: 'write'; seg: LogSegment; pos: number; bufs: Buffer[]; bytes: number; endOffset: number; messages: number };
type TaskOp = { kind: 'task'; fn: () => Promise<void> };
type Op = WriteOp | TaskOp;

interface Waiter {
  endOffset: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * One topic-partition's log: segment files in Kafka's layout, offset assignment, idempotent
 * producer checks, durable appends (group commit or flush.messages/flush.ms), reads by offset
 * or timestamp, retention and recovery.
 *
 * Offsets progress through these marks (each <= the previous):
 *   logEndOffset      assigned (synchronously in append order)
 *   writtenEndOffset  written to the segment file (readable)
 *   durableEndOffset  satisfies the flush policy: fsynced (group commit) or written (interval mode)
 *   highWatermark     visible to consumers. With `autoAdvanceHighWatermark` (the single-node
 *                     default) HW follows durableEndOffset; a replicated setup turns it off and
 *                     calls setHighWatermark(ISR minimum).
 *   recoveryPoint     fsynced; recovery after a crash scans from here.
 */
export class PartitionLog implements Syncable {
  readonly dir: string;
  topicId: string;
  config: LogConfig;
  /** Single-node mode: HW = durableEndOffset. Set false when replication manages the HW. */
  autoAdvanceHighWatermark = true;
  /** Fired when the high watermark advances (wake parked fetches, complete acks=all). */
  onHighWatermark?: (hw: number) => void;
  /** Fired when durableEndOffset advances (a replicated leader recomputes its high watermark). */
  onDurable?: (durableEnd: number) => void;
  /** Fired when written data reaches the segment file (wakes parked follower fetches). */
  onWritten?: (writtenEnd: number) => void;
  /** Optional exact-record resolver for compressed batches in offsetForTimestamp (e.g. using the codec). */
  recordTimestamps?: (batch: Buffer) => Iterable<{ offsetDelta: number; timestamp: number }>;
  /** log.cleaner.dedupe.buffer.size (read at each pass, so dynamic changes apply); unset = unbounded. */
  cleanerDedupeBufferBytes?: () => number;

  private segments: LogSegment[] = [];
  private _logStartOffset = 0;
  private _logEndOffset = 0;
  private _writtenEndOffset = 0;
  private _durableEndOffset = 0;
  private _highWatermark = 0;
  private _recoveryPoint = 0;
  private readonly producerState = new ProducerStateManager();
  /** Aborted transactions (`.txnindex`), for read_committed fetches. */
  readonly txnIndex: TxnIndex;
  readonly leaderEpochCache = new LeaderEpochCache();
  private ops: Op[] = [];
  private writing = false;
  private drainWaiters: (() => void)[] = [];
  private waiters: Waiter[] = [];
  private dirtySegments = new Set<LogSegment>();
  private syncing: Promise<void> | undefined;
  private resync = false;
  private unflushedMessages = 0;
  private lastFlushMs = Date.now();
  private failed: StorageError | undefined;
  /** Set while a write that hit ENOSPC/EDQUOT is rolled back to what is on disk. */
  private rollingBack = false;
  /** The disk's state (low space refuses appends); shared by the logs of one log dir. */
  dirHealth?: LogDirHealth;
  /** One line per storage state change of this partition (offline after an I/O error). */
  onStorageEvent?: (msg: string) => void;
  private closed = false;
  private epochWrite: Promise<void> = Promise.resolve();
  private epochDirty = false;
  /** Serializes changes of the segment list that delete files (retention, truncation, cleaner swaps). */
  private segmentsLock: Promise<unknown> = Promise.resolve();
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
    private readonly syncer: FlushScheduler,
  ) {
    this.dir = path.join(dataDir, partitionDirName(topic, partition));
    this.topicId = topicId;
    this.config = config;
    this.leaderEpochCache.onChange = () => this.scheduleEpochCheckpoint();
    this.txnIndex = new TxnIndex(this.dir);
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
    const log = new PartitionLog(dataDir, topic, partition, topicId, config, syncer);
    const clean = opts.cleanShutdown ?? (await exists(path.join(dataDir, CLEAN_SHUTDOWN_FILE)));
    await log.load(clean, opts.recoveryPoint ?? 0, opts.logStartOffset ?? 0);
    if (opts.cleanerCheckpoint !== undefined) log._cleanerCheckpoint = opts.cleanerCheckpoint;
    return log;
  }

  /** Reads `<dir>/partition.metadata` (topic id), or undefined. */
  static async readTopicId(dir: string): Promise<string | undefined> {
    const buf = await readFileOrUndefined(path.join(dir, 'partition.metadata'));
    if (!buf) return undefined;
    const m = /topic_id:\s*(\S+)/.exec(buf.toString('utf8'));
    return m?.[1];
  }

  private async load(clean: boolean, recoveryPoint: number, logStartCheckpoint: number): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    // partition.metadata
    const existingId = await PartitionLog.readTopicId(this.dir);
    if (existingId && this.topicId && existingId !== this.topicId) {
      throw new StorageError(
        ErrorCode.INCONSISTENT_TOPIC_ID,
        `${this.topic}-${this.partition}: directory has topic id ${existingId}, expected ${this.topicId}`,
      );
    }
    if (!existingId && this.topicId) {
      await writeFileAtomic(path.join(this.dir, 'partition.metadata'), `version: 0\ntopic_id: ${this.topicId}\n`);
    }
    if (!this.topicId && existingId) this.topicId = existingId;

    // finish (or discard) a cleaner swap interrupted by a crash
    await recoverSwaps(this.dir);
    const names = await fsp.readdir(this.dir);
    const bases: number[] = [];
    const snapshots: number[] = [];
    for (const n of names) {
      if (n.endsWith('.tmp') || n.endsWith('.deleted') || n.endsWith('.cleaned')) {
        await fsp.rm(path.join(this.dir, n), { force: true });
        continue;
      }
      const b = parseOffsetFileName(n, '.log');
      if (b !== undefined) bases.push(b);
      const s = parseOffsetFileName(n, '.snapshot');
      if (s !== undefined) snapshots.push(s);
    }
    bases.sort((a, b) => a - b);
    const baseSet = new Set(bases);
    for (const n of names) {
      for (const suffix of ['.index', '.timeindex']) {
        const b = parseOffsetFileName(n, suffix);
        if (b !== undefined && !baseSet.has(b)) await fsp.rm(path.join(this.dir, n), { force: true });
      }
    }
    for (const b of bases) this.segments.push(await LogSegment.load(this.dir, b));
    for (const s of this.segments) s.indexIntervalBytes = this.config.indexIntervalBytes;

    // leader epochs from the checkpoint (tail epochs are re-derived while scanning)
    const epochText = await readFileOrUndefined(path.join(this.dir, 'leader-epoch-checkpoint'));
    if (epochText) this.leaderEpochCache.parse(epochText.toString('utf8'));
    const scannedEpochs: { epoch: number; offset: number }[] = [];

    // segments
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const next = this.segments[i + 1];
      const isLast = next === undefined;
      const bound = next ? next.baseOffset : Number.MAX_SAFE_INTEGER;
      const mayHoldUnflushed = isLast || next.baseOffset > recoveryPoint;
      let needsRecovery = !clean && mayHoldUnflushed;
      if (!needsRecovery) {
        const ok = await seg.loadIndexes(bound);
        if (!ok) needsRecovery = true;
        else if (isLast) {
          if (!(await seg.scanTailAfterCleanShutdown())) needsRecovery = true;
        } else {
          seg.nextOffset = next.baseOffset; // not scanned: the next segment starts after it
          seg.bytesSinceLastIndexEntry = 0;
        }
      }
      if (needsRecovery) {
        const cut = await seg.recover(true, (info) => {
          const last = scannedEpochs[scannedEpochs.length - 1];
          if (info.partitionLeaderEpoch >= 0 && (!last || info.partitionLeaderEpoch > last.epoch)) {
            scannedEpochs.push({ epoch: info.partitionLeaderEpoch, offset: info.baseOffset });
          }
        });
        await seg.persistIndexes(true);
        if (seg.nextOffset > bound) {
          // overlaps the next segment: treat as corruption at the end of this one
          const pos = await seg.positionOf(bound);
          await seg.truncateAt(pos);
          await seg.recover(false);
          await seg.persistIndexes(true);
        }
        if (cut > 0) {
          // Everything after a torn/corrupt batch is unreliable: drop later segments.
          for (const later of this.segments.splice(i + 1)) await later.delete(0);
          break;
        }
      }
    }
    if (this.segments.length === 0) {
      this.segments.push(LogSegment.createSync(this.dir, logStartCheckpoint, -1));
      this.segments[0]!.indexIntervalBytes = this.config.indexIntervalBytes;
    }
    const active = this.active;
    active.firstAppendMs = active.size > 0 ? await this.firstAppendTime(active) : -1;

    const leo = active.nextOffset;
    this._logEndOffset = this._writtenEndOffset = this._durableEndOffset = leo;
    this._logStartOffset = Math.min(Math.max(logStartCheckpoint, this.segments[0]!.baseOffset), leo);
    this._recoveryPoint = leo;
    this._highWatermark = leo;
    if (!clean) await active.sync();

    // leader epoch cache
    this.leaderEpochCache.onChange = undefined;
    this.leaderEpochCache.truncateFromEnd(leo);
    for (const e of scannedEpochs) if (e.offset < leo) this.leaderEpochCache.assign(e.epoch, e.offset);
    this.leaderEpochCache.truncateFromStart(this._logStartOffset);
    this.leaderEpochCache.onChange = () => this.scheduleEpochCheckpoint();
    this.scheduleEpochCheckpoint();

    // producer state: latest snapshot at or below LEO, then replay batch headers after it
    await this.txnIndex.load(this.segments.map((s) => s.baseOffset));
    await this.rebuildProducerState(snapshots, leo);
    await syncDir(this.dir);
  }

  private async firstAppendTime(seg: LogSegment): Promise<number> {
    const ts = await seg.firstBatchTimestamp();
    const now = Date.now();
    return ts > 0 && ts <= now ? ts : now;
  }

  private snapshotPath(offset: number): string {
    return path.join(this.dir, offsetFileName(offset, '.snapshot'));
  }

  private async listSnapshots(): Promise<number[]> {
    const out: number[] = [];
    for (const n of await fsp.readdir(this.dir)) {
      const s = parseOffsetFileName(n, '.snapshot');
      if (s !== undefined) out.push(s);
    }
    return out.sort((a, b) => a - b);
  }

  private async rebuildProducerState(snapshots: number[], leo: number): Promise<void> {
    snapshots = snapshots.slice().sort((a, b) => a - b);
    let from = this.segments[0]!.baseOffset;
    this.producerState.clear();
    for (let i = snapshots.length - 1; i >= 0; i--) {
      const s = snapshots[i]!;
      if (s > leo) {
        await fsp.rm(this.snapshotPath(s), { force: true });
        continue;
      }
      const buf = await readFileOrUndefined(this.snapshotPath(s));
      if (buf && this.producerState.deserialize(buf)) {
        from = s;
        break;
      }
      await fsp.rm(this.snapshotPath(s), { force: true }); // corrupt
    }
    // transactions: aborted ones from `from` on are re-derived by the replay (txn-index.ts)
    this.txnIndex.truncateFrom(from);
    for (const seg of this.segments) {
      if (seg.nextOffset <= from) continue;
      await seg.scanBatches(from, leo, (info, _pos, batch) => this.replayBatch(info, batch));
    }
    await this.txnIndex.rewrite(
      this.segments.map((s) => s.baseOffset),
      (base) => this.segments.some((s) => s.baseOffset === base && s.nextOffset > from),
    );
  }

  private replayBatch(info: StoredBatchInfo, batch: Buffer | undefined): void {
    if (info.producerId < 0) return;
    const ctl = info.isControl && batch ? readControlRecord(batch) : undefined;
    const before = this.producerState.get(info.producerId);
    const txnStart = before?.txnStartOffset ?? -1;
    const entry = ProducerStateManager.apply(before, info, info.baseOffset, info.lastOffset, ctl);
    this.producerState.set(entry);
    if (ctl && ctl.type === 0 && txnStart >= 0) {
      const fuo = this.producerState.firstUnstableOffset();
      this.txnIndex.addReplayed({
        producerId: info.producerId,
        firstOffset: txnStart,
        lastOffset: info.baseOffset,
        lastStableOffset: fuo >= 0 ? fuo : info.baseOffset + 1,
      });
    }
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
  /** End offset of data that satisfies the flush policy (what acks=1/all may acknowledge on one node). */
  /** Offline after an I/O error or failed fsync (answers KAFKA_STORAGE_ERROR until reloaded). */
  get offline(): boolean {
    return this.failed !== undefined;
  }

  get durableEndOffset(): number {
    return this._durableEndOffset;
  }
  get highWatermark(): number {
    return this._highWatermark;
  }
  /** Offset up to which the log is fsynced. */
  get recoveryPoint(): number {
    return this._recoveryPoint;
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
    if (advanced) this.onHighWatermark?.(hw);
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
  append(
    buf: Buffer,
    batches: AppendBatch[],
    leaderEpoch: number,
    opts: { logAppendTime?: number } = {},
  ): Promise<AppendResult> {
    try {
      return this.appendSync(buf, batches, leaderEpoch, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private appendSync(
    buf: Buffer,
    batches: AppendBatch[],
    leaderEpoch: number,
    opts: { logAppendTime?: number },
  ): Promise<AppendResult> {
    if (this.failed) throw this.failed;
    if (this.closed) throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.topic}-${this.partition} is closed`);
    if (this.rollingBack) {
      throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.topic}-${this.partition} is rolling back a write that found no space; retry`);
    }
    if (this.dirHealth && !this.dirHealth.acceptingAppends) throw this.dirHealth.refusal();
    if (batches.length === 0) throw new StorageError(ErrorCode.CORRUPT_MESSAGE, 'no batches');
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime' && opts.logAppendTime !== undefined ? opts.logAppendTime : -1;

    // 1. offsets + producer checks (staged; nothing changes if any batch fails)
    let next = this._logEndOffset;
    const staged = new Map<number, ProducerStateEntry>();
    let total = 0;
    let aborts: { producerId: number; firstOffset: number; lastOffset: number }[] | undefined;
    for (const b of batches) {
      const first = next;
      const last = first + b.lastOffsetDelta;
      if (b.producerId >= 0) {
        const cur = staged.get(b.producerId) ?? this.producerState.get(b.producerId);
        const v = ProducerStateManager.validate(cur, b);
        if (v.kind === 'duplicate') {
          const r: AppendResult = {
            baseOffset: v.batch.firstOffset,
            lastOffset: v.batch.lastOffset,
            logAppendTime,
            logStartOffset: this._logStartOffset,
            duplicate: true,
          };
          return this.waitDurable(this._logEndOffset).then(() => r);
        }
        const ctl = b.isControl ? readControlRecord(buf.subarray(b.position, b.position + b.size)) : undefined;
        // an abort marker closing an open transaction goes to the aborted-transaction index
        if (ctl && ctl.type === 0 && cur && cur.txnStartOffset >= 0) {
          (aborts ??= []).push({ producerId: b.producerId, firstOffset: cur.txnStartOffset, lastOffset: first });
        }
        staged.set(b.producerId, ProducerStateManager.apply(cur, b, first, last, ctl));
      }
      next = last + 1;
      total += b.size;
    }
    const baseOffset = this._logEndOffset;
    const lastOffset = next - 1;

    // 2. roll if needed
    const now = Date.now();
    const seg = this.segmentForWrite(total, lastOffset, now);

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
    for (const e of staged.values()) this.producerState.set(e);
    if (aborts) {
      const fuo = this.producerState.firstUnstableOffset();
      for (const a of aborts) this.txnIndex.append({ ...a, lastStableOffset: fuo >= 0 ? fuo : a.lastOffset + 1 }, seg.baseOffset);
    }
    if (leaderEpoch > this.leaderEpochCache.latestEpoch()) this.leaderEpochCache.assign(leaderEpoch, baseOffset);
    this._logEndOffset = next;
    let messages = 0;
    for (const b of batches) messages += b.recordCount;
    this.enqueueWrite(seg, startPos, bufs, total, next, messages);

    const result: AppendResult = { baseOffset, lastOffset, logAppendTime, logStartOffset: this._logStartOffset };
    return this.waitDurable(next).then(() => result);
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
    if (this.failed) throw this.failed;
    if (this.closed) throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.topic}-${this.partition} is closed`);
    if (this.rollingBack) throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.topic}-${this.partition} is rolling back a write; retry`);
    if (this.dirHealth && !this.dirHealth.acceptingAppends) throw this.dirHealth.refusal();
    const infos: StoredBatchInfo[] = [];
    let pos = 0;
    let start = -1;
    let next = this._logEndOffset;
    while (buf.length - pos >= BATCH_HEADER_SIZE) {
      const declared = batchSizeAt(buf, pos);
      if (declared > buf.length - pos) break; // partial batch at the end of a fetch response
      const size = checkBatchAt(buf, pos);
      if (size < 0) throw new StorageError(ErrorCode.CORRUPT_MESSAGE, `${this.topic}-${this.partition}: corrupt batch from the leader at byte ${pos}`);
      const info = readBatchInfo(buf, pos);
      if (info.lastOffset < next && start < 0) {
        pos += size; // already in this log
        continue;
      }
      if (info.baseOffset < next) {
        throw new StorageError(ErrorCode.OFFSET_OUT_OF_RANGE, `${this.topic}-${this.partition}: leader batch at ${info.baseOffset} overlaps the log end ${next}`);
      }
      if (start < 0) start = pos;
      infos.push(info);
      next = info.lastOffset + 1;
      pos += size;
    }
    if (infos.length === 0) return this.waitDurable(this._logEndOffset).then(() => this._logEndOffset);
    const total = pos - start;
    const now = Date.now();
    const seg = this.segmentForWrite(total, next - 1, now);
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
    this.enqueueWrite(seg, startPos, [buf.subarray(start, pos)], total, next, messages);
    return this.waitDurable(next).then(() => next);
  }

  /** Drops the whole log and restarts it empty at `offset` (a follower far behind the leader's log start). */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.drain();
    if (this.syncing) await this.syncing.catch(() => undefined);
    await this.withSegmentsLock(async () => {
      const old = this.segments;
      for (const s of old) {
        this.dirtySegments.delete(s);
        await s.delete(0);
      }
      const seg = LogSegment.createSync(this.dir, offset, -1);
      seg.indexIntervalBytes = this.config.indexIntervalBytes;
      this.segments = [seg];
      this._logStartOffset = offset;
      this._logEndOffset = this._writtenEndOffset = this._durableEndOffset = this._recoveryPoint = offset;
      this._highWatermark = offset;
      this.leaderEpochCache.clear();
      this.scheduleEpochCheckpoint();
      for (const s of await this.listSnapshots()) await fsp.rm(this.snapshotPath(s), { force: true });
      await this.rebuildProducerState([], offset);
      this._cleanerCheckpoint = -1;
    });
  }

  /** Resolves when every queued write has reached the segment files. */
  drained(): Promise<void> {
    return this.drain();
  }

  private waitDurable(endOffset: number): Promise<void> {
    if (endOffset <= this._durableEndOffset) return Promise.resolve();
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiters.push({ endOffset, resolve, reject }));
  }

  private enqueueWrite(seg: LogSegment, pos: number, bufs: Buffer[], bytes: number, endOffset: number, messages: number): void {
    const last = this.ops[this.ops.length - 1];
    if (last && last.kind === 'write' && last.seg === seg && last.pos + last.bytes === pos && last.bufs.length < 512) {
      last.bufs.push(...bufs);
      last.bytes += bytes;
      last.endOffset = endOffset;
      last.messages += messages;
    } else {
      this.ops.push({ kind: 'write', seg, pos, bufs, bytes, endOffset, messages });
    }
    this.kick();
  }

  private enqueueTask(fn: () => Promise<void>): void {
    this.ops.push({ kind: 'task', fn });
    this.kick();
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = true;
    void this.runOps();
  }

  private async runOps(): Promise<void> {
    try {
      while (this.ops.length) {
        const op = this.ops.shift()!;
        if (op.kind === 'write') {
          try {
            await op.seg.write(op.bufs, op.pos);
          } catch (e) {
            if (!isNoSpaceError(e)) throw e;
            // No space: this write and every later queued one are dropped, and the log goes
            // back to what is on disk. Appends are refused meanwhile.
            this.rollingBack = true;
            this.ops = [];
            await this.rollBackToWritten(e as Error);
            break;
          }
          this._writtenEndOffset = Math.max(this._writtenEndOffset, op.endOffset);
          this.dirtySegments.add(op.seg);
          this.afterWrite(op.messages);
          this.onWritten?.(this._writtenEndOffset);
        } else {
          try {
            await op.fn();
          } catch (e) {
            // A roll's snapshot or index write that found no space is not fatal: recovery
            // rebuilds both from the log.
            if (!isNoSpaceError(e)) throw e;
          }
        }
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.writing = false;
      const d = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of d) f();
    }
  }

  /** Resolves when every queued write/task has run. */
  private drain(): Promise<void> {
    if (!this.writing && this.ops.length === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private afterWrite(messages: number): void {
    if (this.syncer.groupCommit) {
      this.syncer.request(this);
      return;
    }
    this.markDurable(this._writtenEndOffset);
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.config.flushMessages) {
      this.unflushedMessages = 0;
      void this.syncNow().catch(() => undefined);
    }
  }

  private markDurable(endOffset: number): void {
    const advanced = endOffset > this._durableEndOffset;
    if (advanced) this._durableEndOffset = endOffset;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.endOffset <= this._durableEndOffset) n++;
    if (n > 0) {
      const done = this.waiters.splice(0, n);
      for (const w of done) w.resolve();
    }
    if (this.autoAdvanceHighWatermark) this.setHighWatermark(this._durableEndOffset);
    if (advanced) this.onDurable?.(this._durableEndOffset);
  }

  /**
   * After a write failed for lack of space: rejects the appends that were not written (the
   * producer retries), cuts the partial write off the file, and rebuilds the in-memory end,
   * indexes and producer state from the segment as it is on disk.
   */
  private async rollBackToWritten(err: Error): Promise<void> {
    const tp = `${this.topic}-${this.partition}`;
    const keep = this._writtenEndOffset;
    const notWritten = new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${tp}: ${err.message}; the append was not written (retriable)`);
    const ws = this.waiters;
    this.waiters = ws.filter((w) => w.endOffset <= keep);
    for (const w of ws) if (w.endOffset > keep) w.reject(notWritten);
    try {
      await this.withSegmentsLock(async () => {
        this.segments = this.segments.slice();
        while (this.segments.length > 1 && this.active.baseOffset >= keep) {
          const s = this.segments.pop()!;
          this.dirtySegments.delete(s);
          await s.delete(0);
        }
        const seg = this.active;
        await seg.recover(false); // truncates the partial batch, rebuilds the in-memory indexes
        if (seg.size === 0) seg.firstAppendMs = -1;
        const leo = seg.nextOffset;
        this._logEndOffset = leo;
        this._writtenEndOffset = Math.min(this._writtenEndOffset, leo);
        this.leaderEpochCache.truncateFromEnd(leo);
        await this.rebuildProducerState(await this.listSnapshots(), leo);
      });
      this.dirHealth?.noSpace(tp, err, this._logEndOffset);
      if (!this.dirHealth) this.onStorageEvent?.(`${tp}: rolled back to offset ${this._logEndOffset} after ${err.message}`);
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.rollingBack = false;
    }
  }

  private fail(e: Error): void {
    if (!this.failed) {
      this.onStorageEvent?.(
        `${this.topic}-${this.partition} is offline after an I/O error (${e.message}): nothing past offset ${this._durableEndOffset} was acknowledged; ` +
          'it answers KAFKA_STORAGE_ERROR until it is reloaded from disk, which the broker retries by itself once the log dir accepts writes again',
      );
    }
    this.failed = new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.topic}-${this.partition}: ${e.message}`);
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(this.failed);
  }

  /** fdatasyncs every segment with written data; called by the FlushScheduler (or flush()). */
  syncNow(): Promise<void> {
    if (this.syncing) {
      this.resync = true;
      return this.syncing;
    }
    // Cleared in a .finally callback, which always runs after this assignment: an async body that
    // completes synchronously (nothing dirty) must not leave a settled promise behind as "syncing".
    const syncing = this.syncLoop().finally(() => {
      this.syncing = undefined;
      // A request that arrived after the loop's last check would otherwise wait for the next write.
      if (this.resync && !this.failed) void this.syncNow().catch(() => undefined);
    });
    this.syncing = syncing;
    return syncing;
  }

  private async syncLoop(): Promise<void> {
    try {
      do {
        this.resync = false;
        const target = this._writtenEndOffset;
        const segs = [...this.dirtySegments];
        this.dirtySegments.clear();
        for (const s of segs) {
          await s.sync();
          this.syncer.fsyncCount++;
        }
        this.lastFlushMs = Date.now();
        if (target > this._recoveryPoint) this._recoveryPoint = target;
        if (this.syncer.groupCommit) this.markDurable(target);
      } while (this.resync);
    } catch (e) {
      this.fail(e as Error);
      throw this.failed;
    }
  }

  /** flush.ms in interval mode (called by the LogManager's background task). */
  maybeFlush(now: number): Promise<void> | undefined {
    if (this.syncer.groupCommit || this.closed) return undefined;
    if (this._recoveryPoint < this._writtenEndOffset && now - this.lastFlushMs >= this.config.flushMs) {
      this.unflushedMessages = 0;
      return this.syncNow();
    }
    return undefined;
  }

  // ---------------------------------------------------------------- roll

  /** Rolls when the active segment is older than segment.ms. Returns true when it rolled. */
  maybeRoll(now: number): boolean {
    const seg = this.active;
    if (this.closed || this.rollingBack || seg.size === 0 || seg.firstAppendMs < 0) return false;
    if (now - seg.firstAppendMs < this.config.segmentMs) return false;
    this.roll(now);
    return true;
  }

  /** Starts a new active segment at the log end offset (synchronously); finishing the old one is queued. */
  roll(now = Date.now()): LogSegment {
    const old = this.active;
    if (old.size === 0) return old;
    const leo = this._logEndOffset;
    old.finalizeTimeIndex();
    const seg = LogSegment.createSync(this.dir, leo, -1);
    seg.indexIntervalBytes = this.config.indexIntervalBytes;
    this.segments.push(seg);
    const snapshot = this.producerState.serialize();
    void now;
    this.enqueueTask(async () => {
      await old.persistIndexes(true);
      await old.sync();
      await this.txnIndex.flush();
      await writeFileAtomic(this.snapshotPath(leo), snapshot);
      await this.pruneSnapshots();
    });
    return seg;
  }

  /** Keeps snapshots at or after the first segment's base, and at most the latest 2. */
  private async pruneSnapshots(): Promise<void> {
    const snaps = await this.listSnapshots();
    const first = this.segments[0]!.baseOffset;
    for (let i = 0; i < snaps.length; i++) {
      if (i < snaps.length - 2 || snaps[i]! < first) await fsp.rm(this.snapshotPath(snaps[i]!), { force: true });
    }
  }

  // ---------------------------------------------------------------- read

  /**
   * Raw batches starting with the one holding fetchOffset: whole batches only, never one whose
   * last offset is >= maxOffset, at most maxBytes unless minOneBatch lets the first one through.
   * `alloc` supplies the read buffers (Fetch: pooled, reused once the response is written).
   */
  async read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean, alloc?: (size: number) => Buffer): Promise<ReadResult> {
    return this.retryOnSegmentGone(() => this.readOnce(fetchOffset, maxBytes, maxOffset, minOneBatch, alloc));
  }

  /**
   * Runs a read-only operation over the segment list; when a segment it reached was deleted
   * meanwhile (retention, cleaner swap) and its fd already closed, retries with the new list.
   */
  private async retryOnSegmentGone<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof SegmentGoneError) || attempt >= 8) throw e;
      }
    }
  }

  private async readOnce(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean, alloc?: (size: number) => Buffer): Promise<ReadResult> {
    if (fetchOffset < this._logStartOffset || fetchOffset > this._logEndOffset) {
      throw new StorageError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${fetchOffset} is out of range [${this._logStartOffset}, ${this._logEndOffset}] for ${this.topic}-${this.partition}`,
      );
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    if (fetchOffset >= maxOffset) return { chunks, bytes };
    const segs = this.segments; // replaced (never spliced) when segments are removed
    let i = this.segmentIndexFor(fetchOffset, segs);
    let off = fetchOffset;
    for (; i < segs.length && bytes < maxBytes; i++) {
      const seg = segs[i]!;
      if (seg.nextOffset <= off && i < segs.length - 1) continue;
      const r = await seg.read(off, maxOffset, maxBytes - bytes, minOneBatch && bytes === 0, alloc);
      if (r.chunk) {
        chunks.push(r.chunk);
        bytes += r.chunk.length;
      }
      if (r.stop) break;
      const nextSeg = segs[i + 1];
      if (!nextSeg || nextSeg.baseOffset >= maxOffset) break;
      off = Math.max(off, nextSeg.baseOffset);
    }
    return { chunks, bytes };
  }

  /** Index of the last segment with baseOffset <= offset (0 when none). */
  private segmentIndexFor(offset: number, segs = this.segments): number {
    let lo = 0;
    let hi = segs.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Earliest offset whose timestamp is >= ts (ListOffsets by timestamp), or null. */
  async offsetForTimestamp(ts: number): Promise<{ offset: number; timestamp: number } | null> {
    return this.retryOnSegmentGone(() => this.offsetForTimestampOnce(ts));
  }

  private async offsetForTimestampOnce(ts: number): Promise<{ offset: number; timestamp: number } | null> {
    for (const seg of this.segments) {
      if (seg.maxTimestamp < ts || seg.nextOffset <= this._logStartOffset) continue;
      let from = -1;
      for (;;) {
        const found = await seg.findByTimestamp(ts, from);
        if (!found) break;
        const { info, pos } = found;
        from = pos + info.size;
        const minOffset = this._logStartOffset;
        if (info.lastOffset < minOffset) continue;
        const batch = await seg.readBatchAt(pos, info.size);
        const isLogAppend = (batch.readInt16BE(ATTRIBUTES) & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
        if (isLogAppend) return { offset: Math.max(info.baseOffset, minOffset), timestamp: info.maxTimestamp };
        let records: Iterable<{ offsetDelta: number; timestamp: number }> | undefined;
        // Decoded lazily, inside the try below: a batch whose records do not parse falls back to the batch.
        if ((batch.readInt16BE(ATTRIBUTES) & COMPRESSION_MASK) === 0) records = { [Symbol.iterator]: () => decodeRecordsSync(batch)[Symbol.iterator]() };
        else if (this.recordTimestamps) records = this.recordTimestamps(batch);
        if (records) {
          let parsed = false;
          try {
            for (const r of records) {
              const o = info.baseOffset + r.offsetDelta;
              if (o >= minOffset && r.timestamp >= ts) return { offset: o, timestamp: r.timestamp };
            }
            parsed = true;
          } catch {
            // unparseable records: fall back to the batch
          }
          // a batch compacted by the cleaner may no longer hold the record behind maxTimestamp
          // (or be empty): look further
          if (parsed) continue;
        }
        return { offset: Math.max(info.baseOffset, minOffset), timestamp: info.maxTimestamp };
      }
    }
    return null;
  }

  /** ListOffsets MAX_TIMESTAMP: the largest timestamp and the last offset of its batch. */
  maxTimestampOffset(): { offset: number; timestamp: number } {
    let best = { offset: -1, timestamp: -1 };
    for (const seg of this.segments) {
      if (seg.maxTimestamp > best.timestamp && seg.offsetOfMaxTimestamp >= this._logStartOffset) {
        best = { offset: seg.offsetOfMaxTimestamp, timestamp: seg.maxTimestamp };
      }
    }
    return best;
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
    const settings = cleanerSettings(this.config);
    const segs = this.segments;
    const logStart = this._logStartOffset;
    // Cleanable: a prefix of the non-active segments, wholly below the LSO (<= HW), none
    // holding a record younger than min.compaction.lag.ms.
    const bound = this.lastStableOffset;
    const lagLimit = now - settings.minCompactionLagMs;
    let end = 0;
    while (
      end < segs.length - 1 &&
      segs[end + 1]!.baseOffset <= bound &&
      (settings.minCompactionLagMs <= 0 || segs[end]!.maxTimestamp <= lagLimit)
    ) {
      end++;
    }
    // segments wholly below the log start offset are left to retention / DeleteRecords
    let first = 0;
    while (first < end && segs[first + 1]!.baseOffset <= logStart) first++;
    if (end <= first) return emptyCleanResult('nothing-cleanable');
    const endOffset = segs[end]!.baseOffset;
    let firstDirty = this._cleanerCheckpoint;
    if (firstDirty < logStart || firstDirty > this._logEndOffset) firstDirty = logStart;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    for (let i = first; i < end; i++) {
      if (segs[i + 1]!.baseOffset <= firstDirty) cleanBytes += segs[i]!.size;
      else dirtyBytes += segs[i]!.size;
    }
    const ratio = cleanBytes + dirtyBytes > 0 ? dirtyBytes / (cleanBytes + dirtyBytes) : 0;
    let due = opts.force === true;
    if (!due && dirtyBytes > 0 && ratio >= settings.minCleanableDirtyRatio) due = true;
    if (!due && this.deleteHorizonDue >= 0 && this.deleteHorizonDue <= now) due = true;
    if (!due && dirtyBytes > 0 && settings.maxCompactionLagMs < NEVER) {
      const firstDirtySeg = segs.find((_s, i) => i >= first && i < end && segs[i + 1]!.baseOffset > firstDirty);
      const ts = firstDirtySeg ? await firstDirtySeg.firstBatchTimestamp().catch(() => -1) : -1;
      if (ts >= 0 && now - ts >= settings.maxCompactionLagMs) due = true;
    }
    if (!due) return emptyCleanResult('below-dirty-ratio', firstDirty, endOffset, ratio);

    const producerLast = new Map<number, number>();
    for (const e of this.producerState.producers.values()) {
      const last = e.batches[e.batches.length - 1];
      if (last) producerLast.set(e.producerId, last.lastOffset);
    }
    const result = await cleanLog(
      {
        dir: this.dir,
        sources: segs.slice(first, end),
        allSegments: segs.slice(),
        firstDirty,
        endOffset,
        scanEnd: this._highWatermark,
        now,
        config: this.config,
        producerLast,
        shouldStop: () => this.stopCleaner || this.closed || this.failed !== undefined,
        dedupeBufferBytes: this.cleanerDedupeBufferBytes?.(),
        swap: (group, sizes, cleaned) => this.swapCleaned(group, sizes, cleaned),
      },
      emptyCleanResult('cleaned', firstDirty, endOffset, ratio),
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
      this.enqueueTask(async () => {
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
    try {
      const next = this.segments.slice();
      next.splice(i, group.length, cleaned);
      this.segments = next; // copy-on-write: in-flight reads keep the old list
      for (const old of group) {
        this.dirtySegments.delete(old);
        await old.delete(this.config.fileDeleteDelayMs ?? 0);
      }
      await finishSwap(cleaned);
      // the merged segment's .txnindex holds its group's aborted transactions
      await this.txnIndex.rewrite(this.segments.map((s) => s.baseOffset), (base) => base === cleaned.baseOffset);
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
    return true;
  }

  // ---------------------------------------------------------------- deletion / retention

  /** DeleteRecords: moves logStartOffset to `offset` (<= HW) and deletes segments wholly below it. */
  async deleteRecordsBefore(offset: number): Promise<number> {
    if (offset > this._highWatermark || offset < 0) {
      throw new StorageError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `cannot delete records before ${offset}: high watermark is ${this._highWatermark}`,
      );
    }
    if (offset <= this._logStartOffset) return this._logStartOffset;
    this._logStartOffset = offset;
    this.leaderEpochCache.truncateFromStart(offset);
    await this.withSegmentsLock(async () => {
      let n = 0;
      while (n + 1 < this.segments.length && this.segments[n + 1]!.baseOffset <= this._logStartOffset) n++;
      await this.deleteOldest(n);
    });
    return this._logStartOffset;
  }

  /**
   * Deletes whole non-active segments past retention.ms / retention.bytes (cleanup.policy
   * 'delete' or 'compact,delete'); returns how many.
   */
  async applyRetention(now: number): Promise<number> {
    if (!isDeleteEnabled(this.config)) return 0;
    return this.withSegmentsLock(async () => {
      const segs = this.segments;
      // candidates: non-active segments entirely below the high watermark
      let limit = 0;
      while (limit < segs.length - 1 && segs[limit + 1]!.baseOffset <= this._highWatermark) limit++;
      let n = 0;
      if (this.config.retentionMs >= 0) {
        // an empty non-active segment (left by the cleaner) has nothing to keep
        const expired = (s: LogSegment): boolean =>
          s.size === 0 || (s.maxTimestamp >= 0 && now - s.maxTimestamp > this.config.retentionMs);
        while (n < limit && expired(segs[n]!)) n++;
      }
      if (this.config.retentionBytes >= 0) {
        let diff = this.sizeBytes - this.config.retentionBytes;
        for (let i = 0; i < n; i++) diff -= segs[i]!.size;
        while (n < limit && diff - segs[n]!.size >= 0) {
          diff -= segs[n]!.size;
          n++;
        }
      }
      if (n === 0) return 0;
      await this.deleteOldest(n);
      return n;
    });
  }

  /** Runs fn while no other segment-list change that deletes files runs. */
  private withSegmentsLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.segmentsLock.then(fn, fn);
    this.segmentsLock = run.catch(() => undefined);
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
    for (const s of gone) {
      this.dirtySegments.delete(s);
      await s.delete(this.config.fileDeleteDelayMs ?? 0);
    }
    await this.txnIndex.removeSegments(gone.map((s) => s.baseOffset), newStart);
    await this.pruneSnapshots();
  }

  /**
   * The segment a write of `total` bytes ending at `lastOffset` goes to: the active one, rolled
   * first when the write would overflow segment.bytes or its 32-bit relative offsets, or when
   * segment.ms has passed since its first append.
   */
  private segmentForWrite(total: number, lastOffset: number, now: number): LogSegment {
    let seg = this.active;
    if (
      seg.size > 0 &&
      (seg.size + total > Math.min(this.config.segmentBytes, INT32_MAX) ||
        lastOffset - seg.baseOffset > INT32_MAX ||
        (seg.firstAppendMs >= 0 && now - seg.firstAppendMs >= this.config.segmentMs))
    ) {
      seg = this.roll(now);
    }
    if (seg.firstAppendMs < 0) seg.firstAppendMs = now;
    return seg;
  }

  /** Removes everything at or after `offset` (replica truncation). */
  async truncateTo(offset: number): Promise<void> {
    if (offset >= this._logEndOffset) return;
    await this.drain();
    if (this.syncing) await this.syncing.catch(() => undefined);
    await this.withSegmentsLock(() => this.truncateLocked(offset));
  }

  private async truncateLocked(offset: number): Promise<void> {
    if (offset >= this._logEndOffset) return;
    offset = Math.max(offset, 0);
    if (offset <= this._logStartOffset || offset <= this.segments[0]!.baseOffset) {
      // truncate fully and restart at offset
      const old = this.segments;
      this.segments = [];
      for (const s of old) await s.delete(0);
      const seg = LogSegment.createSync(this.dir, offset, -1);
      seg.indexIntervalBytes = this.config.indexIntervalBytes;
      this.segments.push(seg);
      this._logStartOffset = offset;
    } else {
      this.segments = this.segments.slice();
      while (this.segments.length > 1 && this.active.baseOffset >= offset) {
        const s = this.segments.pop()!;
        this.dirtySegments.delete(s);
        await s.delete(0);
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
    this._durableEndOffset = Math.min(this._durableEndOffset, leo);
    this._recoveryPoint = Math.min(this._recoveryPoint, leo);
    if (this._highWatermark > leo) this._highWatermark = leo;
    this.leaderEpochCache.truncateFromEnd(leo);
    for (const s of await this.listSnapshots()) if (s > leo) await fsp.rm(this.snapshotPath(s), { force: true });
    await this.rebuildProducerState(await this.listSnapshots(), leo);
    if (this._cleanerCheckpoint > leo) this._cleanerCheckpoint = -1;
  }

  // ---------------------------------------------------------------- checkpoints, flush, close

  private scheduleEpochCheckpoint(): void {
    if (this.epochDirty) return;
    this.epochDirty = true;
    this.epochWrite = this.epochWrite.then(async () => {
      this.epochDirty = false;
      if (this.closed && !this.closingEpoch) return;
      await writeFileAtomic(path.join(this.dir, 'leader-epoch-checkpoint'), this.leaderEpochCache.format()).catch(
        () => undefined,
      );
    });
  }
  private closingEpoch = false;

  /** Writes all queued data, index tails and fsyncs. */
  async flush(): Promise<void> {
    await this.drain();
    for (const s of this.segments) await s.persistIndexes(false);
    for (const s of this.segments) this.dirtySegments.add(s);
    await this.syncNow();
    this.dirtySegments.clear();
    if (this.failed) throw this.failed;
  }

  /** Flushes, writes indexes and a producer-state snapshot at the log end, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopCleaning();
    if (!this.failed) {
      await this.drain();
      this.active.finalizeTimeIndex();
      await this.flush().catch(() => undefined);
      for (const s of this.segments) await s.persistIndexes(true).catch(() => undefined);
      await this.txnIndex.flush().catch(() => undefined);
      await writeFileAtomic(this.snapshotPath(this._logEndOffset), this.producerState.serialize()).catch(() => undefined);
      await this.pruneSnapshots().catch(() => undefined);
    }
    this.closingEpoch = true;
    this.closed = true;
    this.syncer.cancel(this);
    await this.epochWrite;
    for (const s of this.segments) await s.closeFd();
  }

  /** Closes and removes the partition directory (topic deletion). */
  async delete(): Promise<void> {
    await this.stopCleaning();
    this.closed = true;
    this.syncer.cancel(this);
    await this.drain();
    await this.epochWrite;
    for (const s of this.segments) await s.closeFd();
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, 'log deleted'));
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  /** Test/diagnostic hook: abandons the log like a crash (no flush, no snapshot, no index writes). */
  async abandonForTest(): Promise<void> {
    await this.stopCleaning();
    await this.drain();
    this.closed = true;
    this.syncer.cancel(this);
    await this.epochWrite;
    for (const s of this.segments) await s.closeFd();
  }
}
