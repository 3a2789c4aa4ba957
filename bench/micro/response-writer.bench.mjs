// The response writer: encoding Produce and Fetch responses (Fetch carries record chunks that
// must be passed through, not copied).
import { encodeFetchResponse } from '../../dist/src/protocol/gen/fetch.js';
import { encodeProduceResponse } from '../../dist/src/protocol/gen/produce.js';
import { Writer } from '../../dist/src/protocol/primitives.js';
import { run } from './harness.mjs';

const produceResponse = {
  throttleTimeMs: 0,
  responses: [
    {
      name: 'orders',
      partitionResponses: Array.from({ length: 8 }, (_, index) => ({
        index,
        errorCode: 0,
        baseOffset: 123456 + index,
        logAppendTimeMs: -1,
        logStartOffset: 0,
        recordErrors: [],
        errorMessage: null,
      })),
    },
  ],
};

const chunk = Buffer.alloc(64 * 1024, 1);
const fetchResponse = {
  throttleTimeMs: 0,
  errorCode: 0,
  sessionId: 0,
  responses: [
    {
      topic: 'orders',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: Array.from({ length: 8 }, (_, partitionIndex) => ({
        partitionIndex,
        errorCode: 0,
        highWatermark: 1_000_000,
        lastStableOffset: 1_000_000,
        logStartOffset: 0,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: [chunk, chunk],
      })),
    },
  ],
};

function encode(fn, version, m) {
  const w = new Writer();
  const size = w.reserveInt32();
  fn(w, version, m);
  w.patchInt32(size, w.length - 4);
  return w.toChunks();
}

await run('response writer', [
  { name: 'Produce v9 response, 8 partitions', fn: () => encode(encodeProduceResponse, 9, produceResponse) },
  { name: 'Fetch v12 response, 8 partitions x 128 KiB', fn: () => encode(encodeFetchResponse, 12, fetchResponse), bytes: 8 * 2 * chunk.length },
  { name: 'Fetch v16 response, 8 partitions x 128 KiB', fn: () => encode(encodeFetchResponse, 16, fetchResponse), bytes: 8 * 2 * chunk.length },
]);
