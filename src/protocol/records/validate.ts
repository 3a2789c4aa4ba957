// Produce-path record checks, as Kafka's LogValidator does before an append: every record of a
// batch must be framed correctly inside the batch, their number must match the header's
// recordCount, and offset deltas must run 0..lastOffsetDelta. Compressed batches are inflated
// first, with the output bounded before anything big is allocated: the structure of zstd, lz4
// and snappy data states (an upper bound of) its decompressed size, which is checked against
// the limit before the native decoder runs; gzip is inflated with zlib's maxOutputLength.
//
// One pass over the bytes, no per-record objects: the scanner only moves a cursor.
import * as zlib from 'node:zlib';
import { CompressionError, decompressSync, isXerial, XERIAL_HEADER_SIZE } from './compression.js';
import { ATTRIBUTES, COMPRESSION_MASK, Compression, LAST_OFFSET_DELTA, RECORD_COUNT, RECORDS } from './layout.js';

/** Kafka error codes (errors.tsv). */
const CORRUPT_MESSAGE = 2;
const INVALID_RECORD = 87;

/** Highest decompression ratio accepted for a batch above the small-batch floor. */
const MAX_COMPRESSION_RATIO = 255;
/** Batches may always inflate to this much, whatever their ratio (tiny batches of repeated bytes). */
const RATIO_FLOOR_BYTES = 1024 * 1024;
/** The inflated records of one batch may be at most this multiple of max.message.bytes. */
const MAX_MESSAGE_BYTES_MULTIPLE = 32;

/**
 * Most bytes the records of one compressed batch may inflate to: a ratio limit on its
 * compressed size, capped by a multiple of max.message.bytes (at least 1 MiB of it).
 */
export function decompressedLimit(compressedBytes: number, maxMessageBytes: number): number {
  const byRatio = Math.max(compressedBytes * MAX_COMPRESSION_RATIO, RATIO_FLOOR_BYTES);
  const byConfig = Math.max(maxMessageBytes, RATIO_FLOOR_BYTES) * MAX_MESSAGE_BYTES_MULTIPLE;
  return Math.min(byRatio, byConfig);
}

// ---------------------------------------------------------------- output bounds per codec

function u32le(b: Buffer, p: number): number {
  return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | ((b[p + 3]! << 24) >>> 0);
}

function need(data: Buffer, pos: number, n: number, what: string): void {
  if (pos + n > data.length) throw new CompressionError(`${what}: truncated`);
}

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;
/**
 * Largest decoder window accepted whatever the output limit: streaming encoders declare their
 * window, not the content size (2 MiB at level 3, 8 MiB at level 19), and the decoder allocates
 * it up front. Levels 20-22 (windows up to 128 MiB) are refused unless the batch may inflate that far.
 */
const ZSTD_WINDOW_MAX = 8 * 1024 * 1024;

/**
 * Upper bound of the decompressed size of zstd data (one or more frames), from frame and block
 * headers alone. Also bounds the decoder's window: a frame asking for a window larger than
 * `limit` is refused, since the decoder allocates the window up front.
 */
