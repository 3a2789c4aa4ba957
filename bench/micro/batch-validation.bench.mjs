// Produce-path batch validation: validateBatches on batches as clients send them.
import { buildBatch, validateBatches } from '../../dist/src/protocol/records/batch.js';
import { decompressSync } from '../../dist/src/protocol/records/compression.js';
import { checkBatchRecords } from '../../dist/src/protocol/records/validate.js';
import { run } from './harness.mjs';

const value = Buffer.alloc(1024, 'x');
// Codec ids as in the batch attributes (Compression is a const enum, gone after compilation).
const NONE = 0;
const LZ4 = 3;
const ZSTD = 4;
/** Offset of the first record (or of the compressed records section) in a v2 batch. */
const RECORDS = 61;

async function batchOf(records, compression = NONE) {
  return buildBatch({
    records: Array.from({ length: records }, (_, i) => ({ key: Buffer.from(`key-${i}`), value, timestamp: 1_700_000_000_000 + i })),
    compression,
    producerId: 1,
    producerEpoch: 0,
    baseSequence: 0,
  });
}

const one = await batchOf(1);
const sixteen = await batchOf(16);
const hundred = await batchOf(100);
const zstd = await batchOf(100, ZSTD);
const lz4 = await batchOf(100, LZ4);
const zstdSection = zstd.subarray(RECORDS);
const lz4Section = lz4.subarray(RECORDS);
const max = 16 * 1024 * 1024;

await run('batch validation (validateBatches)', [
  { name: '1 record of 1 KiB', fn: () => validateBatches(one, max, { singleBatch: true, apiVersion: 9 }), bytes: one.length },
  { name: '16 records of 1 KiB', fn: () => validateBatches(sixteen, max, { singleBatch: true, apiVersion: 9 }), bytes: sixteen.length },
  { name: '100 records of 1 KiB', fn: () => validateBatches(hundred, max, { singleBatch: true, apiVersion: 9 }), bytes: hundred.length },
  { name: '100 records of 1 KiB, zstd', fn: () => validateBatches(zstd, max, { singleBatch: true, apiVersion: 9 }), bytes: zstd.length },
  { name: '100 records of 1 KiB, lz4', fn: () => validateBatches(lz4, max, { singleBatch: true, apiVersion: 9 }), bytes: lz4.length },
]);

// The produce path's second step: record framing checks (compressed batches inflated, bounded),
// against plain decompression of the same records section as the floor.
// MB/s of record bytes (the uncompressed batch size), so the codecs compare with each other.
await run('record checks (checkBatchRecords) vs plain decompression, MB/s of records', [
  { name: '100 records of 1 KiB, uncompressed', fn: () => checkBatchRecords(hundred, 0, hundred.length, max), bytes: hundred.length },
  { name: '100 records of 1 KiB, lz4', fn: () => checkBatchRecords(lz4, 0, lz4.length, max), bytes: hundred.length },
  { name: '  plain lz4 decompression of it', fn: () => decompressSync(LZ4, lz4Section), bytes: hundred.length },
  { name: '100 records of 1 KiB, zstd', fn: () => checkBatchRecords(zstd, 0, zstd.length, max), bytes: hundred.length },
  { name: '  plain zstd decompression of it', fn: () => decompressSync(ZSTD, zstdSection), bytes: hundred.length },
]);
