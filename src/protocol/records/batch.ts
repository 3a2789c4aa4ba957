// Record batch v2 (magic 2): header access, produce-path validation, in-place offset
// assignment, record decoding and batch building.
//
// Produce hot path: validateBatches → assignOffsets (→ setLogAppendTime). These read only the
// 61-byte header and CRC the bytes in place; no records are parsed and nothing is copied.
// decodeRecords / buildBatch are for the cleaner, control markers, internal topics and tests.
import { crc32c } from './crc.js';
import {
  compress,
  compressSync,
  decompress,
  decompressSync,
  CompressionError,
} from './compression.js';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH,
  COMPRESSION_MASK,
  CONTROL_FLAG,
  CRC,
  Compression,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORD_COUNT,
  RECORDS,
  TIMESTAMP_TYPE_LOG_APPEND,
  TRANSACTIONAL_FLAG,
} from './layout.js';
import { VarReader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

/** Kafka error codes this module returns (values from errors.tsv). */
export const RecordErrorCode = {
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

/** Offset of the first byte covered by the CRC. */
const CRC_START = ATTRIBUTES;
const MAGIC_V2 = 2;
/** Size of the header up to and including magic: enough to tell formats apart. */
const HEADER_SIZE_UP_TO_MAGIC = MAGIC + 1;

// ---------------------------------------------------------------- int64 as number helpers

/** Reads a big-endian int64 as a number (exact for |v| < 2^53). */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/**
 * Writes a number taken from a record batch (producer id, timestamp) as a big-endian int64.
 * readInt64 rounds int64s beyond 2^53 to the nearest double, and Long.MAX rounds up to 2^63,
 * which writeBigInt64BE refuses: saturate instead, so a client's extreme value can never make a
 * checkpoint, a snapshot or an index write throw.
 */
export function writeInt64Saturating(buf: Buffer, value: number, pos: number): void {
  buf.writeBigInt64BE(value >= 9223372036854775807 ? INT64_MAX : value <= -9223372036854775808 ? INT64_MIN : BigInt(Number.isFinite(value) ? Math.trunc(value) : 0), pos);
}

/** Writes a safe-integer number as a big-endian int64. */
function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 4294967296, pos + 4);
}

// ---------------------------------------------------------------- header

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Reads the 61-byte v2 header at pos. Caller ensures the bytes are there (RangeError otherwise). */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
    magic: buf.readInt8(pos + MAGIC),
    crc: buf.readUInt32BE(pos + CRC),
    attributes: buf.readInt16BE(pos + ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT),
  };
}

/** Total size in bytes of the batch at pos (LOG_OVERHEAD + batchLength). */
export function batchSizeAt(buf: Buffer, pos = 0): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH);
}

/** CRC-32C the batch should carry, computed over attributes..end. */
function computeBatchCrc(buf: Buffer, pos: number, size = batchSizeAt(buf, pos)): number {
  return crc32c(buf, pos + CRC_START, pos + size);
}

/** Recomputes and stores the CRC of the batch at pos. */
export function writeBatchCrc(buf: Buffer, pos = 0): void {
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + CRC);
}

/** True when the stored CRC matches the bytes. */
export function isBatchCrcValid(buf: Buffer, pos = 0): boolean {
  return computeBatchCrc(buf, pos) === buf.readUInt32BE(pos + CRC);
}

/**
 * Recovery / fetch-side check of one batch at pos, with the bytes up to `end` available:
 * returns its size when the whole batch is present, sane (length, magic, offset range) and, with
 * `verifyCrc`, its CRC matches; -1 when the bytes end before the batch does (torn write); -2 when
 * it is corrupt.
 */
export function checkBatchAt(buf: Buffer, pos: number, end = buf.length, verifyCrc = true): number {
  const remaining = end - pos;
  if (remaining < LOG_OVERHEAD) return -1;
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) return -2;
  const size = LOG_OVERHEAD + batchLength;
  if (remaining < size) return -1;
  if (buf[pos + MAGIC] !== MAGIC_V2) return -2;
  if (buf.readInt32BE(pos + LAST_OFFSET_DELTA) < 0) return -2;
  if (verifyCrc && !isBatchCrcValid(buf, pos)) return -2;
  return size;
}

