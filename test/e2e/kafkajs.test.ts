// kafkajs against a real Fjord broker: admin, keyed producer with headers and every codec
// kafkajs can send, offsets and offsets-for-times, idempotent producer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { compress, decompress } from '../../src/protocol/records/compression.js';
import { Compression } from '../../src/protocol/records/layout.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { fetchAll } from '../helpers/raw-client.js';

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;

// kafkajs ships only gzip; snappy/lz4/zstd come as plugins. Plug in codecs that speak the
// formats Kafka uses on the wire (xerial snappy, lz4 frame, zstd frame).
function plugin(codec: Compression) {
  return () => ({
    compress: async (encoder: { buffer: Buffer }) => compress(codec, encoder.buffer),
    decompress: async (buffer: Buffer) => decompress(codec, buffer),
  });
}
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.Snappy] = plugin(Compression.Snappy);
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.LZ4] = plugin(Compression.Lz4);
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.ZSTD] = plugin(Compression.Zstd);

describe('kafkajs', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  before(async () => {
    broker = await startTestBroker();
    kafka = new Kafka({ clientId: 'fjord-e2e', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  });
  after(async () => broker.dispose());

  it('creates, lists, describes and deletes topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 4 }] }), true);
      assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 4 }] }), false);
      assert.ok((await admin.listTopics()).includes('admin-a'));
      const meta = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
      assert.equal(meta.topics[0]!.partitions.length, 4);
      await admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 6 }] });
      const grown = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
      assert.equal(grown.topics[0]!.partitions.length, 6);
      const cluster = await admin.describeCluster();
      assert.equal(cluster.brokers.length, 1);
      assert.equal(cluster.brokers[0]!.port, broker.port);
      await assert.rejects(
        admin.createTopics({ topics: [{ topic: 'bad name!', numPartitions: 1 }] }),
        (err: Error & { type?: string }) => /INVALID_TOPIC_EXCEPTION|illegal/i.test(`${err.message} ${JSON.stringify(err)}`),
      );
      await admin.deleteTopics({ topics: ['admin-a'] });
      assert.ok(!(await admin.listTopics()).includes('admin-a'));
    } finally {
      await admin.disconnect();
    }
  });

  for (const [name, type] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ] as const) {
    it(`produces keyed records with headers using ${name} and reads them back in order`, async () => {
      const topic = `kjs-${name}`;
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      const sent: { key: string; value: string; partition: number }[] = [];
      for (let round = 0; round < 5; round++) {
        const messages = Array.from({ length: 40 }, (_, i) => ({
          key: `key-${i % 7}`,
          value: `${name}-${round}-${i}-${'x'.repeat(i * 3)}`,
          headers: { round: String(round), idx: String(i) },
        }));
        const res = await producer.send({ topic, compression: type, acks: -1, messages });
        assert.ok(res.every((r) => r.errorCode === 0));
        for (const m of messages) sent.push({ key: m.key, value: m.value, partition: -1 });
      }
      await producer.disconnect();

      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((n, o) => n + Number(o.high), 0);
      assert.equal(total, sent.length);
      const got: { key: string; value: string; headers: Record<string, string> }[] = [];
      const keyPartition = new Map<string, number>();
      for (let p = 0; p < 3; p++) {
        const records = await fetchAll(broker.port, topic, p);
        assert.deepEqual(
          records.map((r) => r.offset),
          records.map((_, i) => i),
          'offsets are dense from 0',
        );
        for (const r of records) {
          const key = r.key!.toString();
          // Same key, same partition.
          assert.equal(keyPartition.get(key) ?? p, p);
          keyPartition.set(key, p);
          got.push({
            key,
            value: r.value!.toString(),
            headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value!.toString()])),
          });
        }
      }
      assert.equal(got.length, sent.length);
      // Per key, order is the send order.
      for (const key of new Set(sent.map((s) => s.key))) {
        assert.deepEqual(
          got.filter((g) => g.key === key).map((g) => g.value),
          sent.filter((s) => s.key === key).map((s) => s.value),
        );
      }
      assert.ok(got.every((g) => g.headers.round !== undefined && g.headers.idx !== undefined));
      await admin.disconnect();
    });
  }

  it('answers offsets by timestamp and earliest/latest', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'times', numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    const base = Date.now() - 100_000;
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'times', messages: [{ value: `v${i}`, timestamp: String(base + i * 1000) }] });
    }
    await producer.disconnect();
    const byTime = await admin.fetchTopicOffsetsByTimestamp('times', base + 4500);
    assert.equal(byTime[0]!.offset, '5');
    const future = await admin.fetchTopicOffsetsByTimestamp('times', Date.now() + 100_000);
    assert.equal(future[0]!.offset, '10', 'past the last timestamp: the log end (kafkajs maps -1 to latest)');
    const offsets = await admin.fetchTopicOffsets('times');
    assert.equal(offsets[0]!.low, '0');
    assert.equal(offsets[0]!.high, '10');
    await admin.disconnect();
  });

  it('auto-creates a topic on metadata request with num.partitions', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const res = await producer.send({ topic: 'auto-made', messages: [{ value: 'hello' }] });
    assert.equal(res[0]!.errorCode, 0);
    await producer.disconnect();
    const records = await fetchAll(broker.port, 'auto-made', 0);
    assert.equal(records[0]!.value!.toString(), 'hello');
  });
});
