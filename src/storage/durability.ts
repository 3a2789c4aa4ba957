// Durability of one partition log: which written offsets satisfy the flush policy, the appends
// waiting for that, and the fdatasyncs that get them there (group commit through the broker's
// FlushScheduler, or Kafka's flush.messages / flush.ms).
import type { LogConfig } from './config.js';
import { syncDir } from './files.js';
import type { FlushScheduler, Syncable } from './flush-scheduler.js';
import type { StorageError } from './errors.js';
import type { LogSegment } from './segment.js';
import type { WalParticipant, WalRecordType } from './wal.js';
import type { SegmentWrite } from './write-queue.js';

/** What the durability side needs from its log. */
export interface DurabilityHost {
  readonly config: LogConfig;
  /** Offset after the last batch written to the segment files. */
  readonly writtenEndOffset: number;
  /** "<topic>-<partition>" and topic id: how WAL records name the partition. */
  readonly walKey: string;
  /** The partition directory (fsynced at checkpoints after segment files came or went). */
  readonly dir: string;
  readonly topicId: string;
  /** durableEndOffset moved to `end` (advanced: it grew); the log moves its HW and tells replication. */
  durableAdvanced(end: number, advanced: boolean): void;
  /** An fsync failed: the log goes offline; returns the error appends see from now on. */
  fail(e: Error): StorageError;
}