// ---------------------------------------------------------------- produce-path validation

export interface BatchInfo {
  /** Byte offset of the batch in the validated buffer. */
  position: number;
  /** Total bytes of the batch (LOG_OVERHEAD + batchLength). */
  size: number;
  attributes: number;
  compression: Compression;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  recordCount: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  baseTimestamp: number;
  maxTimestamp: number;
}

/** A batch as storage sees it: the header facts validation reads, plus its place in the log. */
export interface StoredBatchInfo extends BatchInfo {
  baseOffset: number;
  /** baseOffset + lastOffsetDelta. */
  lastOffset: number;
  partitionLeaderEpoch: number;
}

/** Reads the header of the stored batch at pos (number-based 64-bit reads, no BigInt). */
export function readBatchInfo(buf: Buffer, pos = 0): StoredBatchInfo {
  const baseOffset = readInt64(buf, pos + BASE_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA);
  const attributes = buf.readInt16BE(pos + ATTRIBUTES);
  return {
    position: pos,
    size: batchSizeAt(buf, pos),
    attributes,
    compression: (attributes & COMPRESSION_MASK) as Compression,
    isTransactional: (attributes & TRANSACTIONAL_FLAG) !== 0,
    isControl: (attributes & CONTROL_FLAG) !== 0,
    lastOffsetDelta,
    recordCount: buf.readInt32BE(pos + RECORD_COUNT),
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
  };
}

export type ValidateResult =
  | { batches: BatchInfo[] }
  | { error: number; message: string; position: number };

function fail(error: number, position: number, message: string): ValidateResult {
  return { error, message, position };
}

export interface ValidateOptions {
  /**
   * Reject a second batch in the buffer (INVALID_RECORD), as Kafka does for Produce v3+
   * ("exactly one record batch per partition"). Default false: every batch is validated.
   */
  singleBatch?: boolean;
  /** Produce request version; when below 7, zstd batches get UNSUPPORTED_COMPRESSION_TYPE. */
  apiVersion?: number;
}

/**
 * Validates the record batches a client sent in a produce request. Reads headers only; the
 * only pass over the payload is the CRC.
 *
 * Checks and error codes (first failure wins; `position` says which batch):
 *  - empty buffer                                 → INVALID_RECORD (87) (Kafka: "must have at
 *                                                   least one record batch per partition")
 *  - magic ≠ 2 (including legacy v0/v1 sets)      → INVALID_RECORD (87): Kafka's
 *    ProduceRequest.validateRecords throws InvalidRecordException for Produce v3+, the only
 *    versions Fjord serves (UNSUPPORTED_FOR_MESSAGE_FORMAT 43 was the pre-0.11 answer)
 *  - fewer than 17 bytes left, batchLength below the v2 header, or the buffer ends before the
 *    batch does                                   → CORRUPT_MESSAGE (2)
 *  - batch size > maxBatchBytes                   → MESSAGE_TOO_LARGE (10)
 *  - CRC-32C mismatch                             → CORRUPT_MESSAGE (2)
 *  - compression codec 5..7                       → UNSUPPORTED_COMPRESSION_TYPE (76);
 *    zstd with opts.apiVersion < 7                → UNSUPPORTED_COMPRESSION_TYPE (76)
 *  - recordCount < 1, or lastOffsetDelta ≠ recordCount − 1 (Kafka's "inconsistent batch
 *    offset range and record count")             → INVALID_RECORD (87)
 *  - control batch sent by a client               → INVALID_RECORD (87)
 *  - transactional batch without a producer id    → INVALID_RECORD (87)
 *  - a second batch when opts.singleBatch         → INVALID_RECORD (87)
 */
