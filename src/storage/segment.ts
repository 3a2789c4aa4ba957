import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BATCH_HEADER_SIZE, BASE_OFFSET, LAST_OFFSET_DELTA, MAX_TIMESTAMP } from '../protocol/records/layout.js';
import { batchSizeAt, checkBatchAt, readBatchInfo, readInt64, type StoredBatchInfo } from '../protocol/records/batch.js';
import { flatString, offsetFileName } from './files.js';
import { closeQuietlySync, pClose, pFdatasync, pFstatSize, pFtruncate, pOpen, pReadFull, pWritevAll, trackFd, writevAllSync } from './fsio.js';
import type { SegmentFdCache } from './segment-fds.js';
import { OffsetIndex, TimeIndex } from './indexes.js';

/** Appends up to this size are written synchronously (see LogSegment.write). */
const SYNC_WRITE_MAX = 1024 * 1024;

const WINDOW = 256 * 1024;

/**
 * Reads up to this size that lie within TAIL_BYTES of the written end are done on this thread:
 * those bytes were appended moments ago and sit in the page cache, so the copy costs less than a
 * thread-pool round trip (a consumer following the log reads a few KiB per fetch), mirroring the
 * synchronous small appends of write().
 */
const SYNC_READ_MAX = 256 * 1024;
const TAIL_BYTES = 4 * 1024 * 1024;
/** Bytes one segment read returns at most. */
const MAX_READ = 16 * 1024 * 1024;

