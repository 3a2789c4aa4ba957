// Log compaction (cleanup.policy=compact / compact,delete).
//
// One cleaning pass over a partition (driven by PartitionLog.compact):
//   1. transaction outcomes: a header scan up to the high watermark finds aborted transactions
//      (their records are dropped) and still-undecided ones (kept untouched);
//   2. offset map: key -> latest offset over the dirty part [firstDirty, endOffset);
//   3. rewrite: every non-active segment in [logStart, endOffset) is copied into
//      `<base>.log.cleaned` keeping, per record, only the latest value of its key. Records keep
//      their offsets: a batch whose records were partly removed is rebuilt with sparse offset
//      deltas, the original baseOffset and lastOffsetDelta (so producer sequences and the next
//      offset stay right). Consecutive small segments are merged while the result stays below
//      segment.bytes;
//   4. swap, one output segment at a time (see commitCleaned / recoverSwaps for crash safety).
//
// Tombstones (null values) follow KIP-534: the first time the cleaner writes a batch holding a
// tombstone it sets the batch's delete horizon (attribute bit 6, baseTimestamp = now +
// delete.retention.ms; record timestamp deltas are re-based so record timestamps are
// unchanged). A later pass drops tombstones whose batch horizon has passed.
//
// Simplifications (documented): control batches (transaction markers) are always kept;
// a batch emptied by cleaning is dropped unless it is the last batch of its producer, in
// which case an empty batch keeps its header (producer id/epoch/sequence) for idempotence.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  buildBatch,
  decodeRecords,
  batchSizeAt,
  isBatchCrcValid,
  readBatchHeader,
  readBatchInfo,
  readControlRecord,
  readInt64,
  type DecodedRecord,
  type StoredBatchInfo,
  type RecordInput,
} from '../protocol/records/batch.js';
import {
  BATCH_HEADER_SIZE,
  COMPRESSION_MASK,
  type Compression,
  DELETE_HORIZON_FLAG,
  TIMESTAMP_TYPE_LOG_APPEND,
} from '../protocol/records/layout.js';
import { NEVER, type LogConfig } from './config.js';
import { exists, parseOffsetFileName, syncDir } from './files.js';
import { pClose, pFdatasync, pFstatSize, pOpen, pReadFull, pWritevAll } from './fsio.js';
import { LogSegment } from './segment.js';

const INT32_MAX = 0x7fffffff;
const WRITE_CHUNK = 1024 * 1024;
const READ_CHUNK = 4 * 1024 * 1024;

/** File suffixes of a cleaner swap (appended to `<base>.log` / `.index` / `.timeindex`). */
const CLEANED_SUFFIX = '.cleaned';
const SWAP_SUFFIX = '.swap';

/** Cleaner-related settings with their defaults applied. */
function cleanerSettings(config: LogConfig): {
  deleteRetentionMs: number;
  minCompactionLagMs: number;
  maxCompactionLagMs: number;
  minCleanableDirtyRatio: number;
} {
  return {
    deleteRetentionMs: config.deleteRetentionMs ?? 86400000,
    minCompactionLagMs: config.minCompactionLagMs ?? 0,
    maxCompactionLagMs: config.maxCompactionLagMs ?? NEVER,
    minCleanableDirtyRatio: config.minCleanableDirtyRatio ?? 0.5,
  };
}

/** What one compact() call did. */
export interface CleanResult {
  /** True when at least one segment was rewritten. */
  cleaned: boolean;
  /**
   * 'cleaned', or why not: 'not-compacted' (policy), 'busy' (a pass is running), 'closed',
   * 'nothing-cleanable', 'below-dirty-ratio', 'unchanged' (nothing to remove), 'aborted'
   * (log closed/changed underneath; nothing lost, retried next time).
   */
  reason: string;
  firstDirtyOffset: number;
  /** First offset not eligible for cleaning (the base of the first uncleanable segment). */
  endOffset: number;
  dirtyRatio: number;
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  abortedRecordsRemoved: number;
  /** Earliest delete horizon of a tombstone still in the log (-1 when none). */
  nextDeleteHorizon: number;
}

