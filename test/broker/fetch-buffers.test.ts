// Fetch responses are read into pooled buffers that are reused once the response is written
// (src/net/buffer-pool.ts). These tests check that no client ever sees bytes of another read:
// concurrent consumers get intact batches, and a response stuck behind a client that stopped
// reading is not overwritten while other fetches reuse the pool.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BufferPool } from '../../src/net/buffer-pool.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch, isBatchCrcValid, iterateRecords, readInt64 } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const PARTITIONS = 3;
const BATCHES = 24;
const PER_BATCH = 40;
const VALUE_BYTES = 1000;

/** A value that names its partition and offset, padded with a byte derived from both. */
function valueFor(partition: number, offset: number): Buffer {
  const b = Buffer.alloc(VALUE_BYTES, (partition * 31 + offset) & 0xff);
  b.write(`p${partition}-o${offset}:`, 0);
  return b;
}

function fetchBody(topic: string, offsets: number[], partitionMaxBytes: number) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 64 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: offsets.map((fetchOffset, partition) => ({ partition, fetchOffset, partitionMaxBytes })) }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/** Checks every batch of one partition's records (CRC, offsets, values); returns the next offset. */
async function verify(records: Buffer | null, partition: number, from: number): Promise<number> {
  let next = from;
  let pos = 0;
  while (records && pos + 12 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    const batch = records.subarray(pos, pos + size);
    assert.ok(isBatchCrcValid(batch), `partition ${partition}: batch at ${readInt64(batch, 0)} has a bad CRC`);
    for (const r of await iterateRecords(batch)) {
      if (r.offset < next) continue;
      assert.equal(r.offset, next, `partition ${partition}: offsets in order`);
      assert.ok(r.value?.equals(valueFor(partition, r.offset)), `partition ${partition}: value of offset ${r.offset} intact`);
      next++;
    }
    pos += size;
  }
  return next;
}

describe('fetch read buffers', () => {
  let broker: TestBroker;
  const total = BATCHES * PER_BATCH;
  before(async () => {
    broker = await startTestBroker();
    await broker.broker.topics.create({ name: 'pooled', numPartitions: PARTITIONS, replicationFactor: -1 });
    const producer = await RawClient.open(broker.port);
    let correlationId = 1;
    for (let b = 0; b < BATCHES; b++) {
      const partitionData = [];
      for (let p = 0; p < PARTITIONS; p++) {
        const records = await buildBatch({
          records: Array.from({ length: PER_BATCH }, (_, i) => ({ key: null, value: valueFor(p, b * PER_BATCH + i) })),
        });
        partitionData.push({ index: p, records });
      }
      producer.request(ApiKey.Produce, 9, correlationId++, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'pooled', partitionData }] });
      const res = await producer.response(ApiKey.Produce, 9);
      for (const pr of res!.body.responses[0].partitionResponses) assert.equal(pr.errorCode, 0);
    }
    producer.close();
  });
  after(async () => broker.dispose());

  it('reuses a released buffer and never one still leased', () => {
    const pool = new BufferPool(1024 * 1024);
    const a = pool.lease();
    const b1 = a.alloc(70_000);
    assert.equal(b1.length, 128 * 1024, 'rounded up to a power of two');
    const other = pool.lease();
    assert.notEqual(other.alloc(70_000), b1, 'a leased buffer is not handed out twice');
    a.release();
    a.release();
    assert.equal(pool.retained, 128 * 1024, 'released once');
    assert.equal(pool.lease().alloc(100_000), b1, 'a released buffer is reused');
  });

  it('concurrent consumers on one listener each read every record intact', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.open(broker.port)));
    try {
      await Promise.all(
        clients.map(async (c, ci) => {
          const offsets = new Array<number>(PARTITIONS).fill(0);
          // Small, client-specific limits give many fetches of different sizes over the shared pool.
          const limit = (16 + ci * 7) * 1024;
          for (let round = 0; round < 2000 && offsets.some((o) => o < total); round++) {
            c.request(ApiKey.Fetch, 12, round, fetchBody('pooled', offsets, limit));
            const res = await c.response(ApiKey.Fetch, 12);
            assert.ok(res, 'connection stays open');
            for (const part of res.body.responses[0].partitions) {
              assert.equal(part.errorCode, 0);
              offsets[part.partitionIndex] = await verify(part.records, part.partitionIndex, offsets[part.partitionIndex]!);
            }
          }
          assert.deepEqual(offsets, new Array(PARTITIONS).fill(total), `client ${ci} read everything`);
        }),
      );
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('a response waiting for a client that stopped reading is not overwritten by later fetches', async () => {
    const slow = await RawClient.open(broker.port);
    const fast = await RawClient.open(broker.port);
    try {
      // Responses of ~1-3 MB each, more than the loopback socket buffers hold, queue behind a
      // client that reads nothing.
      const starts = Array.from({ length: 8 }, (_, k) => k * PER_BATCH);
      slow.socket.pause();
      for (const [k, start] of starts.entries()) slow.request(ApiKey.Fetch, 12, 1 + k, fetchBody('pooled', new Array(PARTITIONS).fill(start), 1024 * 1024));
      // Meanwhile other fetches of the same sizes (so the same pool classes) take buffers from the
      // pool and fill them with other partitions' bytes.
      for (let round = 0; round < 48; round++) {
        const from = starts[round % starts.length]!;
        const partition = round % PARTITIONS;
        const body = fetchBody('pooled', [], 1024 * 1024);
        body.topics[0]!.partitions = [{ partition, fetchOffset: from, partitionMaxBytes: 1024 * 1024 }];
        fast.request(ApiKey.Fetch, 12, 100 + round, body);
        const res = await fast.response(ApiKey.Fetch, 12);
        for (const part of res!.body.responses[0].partitions) await verify(part.records, part.partitionIndex, from);
      }
      slow.socket.resume();
      for (const start of starts) {
        const res = await slow.response(ApiKey.Fetch, 12);
        assert.ok(res);
        for (const part of res.body.responses[0].partitions) {
          assert.equal(part.errorCode, 0);
          const next = await verify(part.records, part.partitionIndex, start);
          assert.ok(next > start, `partition ${part.partitionIndex} returned records from ${start}`);
        }
      }
    } finally {
      slow.close();
      fast.close();
    }
  });
});