function zstdOutputBound(data: Buffer, limit: number): number {
  let pos = 0;
  let total = 0;
  while (pos < data.length) {
    need(data, pos, 4, 'zstd');
    const magic = u32le(data, pos) >>> 0;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      need(data, pos, 8, 'zstd skippable frame');
      pos += 8 + (u32le(data, pos + 4) >>> 0);
      if (pos > data.length) throw new CompressionError('zstd skippable frame: truncated');
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new CompressionError('zstd: bad frame magic');
    pos += 4;
    need(data, pos, 1, 'zstd frame header');
    const fhd = data[pos++]!;
    if (fhd & 0x08) throw new CompressionError('zstd: reserved frame header bit set');
    const fcsFlag = fhd >>> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const checksum = (fhd & 0x04) !== 0;
    const didSize = [0, 1, 2, 4][fhd & 0x03]!;
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
    let windowSize = -1;
    if (!singleSegment) {
      need(data, pos, 1, 'zstd window descriptor');
      const wd = data[pos++]!;
      const windowLog = 10 + (wd >>> 3);
      const base = 2 ** windowLog;
      windowSize = base + (base / 8) * (wd & 7);
    }
    need(data, pos, didSize + fcsSize, 'zstd frame header');
    pos += didSize;
    let contentSize = -1;
    if (fcsSize === 1) contentSize = data[pos]!;
    else if (fcsSize === 2) contentSize = data.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) contentSize = data.readUInt32LE(pos);
    else if (fcsSize === 8) contentSize = data.readUInt32LE(pos + 4) * 4294967296 + data.readUInt32LE(pos);
    pos += fcsSize;
    if (singleSegment) windowSize = contentSize;
    if (contentSize > limit) throw new CompressionError(`zstd: frame declares ${contentSize} bytes, over the limit of ${limit}`);
    const decoderWindow = contentSize >= 0 ? Math.min(windowSize, contentSize) : windowSize;
    if (decoderWindow > Math.max(limit, ZSTD_WINDOW_MAX)) {
      throw new CompressionError(`zstd: window of ${windowSize} bytes is over the limit of ${Math.max(limit, ZSTD_WINDOW_MAX)}`);
    }
    const blockMax = Math.min(windowSize, ZSTD_BLOCK_MAX);
    let frameOut = 0;
    for (;;) {
      need(data, pos, 3, 'zstd block header');
      const bh = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
      pos += 3;
      const last = (bh & 1) !== 0;
      const type = (bh >>> 1) & 3;
      const size = bh >>> 3;
      if (type === 3) throw new CompressionError('zstd: reserved block type');
      if (type === 0 || type === 1) {
        if (size > blockMax) throw new CompressionError('zstd: block larger than the block maximum');
        frameOut += size;
        pos += type === 0 ? size : 1;
      } else {
        if (size > blockMax) throw new CompressionError('zstd: block larger than the block maximum');
        frameOut += blockMax;
        pos += size;
      }
      if (pos > data.length) throw new CompressionError('zstd block: truncated');
      if (frameOut > limit && (contentSize < 0 || contentSize > limit)) {
        throw new CompressionError(`zstd: data inflates past the limit of ${limit} bytes`);
      }
      if (last) break;
    }
    if (checksum) {
      need(data, pos, 4, 'zstd checksum');
      pos += 4;
    }
    total += contentSize >= 0 ? Math.min(contentSize, frameOut) : frameOut;
    if (total > limit) throw new CompressionError(`zstd: data inflates past the limit of ${limit} bytes`);
  }
  return total;
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/** Upper bound of the decompressed size of LZ4 frame data, from frame and block headers. */
function lz4OutputBound(data: Buffer, limit: number): number {
  let pos = 0;
  let total = 0;
  while (pos < data.length) {
    need(data, pos, 4, 'lz4');
    const magic = u32le(data, pos) >>> 0;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      need(data, pos, 8, 'lz4 skippable frame');
      pos += 8 + (u32le(data, pos + 4) >>> 0);
      if (pos > data.length) throw new CompressionError('lz4 skippable frame: truncated');
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new CompressionError('lz4: bad frame magic');
    pos += 4;
    need(data, pos, 2, 'lz4 frame descriptor');
    const flg = data[pos]!;
    const bd = data[pos + 1]!;
    pos += 2;
    if (flg >>> 6 !== 1) throw new CompressionError('lz4: unsupported frame version');
    const blockChecksum = (flg & 0x10) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const blockMax = LZ4_BLOCK_MAX[(bd >>> 4) & 7]!;
    if (blockMax === 0) throw new CompressionError('lz4: invalid block maximum size');
    if (flg & 0x08) {
      need(data, pos, 8, 'lz4 content size');
      const contentSize = data.readUInt32LE(pos + 4) * 4294967296 + data.readUInt32LE(pos);
      if (contentSize > limit) throw new CompressionError(`lz4: frame declares ${contentSize} bytes, over the limit of ${limit}`);
      pos += 8;
    }
    if (flg & 0x01) pos += 4;
    pos += 1; // header checksum
    for (;;) {
      need(data, pos, 4, 'lz4 block');
      const word = u32le(data, pos) >>> 0;
      pos += 4;
      if (word === 0) break;
      const uncompressed = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw new CompressionError('lz4: block larger than the block maximum');
      total += uncompressed ? size : blockMax;
      pos += size + (blockChecksum ? 4 : 0);
      if (pos > data.length) throw new CompressionError('lz4 block: truncated');
      if (total > limit) throw new CompressionError(`lz4: data inflates past the limit of ${limit} bytes`);
    }
    if (contentChecksum) pos += 4;
    if (pos > data.length) throw new CompressionError('lz4: truncated');
  }
  return total;
}

