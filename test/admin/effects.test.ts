// Topic configs changed at runtime have real effects: retention deletes segments, LogAppendTime
// rewrites timestamps, a forced compression.type recompresses (in request order),
// max.message.bytes rejects large batches, compacted topics refuse records without keys.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { Compression } from '../../src/protocol/records/layout.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { fetchAll, RawClient } from '../helpers/raw-client.js';
import { fetchRawBatches } from './helpers.js';
const { Kafka, logLevel, ConfigResourceTypes, CompressionTypes } = kafkajs;

describe('config effects', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: ReturnType<InstanceType<typeof Kafka>['admin']>;
  let producer: ReturnType<InstanceType<typeof Kafka>['producer']>;
  const alter = (topic: string, configEntries: { name: string; value: string }[]) =>
    admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }] });

  before(async () => {
    broker = await startTestBroker({ 'log.retention.check.interval.ms': '100' });
    kafka = new Kafka({ clientId: 'admin-effects', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
  });
  after(async () => {
    await producer.disconnect();
    await admin.disconnect();
    await broker.dispose();
  });

  it('lowering retention.ms deletes old segments and moves the log start offset', async () => {
    await admin.createTopics({ topics: [{ topic: 'ret', numPartitions: 1, configEntries: [{ name: 'segment.ms', value: '50' }] }] });
    const old = Date.now() - 3_600_000;
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 'ret', messages: [{ key: `k${i}`, value: `v${i}`, timestamp: String(old + i) }] });
      await new Promise((r) => setTimeout(r, 80)); // next append rolls (segment.ms = 50)
    }
    const log = broker.broker.replicas.get('ret', 0)!.log;
    assert.ok(log.segmentCount >= 4, `segments: ${log.segmentCount}`);
    assert.equal(log.logStartOffset, 0);
    const dir = join(broker.dataDir, 'ret-0');
    const before = (await readdir(dir)).filter((f) => f.endsWith('.log')).length;
    // Retention must not run with the default (7 days): nothing deleted so far.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(log.logStartOffset, 0);
    await alter('ret', [{ name: 'segment.ms', value: '50' }, { name: 'retention.ms', value: '1000' }]);
    // The tick may also roll the segment holding offset 4 (segment.ms = 50), so 5 is fine too.
    await waitFor(() => log.logStartOffset >= 4, 10_000, 'retention to delete old segments');
    const offsets = await admin.fetchTopicOffsets('ret');
    assert.equal(offsets[0]!.low, String(log.logStartOffset));
    assert.equal(offsets[0]!.high, '5');
    const after = (await waitFor(async () => {
      const n = (await readdir(dir)).filter((f) => f.endsWith('.log') && !f.endsWith('.deleted')).length;
      return n < before ? n : 0;
    }, 10_000, 'segment files to go')) as number;
    assert.ok(after < before);
    const left = await fetchAll(broker.port, 'ret', 0, log.logStartOffset);
    assert.deepEqual(left.map((r) => r.value!.toString()), ['v4'].slice(log.logStartOffset - 4));
  });

  it('message.timestamp.type=LogAppendTime rewrites timestamps', async () => {
    await admin.createTopics({ topics: [{ topic: 'lat', numPartitions: 1 }] });
    await producer.send({ topic: 'lat', messages: [{ value: 'a', timestamp: '1000' }] });
    await alter('lat', [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
    const t0 = Date.now();
    const [res] = await producer.send({ topic: 'lat', messages: [{ value: 'b', timestamp: '1000' }, { value: 'c', timestamp: '2000' }] });
    assert.ok(Number(res!.logAppendTime) >= t0, `logAppendTime ${res!.logAppendTime}`);
    const recs = await fetchAll(broker.port, 'lat', 0);
    assert.equal(recs[0]!.timestamp, 1000);
    assert.ok(recs[1]!.timestamp >= t0 && recs[1]!.timestamp <= Date.now());
    assert.equal(recs[2]!.timestamp, recs[1]!.timestamp);
  });

  it('compression.type=zstd recompresses producer batches, keeping records intact', async () => {
    await admin.createTopics({ topics: [{ topic: 'zs', numPartitions: 1 }] });
    await producer.send({ topic: 'zs', messages: [{ key: 'k0', value: 'plain' }] });
    await alter('zs', [{ name: 'compression.type', value: 'zstd' }]);
    await producer.send({
      topic: 'zs',
      messages: [
        { key: 'k1', value: 'one', headers: { h: 'x' }, timestamp: '5000' },
        { key: null, value: 'two', timestamp: '6000' },
      ],
    });
    await producer.send({ topic: 'zs', compression: CompressionTypes.GZIP, messages: [{ key: 'k3', value: 'three'.repeat(50) }] });
    const batches = await fetchRawBatches(broker.port, 'zs', 0);
    assert.deepEqual(batches.map((b) => b.readInt16BE(21) & 7), [Compression.None, Compression.Zstd, Compression.Zstd]);
    const recs = await fetchAll(broker.port, 'zs', 0);
    assert.deepEqual(recs.map((r) => [r.offset, r.key?.toString() ?? null, r.value!.toString()]), [
      [0, 'k0', 'plain'], [1, 'k1', 'one'], [2, null, 'two'], [3, 'k3', 'three'.repeat(50)],
    ]);
    assert.deepEqual([recs[1]!.timestamp, recs[2]!.timestamp], [5000, 6000]);
    assert.equal(recs[1]!.headers[0]!.key, 'h');
    assert.equal(recs[1]!.headers[0]!.value!.toString(), 'x');
  });

  it('pipelined produces to a recompressing topic keep request order', async () => {
    await admin.createTopics({ topics: [{ topic: 'order', numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'zstd' }] }] });
    const c = await RawClient.open(broker.port);
    try {
      const n = 30;
      for (let i = 0; i < n; i++) {
        // alternate batches that need recompression with batches already in zstd
        const records = await buildBatch({
          records: [{ key: `k${i}`, value: `v${i}` }],
          compression: i % 3 === 0 ? Compression.Zstd : i % 3 === 1 ? Compression.None : Compression.Lz4,
        });
        c.request(ApiKey.Produce, 9, i + 1, {
          transactionalId: null, acks: 1, timeoutMs: 5000,
          topicData: [{ name: 'order', partitionData: [{ index: 0, records }] }],
        });
      }
      const offsets: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await c.response(ApiKey.Produce, 9);
        assert.equal(res!.correlationId, i + 1);
        const p = res!.body.responses[0].partitionResponses[0];
        assert.equal(p.errorCode, 0);
        offsets.push(Number(p.baseOffset));
      }
      assert.deepEqual(offsets, [...Array(n).keys()]);
      const recs = await fetchAll(broker.port, 'order', 0);
      assert.deepEqual(recs.map((r) => r.value!.toString()), [...Array(n).keys()].map((i) => `v${i}`));
      const batches = await fetchRawBatches(broker.port, 'order', 0);
      assert.ok(batches.every((b) => (b.readInt16BE(21) & 7) === Compression.Zstd));
    } finally {
      c.close();
    }
  });

  it('lowering max.message.bytes rejects larger batches with MESSAGE_TOO_LARGE', async () => {
    await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1 }] });
    await producer.send({ topic: 'big', messages: [{ value: 'x'.repeat(3000) }] });
    await alter('big', [{ name: 'max.message.bytes', value: '1000' }]);
    await assert.rejects(
      producer.send({ topic: 'big', messages: [{ value: 'x'.repeat(3000) }] }),
      (e: Error & { type?: string }) => e.type === 'MESSAGE_TOO_LARGE' || /MESSAGE_TOO_LARGE|larger than/i.test(e.message),
    );
    await producer.send({ topic: 'big', messages: [{ value: 'small' }] });
    const recs = await fetchAll(broker.port, 'big', 0);
    assert.equal(recs.length, 2);
  });

  it('a compacted topic refuses records without a key (INVALID_RECORD)', async () => {
    await admin.createTopics({ topics: [{ topic: 'cmp', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await producer.send({ topic: 'cmp', messages: [{ key: 'a', value: '1' }] });
    await assert.rejects(
      producer.send({ topic: 'cmp', messages: [{ key: 'b', value: '2' }, { value: 'no key' }] }),
      (e: Error & { type?: string }) => e.type === 'INVALID_RECORD',
    );
    // compressed batches are decoded too
    await assert.rejects(
      producer.send({ topic: 'cmp', compression: CompressionTypes.GZIP, messages: [{ value: 'no key' }] }),
      (e: Error & { type?: string }) => e.type === 'INVALID_RECORD',
    );
    // recompression (async path) checks keys as well
    await alter('cmp', [{ name: 'cleanup.policy', value: 'compact' }, { name: 'compression.type', value: 'zstd' }]);
    await assert.rejects(
      producer.send({ topic: 'cmp', messages: [{ value: 'no key' }] }),
      (e: Error & { type?: string }) => e.type === 'INVALID_RECORD',
    );
    await producer.send({ topic: 'cmp', messages: [{ key: 'c', value: '3' }] });
    const recs = await fetchAll(broker.port, 'cmp', 0);
    assert.deepEqual(recs.map((r) => r.key!.toString()), ['a', 'c']);
  });
});
