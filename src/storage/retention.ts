// When segments roll and which old segments retention deletes: decisions only, over the
// segment list; the log applies them under its segments lock.
import type { LogConfig } from './config.js';
import type { LogSegment } from './segment.js';

const INT32_MAX = 0x7fffffff;

/**
 * Whether a write of `total` bytes ending at `lastOffset` must go to a new segment: it would
 * overflow segment.bytes or the segment's 32-bit relative offsets, or segment.ms has passed
 * since the active segment's first append.
 */
export function mustRoll(active: LogSegment, total: number, lastOffset: number, now: number, config: LogConfig): boolean {
  return (
    active.size > 0 &&
    (active.size + total > Math.min(config.segmentBytes, INT32_MAX) ||
      lastOffset - active.baseOffset > INT32_MAX ||
      (active.firstAppendMs >= 0 && now - active.firstAppendMs >= config.segmentMs))
  );
}

/** Whether the active segment is older than segment.ms (the background roll). */
export function isPastSegmentMs(active: LogSegment, now: number, config: LogConfig): boolean {
  return active.size > 0 && active.firstAppendMs >= 0 && now - active.firstAppendMs >= config.segmentMs;
}

/** How many of the oldest segments lie wholly below `offset` (the active one never counts). */
export function segmentsWhollyBelow(segs: readonly LogSegment[], offset: number): number {
  let n = 0;
  while (n + 1 < segs.length && segs[n + 1]!.baseOffset <= offset) n++;
  return n;
}

/**
 * How many of the oldest segments retention.ms / retention.bytes delete: only non-active
 * segments wholly below the high watermark qualify.
 */
export function segmentsPastRetention(segs: readonly LogSegment[], config: LogConfig, highWatermark: number, now: number): number {
  const limit = segmentsWhollyBelow(segs, highWatermark);
  let n = 0;
  if (config.retentionMs >= 0) {
    // an empty non-active segment (left by the cleaner) has nothing to keep
    const expired = (s: LogSegment): boolean => s.size === 0 || (s.maxTimestamp >= 0 && now - s.maxTimestamp > config.retentionMs);
    while (n < limit && expired(segs[n]!)) n++;
  }
  if (config.retentionBytes >= 0) {
    let size = 0;
    for (const s of segs) size += s.size;
    let diff = size - config.retentionBytes;
    for (let i = 0; i < n; i++) diff -= segs[i]!.size;
    while (n < limit && diff - segs[n]!.size >= 0) {
      diff -= segs[n]!.size;
      n++;
    }
  }
  return n;
}
