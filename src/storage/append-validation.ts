// The checks an append runs before anything changes: offsets for a leader's append with its
// idempotent-producer checks, and the batch walk of a follower's append of leader data.
import { batchSizeAt, checkBatchAt, readBatchInfo, readControlRecord, type StoredBatchInfo } from '../protocol/records/batch.js';
import { BATCH_HEADER_SIZE } from '../protocol/records/layout.js';
import { ErrorCode, StorageError } from './errors.js';
import { ProducerStateManager, type BatchMetadata, type ProducerStateEntry } from './producer-state.js';

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

/** An abort marker closing an open transaction: goes to the aborted-transaction index. */
export interface StagedAbort {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

export type StagedAppend =
  | { kind: 'duplicate'; batch: BatchMetadata }
  | {
      kind: 'staged';
      /** New producer state per producer id, applied once the append is placed. */
      producers: Map<number, ProducerStateEntry>;
      aborts: StagedAbort[] | undefined;
      /** Log end offset after the append. */
      next: number;
      bytes: number;
      messages: number;
    };

/**
 * Assigns offsets from `logEnd` on and runs the producer checks; nothing changes in
 * `producerState` (a failing batch throws and leaves the log as it was). A retried batch
 * already in the log comes back as 'duplicate' with its original offsets.
 */
export function stageAppend(buf: Buffer, batches: AppendBatch[], logEnd: number, producerState: ProducerStateManager): StagedAppend {
  let next = logEnd;
  const producers = new Map<number, ProducerStateEntry>();
  let bytes = 0;
  let messages = 0;
  let aborts: StagedAbort[] | undefined;
  for (const b of batches) {
    const first = next;
    const last = first + b.lastOffsetDelta;
    if (b.producerId >= 0) {
      const cur = producers.get(b.producerId) ?? producerState.get(b.producerId);
      const v = ProducerStateManager.validate(cur, b);
      if (v.kind === 'duplicate') return { kind: 'duplicate', batch: v.batch };
      const ctl = b.isControl ? readControlRecord(buf.subarray(b.position, b.position + b.size)) : undefined;
      if (ctl && ctl.type === 0 && cur && cur.txnStartOffset >= 0) {
        (aborts ??= []).push({ producerId: b.producerId, firstOffset: cur.txnStartOffset, lastOffset: first });
      }
      producers.set(b.producerId, ProducerStateManager.apply(cur, b, first, last, ctl));
    }
    next = last + 1;
    bytes += b.size;
    messages += b.recordCount;
  }
  return { kind: 'staged', producers, aborts, next, bytes, messages };
}

/** The batches of a leader's fetch response that extend a follower log ending at `logEnd`. */
export interface LeaderBatches {
  infos: StoredBatchInfo[];
  /** Byte range in the buffer of those batches. */
  start: number;
  end: number;
  /** Log end offset after them. */
  next: number;
}

/**
 * Walks leader data: batches wholly below `logEnd` are skipped, a trailing partial batch is
 * ignored, a corrupt batch or one overlapping the log end throws.
 */
export function scanLeaderBatches(buf: Buffer, logEnd: number, name: string): LeaderBatches {
  const infos: StoredBatchInfo[] = [];
  let pos = 0;
  let start = -1;
  let next = logEnd;
  while (buf.length - pos >= BATCH_HEADER_SIZE) {
    const declared = batchSizeAt(buf, pos);
    if (declared > buf.length - pos) break; // partial batch at the end of a fetch response
    const size = checkBatchAt(buf, pos);
    if (size < 0) throw new StorageError(ErrorCode.CORRUPT_MESSAGE, `${name}: corrupt batch from the leader at byte ${pos}`);
    const info = readBatchInfo(buf, pos);
    if (info.lastOffset < next && start < 0) {
      pos += size; // already in this log
      continue;
    }
    if (info.baseOffset < next) {
      throw new StorageError(ErrorCode.OFFSET_OUT_OF_RANGE, `${name}: leader batch at ${info.baseOffset} overlaps the log end ${next}`);
    }
    if (start < 0) start = pos;
    infos.push(info);
    next = info.lastOffset + 1;
    pos += size;
  }
  return { infos, start, end: pos, next };
}
