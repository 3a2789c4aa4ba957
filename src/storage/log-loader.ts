// Loading a partition directory (Kafka's LogLoader): topic id check, leftovers of interrupted
// cleaner swaps and deletions, segment recovery after an unclean shutdown, and producer state
// rebuilt from the latest snapshot plus the batch headers after it.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readControlRecord, type StoredBatchInfo } from '../protocol/records/batch.js';
import { recoverSwaps } from './cleaner.js';
import type { LogConfig } from './config.js';
import { ErrorCode, StorageError } from './errors.js';
import { parseOffsetFileName, readFileOrUndefined, writeFileAtomic } from './files.js';
import type { ProducerSnapshots } from './producer-snapshots.js';
import { ProducerStateManager } from './producer-state.js';
import type { SegmentFdCache } from './segment-fds.js';
import { LogSegment } from './segment.js';
import type { TxnIndex } from './txn-index.js';

/** Reads `<dir>/partition.metadata` (topic id), or undefined. */
export async function readTopicId(dir: string): Promise<string | undefined> {
  const buf = await readFileOrUndefined(path.join(dir, 'partition.metadata'));
  if (!buf) return undefined;
  const m = /topic_id:\s*(\S+)/.exec(buf.toString('utf8'));
  return m?.[1];
}

/**
 * Creates the directory and partition.metadata, or checks the topic id in it; returns the
 * topic id to use (the directory's when none was given).
 */
export async function prepareDir(dir: string, name: string, topicId: string): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const existingId = await readTopicId(dir);
  if (existingId && topicId && existingId !== topicId) {
    throw new StorageError(ErrorCode.INCONSISTENT_TOPIC_ID, `${name}: directory has topic id ${existingId}, expected ${topicId}`);
  }
  if (!existingId && topicId) await writeFileAtomic(path.join(dir, 'partition.metadata'), `version: 0\ntopic_id: ${topicId}\n`);
  return topicId || existingId || '';
}

export interface LoadedSegments {
  /** Never empty: an empty log gets one segment at the log start checkpoint. */
  segments: LogSegment[];
  /** Leader epochs seen in the batches that recovery scanned (epoch, first offset), ascending. */
  scannedEpochs: { epoch: number; offset: number }[];
  /** Offsets of the producer-state snapshots found. */
  snapshots: number[];
}

/**
 * Loads the segments of `dir` (log files are opened on first use, bounded by `fdCache`). After an unclean shutdown every segment that may hold data past
 * the recovery point is scanned (CRC and length): the first torn or corrupt batch and
 * everything after it is cut off; indexes missing or inconsistent are rebuilt.
 */
export async function loadSegments(
  dir: string,
  config: LogConfig,
  clean: boolean,
  recoveryPoint: number,
  logStartCheckpoint: number,
  fdCache?: SegmentFdCache,
): Promise<LoadedSegments> {
  // finish (or discard) a cleaner swap interrupted by a crash
  await recoverSwaps(dir);
  const names = await fsp.readdir(dir);
  const bases: number[] = [];
  const snapshots: number[] = [];
  for (const n of names) {
    if (n.endsWith('.tmp') || n.endsWith('.deleted') || n.endsWith('.cleaned')) {
      await fsp.rm(path.join(dir, n), { force: true });
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
      if (b !== undefined && !baseSet.has(b)) await fsp.rm(path.join(dir, n), { force: true });
    }
  }
  const segments: LogSegment[] = [];
  for (const b of bases) segments.push(await LogSegment.load(dir, b, fdCache));
  for (const s of segments) s.indexIntervalBytes = config.indexIntervalBytes;

  const scannedEpochs: { epoch: number; offset: number }[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1];
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
        for (const later of segments.splice(i + 1)) await later.delete(0);
        break;
      }
    }
  }
  if (segments.length === 0) {
    const seg = LogSegment.createSync(dir, logStartCheckpoint, -1, fdCache);
    seg.indexIntervalBytes = config.indexIntervalBytes;
    segments.push(seg);
  }
  return { segments, scannedEpochs, snapshots };
}

/** Wall-clock time of a loaded segment's first append (for segment.ms): its first batch's timestamp, capped at now. */
export async function firstAppendTime(seg: LogSegment): Promise<number> {
  const ts = await seg.firstBatchTimestamp();
  const now = Date.now();
  return ts > 0 && ts <= now ? ts : now;
}

/** What rebuilding producer state reads and rewrites. */
export interface ProducerStateStore {
  segments: readonly LogSegment[];
  producerState: ProducerStateManager;
  txnIndex: TxnIndex;
  snapshots: ProducerSnapshots;
}

/**
 * Producer state as of `leo`: the latest usable snapshot at or below it, then the batch headers
 * after it replayed (aborted transactions from there on re-derived into the txn index).
 * Snapshots past `leo` and corrupt ones are removed.
 */
export async function rebuildProducerState(store: ProducerStateStore, snapshots: number[], leo: number): Promise<void> {
  const { segments, producerState, txnIndex } = store;
  snapshots = snapshots.slice().sort((a, b) => a - b);
  let from = segments[0]!.baseOffset;
  producerState.clear();
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const s = snapshots[i]!;
    if (s > leo) {
      await store.snapshots.remove(s);
      continue;
    }
    const buf = await store.snapshots.read(s);
    if (buf && producerState.deserialize(buf)) {
      from = s;
      break;
    }
    await store.snapshots.remove(s); // corrupt
  }
  // transactions: aborted ones from `from` on are re-derived by the replay (txn-index.ts)
  txnIndex.truncateFrom(from);
  for (const seg of segments) {
    if (seg.nextOffset <= from) continue;
    await seg.scanBatches(from, leo, (info, _pos, batch) => replayBatch(producerState, txnIndex, info, batch));
  }
  await txnIndex.rewrite(
    segments.map((s) => s.baseOffset),
    (base) => segments.some((s) => s.baseOffset === base && s.nextOffset > from),
  );
}

function replayBatch(producerState: ProducerStateManager, txnIndex: TxnIndex, info: StoredBatchInfo, batch: Buffer | undefined): void {
  if (info.producerId < 0) return;
  const ctl = info.isControl && batch ? readControlRecord(batch) : undefined;
  const before = producerState.get(info.producerId);
  const txnStart = before?.txnStartOffset ?? -1;
  const entry = ProducerStateManager.apply(before, info, info.baseOffset, info.lastOffset, ctl);
  producerState.set(entry);
  if (ctl && ctl.type === 0 && txnStart >= 0) {
    const fuo = producerState.firstUnstableOffset();
    txnIndex.addReplayed({
      producerId: info.producerId,
      firstOffset: txnStart,
      lastOffset: info.baseOffset,
      lastStableOffset: fuo >= 0 ? fuo : info.baseOffset + 1,
    });
  }
}