export function emptyCleanResult(reason: string, firstDirty = -1, endOffset = -1, ratio = 0): CleanResult {
  return {
    cleaned: false,
    reason,
    firstDirtyOffset: firstDirty,
    endOffset,
    dirtyRatio: ratio,
    segmentsBefore: 0,
    segmentsAfter: 0,
    bytesBefore: 0,
    bytesAfter: 0,
    recordsRead: 0,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    abortedRecordsRemoved: 0,
    nextDeleteHorizon: -1,
  };
}

// ---------------------------------------------------------------- transactions

type TxnStatus = 'none' | 'committed' | 'aborted' | 'open';

/** Outcome of every transaction seen in a header scan: aborted ranges and undecided ones. */
export class TxnOutcomes {
  private readonly aborted = new Map<number, [number, number][]>();
  private readonly committed = new Map<number, [number, number][]>();
  private readonly open = new Map<number, number>();

  observe(info: StoredBatchInfo, batch: Buffer | undefined): void {
    if (info.producerId < 0) return;
    if (info.isControl) {
      const start = this.open.get(info.producerId);
      if (start === undefined) return;
      this.open.delete(info.producerId);
      const ctl = batch ? readControlRecord(batch) : undefined;
      const target = ctl && ctl.type === 1 ? this.committed : this.aborted;
      // an unreadable marker is treated as an abort only if it says so; unknown -> keep data
      if (!ctl) return;
      let list = target.get(info.producerId);
      if (!list) target.set(info.producerId, (list = []));
      list.push([start, info.baseOffset]);
    } else if (info.isTransactional && !this.open.has(info.producerId)) {
      this.open.set(info.producerId, info.baseOffset);
    }
  }

  /** Status of a transactional batch at `offset` of `producerId`. */
  status(producerId: number, offset: number): TxnStatus {
    if (inRanges(this.aborted.get(producerId), offset)) return 'aborted';
    if (inRanges(this.committed.get(producerId), offset)) return 'committed';
    return 'open';
  }
}

function inRanges(list: [number, number][] | undefined, offset: number): boolean {
  if (!list) return false;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [a, b] = list[mid]!;
    if (offset < a) hi = mid - 1;
    else if (offset > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Header scan of [from, to) over `segments` (oldest first) collecting transaction outcomes. */
async function scanTransactions(segments: LogSegment[], from: number, to: number): Promise<TxnOutcomes> {
  const t = new TxnOutcomes();
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1];
    if (next && next.baseOffset <= from) continue;
    if (seg.baseOffset >= to) break;
    await seg.scanBatches(Math.max(from, seg.baseOffset), to, (info, _pos, batch) => t.observe(info, batch));
  }
  return t;
}

// ---------------------------------------------------------------- reading

/** Yields the raw batches of a segment whose offsets lie in [from, to). */
async function* segmentBatches(seg: LogSegment, from: number, to: number): AsyncGenerator<Buffer> {
  let off = Math.max(from, seg.baseOffset);
  while (off < to) {
    const r = await seg.read(off, to, READ_CHUNK, true);
    if (!r.chunk || r.chunk.length === 0) return;
    const chunk = r.chunk;
    let p = 0;
    while (p + BATCH_HEADER_SIZE <= chunk.length) {
      const size = batchSizeAt(chunk, p);
      if (size < BATCH_HEADER_SIZE || p + size > chunk.length) break;
      const batch = chunk.subarray(p, p + size);
      const info = readBatchInfo(batch, 0);
      off = info.lastOffset + 1;
      yield batch;
      p += size;
    }
    if (p === 0) return;
  }
}

export class CorruptSegmentError extends Error {}

function keyString(key: Buffer): string {
  return key.toString('latin1');
}