/** The uncompressed length raw snappy data declares in its preamble (a varint). */
function snappyPreamble(data: Buffer, start: number, end: number): number {
  let result = 0;
  let mul = 1;
  for (let p = start; p < end && p < start + 5; p++) {
    const b = data[p]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  throw new CompressionError('snappy: bad length preamble');
}

/** Decompressed size of snappy data (raw, or Java's xerial framing), from the blocks' preambles. */
function snappyOutputBound(data: Buffer, limit: number): number {
  let total = 0;
  if (!isXerial(data)) {
    total = snappyPreamble(data, 0, data.length);
  } else {
    let pos = XERIAL_HEADER_SIZE;
    while (pos < data.length) {
      if (isXerial(data.subarray(pos))) {
        pos += XERIAL_HEADER_SIZE;
        continue;
      }
      need(data, pos, 4, 'xerial snappy block');
      const len = data.readInt32BE(pos);
      pos += 4;
      if (len < 0 || pos + len > data.length) throw new CompressionError('xerial snappy: truncated block');
      total += snappyPreamble(data, pos, pos + len);
      pos += len;
      if (total > limit) break;
    }
  }
  if (total > limit) throw new CompressionError(`snappy: data inflates to ${total} bytes, over the limit of ${limit}`);
  return total;
}

/**
 * Decompresses a records section with its output bounded by `limit` bytes; throws
 * CompressionError (before allocating) when the data would inflate past it.
 */
export function decompressBoundedSync(codec: Compression, data: Buffer, limit: number): Buffer {
  let bound: number;
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      try {
        return zlib.gunzipSync(data, { maxOutputLength: limit });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') throw new CompressionError(`gzip: data inflates past the limit of ${limit} bytes`);
        throw new CompressionError(`gzip: ${(e as Error).message}`);
      }
    case Compression.Snappy:
      bound = snappyOutputBound(data, limit);
      break;
    case Compression.Lz4:
      bound = lz4OutputBound(data, limit);
      break;
    case Compression.Zstd:
      bound = zstdOutputBound(data, limit);
      break;
    default:
      throw new CompressionError(`unsupported compression codec ${codec}`);
  }
  const out = decompressSync(codec, data);
  if (out.length > bound) throw new CompressionError(`decompressed ${out.length} bytes, more than the ${bound} its headers allow`);
  return out;
}

// ---------------------------------------------------------------- record framing

/** Result of checking one batch: null when fine, else the Kafka error and a message. */
export interface RecordProblem {
  error: number;
  message: string;
}

/**
 * Walks `count` records in data[start, end) without allocating: each record's length varint,
 * attributes, timestamp delta, offset delta (must be its index), key, value and headers must
 * lie inside the record, and the records must fill the section exactly. Returns the index of
 * the first record without a key (-1 if none), or a RecordProblem.
 */
