// The read side of a partition log: fetches by offset and ListOffsets lookups by timestamp, over
// a snapshot of the segment list (the list is replaced, never spliced, when segments go away).
import { ATTRIBUTES, COMPRESSION_MASK, TIMESTAMP_TYPE_LOG_APPEND } from '../protocol/records/layout.js';
import { decodeRecordsSync } from '../protocol/records/batch.js';
import { ErrorCode, StorageError } from './errors.js';
import { type LogSegment, SegmentGoneError } from './segment.js';

export interface ReadResult {
  chunks: Buffer[];
  bytes: number;
}

/** What a read sees of the log: one consistent snapshot of its segments and bounds. */
export interface LogReadView {
  readonly name: string;
  readonly segments: readonly LogSegment[];
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

/** Exact-record timestamps of a compressed batch (the codec lives outside storage). */
export type RecordTimestamps = (batch: Buffer) => Iterable<{ offsetDelta: number; timestamp: number }>;

/**
 * Runs a read-only operation over the segment list; when a segment it reached was deleted
 * meanwhile (retention, cleaner swap) and its fd already closed, retries with the new list.
 */
export async function retryOnSegmentGone<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof SegmentGoneError) || attempt >= 8) throw e;
    }
  }
}

/** Index of the last segment with baseOffset <= offset (0 when none). */
function segmentIndexFor(offset: number, segs: readonly LogSegment[]): number {
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

/**
 * Raw batches starting with the one holding fetchOffset: whole batches only, never one whose
 * last offset is >= maxOffset, at most maxBytes unless minOneBatch lets the first one through.
 */
export async function readBatches(
  view: LogReadView,
  fetchOffset: number,
  maxBytes: number,
  maxOffset: number,
  minOneBatch: boolean,
  /** Where read buffers come from (Fetch: pooled, reused once the response is written). */
  alloc?: (size: number) => Buffer,
): Promise<ReadResult> {
  if (fetchOffset < view.logStartOffset || fetchOffset > view.logEndOffset) {
    throw new StorageError(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `offset ${fetchOffset} is out of range [${view.logStartOffset}, ${view.logEndOffset}] for ${view.name}`,
    );
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  if (fetchOffset >= maxOffset) return { chunks, bytes };
  const segs = view.segments;
  let i = segmentIndexFor(fetchOffset, segs);
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

/** Earliest offset whose timestamp is >= ts (ListOffsets by timestamp), or null. */
export async function findOffsetForTimestamp(
  view: LogReadView,
  ts: number,
  recordTimestamps: RecordTimestamps | undefined,
): Promise<{ offset: number; timestamp: number } | null> {
  const minOffset = view.logStartOffset;
  for (const seg of view.segments) {
    if (seg.maxTimestamp < ts || seg.nextOffset <= minOffset) continue;
    let from = -1;
    for (;;) {
      const found = await seg.findByTimestamp(ts, from);
      if (!found) break;
      const { info, pos } = found;
      from = pos + info.size;
      if (info.lastOffset < minOffset) continue;
      const batch = await seg.readBatchAt(pos, info.size);
      const isLogAppend = (batch.readInt16BE(ATTRIBUTES) & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
      if (isLogAppend) return { offset: Math.max(info.baseOffset, minOffset), timestamp: info.maxTimestamp };
      let records: Iterable<{ offsetDelta: number; timestamp: number }> | undefined;
      // Decoded lazily, inside the try below: a batch whose records do not parse falls back to the batch.
      if ((batch.readInt16BE(ATTRIBUTES) & COMPRESSION_MASK) === 0) records = { [Symbol.iterator]: () => decodeRecordsSync(batch)[Symbol.iterator]() };
      else if (recordTimestamps) records = recordTimestamps(batch);
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
export function findMaxTimestampOffset(view: LogReadView): { offset: number; timestamp: number } {
  let best = { offset: -1, timestamp: -1 };
  for (const seg of view.segments) {
    if (seg.maxTimestamp > best.timestamp && seg.offsetOfMaxTimestamp >= view.logStartOffset) {
      best = { offset: seg.offsetOfMaxTimestamp, timestamp: seg.maxTimestamp };
    }
  }
  return best;
}