export function validateBatches(buf: Buffer, maxBatchBytes: number, opts?: ValidateOptions): ValidateResult {
  const batches: BatchInfo[] = [];
  const total = buf.length;
  if (total === 0) return fail(RecordErrorCode.INVALID_RECORD, 0, 'no record batch in the records');
  const singleBatch = opts?.singleBatch === true;
  const noZstd = opts?.apiVersion !== undefined && opts.apiVersion < 7;
  let pos = 0;
  while (pos < total) {
    const remaining = total - pos;
    if (singleBatch && pos > 0) {
      return fail(RecordErrorCode.INVALID_RECORD, pos, 'only one record batch per partition is allowed');
    }
    if (remaining < HEADER_SIZE_UP_TO_MAGIC) {
      return fail(RecordErrorCode.CORRUPT_MESSAGE, pos, `truncated batch header (${remaining} bytes left)`);
    }
    const magic = buf[pos + MAGIC]!;
    if (magic !== MAGIC_V2) {
      return fail(RecordErrorCode.INVALID_RECORD, pos, `record batches must have magic 2, got ${magic}`);
    }
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH);
    if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
      return fail(RecordErrorCode.CORRUPT_MESSAGE, pos, `batch length ${batchLength} is below the v2 header size`);
    }
    const size = LOG_OVERHEAD + batchLength;
    if (size > remaining) {
      return fail(RecordErrorCode.CORRUPT_MESSAGE, pos, `truncated batch: ${size} bytes declared, ${remaining} present`);
    }
    if (size > maxBatchBytes) {
      return fail(RecordErrorCode.MESSAGE_TOO_LARGE, pos, `batch of ${size} bytes exceeds the limit of ${maxBatchBytes}`);
    }
    const storedCrc = buf.readUInt32BE(pos + CRC);
    if (crc32c(buf, pos + CRC_START, pos + size) !== storedCrc) {
      return fail(RecordErrorCode.CORRUPT_MESSAGE, pos, 'CRC-32C mismatch');
    }
    const attributes = buf.readInt16BE(pos + ATTRIBUTES);
    const compression = attributes & COMPRESSION_MASK;
    if (compression > Compression.Zstd) {
      return fail(RecordErrorCode.UNSUPPORTED_COMPRESSION_TYPE, pos, `unknown compression codec ${compression}`);
    }
    if (noZstd && compression === Compression.Zstd) {
      return fail(RecordErrorCode.UNSUPPORTED_COMPRESSION_TYPE, pos, 'zstd needs Produce v7 or later');
    }
    const isControl = (attributes & CONTROL_FLAG) !== 0;
    if (isControl) {
      return fail(RecordErrorCode.INVALID_RECORD, pos, 'clients may not produce control batches');
    }
    const recordCount = buf.readInt32BE(pos + RECORD_COUNT);
    const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA);
    if (recordCount < 1 || lastOffsetDelta !== recordCount - 1) {
      return fail(
        RecordErrorCode.INVALID_RECORD,
        pos,
        `inconsistent batch offset range and record count (lastOffsetDelta ${lastOffsetDelta}, recordCount ${recordCount})`,
      );
    }
    const producerId = readInt64(buf, pos + PRODUCER_ID);
    const isTransactional = (attributes & TRANSACTIONAL_FLAG) !== 0;
    if (isTransactional && producerId < 0) {
      return fail(RecordErrorCode.INVALID_RECORD, pos, 'transactional batch without a producer id');
    }
    batches.push({
      position: pos,
      size,
      attributes,
      compression: compression as Compression,
      isTransactional,
      isControl,
      lastOffsetDelta,
      recordCount,
      producerId,
      producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
      baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
      baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
      maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    });
    pos += size;
  }
  return { batches };
}

// ---------------------------------------------------------------- in-place rewrites

/**
 * Sets baseOffset and partitionLeaderEpoch of the batch at position. Both lie outside the
 * CRC, so the CRC stays valid. Returns the batch's last offset (baseOffset + lastOffsetDelta).
 */
