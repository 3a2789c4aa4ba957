// Message formats v0 and v1 (magic 0/1), which Kafka 4 no longer serves (KIP-896) but clients
// of the 0.9/0.10 era still speak: Produce v0-2 carry them, Fetch v0-3 expect them back.
//
//   message set := (offset int64, message_size int32, message)*
//   message     := crc uint32 | magic int8 | attributes int8 | [timestamp int64, magic 1] |
//                  key bytes (int32 length, -1 null) | value bytes
//
// The CRC is CRC-32 (IEEE) over magic..end. Attributes: bits 0-2 the codec of a wrapper message
// whose value is a compressed inner message set; bit 3 (magic 1) LogAppendTime. Inner messages of
// a magic-1 wrapper carry relative offsets; the wrapper carries the absolute last offset.
//
// Fjord stores only record batch v2: produce converts a message set to one v2 batch (offsets are
// assigned by the append, as Kafka does), fetch converts batch by batch back to plain messages.
import { crc32 } from '@node-rs/crc32';
import { buildBatchSync, batchPositions, decodeRecords, readBatchHeader, type RecordInput } from './batch.js';
import { Compression } from './layout.js';
import { CompressionError } from './compression.js';
import { decompressBoundedSync, decompressedLimit } from './validate.js';

const OFFSET_AND_SIZE = 12;
const MIN_MESSAGE_V0 = 4 + 1 + 1 + 4 + 4; // crc, magic, attributes, key length, value length
const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const CODEC_MASK = 0x07;
/** Record batch v2 attributes: control batch flag. */
const CONTROL_FLAG = 0x20;
const LOG_APPEND_FLAG = 0x08;

export class LegacyFormatError extends Error {}

export interface LegacyMessageSet {
  /** Magic of the first message (0 or 1). */
  magic: number;
  /** Codec of the first wrapper message (None when the messages are plain). */
  compression: Compression;
  records: RecordInput[];
}

/**
 * Parses a produced message set (v0/v1) into records, checking each CRC and inflating wrapper
 * messages with the same bound as v2 batches. Throws LegacyFormatError / CompressionError.
 */
function parseLegacyMessageSet(buf: Buffer, maxMessageBytes: number): LegacyMessageSet {
  const records: RecordInput[] = [];
  let magic = -1;
  let compression = Compression.None;
  let inflated = 0;
  const inflateLimit = decompressedLimit(buf.length, maxMessageBytes);
  const walk = (set: Buffer, nested: boolean) => {
    let pos = 0;
    while (pos < set.length) {
      if (set.length - pos < OFFSET_AND_SIZE) throw new LegacyFormatError('truncated message set');
      const size = set.readInt32BE(pos + 8);
      const start = pos + OFFSET_AND_SIZE;
      if (size < MIN_MESSAGE_V0 || size > set.length - start) throw new LegacyFormatError(`invalid message size ${size}`);
      const m = readMessage(set, start, size);
      if (magic < 0) magic = m.magic;
      const codec = m.attributes & CODEC_MASK;
      if (codec !== Compression.None) {
        if (nested) throw new LegacyFormatError('a compressed message inside a compressed message');
        if (codec > Compression.Lz4) throw new LegacyFormatError(`compression codec ${codec} needs record batch v2`);
        if (m.value === null) throw new LegacyFormatError('a compressed message without a value');
        if (records.length === 0 && compression === Compression.None) compression = codec as Compression;
        const data = codec === Compression.Lz4 && m.magic === 0 ? fixLegacyLz4Header(m.value) : m.value;
        const inner = decompressBoundedSync(codec as Compression, data, inflateLimit - inflated);
        inflated += inner.length;
        walk(inner, true);
      } else {
        records.push({ key: m.key, value: m.value, timestamp: m.magic >= 1 ? m.timestamp : -1 });
      }
      pos = start + size;
    }
  };
  walk(buf, false);
  return { magic: Math.max(magic, 0), compression, records };
}

/**
 * Kafka clients before 0.10 wrote LZ4 frames for magic 0 with the frame-descriptor checksum taken
 * over the magic number too (KAFKA-3160); a conforming decoder rejects them. Returns a copy with
 * the checksum recomputed over the descriptor only, or the input when it is not such a frame.
 */
function fixLegacyLz4Header(frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== 0x184d2204) return frame;
  const flg = frame[4]!;
  const hcPos = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0);
  if (frame.length <= hcPos) return frame;
  const fixed = Buffer.from(frame);
  fixed[hcPos] = (xxh32(frame.subarray(4, hcPos)) >>> 8) & 0xff;
  return fixed;
}

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;