/** key -> offset of its latest record in the dirty range (aborted/undecided txns ignored). */
async function buildOffsetMap(
  segments: LogSegment[],
  from: number,
  to: number,
  txns: TxnOutcomes,
  shouldStop: () => boolean,
  maxKeys = Number.MAX_SAFE_INTEGER,
): Promise<{ map: Map<string, number>; records: number; fullAt?: number } | undefined> {
  const map = new Map<string, number>();
  let records = 0;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const segEnd = i + 1 < segments.length ? segments[i + 1]!.baseOffset : to;
    if (segEnd <= from) continue;
    // Like Kafka's SkimpyOffsetMap: only whole segments go in; the first that does not fit ends the
    // dirty range of this pass (its keys are rolled back), the next pass continues from there.
    const added: string[] = [];
    for await (const batch of segmentBatches(seg, from, Math.min(segEnd, to))) {
      if (shouldStop()) return undefined;
      const h = readBatchHeader(batch);
      if ((h.attributes & 0x20) !== 0) continue; // control
      if ((h.attributes & 0x10) !== 0 && txns.status(h.producerId, h.baseOffset) !== 'committed') continue;
      if (!isBatchCrcValid(batch)) throw new CorruptSegmentError(`corrupt batch at offset ${h.baseOffset} in ${seg.logPath}`);
      for (const r of await decodeRecords(batch)) {
        if (r.offset < from || r.key === null) continue;
        const k = keyString(r.key);
        if (!map.has(k)) {
          if (map.size >= maxKeys) {
            for (const a of added) map.delete(a);
            return { map, records, fullAt: i };
          }
          added.push(k);
        }
        map.set(k, r.offset);
        records++;
      }
    }
  }
  return { map, records };
}

/** Keys an offset map of `bufferBytes` holds: Kafka's 24 bytes a slot (MD5 + offset) at load factor 0.9. */
export function offsetMapCapacity(bufferBytes: number): number {
  return Math.max(1, Math.floor((bufferBytes * 0.9) / 24));
}

// ---------------------------------------------------------------- filtering one batch

interface FilterContext {
  now: number;
  deleteRetentionMs: number;
  map: Map<string, number>;
  txns: TxnOutcomes;
  /** producerId -> last offset of its last data batch (such a batch is never dropped entirely). */
  producerLast: Map<number, number>;
  stats: CleanResult;
  minHorizon: number;
}