export function assignOffsets(
  buf: Buffer,
  position: number,
  baseOffset: number,
  partitionLeaderEpoch: number,
): number {
  writeInt64(buf, position + BASE_OFFSET, baseOffset);
  buf.writeInt32BE(partitionLeaderEpoch, position + PARTITION_LEADER_EPOCH);
  return baseOffset + buf.readInt32BE(position + LAST_OFFSET_DELTA);
}

/**
 * Marks the batch at position as LogAppendTime with maxTimestamp = timestamp (like Kafka,
 * baseTimestamp and the records are left alone; readers use maxTimestamp for every record).
 * Both fields are under the CRC, so it is recomputed.
 */
export function setLogAppendTime(buf: Buffer, position: number, timestamp: number): void {
  const attributes = buf.readInt16BE(position + ATTRIBUTES);
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_LOG_APPEND, position + ATTRIBUTES);
  writeInt64(buf, position + MAX_TIMESTAMP, timestamp);
  writeBatchCrc(buf, position);
}

// ---------------------------------------------------------------- record decoding

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: number;
  offsetDelta: number;
  timestamp: number;
  /** Record-level attributes byte (unused by Kafka today). */
  attributes: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export class CorruptRecordError extends Error {
  readonly errorCode = RecordErrorCode.CORRUPT_MESSAGE;
}

function checkDecodable(buf: Buffer, pos: number): { size: number; attributes: number } {
  if (buf.length - pos < BATCH_HEADER_SIZE) throw new CorruptRecordError('buffer shorter than a batch header');
  const size = batchSizeAt(buf, pos);
  if (size < BATCH_HEADER_SIZE || size > buf.length - pos) throw new CorruptRecordError('truncated batch');
  if (buf[pos + MAGIC] !== MAGIC_V2) throw new CorruptRecordError(`unsupported magic ${buf[pos + MAGIC]}`);
  return { size, attributes: buf.readInt16BE(pos + ATTRIBUTES) };
}

/** Parses `count` records from an (uncompressed) records section. Keys/values are views. */
function parseRecords(
  data: Buffer,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime: number | null,
): DecodedRecord[] {
  // Each record takes at least 7 bytes: a count the data cannot hold is refused before allocating.
  if (count > data.length / 7) throw new CorruptRecordError(`${count} records cannot fit in ${data.length} bytes`);
  const out: DecodedRecord[] = new Array(count);
  const r = new VarReader(data, 0, data.length);
  try {
    for (let i = 0; i < count; i++) {
      const len = r.varint();
      const start = r.pos;
      const end = start + len;
      if (len < 1 || end > data.length) throw new CorruptRecordError(`record ${i}: bad length ${len}`);
      r.end = end;
      const attributes = data[r.pos++]!;
      const tsDelta = r.varlong();
      const offsetDelta = r.varint();
      const key = readBytes(r, data);
      const value = readBytes(r, data);
      const headerCount = r.varint();
      if (headerCount < 0 || headerCount > end - r.pos) throw new CorruptRecordError(`record ${i}: bad header count ${headerCount}`);
      const headers: RecordHeader[] = new Array(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const hk = readBytes(r, data);
        if (hk === null) throw new CorruptRecordError(`record ${i}: null header key`);
        headers[h] = { key: hk.toString('utf8'), value: readBytes(r, data) };
      }
      if (r.pos !== end) throw new CorruptRecordError(`record ${i}: length mismatch`);
      r.end = data.length;
      out[i] = {
        offset: baseOffset + offsetDelta,
        offsetDelta,
        timestamp: logAppendTime ?? baseTimestamp + tsDelta,
        attributes,
        key,
        value,
        headers,
      };
    }
    if (r.pos !== data.length) {
      throw new CorruptRecordError(`${data.length - r.pos} bytes of trailing data after ${count} records`);
    }
  } catch (e) {
    if (e instanceof CorruptRecordError) throw e;
    throw new CorruptRecordError((e as Error).message);
  }
  return out;
}