function scanRecords(data: Uint8Array, start: number, end: number, count: number): number | RecordProblem {
  // Every record takes at least 7 bytes, so a count the section cannot hold fails at once.
  if (count > (end - start) / 7) {
    return { error: INVALID_RECORD, message: `batch claims ${count} records but its ${end - start} bytes of records cannot hold them` };
  }
  let pos = start;
  let keyless = -1;
  for (let i = 0; i < count; i++) {
    if (pos === end) return { error: INVALID_RECORD, message: `batch header says ${count} records but only ${i} are present` };
    // Inline varint reads: this is the produce hot path.
    let u = 0;
    let shift = 0;
    let b: number;
    // record length
    do {
      if (pos >= end || shift > 28) return corrupt(i, 'bad length varint');
      b = data[pos++]!;
      u |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80);
    const len = (u >>> 1) ^ -(u & 1);
    const recEnd = pos + len;
    if (len < 6 || recEnd > end) return corrupt(i, `length ${len} does not fit in the batch`);
    pos++; // attributes
    // timestamp delta (varlong): skip up to 10 bytes
    let n = 0;
    do {
      if (pos >= recEnd || n === 10) return corrupt(i, 'bad timestamp delta');
      b = data[pos++]!;
      n++;
    } while (b >= 0x80);
    // offset delta
    u = 0;
    shift = 0;
    do {
      if (pos >= recEnd || shift > 28) return corrupt(i, 'bad offset delta');
      b = data[pos++]!;
      u |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80);
    const offsetDelta = (u >>> 1) ^ -(u & 1);
    if (offsetDelta !== i) {
      return { error: INVALID_RECORD, message: `record ${i} has offset delta ${offsetDelta}; offset deltas must run 0..recordCount-1` };
    }
    // key, value, then headers: each a signed varint length (-1 = null) and that many bytes
    for (let field = 0; field < 2; field++) {
      u = 0;
      shift = 0;
      do {
        if (pos >= recEnd || shift > 28) return corrupt(i, 'bad key/value length');
        b = data[pos++]!;
        u |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80);
      const flen = (u >>> 1) ^ -(u & 1);
      if (flen < -1 || pos + flen > recEnd) return corrupt(i, `key/value length ${flen} does not fit in the record`);
      if (flen === -1) {
        if (field === 0 && keyless < 0) keyless = i;
      } else pos += flen;
    }
    u = 0;
    shift = 0;
    do {
      if (pos >= recEnd || shift > 28) return corrupt(i, 'bad header count');
      b = data[pos++]!;
      u |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80);
    const headers = (u >>> 1) ^ -(u & 1);
    if (headers < 0 || headers > recEnd - pos) return corrupt(i, `header count ${headers} does not fit in the record`);
    for (let h = 0; h < headers * 2; h++) {
      u = 0;
      shift = 0;
      do {
        if (pos >= recEnd || shift > 28) return corrupt(i, 'bad header length');
        b = data[pos++]!;
        u |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80);
      const hlen = (u >>> 1) ^ -(u & 1);
      // Header keys may not be null; values may.
      if (hlen < ((h & 1) === 0 ? 0 : -1) || pos + hlen > recEnd) return corrupt(i, `header length ${hlen} does not fit in the record`);
      if (hlen > 0) pos += hlen;
    }
    if (pos !== recEnd) return corrupt(i, `${recEnd - pos} unread bytes inside the record`);
  }
  if (pos !== end) {
    return { error: INVALID_RECORD, message: `batch header says ${count} records but ${end - pos} bytes follow them` };
  }
  return keyless;
}

function corrupt(index: number, why: string): RecordProblem {
  return { error: CORRUPT_MESSAGE, message: `record ${index} is malformed: ${why}` };
}

/**
 * Checks the records of the (header-validated) batch at pos: decompressing with a bound when
 * compressed, then scanning. Returns the index of the first keyless record (-1 if none) or
 * a RecordProblem.
 */
export function checkBatchRecords(buf: Buffer, pos: number, size: number, maxMessageBytes: number): number | RecordProblem {
  const codec = (buf.readInt16BE(pos + ATTRIBUTES) & COMPRESSION_MASK) as Compression;
  const count = buf.readInt32BE(pos + RECORD_COUNT);
  if (buf.readInt32BE(pos + LAST_OFFSET_DELTA) !== count - 1) {
    return { error: INVALID_RECORD, message: 'inconsistent batch offset range and record count' };
  }
  if (codec === Compression.None) return scanRecords(buf, pos + RECORDS, pos + size, count);
  const section = buf.subarray(pos + RECORDS, pos + size);
  let data: Buffer;
  try {
    data = decompressBoundedSync(codec, section, decompressedLimit(section.length, maxMessageBytes));
  } catch (e) {
    return { error: CORRUPT_MESSAGE, message: `compressed records cannot be read: ${(e as Error).message}` };
  }
  return scanRecords(data, 0, data.length, count);
}