/** Returns the batch to write (the original when unchanged) or undefined to drop it. */
async function filterBatch(batch: Buffer, ctx: FilterContext, where: string): Promise<Buffer | undefined> {
  const h = readBatchHeader(batch);
  const isControl = (h.attributes & 0x20) !== 0;
  const isTxn = (h.attributes & 0x10) !== 0;
  if (isControl) return batch;
  if (!isBatchCrcValid(batch)) throw new CorruptSegmentError(`corrupt batch at offset ${h.baseOffset} in ${where}`);
  const status: TxnStatus = isTxn ? ctx.txns.status(h.producerId, h.baseOffset) : 'none';
  if (status === 'open') return batch; // outcome unknown: keep as is
  const records = await decodeRecords(batch);
  ctx.stats.recordsRead += records.length;
  const hasHorizon = (h.attributes & DELETE_HORIZON_FLAG) !== 0;
  const keep: DecodedRecord[] = [];
  let tombstones = 0;
  for (const r of records) {
    if (status === 'aborted') {
      ctx.stats.abortedRecordsRemoved++;
      continue;
    }
    if (r.key === null) continue; // not allowed in a compacted topic: Kafka's cleaner drops them too
    const latest = ctx.map.get(keyString(r.key));
    if (latest !== undefined && latest > r.offset) continue;
    if (r.value === null) {
      if (hasHorizon && h.baseTimestamp <= ctx.now) {
        ctx.stats.tombstonesRemoved++;
        continue;
      }
      tombstones++;
    }
    keep.push(r);
  }
  ctx.stats.recordsRemoved += records.length - keep.length;
  const needHorizon = tombstones > 0 && !hasHorizon;
  const horizon = hasHorizon ? h.baseTimestamp : needHorizon ? ctx.now + ctx.deleteRetentionMs : -1;
  if (tombstones > 0 && (ctx.minHorizon < 0 || horizon < ctx.minHorizon)) ctx.minHorizon = horizon;
  if (keep.length === records.length && !needHorizon) return batch;

  const isLogAppend = (h.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  const lastOffset = h.baseOffset + h.lastOffsetDelta;
  if (keep.length === 0) {
    if (h.producerId < 0 || ctx.producerLast.get(h.producerId) !== lastOffset) return undefined;
    // keep the header: producer id/epoch/sequence range survive for idempotence
    return buildBatch({
      records: [],
      baseOffset: h.baseOffset,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      isTransactional: isTxn,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      timestampType: isLogAppend ? 1 : 0,
      baseTimestamp: h.maxTimestamp,
      maxTimestamp: h.maxTimestamp,
      lastOffsetDelta: h.lastOffsetDelta,
    });
  }
  const recs: RecordInput[] = keep.map((r) => ({
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
    offsetDelta: r.offsetDelta,
    attributes: r.attributes,
  }));
  return buildBatch({
    records: recs,
    baseOffset: h.baseOffset,
    compression: (h.attributes & COMPRESSION_MASK) as Compression,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    isTransactional: isTxn,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    timestampType: isLogAppend ? 1 : 0,
    baseTimestamp: horizon >= 0 ? horizon : undefined,
    maxTimestamp: isLogAppend ? h.maxTimestamp : undefined,
    lastOffsetDelta: h.lastOffsetDelta,
    extraAttributes: horizon >= 0 ? DELETE_HORIZON_FLAG : 0,
  });
}

// ---------------------------------------------------------------- writing a cleaned segment

/** Writes `<base>.log.cleaned` and builds its indexes in memory. */
class CleanedWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private filePos = 0;
  pos = 0;
  changed = false;
  private constructor(
    readonly seg: LogSegment,
    private readonly fd: number,
  ) {}

  static async create(dir: string, baseOffset: number, indexIntervalBytes: number): Promise<CleanedWriter> {
    const seg = new LogSegment(dir, baseOffset);
    seg.indexIntervalBytes = indexIntervalBytes;
    const fd = await pOpen(seg.logPath + CLEANED_SUFFIX, 'w+');
    return new CleanedWriter(seg, fd);
  }

  async append(batch: Buffer): Promise<void> {
    const info = readBatchInfo(batch, 0);
    this.seg.trackAppend(info.lastOffset, info.maxTimestamp, this.pos, batch.length);
    this.pending.push(batch);
    this.pendingBytes += batch.length;
    this.pos += batch.length;
    if (this.pendingBytes >= WRITE_CHUNK) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    await pWritevAll(this.fd, this.pending, this.filePos);
    this.filePos += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Makes the .cleaned files durable; the returned segment reads through the open fd. */
  async finish(nextOffset: number): Promise<LogSegment> {
    await this.flush();
    await pFdatasync(this.fd);
    const seg = this.seg;
    seg.finalizeTimeIndex();
    await writeDurable(seg.indexPath + CLEANED_SUFFIX, seg.index.content());
    await writeDurable(seg.timeIndexPath + CLEANED_SUFFIX, seg.timeIndex.content());
    for (const idx of [seg.index, seg.timeIndex]) idx.persistedBytes = idx.fileBytes = idx.byteLength;
    seg.fd = this.fd;
    seg.size = seg.writtenSize = this.pos;
    seg.nextOffset = nextOffset;
    seg.bytesSinceLastIndexEntry = 0;
    return seg;
  }

  /** Closes and removes the .cleaned files (an abandoned or pointless rewrite). */
  async discard(): Promise<void> {
    await pClose(this.fd).catch(() => undefined);
    await removeCleanedFiles(this.seg);
  }
}

async function writeDurable(file: string, data: Buffer): Promise<void> {
  const fd = await pOpen(file, 'w');
  try {
    if (data.length) await pWritevAll(fd, [Buffer.from(data)], 0);
    await pFdatasync(fd);
  } finally {
    await pClose(fd);
  }
}

async function removeCleanedFiles(seg: LogSegment): Promise<void> {
  for (const f of [seg.logPath, seg.indexPath, seg.timeIndexPath]) {
    await fsp.rm(f + CLEANED_SUFFIX, { force: true });
    await fsp.rm(f + SWAP_SUFFIX, { force: true });
  }
}

// ---------------------------------------------------------------- swap protocol

/**
 * Step 1 of a swap: `.cleaned` -> `.swap`, index files first, the log last. The rename of the
 * log file is the commit point: from then on recovery completes the swap (recoverSwaps).
 */
export async function commitCleaned(seg: LogSegment): Promise<void> {
  await fsp.rename(seg.indexPath + CLEANED_SUFFIX, seg.indexPath + SWAP_SUFFIX);
  await fsp.rename(seg.timeIndexPath + CLEANED_SUFFIX, seg.timeIndexPath + SWAP_SUFFIX);
  await fsp.rename(seg.logPath + CLEANED_SUFFIX, seg.logPath + SWAP_SUFFIX);
  await syncDir(seg.dir);
}

/** Step 3 (after the replaced segments' files were removed): `.swap` -> final names, log last. */
export async function finishSwap(seg: LogSegment): Promise<void> {
  await fsp.rename(seg.indexPath + SWAP_SUFFIX, seg.indexPath);
  await fsp.rename(seg.timeIndexPath + SWAP_SUFFIX, seg.timeIndexPath);
  await fsp.rename(seg.logPath + SWAP_SUFFIX, seg.logPath);
  await syncDir(seg.dir);
}

/** Last offset of the batches in a log file (baseOffset - 1 when it holds none). */
async function lastOffsetInFile(file: string, baseOffset: number): Promise<number> {
  const fd = await pOpen(file, 'r');
  try {
    const size = await pFstatSize(fd);
    const h = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    let pos = 0;
    let last = baseOffset - 1;
    while (pos + BATCH_HEADER_SIZE <= size) {
      if ((await pReadFull(fd, h, 0, BATCH_HEADER_SIZE, pos)) < BATCH_HEADER_SIZE) break;
      const bsize = batchSizeAt(h, 0);
      if (bsize < BATCH_HEADER_SIZE || pos + bsize > size) break;
      last = readInt64(h, 0) + h.readInt32BE(23);
      pos += bsize;
    }
    return last;
  } finally {
    await pClose(fd);
  }
}

/**
 * Recovery of interrupted swaps, run before a partition directory is loaded:
 *  - `*.cleaned` files: the swap never committed; removed (the old segments are intact).
 *  - `<B>.log.swap`: committed. Old segments whose base lies in (B, last offset of the swap]
 *    are deleted, then the swap files replace `<B>.*`. A missing `<B>.index.swap` means the
 *    index may be stale, so `<B>.index`/`.timeindex` are removed and rebuilt by the loader.
 *    Old segments after the swap's last offset are kept: they hold nothing the swap covers,
 *    so the log stays consistent (just less compacted).
 *  - `*.index.swap` / `*.timeindex.swap` without a `.log.swap`: uncommitted, removed.
 * Returns how many swaps were completed.
 */
export async function recoverSwaps(dir: string): Promise<number> {
  let names = await fsp.readdir(dir);
  for (const n of names) if (n.endsWith(CLEANED_SUFFIX)) await fsp.rm(path.join(dir, n), { force: true });
  const swaps = names
    .map((n) => parseOffsetFileName(n, '.log' + SWAP_SUFFIX))
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  const logs = names.map((n) => parseOffsetFileName(n, '.log')).filter((b): b is number => b !== undefined);
  for (const base of swaps) {
    const seg = new LogSegment(dir, base);
    const last = await lastOffsetInFile(seg.logPath + SWAP_SUFFIX, base);
    for (const b of logs) {
      if (b > base && b <= last) {
        const old = new LogSegment(dir, b);
        for (const f of [old.logPath, old.indexPath, old.timeIndexPath]) await fsp.rm(f, { force: true });
      }
    }
    for (const f of [seg.indexPath, seg.timeIndexPath]) {
      await fsp.rm(f, { force: true });
      if (await exists(f + SWAP_SUFFIX)) await fsp.rename(f + SWAP_SUFFIX, f);
    }
    await fsp.rename(seg.logPath + SWAP_SUFFIX, seg.logPath);
  }
  names = await fsp.readdir(dir);
  for (const n of names) if (n.endsWith(SWAP_SUFFIX)) await fsp.rm(path.join(dir, n), { force: true });
  if (swaps.length) await syncDir(dir);
  return swaps.length;
}

// ---------------------------------------------------------------- when to clean

/** The log's state a cleaning decision looks at. */
export interface CleaningCandidate {
  segments: readonly LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  /** Last stable offset (<= HW): nothing at or above it is cleaned. */
  lastStableOffset: number;
  /** Offsets below this were cleaned by the last pass (-1: unknown). */
  cleanerCheckpoint: number;
  /** Earliest delete horizon of a tombstone the cleaner kept (-1: none known). */
  deleteHorizonDue: number;
}

/** A pass worth running: segments [first, end) get rewritten. */
export interface CleaningPlan {
  first: number;
  end: number;
  firstDirty: number;
  endOffset: number;
  ratio: number;
}

/**
 * Whether a pass is due and over which segments: a prefix of the non-active segments, wholly
 * below the LSO, none holding a record younger than min.compaction.lag.ms, when
 * min.cleanable.dirty.ratio, max.compaction.lag.ms or an expired tombstone delete horizon asks
 * for it (or `force`). Otherwise the (empty) result that says why not.
 */
export async function planCleaning(log: CleaningCandidate, config: LogConfig, now: number, force: boolean): Promise<CleaningPlan | CleanResult> {
  const settings = cleanerSettings(config);
  const segs = log.segments;
  const bound = log.lastStableOffset;
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
  while (first < end && segs[first + 1]!.baseOffset <= log.logStartOffset) first++;
  if (end <= first) return emptyCleanResult('nothing-cleanable');
  const endOffset = segs[end]!.baseOffset;
  let firstDirty = log.cleanerCheckpoint;
  if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset) firstDirty = log.logStartOffset;
  let cleanBytes = 0;
  let dirtyBytes = 0;
  for (let i = first; i < end; i++) {
    if (segs[i + 1]!.baseOffset <= firstDirty) cleanBytes += segs[i]!.size;
    else dirtyBytes += segs[i]!.size;
  }
  const ratio = cleanBytes + dirtyBytes > 0 ? dirtyBytes / (cleanBytes + dirtyBytes) : 0;
  let due = force;
  if (!due && dirtyBytes > 0 && ratio >= settings.minCleanableDirtyRatio) due = true;
  if (!due && log.deleteHorizonDue >= 0 && log.deleteHorizonDue <= now) due = true;
  if (!due && dirtyBytes > 0 && settings.maxCompactionLagMs < NEVER) {
    const firstDirtySeg = segs.find((_s, i) => i >= first && i < end && segs[i + 1]!.baseOffset > firstDirty);
    const ts = firstDirtySeg ? await firstDirtySeg.firstBatchTimestamp().catch(() => -1) : -1;
    if (ts >= 0 && now - ts >= settings.maxCompactionLagMs) due = true;
  }
  if (!due) return emptyCleanResult('below-dirty-ratio', firstDirty, endOffset, ratio);
  return { first, end, firstDirty, endOffset, ratio };
}