function readBytes(r: VarReader, data: Buffer): Buffer | null {
  const len = r.varint();
  if (len < 0) {
    if (len === -1) return null;
    throw new CorruptRecordError(`negative length ${len}`);
  }
  const start = r.pos;
  if (start + len > r.end) throw new CorruptRecordError('field runs past end of record');
  r.pos = start + len;
  return data.subarray(start, start + len);
}

function parseBatchRecords(buf: Buffer, pos: number, data: Buffer): DecodedRecord[] {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES);
  const count = buf.readInt32BE(pos + RECORD_COUNT);
  if (count < 0) throw new CorruptRecordError(`negative record count ${count}`);
  const logAppend = (attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0 ? readInt64(buf, pos + MAX_TIMESTAMP) : null;
  return parseRecords(data, count, readInt64(buf, pos + BASE_OFFSET), readInt64(buf, pos + BASE_TIMESTAMP), logAppend);
}

/**
 * Decompresses (per the attributes) and decodes the records of the batch at pos. Does not
 * verify the CRC (use isBatchCrcValid). For uncompressed batches keys/values are views into
 * `buf`. Throws CorruptRecordError / CompressionError.
 */
export async function decodeRecords(buf: Buffer, pos = 0): Promise<DecodedRecord[]> {
  const { size, attributes } = checkDecodable(buf, pos);
  const section = buf.subarray(pos + RECORDS, pos + size);
  const data = await decompress((attributes & COMPRESSION_MASK) as Compression, section);
  return parseBatchRecords(buf, pos, data);
}

/** Synchronous decodeRecords (every codec, on the calling thread). */
export function decodeRecordsSync(buf: Buffer, pos = 0): DecodedRecord[] {
  const { size, attributes } = checkDecodable(buf, pos);
  const section = buf.subarray(pos + RECORDS, pos + size);
  const data = decompressSync((attributes & COMPRESSION_MASK) as Compression, section);
  return parseBatchRecords(buf, pos, data);
}

/** Alias: iterate the records of one batch (async, handles every codec). */
export const iterateRecords = decodeRecords;

/** Yields [position, size] of each complete batch in buf (stops at a partial tail). */
export function* batchPositions(buf: Buffer): Generator<[number, number]> {
  let pos = 0;
  while (buf.length - pos >= LOG_OVERHEAD) {
    const size = batchSizeAt(buf, pos);
    if (size < BATCH_HEADER_SIZE || size > buf.length - pos) return;
    yield [pos, size];
    pos += size;
  }
}

// ---------------------------------------------------------------- building

export type Bytes = Buffer | string | null;

export interface RecordInput {
  key?: Bytes;
  value: Bytes;
  headers?: { key: string; value: Bytes }[];
  /** Defaults to Date.now() at build time. */
  timestamp?: number;
  /** Defaults to the record's index. */
  offsetDelta?: number;
  /** Record attributes byte; default 0. */
  attributes?: number;
}

export interface BuildBatchOptions {
  records: RecordInput[];
  baseOffset?: number;
  compression?: Compression;
  /** Codec level (gzip 1-9, zstd 1-22); codec default when omitted. */
  compressionLevel?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  partitionLeaderEpoch?: number;
  /** 0 = CreateTime (default), 1 = LogAppendTime. */
  timestampType?: 0 | 1;
  /** Overrides: default first record's timestamp / max record timestamp (-1 if empty). */
  baseTimestamp?: number;
  maxTimestamp?: number;
  /** Default: max offsetDelta, or -1 for no records. The cleaner keeps the original. */
  lastOffsetDelta?: number;
  /** Extra attribute bits to OR in (e.g. DELETE_HORIZON_FLAG). */
  extraAttributes?: number;
}