/** xxHash32 with seed 0 (inputs here are a few bytes: the LZ4 frame descriptor). */
function xxh32(data: Buffer): number {
  const len = data.length;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (P1 + P2) >>> 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = (0 - P1) >>> 0;
    const round = (v: number, input: number) => mul(rotl((v + mul(input, P2)) >>> 0, 13), P1);
    for (; p + 16 <= len; p += 16) {
      v1 = round(v1, data.readUInt32LE(p));
      v2 = round(v2, data.readUInt32LE(p + 4));
      v3 = round(v3, data.readUInt32LE(p + 8));
      v4 = round(v4, data.readUInt32LE(p + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    h = P5;
  }
  h = (h + len) >>> 0;
  for (; p + 4 <= len; p += 4) h = mul(rotl((h + mul(data.readUInt32LE(p), P3)) >>> 0, 17), P4);
  for (; p < len; p++) h = mul(rotl((h + mul(data[p]!, P5)) >>> 0, 11), P1);
  h = mul(h ^ (h >>> 15), P2);
  h = mul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

interface LegacyMessage {
  magic: number;
  attributes: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

function readMessage(buf: Buffer, pos: number, size: number): LegacyMessage {
  const end = pos + size;
  const crc = buf.readUInt32BE(pos);
  const magic = buf.readInt8(pos + 4);
  if (magic !== 0 && magic !== 1) throw new LegacyFormatError(`message magic ${magic} in a v0/v1 message set`);
  if (crc32(buf.subarray(pos + 4, end)) >>> 0 !== crc) throw new LegacyFormatError('message CRC mismatch');
  const attributes = buf.readInt8(pos + 5);
  let p = pos + 6;
  let timestamp = -1;
  if (magic === 1) {
    if (end - p < 8 + 8) throw new LegacyFormatError('truncated message');
    timestamp = Number(buf.readBigInt64BE(p));
    p += 8;
  }
  const bytes = (): Buffer | null => {
    if (end - p < 4) throw new LegacyFormatError('truncated message');
    const len = buf.readInt32BE(p);
    p += 4;
    if (len < 0) return null;
    if (len > end - p) throw new LegacyFormatError('truncated message');
    const b = buf.subarray(p, p + len);
    p += len;
    return b;
  };
  const key = bytes();
  const value = bytes();
  return { magic, attributes, timestamp, key, value };
}

/**
 * Converts a produced v0/v1 message set to one record batch v2 (codec kept). Synchronous (v0/v1
 * have no zstd), so the append that follows still starts in request order.
 */
export function upconvertMessageSet(buf: Buffer, maxMessageBytes: number): Buffer {
  const set = parseLegacyMessageSet(buf, maxMessageBytes);
  if (set.records.length === 0) throw new LegacyFormatError('empty message set');
  return buildBatchSync({ records: set.records, compression: set.compression });
}

/** One message of format v0/v1 with its offset and size prefix (uncompressed). */
function writeMessage(magic: number, offset: number, timestamp: number, logAppendTime: boolean, key: Buffer | null, value: Buffer | null): Buffer {
  const size = 4 + 1 + 1 + (magic === 1 ? 8 : 0) + 4 + (key?.length ?? 0) + 4 + (value?.length ?? 0);
  const out = Buffer.allocUnsafe(OFFSET_AND_SIZE + size);
  out.writeBigInt64BE(BigInt(offset), 0);
  out.writeInt32BE(size, 8);
  let p = OFFSET_AND_SIZE + 4;
  out.writeInt8(magic, p++);
  out.writeInt8(magic === 1 && logAppendTime ? TIMESTAMP_TYPE_LOG_APPEND : 0, p++);
  if (magic === 1) {
    out.writeBigInt64BE(BigInt(timestamp), p);
    p += 8;
  }
  for (const b of [key, value]) {
    if (b === null) {
      out.writeInt32BE(-1, p);
      p += 4;
    } else {
      out.writeInt32BE(b.length, p);
      p += 4;
      b.copy(out, p);
      p += b.length;
    }
  }
  out.writeUInt32BE(crc32(out.subarray(OFFSET_AND_SIZE + 4)) >>> 0, OFFSET_AND_SIZE);
  return out;
}

/**
 * Down-converts fetched v2 batches to a v0/v1 message set for Fetch v0-3, batch by batch (one
 * batch's records in memory at a time). Control batches are dropped and record headers are lost,
 * as in Kafka. Messages go out uncompressed: the consumer cannot tell, and a batch never grows
 * past what its records hold. Stops after `maxBytes`, but always returns at least one message.
 */
export async function downconvertBatches(chunks: Buffer[], magic: 0 | 1, fromOffset: number, maxBytes: number): Promise<Buffer[]> {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const out: Buffer[] = [];
  let bytes = 0;
  for (const [pos] of batchPositions(data)) {
    const h = readBatchHeader(data, pos);
    if (h.magic !== 2 || (h.attributes & CONTROL_FLAG) !== 0) continue;
    const logAppendTime = (h.attributes & LOG_APPEND_FLAG) !== 0;
    let records: Awaited<ReturnType<typeof decodeRecords>>;
    try {
      records = await decodeRecords(data, pos);
    } catch (e) {
      if (e instanceof CompressionError) throw new LegacyFormatError(`cannot down-convert batch at offset ${h.baseOffset}: ${e.message}`);
      throw e;
    }
    for (const r of records) {
      if (r.offset < fromOffset) continue;
      const m = writeMessage(magic, r.offset, logAppendTime ? h.maxTimestamp : r.timestamp, logAppendTime, r.key, r.value);
      if (bytes > 0 && bytes + m.length > maxBytes) return out;
      out.push(m);
      bytes += m.length;
    }
  }
  return out;
}
