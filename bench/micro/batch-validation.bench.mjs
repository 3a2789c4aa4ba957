// Produce-path batch validation: validateBatches on batches as clients send them.
import { buildBatch, validateBatches } from '../../dist/src/protocol/records/batch.js';
import { run } from './harness.mjs';

const value = Buffer.alloc(1024, 'x');
// Codec ids as in the batch attributes (Compression is a const enum, gone after compilation).
const NONE = 0;
const ZSTD = 4;

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
const max = 16 * 1024 * 1024;

await run('batch validation (validateBatches)', [
  { name: '1 record of 1 KiB', fn: () => validateBatches(one, max, { singleBatch: true, apiVersion: 9 }), bytes: one.length },
  { name: '16 records of 1 KiB', fn: () => validateBatches(sixteen, max, { singleBatch: true, apiVersion: 9 }), bytes: sixteen.length },
  { name: '100 records of 1 KiB', fn: () => validateBatches(hundred, max, { singleBatch: true, apiVersion: 9 }), bytes: hundred.length },
  { name: '100 records of 1 KiB, zstd', fn: () => validateBatches(zstd, max, { singleBatch: true, apiVersion: 9 }), bytes: zstd.length },
]);