function toBuf(b: Bytes | undefined): Buffer | null {
  if (b === null || b === undefined) return null;
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

interface Prepared {
  section: Buffer;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  count: number;
}

function encodeRecordsSection(opts: BuildBatchOptions): Prepared {
  const recs = opts.records;
  const n = recs.length;
  const now = Date.now();
  let baseTimestamp = opts.baseTimestamp;
  let maxTs = -1;
  let maxDelta = -1;
  const keys: (Buffer | null)[] = new Array(n);
  const values: (Buffer | null)[] = new Array(n);
  const hdrs: { k: Buffer; v: Buffer | null }[][] = new Array(n);
  const sizes: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const rec = recs[i]!;
    const ts = rec.timestamp ?? now;
    if (baseTimestamp === undefined) baseTimestamp = ts;
    if (ts > maxTs) maxTs = ts;
    const od = rec.offsetDelta ?? i;
    if (od > maxDelta) maxDelta = od;
  }
  if (baseTimestamp === undefined) baseTimestamp = -1;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const rec = recs[i]!;
    const key = toBuf(rec.key);
    const value = toBuf(rec.value);
    keys[i] = key;
    values[i] = value;
    const ts = rec.timestamp ?? now;
    const od = rec.offsetDelta ?? i;
    let body =
      1 +
      sizeOfVarlong(ts - baseTimestamp) +
      sizeOfVarint(od) +
      (key ? sizeOfVarint(key.length) + key.length : 1) +
      (value ? sizeOfVarint(value.length) + value.length : 1);
    const hs = rec.headers ?? [];
    const ph: { k: Buffer; v: Buffer | null }[] = new Array(hs.length);
    body += sizeOfVarint(hs.length);
    for (let h = 0; h < hs.length; h++) {
      const k = Buffer.from(hs[h]!.key, 'utf8');
      const v = toBuf(hs[h]!.value);
      ph[h] = { k, v };
      body += sizeOfVarint(k.length) + k.length + (v ? sizeOfVarint(v.length) + v.length : 1);
    }
    hdrs[i] = ph;
    sizes[i] = body;
    total += sizeOfVarint(body) + body;
  }
  const section = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const rec = recs[i]!;
    p = writeVarint(section, p, sizes[i]!);
    section[p++] = rec.attributes ?? 0;
    p = writeVarlong(section, p, (rec.timestamp ?? now) - baseTimestamp);
    p = writeVarint(section, p, rec.offsetDelta ?? i);
    p = writeField(section, p, keys[i]!);
    p = writeField(section, p, values[i]!);
    const ph = hdrs[i]!;
    p = writeVarint(section, p, ph.length);
    for (const { k, v } of ph) {
      p = writeField(section, p, k);
      p = writeField(section, p, v);
    }
  }
  let attributes = (opts.compression ?? Compression.None) & COMPRESSION_MASK;
  if (opts.timestampType === 1) attributes |= TIMESTAMP_TYPE_LOG_APPEND;
  if (opts.isTransactional) attributes |= TRANSACTIONAL_FLAG;
  if (opts.isControl) attributes |= CONTROL_FLAG;
  if (opts.extraAttributes) attributes |= opts.extraAttributes;
  return {
    section,
    attributes,
    lastOffsetDelta: opts.lastOffsetDelta ?? maxDelta,
    baseTimestamp,
    maxTimestamp: opts.maxTimestamp ?? maxTs,
    count: n,
  };
}

function writeField(buf: Buffer, p: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, p, -1);
  p = writeVarint(buf, p, b.length);
  b.copy(buf, p);
  return p + b.length;
}

function assemble(opts: BuildBatchOptions, prep: Prepared, body: Buffer): Buffer {
  const size = BATCH_HEADER_SIZE + body.length;
  const out = Buffer.allocUnsafe(size);
  writeInt64(out, BASE_OFFSET, opts.baseOffset ?? 0);
  out.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH);
  out.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH);
  out.writeInt8(MAGIC_V2, MAGIC);
  out.writeInt16BE(prep.attributes, ATTRIBUTES);
  out.writeInt32BE(prep.lastOffsetDelta, LAST_OFFSET_DELTA);
  writeInt64(out, BASE_TIMESTAMP, prep.baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP, prep.maxTimestamp);
  writeInt64(out, PRODUCER_ID, opts.producerId ?? -1);
  out.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH);
  out.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE);
  out.writeInt32BE(prep.count, RECORD_COUNT);
  body.copy(out, RECORDS);
  writeBatchCrc(out, 0);
  return out;
}

