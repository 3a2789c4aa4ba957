// ListOffsets by timestamp finds the exact record, also inside compressed batches (Kafka
// decompresses to answer), plus the special timestamps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { Compression } from '../../src/protocol/records/layout.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const BASE = Date.now() - 600_000;

async function listOffset(c: RawClient, topic: string, timestamp: number, correlationId: number) {
  c.request(ApiKey.ListOffsets, 7, correlationId, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
  });
  const res = await c.response(ApiKey.ListOffsets, 7);
  return res!.body.topics[0].partitions[0] as { errorCode: number; offset: number; timestamp: number };
}

describe('ListOffsets', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => broker.dispose());

  for (const [name, codec] of [
    ['none', Compression.None],
    ['gzip', Compression.Gzip],
    ['snappy', Compression.Snappy],
    ['lz4', Compression.Lz4],
    ['zstd', Compression.Zstd],
  ] as const) {
    it(`finds the exact record by timestamp inside a ${name} batch`, async () => {
      const topic = `times-${name}`;
      await broker.broker.topics.create({ name: topic, numPartitions: 1, replicationFactor: -1 });
      const c = await RawClient.open(broker.port);
      // Two batches of ten records, timestamps one second apart.
      for (let b = 0; b < 2; b++) {
        const records = Array.from({ length: 10 }, (_, i) => ({
          key: null,
          value: Buffer.from(`r${b * 10 + i}`),
          timestamp: BASE + (b * 10 + i) * 1000,
        }));
        const batch = await buildBatch({ records, compression: codec });
        c.request(ApiKey.Produce, 9, 1 + b, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
        });
        const res = await c.response(ApiKey.Produce, 9);
        assert.equal(res!.body.responses[0].partitionResponses[0].errorCode, 0);
      }
      const exact = await listOffset(c, topic, BASE + 4000, 10);
      assert.deepEqual([exact.offset, exact.timestamp], [4, BASE + 4000]);
      const between = await listOffset(c, topic, BASE + 13_500, 11);
      assert.deepEqual([between.offset, between.timestamp], [14, BASE + 14_000]);
      const future = await listOffset(c, topic, Date.now() + 60_000, 12);
      assert.equal(future.offset, -1, 'no record that late');
      assert.equal((await listOffset(c, topic, -2, 13)).offset, 0, 'earliest');
      assert.equal((await listOffset(c, topic, -1, 14)).offset, 20, 'latest');
      const max = await listOffset(c, topic, -3, 15);
      assert.equal(max.timestamp, BASE + 19_000, 'max timestamp');
      c.close();
    });
  }
});
