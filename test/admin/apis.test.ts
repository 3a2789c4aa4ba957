// The remaining admin APIs against a real broker: DeleteRecords (kafkajs + raw), OffsetForLeaderEpoch,
// DescribeLogDirs, DescribeProducers, ElectLeaders, partition reassignments, DescribeTopicPartitions
// pagination, client quotas, and topic deletion + recreation.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { fetchAll } from '../helpers/raw-client.js';
import { rawCall } from './helpers.js';
const { Kafka, logLevel } = kafkajs;

describe('admin APIs', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: ReturnType<InstanceType<typeof Kafka>['admin']>;
  let producer: ReturnType<InstanceType<typeof Kafka>['producer']>;
  before(async () => {
    broker = await startTestBroker();
    kafka = new Kafka({ clientId: 'admin-apis', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } });
    await producer.connect();
    await admin.createTopics({ topics: [{ topic: 'recs', numPartitions: 2 }, { topic: 'compacted', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'recs', messages: [{ key: `k${i}`, value: `v${i}`, partition: 0 }] });
  });
  after(async () => {
    await producer.disconnect();
    await admin.disconnect();
    await broker.dispose();
  });

  it('DeleteRecords moves the log start offset (kafkajs deleteTopicRecords)', async () => {
    // kafkajs looks up leaders before loading the topic's metadata: load it first.
    await admin.fetchTopicOffsets('recs');
    await admin.deleteTopicRecords({ topic: 'recs', partitions: [{ partition: 0, offset: '4' }] });
    const offsets = await admin.fetchTopicOffsets('recs');
    const p0 = offsets.find((o) => o.partition === 0)!;
    assert.equal(p0.low, '4');
    assert.equal(p0.high, '10');
    const left = await fetchAll(broker.port, 'recs', 0, 4);
    assert.deepEqual(left.map((r) => r.value!.toString()), ['v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
    // raw: above HW, -1 = HW, unknown partition, compacted topic
    const body = await rawCall(broker.port, ApiKey.DeleteRecords, 2, {
      topics: [
        { name: 'recs', partitions: [{ partitionIndex: 0, offset: 11 }, { partitionIndex: 1, offset: -1 }, { partitionIndex: 9, offset: 0 }] },
        { name: 'compacted', partitions: [{ partitionIndex: 0, offset: 0 }] },
      ],
      timeoutMs: 1000,
    });
    const [t0, t1] = body.topics;
    assert.deepEqual(t0.partitions.map((p: any) => [p.partitionIndex, p.errorCode, Number(p.lowWatermark)]), [[0, 1, -1], [1, 0, 0], [9, 3, -1]]);
    assert.equal(t1.partitions[0].errorCode, 44);
    const all = await rawCall(broker.port, ApiKey.DeleteRecords, 0, { topics: [{ name: 'recs', partitions: [{ partitionIndex: 0, offset: -1 }] }], timeoutMs: 1000 });
    assert.equal(Number(all.topics[0].partitions[0].lowWatermark), 10);
  });

  it('OffsetForLeaderEpoch returns the end offset of an epoch', async () => {
    const body = await rawCall(broker.port, ApiKey.OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'recs', partitions: [
        { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 },
        { partition: 0, currentLeaderEpoch: 5, leaderEpoch: 0 },
        { partition: 7, currentLeaderEpoch: -1, leaderEpoch: 0 },
      ] }],
    });
    const ps = body.topics[0].partitions;
    assert.deepEqual([ps[0].errorCode, ps[0].leaderEpoch, Number(ps[0].endOffset)], [0, 0, 10]);
    assert.equal(ps[1].errorCode, 75); // UNKNOWN_LEADER_EPOCH
    assert.equal(ps[2].errorCode, 3);
  });

  it('DescribeLogDirs reports the data dir with partition sizes and disk space', async () => {
    const body = await rawCall(broker.port, ApiKey.DescribeLogDirs, 4, { topics: null });
    assert.equal(body.errorCode, 0);
    assert.equal(body.results.length, 1);
    const dir = body.results[0];
    assert.equal(dir.errorCode, 0);
    assert.ok(Number(dir.totalBytes) > 0 && Number(dir.usableBytes) > 0 && Number(dir.usableBytes) <= Number(dir.totalBytes));
    const recs = dir.topics.find((t: any) => t.name === 'recs');
    assert.deepEqual(recs.partitions.map((p: any) => p.partitionIndex), [0, 1]);
    assert.equal(Number(recs.partitions[0].partitionSize), broker.broker.replicas.get('recs', 0)!.log.sizeBytes);
    assert.ok(Number(recs.partitions[0].partitionSize) > 0);
    const one = await rawCall(broker.port, ApiKey.DescribeLogDirs, 1, { topics: [{ topic: 'recs', partitions: [1] }] });
    assert.deepEqual(one.results[0].topics.map((t: any) => [t.name, t.partitions.map((p: any) => p.partitionIndex)]), [['recs', [1]]]);
  });

  it('DescribeProducers lists the idempotent producer of a partition', async () => {
    const body = await rawCall(broker.port, ApiKey.DescribeProducers, 0, { topics: [{ name: 'recs', partitionIndexes: [0, 1, 5] }] });
    const [p0, p1, p5] = body.topics[0].partitions;
    assert.equal(p0.errorCode, 0);
    assert.equal(p0.activeProducers.length, 1);
    assert.ok(Number(p0.activeProducers[0].producerId) >= 0);
    assert.equal(p0.activeProducers[0].lastSequence, 9);
    assert.equal(Number(p0.activeProducers[0].currentTxnStartOffset), -1);
    assert.equal(p1.activeProducers.length, 0);
    assert.equal(p5.errorCode, 3);
  });

  it('ElectLeaders: not needed on a single broker; unknown partitions', async () => {
    const body = await rawCall(broker.port, ApiKey.ElectLeaders, 2, {
      electionType: 0,
      topicPartitions: [{ topic: 'recs', partitions: [0, 1, 9] }],
      timeoutMs: 1000,
    });
    assert.equal(body.errorCode, 0);
    assert.deepEqual(body.replicaElectionResults[0].partitionResult.map((p: any) => [p.partitionId, p.errorCode]), [[0, 84], [1, 84], [9, 3]]);
    const all = await rawCall(broker.port, ApiKey.ElectLeaders, 1, { electionType: 1, topicPartitions: null, timeoutMs: 1000 });
    assert.deepEqual(all.replicaElectionResults, []);
  });

  it('partition reassignments validate brokers; none is ever ongoing', async () => {
    const id = broker.broker.nodeId;
    const body = await rawCall(broker.port, ApiKey.AlterPartitionReassignments, 0, {
      timeoutMs: 1000,
      topics: [{ name: 'recs', partitions: [
        { partitionIndex: 0, replicas: [id] },
        { partitionIndex: 1, replicas: [id + 5] },
        { partitionIndex: 1, replicas: null },
        { partitionIndex: 4, replicas: [id] },
      ] }],
    });
    assert.equal(body.errorCode, 0);
    assert.deepEqual(body.responses[0].partitions.map((p: any) => p.errorCode), [0, 39, 85, 3]);
    const list = await rawCall(broker.port, ApiKey.ListPartitionReassignments, 0, { timeoutMs: 1000, topics: null });
    assert.equal(list.errorCode, 0);
    assert.deepEqual(list.topics, []);
  });

  it('DescribeTopicPartitions pages with a cursor', async () => {
    await admin.createTopics({ topics: [{ topic: 'dtp-a', numPartitions: 3 }, { topic: 'dtp-b', numPartitions: 2 }] });
    const call = (cursor: unknown) => rawCall(broker.port, ApiKey.DescribeTopicPartitions, 0, {
      topics: [{ name: 'dtp-b' }, { name: 'dtp-a' }, { name: 'dtp-missing' }],
      responsePartitionLimit: 2,
      cursor,
    });
    const seen: string[] = [];
    let cursor: unknown = null;
    let missing = 0;
    for (let page = 0; page < 10; page++) {
      const body = await call(cursor);
      for (const t of body.topics) {
        if (t.errorCode === 3) {
          missing++;
          continue;
        }
        assert.equal(t.errorCode, 0);
        assert.equal(t.topicId, broker.broker.metadata.topic(t.name)!.topicId);
        for (const p of t.partitions) {
          assert.equal(p.leaderId, broker.broker.nodeId);
          seen.push(`${t.name}-${p.partitionIndex}`);
        }
      }
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    assert.deepEqual(seen, ['dtp-a-0', 'dtp-a-1', 'dtp-a-2', 'dtp-b-0', 'dtp-b-1']);
    assert.ok(missing >= 1);
    const first = await call(null);
    assert.deepEqual(first.nextCursor, { topicName: 'dtp-a', partitionIndex: 2 });
  });

  it('client quotas are stored, filtered and removed', async () => {
    const alter = (entries: unknown, validateOnly = false) => rawCall(broker.port, ApiKey.AlterClientQuotas, 1, { entries, validateOnly });
    let r = await alter([
      { entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] },
      { entity: [{ entityType: 'user', entityName: 'alice' }, { entityType: 'client-id', entityName: 'app' }], ops: [{ key: 'consumer_byte_rate', value: 2048, remove: false }] },
      { entity: [{ entityType: 'client-id', entityName: null }], ops: [{ key: 'request_percentage', value: 50.5, remove: false }] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 10, remove: false }] },
      { entity: [{ entityType: 'user', entityName: 'bob' }], ops: [{ key: 'bogus_rate', value: 1, remove: false }] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.2' }, { entityType: 'user', entityName: 'x' }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] },
    ]);
    assert.deepEqual(r.entries.map((e: any) => e.errorCode), [0, 0, 0, 0, 42, 42]);
    r = await alter([{ entity: [{ entityType: 'user', entityName: 'carol' }], ops: [{ key: 'producer_byte_rate', value: 1, remove: false }] }], true);
    assert.equal(r.entries[0].errorCode, 0);

    const describe = (components: unknown, strict = false) => rawCall(broker.port, ApiKey.DescribeClientQuotas, 1, { components, strict });
    let d = await describe([{ entityType: 'user', matchType: 0, match: 'alice' }]);
    assert.equal(d.errorCode, 0);
    assert.equal(d.entries.length, 2);
    d = await describe([{ entityType: 'user', matchType: 0, match: 'alice' }], true);
    assert.equal(d.entries.length, 1);
    assert.deepEqual(d.entries[0].values, [{ key: 'producer_byte_rate', value: 1024 }]);
    d = await describe([{ entityType: 'client-id', matchType: 1, match: null }]);
    assert.deepEqual(d.entries.map((e: any) => e.values[0].value), [50.5]);
    d = await describe([{ entityType: 'client-id', matchType: 2, match: null }]);
    assert.deepEqual(d.entries.map((e: any) => e.entity.map((c: any) => c.entityName)), [['app', 'alice']]);
    d = await describe([{ entityType: 'user', matchType: 0, match: 'carol' }]);
    assert.deepEqual(d.entries, []);
    d = await describe([], false);
    assert.equal(d.entries.length, 4);
    d = await describe([{ entityType: 'user', matchType: 9, match: null }]);
    assert.equal(d.errorCode, 42);

    r = await alter([{ entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }]);
    assert.equal(r.entries[0].errorCode, 0);
    d = await describe([{ entityType: 'user', matchType: 0, match: 'alice' }], true);
    assert.deepEqual(d.entries, []);
    assert.equal(broker.broker.metadata.clientQuotas().length, 3);
  });

  it('deleting a topic removes its data; recreating gives a new topic id', async () => {
    await admin.createTopics({ topics: [{ topic: 'again', numPartitions: 1 }] });
    await producer.send({ topic: 'again', messages: [{ value: 'old' }] });
    const firstId = broker.broker.metadata.topic('again')!.topicId;
    const dir = join(broker.dataDir, 'again-0');
    assert.ok(existsSync(dir));
    await admin.deleteTopics({ topics: ['again'] });
    await waitFor(() => !existsSync(dir), 5000, 'partition dir removal');
    await admin.createTopics({ topics: [{ topic: 'again', numPartitions: 1 }] });
    const secondId = broker.broker.metadata.topic('again')!.topicId;
    assert.notEqual(secondId, firstId);
    const meta = await rawCall(broker.port, ApiKey.Metadata, 12, { topics: [{ topicId: null, name: 'again' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.equal(meta.topics[0].topicId, secondId);
    const offsets = await admin.fetchTopicOffsets('again');
    assert.deepEqual([offsets[0]!.low, offsets[0]!.high], ['0', '0']);
    const p = kafka.producer({ allowAutoTopicCreation: false });
    await p.connect();
    try {
      await p.send({ topic: 'again', messages: [{ value: 'new' }] });
    } finally {
      await p.disconnect();
    }
    const recs = await fetchAll(broker.port, 'again', 0);
    assert.deepEqual(recs.map((r) => r.value!.toString()), ['new']);
  });
});