/** Builds a complete v2 batch (CRC set). Async because zstd is async. */
export async function buildBatch(opts: BuildBatchOptions): Promise<Buffer> {
  const prep = encodeRecordsSection(opts);
  const codec = (opts.compression ?? Compression.None) as Compression;
  const body = codec === Compression.None ? prep.section : await compress(codec, prep.section, opts.compressionLevel);
  return assemble(opts, prep, body);
}

/** Synchronous buildBatch (every codec, on the calling thread). */
export function buildBatchSync(opts: BuildBatchOptions): Buffer {
  const prep = encodeRecordsSection(opts);
  const codec = (opts.compression ?? Compression.None) as Compression;
  const body = codec === Compression.None ? prep.section : compressSync(codec, prep.section, opts.compressionLevel);
  return assemble(opts, prep, body);
}

// ---------------------------------------------------------------- control records

const enum ControlRecordType {
  Abort = 0,
  Commit = 1,
}

export interface ControlBatchOptions {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  baseOffset?: number;
  timestamp?: number;
  partitionLeaderEpoch?: number;
}

/** Key of an end-transaction marker: version int16 (0) + type int16. */
function encodeControlRecordKey(type: number, version = 0): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt16BE(version, 0);
  b.writeInt16BE(type, 2);
  return b;
}

/** Value of an end-transaction marker: version int16 (0) + coordinatorEpoch int32. */
function encodeEndTxnMarkerValue(coordinatorEpoch: number, version = 0): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeInt16BE(version, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}

export function parseControlRecordKey(key: Buffer): { version: number; type: number } {
  if (key.length < 4) throw new CorruptRecordError(`control record key too short (${key.length} bytes)`);
  return { version: key.readInt16BE(0), type: key.readInt16BE(2) };
}

export function parseEndTxnMarkerValue(value: Buffer): { version: number; coordinatorEpoch: number } {
  if (value.length < 6) throw new CorruptRecordError(`end-txn marker value too short (${value.length} bytes)`);
  return { version: value.readInt16BE(0), coordinatorEpoch: value.readInt32BE(2) };
}

/** A transaction marker batch (transactional + control, one record, uncompressed). */
/** The marker of an (uncompressed) control batch at pos: type (0 abort, 1 commit) and coordinator epoch. */
export function readControlRecord(buf: Buffer, pos = 0): { type: number; coordinatorEpoch: number } | undefined {
  try {
    if ((buf.readInt16BE(pos + ATTRIBUTES) & COMPRESSION_MASK) !== 0) return undefined;
    const [record] = parseBatchRecords(buf, pos, buf.subarray(pos + RECORDS, pos + batchSizeAt(buf, pos)));
    if (!record?.key || record.key.length < 4) return undefined;
    const coordinatorEpoch = record.value && record.value.length >= 6 ? parseEndTxnMarkerValue(record.value).coordinatorEpoch : -1;
    return { type: parseControlRecordKey(record.key).type, coordinatorEpoch };
  } catch {
    return undefined;
  }
}

export function buildControlBatch(opts: ControlBatchOptions): Buffer {
  return buildBatchSync({
    records: [
      {
        key: encodeControlRecordKey(opts.commit ? ControlRecordType.Commit : ControlRecordType.Abort),
        value: encodeEndTxnMarkerValue(opts.coordinatorEpoch),
        timestamp: opts.timestamp ?? Date.now(),
      },
    ],
    baseOffset: opts.baseOffset ?? 0,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
  });
}

export { CompressionError };