interface Waiter {
  endOffset: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class LogDurability implements Syncable, WalParticipant {
  private _durableEndOffset = 0;
  private _recoveryPoint = 0;
  /** End of what the WAL holds fsynced for this log. */
  private walDurableEnd = 0;
  private waiters: Waiter[] = [];
  /** Created on the first write (an idle partition holds no set). */
  private dirtySegments: Set<LogSegment> | undefined;
  private syncing: Promise<void> | undefined;
  private resync = false;
  private unflushedMessages = 0;
  private lastFlushMs = Date.now();
  private failedWith: StorageError | undefined;
  /** Segment files were created or unlinked since the directory was last fsynced. */
  private dirDirty = false;

  constructor(
    private readonly host: DurabilityHost,
    readonly scheduler: FlushScheduler,
  ) {}

  /** End offset of data that satisfies the flush policy (what acks=1/all may acknowledge on one node). */
  get durableEndOffset(): number {
    return this._durableEndOffset;
  }
  /** Offset up to which the segment files are fsynced (Kafka's recovery point: scans start there). */
  get recoveryPoint(): number {
    return this._recoveryPoint;
  }
  /** Offset up to which the log survives a power failure: fsynced in its segments or in the WAL. */
  get fsyncedEnd(): number {
    return Math.max(this._recoveryPoint, this.walDurableEnd);
  }

  /** Sets every mark to `offset` (a freshly loaded or restarted log: everything below is on disk). */
  resetTo(offset: number): void {
    this._durableEndOffset = this._recoveryPoint = this.walDurableEnd = offset;
  }

  /** After a truncation to `leo`: nothing at or above it is durable any more. */
  truncatedTo(leo: number): void {
    this._durableEndOffset = Math.min(this._durableEndOffset, leo);
    this._recoveryPoint = Math.min(this._recoveryPoint, leo);
    this.walDurableEnd = Math.min(this.walDurableEnd, leo);
  }

  /** Resolves once data up to endOffset is durable. */
  wait(endOffset: number): Promise<void> {
    if (endOffset <= this._durableEndOffset) return Promise.resolve();
    if (this.failedWith) return Promise.reject(this.failedWith);
    return new Promise((resolve, reject) => this.waiters.push({ endOffset, resolve, reject }));
  }

  /** A write reached its segment file. */
  written(w: SegmentWrite): void {
    (this.dirtySegments ??= new Set()).add(w.seg);
    const wal = this.scheduler.wal;
    if (wal) {
      // durable once the WAL round holding these bytes is fsynced; the segment is fsynced lazily
      wal.appendData(this, this.host.walKey, this.host.topicId, w.bufs, w.bytes, w.endOffset);
      return;
    }
    if (this.scheduler.groupCommit) {
      this.scheduler.request(this);
      return;
    }
    this.markDurable(this.host.writtenEndOffset);
    this.unflushedMessages += w.messages;
    if (this.unflushedMessages >= this.host.config.flushMessages) {
      this.unflushedMessages = 0;
      void this.syncNow().catch(() => undefined);
    }
  }

  walDurable(endOffset: number): void {
    if (this.failedWith) return;
    if (endOffset > this.walDurableEnd) this.walDurableEnd = endOffset;
    this.markDurable(endOffset);
  }

  walFailed(e: Error): void {
    this.host.fail(e);
  }

  async syncSegments(): Promise<void> {
    try {
      await this.syncNow();
      // the WAL's record of a roll or truncation may go once the directory entries are durable too
      if (this.dirDirty) {
        this.dirDirty = false;
        await syncDir(this.host.dir);
      }
    } catch {
      // a failed fsync took the log offline already
    }
  }

  /** A segment file was created or unlinked. */
  dirChanged(): void {
    this.dirDirty = true;
  }

  /**
   * Before a truncation touches the segment files: with a WAL, a marker fsynced in it, so that
   * replay repeats the truncation at this point instead of bringing truncated batches back.
   */
  async beforeTruncation(type: WalRecordType.Truncate | WalRecordType.Reset, offset: number): Promise<void> {
    await this.scheduler.wal?.appendMarker(this, type, this.host.walKey, this.host.topicId, offset);
  }

  /** A segment was deleted: nothing of it is left to sync. */
  forget(seg: LogSegment): void {
    this.dirtySegments?.delete(seg);
  }

  /** Marks segments as needing an fdatasync (flush() after index writes). */
  markDirty(segs: Iterable<LogSegment>): void {
    const dirty = (this.dirtySegments ??= new Set());
    for (const s of segs) dirty.add(s);
  }

  /** Rejects the appends waiting for offsets past `keep` (a rolled-back write). */
  rejectAbove(keep: number, err: Error): void {
    const ws = this.waiters;
    this.waiters = ws.filter((w) => w.endOffset <= keep);
    for (const w of ws) if (w.endOffset > keep) w.reject(err);
  }

  /** Rejects every waiting append; later waits fail with `err` too when `sticky`. */
  rejectAll(err: StorageError, sticky: boolean): void {
    if (sticky) this.failedWith = err;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(err);
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
    this.host.durableAdvanced(this._durableEndOffset, advanced);
  }

  /** Resolves once a sync that is running (if any) has finished. */
  async settled(): Promise<void> {
    if (this.syncing) await this.syncing.catch(() => undefined);
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
      if (this.resync && !this.failedWith) void this.syncNow().catch(() => undefined);
    });
    this.syncing = syncing;
    return syncing;
  }

  private async syncLoop(): Promise<void> {
    try {
      do {
        this.resync = false;
        const target = this.host.writtenEndOffset;
        const dirty = this.dirtySegments;
        const segs = dirty ? [...dirty] : [];
        dirty?.clear();
        for (const s of segs) {
          await s.sync();
          this.scheduler.fsyncCount++;
        }
        this.lastFlushMs = Date.now();
        if (target > this._recoveryPoint) this._recoveryPoint = target;
        if (this.scheduler.groupCommit) this.markDurable(target);
      } while (this.resync);
    } catch (e) {
      throw this.host.fail(e as Error);
    }
  }

  /** flush.ms in interval mode (called by the LogManager's background task). */
  maybeFlush(now: number, closed: boolean): Promise<void> | undefined {
    if (this.scheduler.groupCommit || closed) return undefined;
    if (this._recoveryPoint < this.host.writtenEndOffset && now - this.lastFlushMs >= this.host.config.flushMs) {
      this.unflushedMessages = 0;
      return this.syncNow();
    }
    return undefined;
  }
}
