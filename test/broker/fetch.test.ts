// Fetch semantics over the wire: long polls woken by appends, maxWait honoured, minBytes=0
// immediate, the first batch returned whole even past maxBytes, per-partition limits.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

function fetchBody(topic: string, offset: number, opts: { maxWaitMs: number; minBytes: number; maxBytes?: number; partitionMaxBytes?: number }) {
  return {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs,
    minBytes: opts.minBytes,
    maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: opts.partitionMaxBytes ?? 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

async function produce(client: RawClient, topic: string, value: Buffer, correlationId: number): Promise<void> {
  const records = await buildBatch({ records: [{ key: null, value }] });
  client.request(ApiKey.Produce, 9, correlationId, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  const res = await client.response(ApiKey.Produce, 9);
  assert.equal(res!.body.responses[0].partitionResponses[0].errorCode, 0);
}

describe('fetch', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
    await broker.broker.topics.create({ name: 'poll', numPartitions: 1, replicationFactor: -1 });
    await broker.broker.topics.create({ name: 'big', numPartitions: 1, replicationFactor: -1 });
    await broker.broker.topics.create({ name: 'multi', numPartitions: 3, replicationFactor: -1 });
  });
  after(async () => broker.dispose());

  it('wakes a parked long poll as soon as a record is appended', async () => {
    const consumer = await RawClient.open(broker.port);
    const producer = await RawClient.open(broker.port);
    const started = Date.now();
    consumer.request(ApiKey.Fetch, 12, 1, fetchBody('poll', 0, { maxWaitMs: 10_000, minBytes: 1 }));
    // Produce only once the fetch is parked on the partition.
    await waitFor(() => broker.broker.replicas.get('poll', 0)!.waiterCount > 0, 5_000, 'the fetch to park');
    await produce(producer, 'poll', Buffer.from('wake up'), 1);
    const res = await consumer.response(ApiKey.Fetch, 12);
    const elapsed = Date.now() - started;
    const p = res!.body.responses[0].partitions[0];
    assert.equal(p.errorCode, 0);
    assert.ok(p.records && p.records.length > 0, 'the fetch carries the new record');
    assert.ok(elapsed < 2000, `long poll answered after ${elapsed} ms, not at maxWait`);
    consumer.close();
    producer.close();
  });

  it('waits maxWaitMs when nothing arrives, and answers minBytes=0 at once', async () => {
    const c = await RawClient.open(broker.port);
    let t = Date.now();
    c.request(ApiKey.Fetch, 12, 1, fetchBody('poll', 1000, { maxWaitMs: 300, minBytes: 1 }));
    let res = await c.response(ApiKey.Fetch, 12);
    // Offset 1000 is past the end: an error answers at once.
    assert.equal(res!.body.responses[0].partitions[0].errorCode, 1, 'OFFSET_OUT_OF_RANGE');
    const end = res!.body.responses[0].partitions[0].highWatermark;
    t = Date.now();
    c.request(ApiKey.Fetch, 12, 2, fetchBody('poll', end, { maxWaitMs: 300, minBytes: 1 }));
    res = await c.response(ApiKey.Fetch, 12);
    const waited = Date.now() - t;
    assert.ok(waited >= 250 && waited < 2000, `waited ${waited} ms for maxWait 300`);
    t = Date.now();
    c.request(ApiKey.Fetch, 12, 3, fetchBody('poll', end, { maxWaitMs: 5000, minBytes: 0 }));
    res = await c.response(ApiKey.Fetch, 12);
    assert.ok(Date.now() - t < 1000, 'minBytes=0 answers immediately');
    assert.equal(res!.body.responses[0].partitions[0].errorCode, 0);
    c.close();
  });

  it('a long poll over several partitions answers with the partition an append reached', async () => {
    const consumer = await RawClient.open(broker.port);
    const producer = await RawClient.open(broker.port);
    // Partition 0 already has a record that the fetch starts after; 1 and 2 are empty.
    const records0 = await buildBatch({ records: [{ key: null, value: Buffer.from('old') }] });
    producer.request(ApiKey.Produce, 9, 1, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'multi', partitionData: [{ index: 0, records: records0 }] }] });
    assert.equal((await producer.response(ApiKey.Produce, 9))!.body.responses[0].partitionResponses[0].errorCode, 0);
    const body = fetchBody('multi', 0, { maxWaitMs: 10_000, minBytes: 1 });
    body.topics[0]!.partitions = [0, 1, 2].map((partition) => ({ partition, fetchOffset: partition === 0 ? 1 : 0, partitionMaxBytes: 1024 * 1024 }));
    const started = Date.now();
    consumer.request(ApiKey.Fetch, 12, 1, body);
    await waitFor(() => broker.broker.replicas.get('multi', 2)!.waiterCount > 0, 5_000, 'the fetch to park');
    const records2 = await buildBatch({ records: [{ key: null, value: Buffer.from('to partition 2') }] });
    producer.request(ApiKey.Produce, 9, 2, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'multi', partitionData: [{ index: 2, records: records2 }] }] });
    assert.equal((await producer.response(ApiKey.Produce, 9))!.body.responses[0].partitionResponses[0].errorCode, 0);
    const res = await consumer.response(ApiKey.Fetch, 12);
    assert.ok(Date.now() - started < 5000, 'answered on the append, not at maxWait');
    const byIndex = new Map<number, any>(res!.body.responses[0].partitions.map((p: any) => [p.partitionIndex, p]));
    assert.equal(byIndex.get(0).highWatermark, 1);
    assert.equal(byIndex.get(0).records?.length ?? 0, 0, 'partition 0 has nothing past offset 1');
    assert.equal(byIndex.get(1).records?.length ?? 0, 0);
    assert.equal(byIndex.get(2).highWatermark, 1, 'partition 2 reports its new high watermark');
    assert.ok(byIndex.get(2).records?.includes(Buffer.from('to partition 2')), 'partition 2 carries the appended record');
    consumer.close();
    producer.close();
  });

  it('returns the first batch whole even when it exceeds maxBytes, and respects partition limits after it', async () => {
    const c = await RawClient.open(broker.port);
    await produce(c, 'big', Buffer.alloc(64 * 1024, 7), 1);
    await produce(c, 'big', Buffer.alloc(64 * 1024, 8), 2);
    c.request(ApiKey.Fetch, 12, 3, fetchBody('big', 0, { maxWaitMs: 0, minBytes: 0, maxBytes: 1024, partitionMaxBytes: 1024 }));
    const res = await c.response(ApiKey.Fetch, 12);
    const records: Buffer = res!.body.responses[0].partitions[0].records;
    const firstSize = 12 + records.readInt32BE(8);
    assert.ok(firstSize > 64 * 1024, 'the first batch is whole');
    assert.equal(records.length, firstSize, 'and nothing more than the first batch');
    c.close();
  });
});
