/**
 * Sparse indexes of one segment, kept in memory in Kafka's on-disk byte format so that
 * persisting them is a plain write of the not-yet-persisted tail.
 *
 *   .index     entries of 8 bytes:  int32 relative offset, int32 file position
 *              (the relative offset is the *last* offset of the batch starting at that position)
 *   .timeindex entries of 12 bytes: int64 timestamp, int32 relative offset
 *              (max timestamp seen so far in the segment, last offset of the batch holding it)
 */
import { writeInt64Saturating } from '../protocol/records/batch.js';
const EMPTY = Buffer.alloc(0);

abstract class SparseIndex {
  protected buf: Buffer;
  protected count = 0;
  /** Bytes already written to the index file. */
  persistedBytes = 0;
  /** Current size of the index file (may exceed byteLength after truncation until the next persist). */
  fileBytes = 0;
  constructor(
    readonly entrySize: number,
    readonly baseOffset: number,
  ) {
    // Allocated on the first entry: an empty (idle) partition's segment holds no index memory.
    this.buf = EMPTY;
  }
  get entries(): number {
    return this.count;
  }
  get byteLength(): number {
    return this.count * this.entrySize;
  }
  protected slot(): number {
    const need = (this.count + 1) * this.entrySize;
    if (need > this.buf.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.entrySize * 64, this.buf.length * 2));
      this.buf.copy(nb, 0, 0, this.count * this.entrySize);
      this.buf = nb;
    }
    return this.count++ * this.entrySize;
  }
  /** Bytes appended since the last persist (caller writes them at file position persistedBytes). */
  unpersisted(): Buffer {
    return this.buf.subarray(this.persistedBytes, this.count * this.entrySize);
  }
  /** Whole index content. */
  content(): Buffer {
    return this.buf.subarray(0, this.count * this.entrySize);
  }
  clear(): void {
    this.count = 0;
    this.persistedBytes = 0;
  }
  /** Drops entries from index i on. */
  truncateEntries(i: number): void {
    if (i < this.count) {
      this.count = i;
      this.persistedBytes = Math.min(this.persistedBytes, i * this.entrySize);
    }
  }
}

export class OffsetIndex extends SparseIndex {
  constructor(baseOffset: number) {
    super(8, baseOffset);
  }
  relOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * 8);
  }
  positionAt(i: number): number {
    return this.buf.readInt32BE(i * 8 + 4);
  }
  lastOffset(): number {
    return this.count ? this.baseOffset + this.relOffsetAt(this.count - 1) : -1;
  }
  append(offset: number, position: number): void {
    const o = this.slot();
    this.buf.writeInt32BE(offset - this.baseOffset, o);
    this.buf.writeInt32BE(position, o + 4);
  }
  /** Entry of the last batch whose last offset is <= offset, or -1 if none. */
  slotFor(offset: number): number {
    const rel = offset - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relOffsetAt(mid) <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
  /** File position of the last batch whose last offset is <= offset (0 if none). */
  lookup(offset: number): number {
    const found = this.slotFor(offset);
    return found < 0 ? 0 : this.positionAt(found);
  }
  /**
   * File position of the first indexed batch whose last offset is > offset, when the batch
   * lookup(offset) finds ends before offset (else -1): the batch holding offset lies after the
   * one lookup finds and at or before this one — exactly here when every batch is indexed
   * (batches of index.interval.bytes or more), so a read can start here instead of hopping.
   * `slot` is slotFor(offset), when the caller has it already.
   */
  nextEntryPosition(offset: number, slot = this.slotFor(offset)): number {
    const first = slot + 1;
    if (first >= this.count) return -1;
    if (slot >= 0 && this.relOffsetAt(slot) === offset - this.baseOffset) return -1;
    return this.positionAt(first);
  }
  /** Drops entries for batches at or after file position pos. */
  truncateToPosition(pos: number): void {
    let i = this.count;
    while (i > 0 && this.positionAt(i - 1) >= pos) i--;
    this.truncateEntries(i);
  }
  /**
   * Loads an index file's bytes; returns false (leaving the index empty) when the content is not
   * a plausible index for a log file of logSize bytes.
   */
  load(data: Buffer, logSize: number): boolean {
    this.clear();
    if (data.length % 8 !== 0) return false;
    let prevRel = -1;
    let prevPos = -1;
    for (let o = 0; o < data.length; o += 8) {
      const rel = data.readInt32BE(o);
      const pos = data.readInt32BE(o + 4);
      if (rel <= prevRel || pos <= prevPos || rel < 0 || pos >= logSize) {
        this.clear();
        return false;
      }
      prevRel = rel;
      prevPos = pos;
      this.append(this.baseOffset + rel, pos);
    }
    this.persistedBytes = data.length;
    this.fileBytes = data.length;
    return true;
  }
}

export class TimeIndex extends SparseIndex {
  constructor(baseOffset: number) {
    super(12, baseOffset);
  }
  timestampAt(i: number): number {
    return Number(this.buf.readBigInt64BE(i * 12));
  }
  offsetAt(i: number): number {
    return this.baseOffset + this.buf.readInt32BE(i * 12 + 8);
  }
  lastTimestamp(): number {
    return this.count ? this.timestampAt(this.count - 1) : -1;
  }
  /** Appends only when timestamp is larger than the last entry's (Kafka's maybeAppend). */
  maybeAppend(timestamp: number, offset: number): void {
    if (this.count && timestamp <= this.lastTimestamp()) return;
    const o = this.slot();
    writeInt64Saturating(this.buf, timestamp, o);
    this.buf.writeInt32BE(offset - this.baseOffset, o + 8);
  }
  /** Offset of the last entry whose timestamp is strictly below ts (every record up to it is older), or -1. */
  lookupBefore(ts: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) < ts) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? -1 : this.offsetAt(found);
  }
  truncateToOffset(offset: number): void {
    let i = this.count;
    while (i > 0 && this.offsetAt(i - 1) >= offset) i--;
    this.truncateEntries(i);
  }
  load(data: Buffer, nextOffset: number): boolean {
    this.clear();
    if (data.length % 12 !== 0) return false;
    let prevTs = -Infinity;
    let prevOff = -1;
    for (let o = 0; o < data.length; o += 12) {
      const ts = Number(data.readBigInt64BE(o));
      const off = this.baseOffset + data.readInt32BE(o + 8);
      // Kafka may repeat the last entry at roll time; tolerate equal entries only as exact repeats.
      if (ts === prevTs && off === prevOff) continue;
      if (ts <= prevTs || off < prevOff || off < this.baseOffset || off >= nextOffset) {
        this.clear();
        return false;
      }
      prevTs = ts;
      prevOff = off;
      this.maybeAppend(ts, off);
    }
    this.persistedBytes = data.length === this.byteLength ? data.length : 0;
    this.fileBytes = data.length;
    return true;
  }
}
