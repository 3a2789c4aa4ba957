import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  COMPRESSION_MASK,
  CONTROL_FLAG,
  CRC,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORD_COUNT,
  RECORDS,
  TRANSACTIONAL_FLAG,
} from '../protocol/records/layout.js';

/** The header fields of a v2 batch that storage needs (read straight from the bytes). */
export interface BatchInfo {
  baseOffset: number;
  lastOffset: number;
  size: number;
  partitionLeaderEpoch: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  recordCount: number;
  isTransactional: boolean;
  isControl: boolean;
}

export function readBigAsNumber(buf: Buffer, off: number): number {
  return Number(buf.readBigInt64BE(off));
}

export function batchSizeAt(buf: Buffer, off: number): number {
  return LOG_OVERHEAD + buf.readInt32BE(off + BATCH_LENGTH);
}

export function readBatchInfo(buf: Buffer, off: number): BatchInfo {
  const baseOffset = readBigAsNumber(buf, off + BASE_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(off + LAST_OFFSET_DELTA);
  const attributes = buf.readInt16BE(off + ATTRIBUTES);
  return {
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    size: batchSizeAt(buf, off),
    partitionLeaderEpoch: buf.readInt32BE(off + PARTITION_LEADER_EPOCH),
    maxTimestamp: readBigAsNumber(buf, off + MAX_TIMESTAMP),
    producerId: readBigAsNumber(buf, off + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(off + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(off + BASE_SEQUENCE),
    lastOffsetDelta,
    recordCount: buf.readInt32BE(off + RECORD_COUNT),
    isTransactional: (attributes & TRANSACTIONAL_FLAG) !== 0,
    isControl: (attributes & CONTROL_FLAG) !== 0,
  };
}

/**
 * Structural check used by recovery: is there a complete, plausible, CRC-correct batch at
 * buf[off..]? `avail` = bytes available from off. Returns the batch size or -1.
 */
export function checkBatch(buf: Buffer, off: number, avail: number, verifyCrc: boolean): number {
  if (avail < BATCH_HEADER_SIZE) return -1;
  const batchLength = buf.readInt32BE(off + BATCH_LENGTH);
  const size = LOG_OVERHEAD + batchLength;
  if (size < BATCH_HEADER_SIZE || size > avail) return -1;
  if (buf[off + MAGIC] !== 2) return -1;
  if (buf.readInt32BE(off + LAST_OFFSET_DELTA) < 0) return -1;
  if (verifyCrc) {
    const stored = buf.readUInt32BE(off + CRC);
    if (crc32c(buf.subarray(off + ATTRIBUTES, off + size)) >>> 0 !== stored) return -1;
  }
  return size;
}

// ---- minimal record parsing (uncompressed batches only; used off the hot path) ----

function readVarint(buf: Buffer, pos: { p: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos.p++];
    if (b === undefined) throw new RangeError('varint past end');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
  // zig-zag decode (safe for values within 2^53)
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

/**
 * Iterates (offsetDelta, timestamp, key, value) of an uncompressed batch. Returns undefined for
 * compressed batches (the caller falls back to batch-level information).
 */
export function* uncompressedRecords(
  batch: Buffer,
): Generator<{ offsetDelta: number; timestamp: number; key: Buffer | null; value: Buffer | null }, void, void> {
  const attributes = batch.readInt16BE(ATTRIBUTES);
  if ((attributes & COMPRESSION_MASK) !== 0) return;
  const baseTs = readBigAsNumber(batch, BASE_TIMESTAMP);
  const count = batch.readInt32BE(RECORD_COUNT);
  const pos = { p: RECORDS };
  for (let i = 0; i < count && pos.p < batch.length; i++) {
    const len = readVarint(batch, pos);
    const end = pos.p + len;
    pos.p++; // attributes
    const tsDelta = readVarint(batch, pos);
    const offsetDelta = readVarint(batch, pos);
    const kl = readVarint(batch, pos);
    const key = kl < 0 ? null : batch.subarray(pos.p, pos.p + kl);
    if (kl > 0) pos.p += kl;
    const vl = readVarint(batch, pos);
    const value = vl < 0 ? null : batch.subarray(pos.p, pos.p + vl);
    yield { offsetDelta, timestamp: baseTs + tsDelta, key, value };
    pos.p = end;
  }
}

export function isCompressed(batch: Buffer): boolean {
  return (batch.readInt16BE(ATTRIBUTES) & COMPRESSION_MASK) !== 0;
}

/** For a control batch: { type (0 abort, 1 commit), coordinatorEpoch } or undefined. */
export function readControlRecord(batch: Buffer): { type: number; coordinatorEpoch: number } | undefined {
  try {
    for (const r of uncompressedRecords(batch)) {
      if (!r.key || r.key.length < 4) return undefined;
      const type = r.key.readInt16BE(2);
      const coordinatorEpoch = r.value && r.value.length >= 6 ? r.value.readInt32BE(2) : -1;
      return { type, coordinatorEpoch };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
