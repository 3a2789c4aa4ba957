// Produce-path record rewriting that needs the records themselves (the default path reads only
// batch headers):
//  - compression.type forcing a codec (anything but `producer`): batches sent with another codec
//    are decoded and rebuilt with the topic's codec and level, keeping keys, values, headers,
//    timestamps, offset deltas, record attributes and the producer fields (id, epoch, sequence,
//    transactional flag), so idempotence and ordering are unaffected.
//  - compacted topics (cleanup.policy contains compact) refuse records without a key, like Kafka
//    ("Compacted topic cannot accept message without key").
// Both are async when zstd is involved, so produce.ts runs them in a per-partition queue that
// keeps appends in request order.
import {
  buildBatch,
  decodeRecords,
  readInt64,
  type BatchInfo,
  type DecodedRecord,
} from '../protocol/records/batch.js';
import {
  BASE_OFFSET,
  BASE_TIMESTAMP,
  Compression,
  LAST_OFFSET_DELTA,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  TIMESTAMP_TYPE_LOG_APPEND,
} from '../protocol/records/layout.js';

/** The codec a topic's compression.type forces, or null for `producer` (keep what was sent). */
export function codecForCompressionType(type: string): Compression | null {
  switch (type) {
    case 'uncompressed':
      return Compression.None;
    case 'gzip':
      return Compression.Gzip;
    case 'snappy':
      return Compression.Snappy;
    case 'lz4':
      return Compression.Lz4;
    case 'zstd':
      return Compression.Zstd;
    default:
      return null;
  }
}

/** True when some batch is not in the target codec. */
export function needsRecompression(batches: readonly BatchInfo[], target: Compression | null): boolean {
  if (target === null) return false;
  return batches.some((b) => b.compression !== target);
}

/** Codec level per compression.*.level (undefined = codec default). */
export interface CodecLevels {
  gzip?: number;
  lz4?: number;
  zstd?: number;
}

function levelFor(codec: Compression, levels: CodecLevels): number | undefined {
  if (codec === Compression.Gzip) return levels.gzip === undefined || levels.gzip < 0 ? undefined : levels.gzip;
  if (codec === Compression.Zstd) return levels.zstd;
  // The lz4 frame encoder used here has no level knob.
  return undefined;
}

async function rebuild(buf: Buffer, b: BatchInfo, records: DecodedRecord[], codec: Compression, levels: CodecLevels): Promise<Buffer> {
  const pos = b.position;
  const baseTimestamp = readInt64(buf, pos + BASE_TIMESTAMP);
  const logAppend = (b.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  return buildBatch({
    records: records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
      // decodeRecords reports maxTimestamp for LogAppendTime batches; the rebuilt batch keeps
      // the LogAppendTime flag and maxTimestamp, so readers see the same timestamps.
      timestamp: r.timestamp,
      offsetDelta: r.offsetDelta,
      attributes: r.attributes,
    })),
    baseOffset: readInt64(buf, pos + BASE_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
    compression: codec,
    compressionLevel: levelFor(codec, levels),
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    baseSequence: b.baseSequence,
    isTransactional: b.isTransactional,
    timestampType: logAppend ? 1 : 0,
    baseTimestamp,
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA),
  });
}

/**
 * Rebuilds every batch whose codec differs from `codec`; batches already in it are copied as
 * they are. Returns the new records buffer (validate it again: sizes and CRCs changed).
 */
export async function recompressBatches(
  buf: Buffer,
  batches: readonly BatchInfo[],
  codec: Compression,
  levels: CodecLevels = {},
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const b of batches) {
    if (b.compression === codec) {
      parts.push(buf.subarray(b.position, b.position + b.size));
      continue;
    }
    const records = await decodeRecords(buf, b.position);
    parts.push(await rebuild(buf, b, records, codec, levels));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export interface KeylessRecord {
  batchIndex: number;
  message: string;
}