// ---------------------------------------------------------------- one pass

export interface CleanPass {
  dir: string;
  /** Non-active segments covering [logStart, endOffset), oldest first; the cleaner rewrites them. */
  sources: LogSegment[];
  /** Every segment of the log (for the transaction scan up to `scanEnd`). */
  allSegments: LogSegment[];
  firstDirty: number;
  endOffset: number;
  /** High watermark: transaction markers are looked for up to here. */
  scanEnd: number;
  now: number;
  config: LogConfig;
  producerLast: Map<number, number>;
  shouldStop: () => boolean;
  /** log.cleaner.dedupe.buffer.size: bounds the key map (default: unbounded). */
  dedupeBufferBytes?: number;
  /**
   * Replaces `group` (still the same segments with the given sizes?) by `cleaned`, whose files
   * are at `.cleaned` names. Returns false when the log changed and the output must be discarded.
   */
  swap: (group: LogSegment[], sizes: number[], cleaned: LogSegment) => Promise<boolean>;
}

/** Runs steps 1-4 for one partition. The caller has decided the log is worth cleaning. */
export async function cleanLog(pass: CleanPass, result: CleanResult): Promise<CleanResult> {
  const { config } = pass;
  let { sources, endOffset } = pass;
  const settings = cleanerSettings(config);
  const txns = await scanTransactions(pass.allSegments, sources[0]!.baseOffset, pass.scanEnd);
  const maxKeys = pass.dedupeBufferBytes === undefined ? undefined : offsetMapCapacity(pass.dedupeBufferBytes);
  const built = await buildOffsetMap(sources, pass.firstDirty, endOffset, txns, pass.shouldStop, maxKeys);
  if (!built) return { ...result, reason: 'aborted' };
  if (built.fullAt !== undefined) {
    // The key map filled up: clean up to the segment that did not fit (result.endOffset is
    // where the next pass starts).
    endOffset = sources[built.fullAt]!.baseOffset;
    if (endOffset <= pass.firstDirty) return { ...result, reason: 'dedupe-buffer-too-small' };
    sources = sources.slice(0, built.fullAt);
    result.endOffset = endOffset;
  }
  const ctx: FilterContext = {
    now: pass.now,
    deleteRetentionMs: settings.deleteRetentionMs,
    map: built.map,
    txns,
    producerLast: pass.producerLast,
    stats: result,
    minHorizon: -1,
  };
  result.segmentsBefore = sources.length;
  for (const s of sources) result.bytesBefore += s.size;
  const maxSegmentBytes = Math.min(config.segmentBytes, INT32_MAX);

  let writer: CleanedWriter | undefined;
  let group: LogSegment[] = [];
  let sizes: number[] = [];
  let swapped = 0;
  let outputs = 0;
  const finishGroup = async (groupEnd: number): Promise<boolean> => {
    const w = writer!;
    writer = undefined;
    const g = group;
    const sz = sizes;
    group = [];
    sizes = [];
    if (g.length === 1 && !w.changed) {
      await w.discard(); // nothing to remove and nothing to merge: keep the original
      result.bytesAfter += g[0]!.size;
      outputs++;
      return true;
    }
    const seg = await w.finish(groupEnd);
    let ok = false;
    try {
      ok = await pass.swap(g, sz, seg);
    } finally {
      if (!ok) {
        await seg.closeFd();
        await removeCleanedFiles(seg);
      }
    }
    if (ok) {
      swapped++;
      outputs++;
      result.bytesAfter += seg.size;
    }
    return ok;
  };

  try {
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i]!;
      const srcEnd = i + 1 < sources.length ? sources[i + 1]!.baseOffset : endOffset;
      if (writer) {
        const fits = writer.pos === 0 || writer.pos + src.size <= maxSegmentBytes;
        const offsetsFit = srcEnd - 1 - writer.seg.baseOffset <= INT32_MAX;
        if (!fits || !offsetsFit) {
          if (!(await finishGroup(src.baseOffset))) return { ...result, reason: 'aborted', cleaned: swapped > 0 };
        }
      }
      writer ??= await CleanedWriter.create(pass.dir, src.baseOffset, src.indexIntervalBytes);
      const w: CleanedWriter = writer;
      group.push(src);
      sizes.push(src.size);
      if (group.length > 1) w.changed = true;
      for await (const batch of segmentBatches(src, src.baseOffset, srcEnd)) {
        if (pass.shouldStop()) {
          await w.discard();
          writer = undefined;
          return { ...result, reason: 'aborted', cleaned: swapped > 0 };
        }
        const out = await filterBatch(batch, ctx, src.logPath);
        if (out !== batch) w.changed = true;
        if (out) await w.append(out);
      }
    }
    if (writer && !(await finishGroup(endOffset))) return { ...result, reason: 'aborted', cleaned: swapped > 0 };
  } catch (e) {
    if (writer) await writer.discard();
    throw e;
  }
  result.segmentsAfter = outputs;
  result.nextDeleteHorizon = ctx.minHorizon;
  result.cleaned = swapped > 0;
  result.reason = swapped > 0 ? 'cleaned' : 'unchanged';
  return result;
}

/** True when any record of the batch has a null key (the broker rejects those for compacted topics). */
export async function hasRecordWithoutKey(batch: Buffer): Promise<boolean> {
  for (const r of await decodeRecords(batch)) if (r.key === null) return true;
  return false;
}