function readFullSync(fd: number, buf: Buffer, len: number, pos: number): number {
  let done = 0;
  while (done < len) {
    const n = fs.readSync(fd, buf, done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Reads a file through a sliding window so that header scans need few syscalls. */
class WindowReader {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fd: number,
    private readonly end: number,
    private readonly windowSize = WINDOW,
    /** Where window buffers come from (a response's pooled lease on the fetch path). */
    private readonly alloc: (size: number) => Buffer = Buffer.allocUnsafe,
  ) {}
  /** Whether [pos, pos+len) is already buffered. */
  covers(pos: number, len: number): boolean {
    return pos >= this.start && pos + len <= this.start + this.buf.length;
  }
  /** Ensures [pos, pos+len) is buffered; returns the buffer and the offset of pos in it, or undefined past end. */
  async at(pos: number, len: number): Promise<{ buf: Buffer; off: number } | undefined> {
    if (pos + len > this.end) return undefined;
    if (pos < this.start || pos + len > this.start + this.buf.length) {
      const size = Math.min(this.end - pos, Math.max(this.windowSize, len));
      const b = this.alloc(size);
      const n = size <= SYNC_READ_MAX && this.end - pos <= TAIL_BYTES ? readFullSync(this.fd, b, size, pos) : await pReadFull(this.fd, b, 0, size, pos);
      this.buf = b.subarray(0, n);
      this.start = pos;
      if (n < len) return undefined;
    }
    return { buf: this.buf, off: pos - this.start };
  }
}

/**
 * Thrown when a segment is used after it was deleted (retention, truncation or a cleaner swap)
 * and its file descriptor is already closed: the caller retries against the current segment list.
 */
export class SegmentGoneError extends Error {
  constructor(file: string) {
    super(`segment ${file} was deleted`);
    this.name = 'SegmentGoneError';
  }
}

export interface SegmentReadResult {
  chunk: Buffer | undefined;
  /** True when the read must not continue into the next segment (limit reached). */
  stop: boolean;
}

/** One segment: <base>.log + .index + .timeindex. */
export class LogSegment {
  readonly logPath: string;
  fd: number | undefined;
  /** Bytes assigned (including writes still queued). */
  size = 0;
  /** Bytes written to the file (readable). */
  writtenSize = 0;
  /** Offset after the last batch assigned to this segment (baseOffset when empty). */
  nextOffset: number;
  readonly index: OffsetIndex;
  readonly timeIndex: TimeIndex;
  bytesSinceLastIndexEntry = 0;
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** Wall-clock ms of the first append (for segment.ms), -1 when empty. */
  firstAppendMs = -1;
  /** Operations using the fd (reads, scans, syncs, truncation): the fd stays open meanwhile. */
  private readers = 0;
  private deleted = false;
  private fdOpening: Promise<number> | undefined;
  /** Writes started on the file / writes covered by a successful fdatasync (equal: nothing unsynced). */
  private writeSeq = 0;
  private syncedSeq = 0;
  /** The broker's bound on open segment files (undefined: fds stay open until closeFd). */
  fdCache: SegmentFdCache | undefined;
  // Intrusive LRU links and state of fdCache (segment-fds.ts): no allocation per touch.
  /** @internal */ lruPrev: LogSegment | undefined = undefined;
  /** @internal */ lruNext: LogSegment | undefined = undefined;
  /** @internal */ lruIn = false;
  /** @internal */ lruUsed = 0;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    fdCache?: SegmentFdCache,
  ) {
    this.fdCache = fdCache;
    this.logPath = flatString(path.join(dir, offsetFileName(baseOffset, '.log')));
    this.nextOffset = baseOffset;
    this.index = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
  }

  /** Creates a new empty segment synchronously (so that offset assignment stays synchronous). */
  static createSync(dir: string, baseOffset: number, now: number, fdCache?: SegmentFdCache): LogSegment {
    const s = new LogSegment(dir, baseOffset, fdCache);
    fdCache?.reserve();
    try {
      s.fd = fs.openSync(s.logPath, 'w+');
    } catch (e) {
      fdCache?.openFailed();
      throw e;
    }
    trackFd(s.fd, s.logPath);
    s.firstAppendMs = now;
    fdCache?.opened(s);
    return s;
  }

  /**
   * An existing segment (indexes are loaded separately). The log file is not opened here: its
   * size comes from a path stat, the fd is opened on first use (ensureFd).
   */
  static async load(dir: string, baseOffset: number, fdCache?: SegmentFdCache): Promise<LogSegment> {
    const s = new LogSegment(dir, baseOffset, fdCache);
    s.size = s.writtenSize = (await fsp.stat(s.logPath)).size;
    return s;
  }

  /** The fd, opened (by path) when the segment has none; callers count as readers meanwhile. */
  ensureFd(): Promise<number> {
    const fd = this.fd;
    if (fd !== undefined) {
      this.fdCache?.touch(this);
      return Promise.resolve(fd);
    }
    // never reopen a deleted segment by path: a cleaner swap may have put another file there
    if (this.deleted) return Promise.reject(new SegmentGoneError(this.logPath));
    return (this.fdOpening ??= this.openAsync());
  }

  private async openAsync(): Promise<number> {
    const cache = this.fdCache;
    cache?.reserve(this);
    let fd: number;
    try {
      fd = await pOpen(this.logPath, 'r+');
    } catch (e) {
      cache?.openFailed();
      this.fdOpening = undefined;
      if (this.deleted) throw new SegmentGoneError(this.logPath);
      throw e;
    }
    this.fdOpening = undefined;
    // deleted meanwhile: the path may name a replacement (cleaner swap, truncation) by now;
    // or an append opened it synchronously meanwhile
    if (this.deleted || this.fd !== undefined) {
      cache?.openFailed();
      closeQuietlySync(fd);
      if (this.deleted) throw new SegmentGoneError(this.logPath);
      cache?.touch(this);
      return this.fd!;
    }
    this.fd = fd;
    cache?.opened(this);
    return fd;
  }

  /**
   * Makes sure the fd is open before an append is assigned to this segment (synchronously:
   * offsets are assigned synchronously). Usually the segment being written is open and this is
   * an O(1) touch of the LRU; a segment whose fd was closed while idle and clean is reopened.
   */
  openForAppend(): void {
    const cache = this.fdCache;
    if (this.fd !== undefined) {
      cache?.touch(this);
      return;
    }
    if (this.deleted) throw new SegmentGoneError(this.logPath);
    cache?.reserve(this);
    let fd: number;
    try {
      fd = fs.openSync(this.logPath, 'r+');
    } catch (e) {
      cache?.openFailed();
      throw e;
    }
    trackFd(fd, this.logPath);
    this.fd = fd;
    cache?.opened(this);
  }

  /**
   * Whether the fd may be closed now (the LRU asks): no operation uses it, no queued write is
   * still to reach the file, no open in flight, and nothing written through it is unsynced (a
   * writeback error is reported to the fds open at the time; a later fd would not see it —
   * "fsyncgate"). A deleted segment's fd may go once no read uses it (reads then retry on the
   * new segment list).
   */
  fdClosable(): boolean {
    if (this.fd === undefined || this.readers !== 0 || this.fdOpening !== undefined) return false;
    if (this.deleted) return true;
    return this.size === this.writtenSize && this.writeSeq === this.syncedSeq;
  }

  /** Whether data written through this segment's fd is not yet fsynced. */
  get hasUnsyncedWrites(): boolean {
    return this.writeSeq !== this.syncedSeq;
  }

  /**
   * Closes the fd for the LRU (fdClosable was true; the segment already left the list).
   * Synchronously: a close of a clean file is quick, and the count stays exact.
   */
  dropFd(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeQuietlySync(fd);
  }

  /** Called when an fd user finishes: closes LRU candidates when the cache is over its bound. */
  private maybeEvict(): void {
    const c = this.fdCache;
    if (c !== undefined && c.size > c.maxOpen) c.evict();
  }

  // The index paths are built when used (index writes and loads, deletion, the cleaner), not kept.
  get indexPath(): string {
    return path.join(this.dir, offsetFileName(this.baseOffset, '.index'));
  }
  get timeIndexPath(): string {
    return path.join(this.dir, offsetFileName(this.baseOffset, '.timeindex'));
  }

  get lastOffset(): number {
    return this.nextOffset - 1;
  }

  /** Updates indexes and counters for a batch placed at `position` (Kafka's index rules). */
  trackAppend(lastOffset: number, maxTimestamp: number, position: number, size: number): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      this.index.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }
  indexIntervalBytes = 4096;

  /** Adds the final time index entry (Kafka does this when a segment becomes inactive / closes). */
  finalizeTimeIndex(): void {
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
  }

  /** Writes index bytes not yet on disk; optionally fsyncs them. */
  async persistIndexes(sync: boolean): Promise<void> {
    if (this.deleted) return; // the paths may belong to a replacement segment now
    for (const [idx, file] of [
      [this.index, this.indexPath],
      [this.timeIndex, this.timeIndexPath],
    ] as const) {
      const tail = idx.unpersisted();
      if (tail.length === 0 && idx.fileBytes === idx.byteLength && !sync) continue;
      const fd = await pOpen(file, fs.existsSync(file) ? 'r+' : 'w+');
      try {
        if (tail.length) await pWritevAll(fd, [Buffer.from(tail)], idx.persistedBytes);
        if (idx.fileBytes > idx.byteLength) await pFtruncate(fd, idx.byteLength);
        idx.persistedBytes = idx.fileBytes = idx.byteLength;
        if (sync) await pFdatasync(fd);
      } finally {
        await pClose(fd);
      }
    }
  }

  /** Loads .index/.timeindex; false when missing or implausible (caller rebuilds by recover()). */
  async loadIndexes(nextOffsetBound: number): Promise<boolean> {
    let idx: Buffer;
    let tidx: Buffer;
    try {
      idx = await fsp.readFile(this.indexPath);
      tidx = await fsp.readFile(this.timeIndexPath);
    } catch {
      return false;
    }
    if (!this.index.load(idx, this.writtenSize)) return false;
    if (!this.timeIndex.load(tidx, nextOffsetBound)) return false;
    if (this.index.entries && this.index.lastOffset() >= nextOffsetBound) return false;
    if (this.timeIndex.entries) {
      this.maxTimestamp = this.timeIndex.lastTimestamp();
      this.offsetOfMaxTimestamp = this.timeIndex.offsetAt(this.timeIndex.entries - 1);
    }
    return true;
  }

  /**
   * Scans batch headers from the last index entry to the end of the file (clean-shutdown path):
   * restores nextOffset, max timestamp and index counters. Returns false when the tail does not
   * parse (the caller then runs a full recover()).
   */
  async scanTailAfterCleanShutdown(): Promise<boolean> {
    const pos = this.index.entries ? this.index.positionAt(this.index.entries - 1) : 0;
    this.bytesSinceLastIndexEntry = 0;
    if (pos >= this.writtenSize) return true; // nothing to scan: the file is not opened
    return this.withReader((fd) => this.scanTail(fd, pos));
  }

  private async scanTail(fd: number, pos: number): Promise<boolean> {
    const r = new WindowReader(fd, this.writtenSize);
    while (pos < this.writtenSize) {
      const h = await r.at(pos, BATCH_HEADER_SIZE);
      if (!h) return false;
      const size = batchSizeAt(h.buf, h.off);
      if (size < BATCH_HEADER_SIZE || pos + size > this.writtenSize) return false;
      const info = readBatchInfo(h.buf, h.off);
      if (info.lastOffset < this.nextOffset - 1 || info.baseOffset < this.baseOffset) return false;
      this.bytesSinceLastIndexEntry += size;
      if (info.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = info.maxTimestamp;
        this.offsetOfMaxTimestamp = info.lastOffset;
      }
      this.nextOffset = info.lastOffset + 1;
      pos += size;
    }
    return true;
  }

  /**
   * Full scan: validates every batch (length, magic, CRC, monotonic offsets), rebuilds both
   * indexes, and truncates the file at the first invalid byte. Returns the number of bytes cut.
   */
  recover(verifyCrc: boolean, onBatch?: (info: StoredBatchInfo, batch: Buffer) => void): Promise<number> {
    return this.withReader((fd) => this.recoverWith(fd, verifyCrc, onBatch));
  }

  private async recoverWith(fd: number, verifyCrc: boolean, onBatch?: (info: StoredBatchInfo, batch: Buffer) => void): Promise<number> {
    const fileSize = await pFstatSize(fd);
    this.index.clear();
    this.timeIndex.clear();
    this.index.fileBytes = this.timeIndex.fileBytes = Number.MAX_SAFE_INTEGER; // force rewrite+truncate
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const r = new WindowReader(fd, fileSize, 1024 * 1024);
    let pos = 0;
    while (pos < fileSize) {
      const h = await r.at(pos, BATCH_HEADER_SIZE);
      if (!h) break;
      const size = batchSizeAt(h.buf, h.off);
      if (size < BATCH_HEADER_SIZE || pos + size > fileSize) break;
      const w = await r.at(pos, size);
      if (!w) break;
      if (checkBatchAt(w.buf, w.off, w.off + size, verifyCrc) < 0) break;
      const info = readBatchInfo(w.buf, w.off);
      if (info.baseOffset < this.nextOffset || info.lastOffset - this.baseOffset > 0x7fffffff) break;
      onBatch?.(info, w.buf.subarray(w.off, w.off + size));
      this.trackAppend(info.lastOffset, info.maxTimestamp, pos, size);
      pos += size;
    }
    const cut = fileSize - pos;
    if (cut > 0) {
      const seq = ++this.writeSeq;
      await pFtruncate(fd, pos);
      await pFdatasync(fd);
      this.syncedTo(seq);
    }
    this.size = this.writtenSize = pos;
    return cut;
  }

  /**
   * Iterates batch headers (whole batch bytes for control batches) starting at the batch that
   * holds `fromOffset`, up to (excluding) `endOffset`.
   */
  async scanBatches(
    fromOffset: number,
    endOffset: number,
    cb: (info: StoredBatchInfo, pos: number, batch: Buffer | undefined) => void,
  ): Promise<void> {
    if (this.writtenSize === 0) return; // empty: the file is not opened
    return this.withReader(async (fd) => {
      const r = new WindowReader(fd, this.writtenSize);
      let pos = this.index.lookup(fromOffset);
      while (pos < this.writtenSize) {
        const h = await r.at(pos, BATCH_HEADER_SIZE);
        if (!h) return;
        const info = readBatchInfo(h.buf, h.off);
        if (info.baseOffset >= endOffset) return;
        if (info.lastOffset >= fromOffset) {
          let batch: Buffer | undefined;
          if (info.isControl) {
            const w = await r.at(pos, info.size);
            batch = w ? w.buf.subarray(w.off, w.off + info.size) : undefined;
          }
          cb(info, pos, batch);
        }
        pos += info.size;
      }
    });
  }

  /** Reads the whole batch starting at pos. */
  async readBatchAt(pos: number, size: number): Promise<Buffer> {
    return this.withReader(async (fd) => {
      const b = Buffer.allocUnsafe(size);
      const n = await pReadFull(fd, b, 0, size, pos);
      return b.subarray(0, n);
    });
  }

  /** Runs fn with the fd while counting as a reader (a deleted segment's fd stays open meanwhile). */
  private async withReader<T>(fn: (fd: number) => Promise<T>): Promise<T> {
    this.readers++;
    try {
      return await fn(await this.ensureFd());
    } finally {
      this.release();
    }
  }

  /** Finds the first batch (at or after file position `from`, when given) with maxTimestamp >= ts. */
  async findByTimestamp(ts: number, from = -1): Promise<{ pos: number; info: StoredBatchInfo } | undefined> {
    return this.withReader(async (fd) => {
      const startOffset = this.timeIndex.lookupBefore(ts);
      let pos = startOffset < 0 ? 0 : this.index.lookup(startOffset);
      if (from > pos) pos = from;
      const r = new WindowReader(fd, this.writtenSize, 64 * 1024);
      while (pos < this.writtenSize) {
        const h = await r.at(pos, BATCH_HEADER_SIZE);
        if (!h) return undefined;
        const info = readBatchInfo(h.buf, h.off);
        if (info.maxTimestamp >= ts) return { pos, info };
        pos += info.size;
      }
      return undefined;
    });
  }

  /** First file position of a batch whose lastOffset >= offset (writtenSize when none). */
  positionOf(offset: number): Promise<number> {
    return this.withReader((fd) => this.positionWith(fd, offset));
  }

  private async positionWith(fd: number, offset: number): Promise<number> {
    const r = new WindowReader(fd, this.writtenSize, 64 * 1024);
    let pos = this.index.lookup(offset);
    while (pos < this.writtenSize) {
      const h = await r.at(pos, BATCH_HEADER_SIZE);
      if (!h) break;
      const last = readInt64(h.buf, h.off + BASE_OFFSET) + h.buf.readInt32BE(h.off + LAST_OFFSET_DELTA);
      if (last >= offset) return pos;
      pos += batchSizeAt(h.buf, h.off);
    }
    return this.writtenSize;
  }

  /**
   * Reads whole batches starting with the one holding fetchOffset, up to maxBytes, never a
   * batch whose last offset is >= maxOffset, and only bytes already written. `alloc` supplies
   * the read buffers (the returned chunk is a view of one of them).
   */
  async read(fetchOffset: number, maxOffset: number, maxBytes: number, minOneBatch: boolean, alloc?: (size: number) => Buffer): Promise<SegmentReadResult> {
    this.readers++;
    try {
      const fd = await this.ensureFd();
      const end = this.writtenSize;
      const slot = this.index.slotFor(fetchOffset);
      let pos = slot < 0 ? 0 : this.index.positionAt(slot);
      const want0 = Math.min(maxBytes, MAX_READ) + BATCH_HEADER_SIZE;
      let locate: WindowReader | undefined;
      // A consumer's next fetch usually starts at a batch's base offset, which the index (keyed
      // by batches' last offsets) places one batch back. When the next index entry is that batch,
      // read the response's window from it at once: one read (a thread-pool round trip) instead
      // of a header hop over the previous batch and then the data window.
      const next = this.index.nextEntryPosition(fetchOffset, slot);
      if (next > pos && next < end) {
        const guess = new WindowReader(fd, end, Math.max(64 * 1024, want0), alloc);
        const h = await guess.at(next, BATCH_HEADER_SIZE);
        if (h && readInt64(h.buf, h.off + BASE_OFFSET) <= fetchOffset) {
          pos = next;
          locate = guess;
        }
      }
      // Otherwise locate the first batch by hopping over headers with a small window (the index
      // entry may lie a whole append before it), then read the batches with one window that
      // starts at that batch: one read of the bytes the response needs, not a window per hop.
      locate ??= new WindowReader(fd, end, 64 * 1024, alloc);
      for (;;) {
        const h = await locate.at(pos, BATCH_HEADER_SIZE);
        if (!h) return { chunk: undefined, stop: false }; // segment exhausted
        const base = readInt64(h.buf, h.off + BASE_OFFSET);
        const last = base + h.buf.readInt32BE(h.off + LAST_OFFSET_DELTA);
        if (last >= fetchOffset) break;
        pos += batchSizeAt(h.buf, h.off);
      }
      const start = pos;
      const want = Math.min(end - start, want0);
      const r = locate.covers(start, want) ? locate : new WindowReader(fd, end, Math.max(64 * 1024, want), alloc);
      let stop = false;
      let bytes = 0;
      while (pos < end) {
        const h = await r.at(pos, BATCH_HEADER_SIZE);
        if (!h) break;
        const base = readInt64(h.buf, h.off + BASE_OFFSET);
        const last = base + h.buf.readInt32BE(h.off + LAST_OFFSET_DELTA);
        const size = batchSizeAt(h.buf, h.off);
        if (last >= maxOffset) {
          stop = true;
          break;
        }
        if (pos + size > end) break;
        if (bytes + size > maxBytes) {
          stop = true;
          if (bytes === 0 && minOneBatch) bytes = size;
          break;
        }
        bytes += size;
        pos += size;
      }
      if (bytes === 0) return { chunk: undefined, stop };
      const w = await r.at(start, bytes);
      if (w) return { chunk: w.buf.subarray(w.off, w.off + bytes), stop };
      const b = alloc ? alloc(bytes) : Buffer.allocUnsafe(bytes);
      const n = await pReadFull(fd, b, 0, bytes, start);
      return { chunk: b.subarray(0, n), stop };
    } finally {
      this.release();
    }
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  acquire(): void {
    this.readers++;
  }
  release(): void {
    this.readers--;
    if (this.readers !== 0) return;
    if (this.deleted) void this.closeFd();
    else this.maybeEvict();
  }

  /**
   * Writes buffers at pos (the caller orders writes). Up to SYNC_WRITE_MAX bytes go straight into
   * the page cache on this thread: a memcpy of that size costs less than a thread-pool round trip,
   * and the produce-to-consume latency has one hop fewer. Larger writes use the thread pool.
   */
  async write(bufs: Buffer[], pos: number): Promise<void> {
    let total = 0;
    for (const b of bufs) total += b.length;
    this.readers++;
    try {
      let fd = this.fd;
      if (fd === undefined) fd = await this.ensureFd();
      else this.fdCache?.touch(this);
      this.writeSeq++; // counted before the syscall: a failed or partial write leaves the fd unsynced
      if (total <= SYNC_WRITE_MAX) writevAllSync(fd, bufs, pos, total);
      else await pWritevAll(fd, bufs, pos);
      if (pos + total > this.writtenSize) this.writtenSize = pos + total;
    } finally {
      this.release();
    }
  }

  /**
   * fdatasyncs the log file. A segment without an fd has nothing unsynced (the LRU closes only
   * clean fds), so it is not reopened; `force` opens it anyway (after an unclean shutdown the
   * previous process's writes may still be in the page cache).
   */
  async sync(force = false): Promise<void> {
    if (this.deleted || (this.fd === undefined && !force)) return;
    const seq = this.writeSeq;
    this.readers++;
    try {
      await pFdatasync(await this.ensureFd());
      this.syncedTo(seq);
    } finally {
      this.release();
    }
  }

  private syncedTo(seq: number): void {
    if (seq > this.syncedSeq) this.syncedSeq = seq;
  }

  /** Cuts the log at pos (a batch boundary), dropping index entries beyond it. */
  truncateAt(pos: number): Promise<void> {
    return this.withReader(async (fd) => {
      this.writeSeq++; // kept open until an fdatasync covers the truncation
      await pFtruncate(fd, pos);
      this.size = this.writtenSize = pos;
    });
  }

  async closeFd(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    this.fdOpening = undefined;
    this.fdCache?.remove(this);
    if (fd !== undefined) await pClose(fd).catch(() => undefined);
  }

  /** The log goes away (partition deleted): the fd closes once no read uses it, and is never reopened by path. */
  retire(): Promise<void> {
    this.deleted = true;
    return this.readers === 0 ? this.closeFd() : Promise.resolve();
  }

  /** Unlinks the files now; the fd is closed once no read uses it (after delayMs). */
  async delete(delayMs: number): Promise<void> {
    this.deleted = true;
    for (const f of [this.logPath, this.indexPath, this.timeIndexPath]) await fsp.rm(f, { force: true });
    const close = (): void => {
      if (this.readers === 0) void this.closeFd();
    };
    if (delayMs > 0) setTimeout(close, delayMs).unref();
    else close();
  }

  /** Reads the first batch's max timestamp (for segment.ms of a loaded active segment). */
  async firstBatchTimestamp(): Promise<number> {
    if (this.writtenSize < BATCH_HEADER_SIZE) return -1;
    return this.withReader(async (fd) => {
      const b = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
      await pReadFull(fd, b, 0, BATCH_HEADER_SIZE, 0);
      return readInt64(b, MAX_TIMESTAMP);
    });
  }
}

