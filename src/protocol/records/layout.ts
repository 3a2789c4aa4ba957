// Record batch v2 (magic 2) header layout. Offsets are from the start of the batch.
// The CRC covers bytes from ATTRIBUTES to the end of the batch, so the broker may rewrite
// BASE_OFFSET and PARTITION_LEADER_EPOCH in place without recomputing it.
export const BASE_OFFSET = 0; // int64
export const BATCH_LENGTH = 8; // int32: bytes after this field
export const PARTITION_LEADER_EPOCH = 12; // int32
export const MAGIC = 16; // int8, always 2
export const CRC = 17; // uint32, CRC-32C
export const ATTRIBUTES = 21; // int16
export const LAST_OFFSET_DELTA = 23; // int32
export const BASE_TIMESTAMP = 27; // int64
export const MAX_TIMESTAMP = 35; // int64
export const PRODUCER_ID = 43; // int64
export const PRODUCER_EPOCH = 51; // int16
export const BASE_SEQUENCE = 53; // int32
export const RECORD_COUNT = 57; // int32
export const RECORDS = 61; // first record
export const BATCH_HEADER_SIZE = 61;
/** Bytes of baseOffset + batchLength: the batch's total size is LOG_OVERHEAD + batchLength. */
export const LOG_OVERHEAD = 12;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;
export const DELETE_HORIZON_FLAG = 0x40;

export const enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}
