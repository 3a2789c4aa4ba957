// Coordinators and transactions over replicated partitions, and fjord.flush.mode=kafka, with three
// brokers in this process sharing one metadata store (the test plays the controller).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InProcessCluster, kafkaFor, logBytes, waitFor } from './replication-helpers.js';

describe('transactions across brokers', () => {
  const cluster = new InProcessCluster();
  before(async () => cluster.start([1, 2, 3]));
  after(async () => cluster.close());

  it('commit and abort markers reach partitions led by other brokers (WriteTxnMarkers between brokers)', async () => {
    const topic = 'repl-txn';
    const kafka = kafkaFor(cluster, 'txn', 15);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }] });
    const leaders = new Set([0, 1, 2].map((i) => cluster.store.partitionState(topic, i)!.leader));
    assert.equal(leaders.size, 3, 'leaders spread over the three brokers');
    const producer = kafka.producer({ transactionalId: 'repl-txn-id', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const all = (tag: string) => [0, 1, 2].map((partition) => ({ partition, value: `${tag}-${partition}` }));
    let txn = await producer.transaction();
    await txn.send({ topic, acks: -1, messages: all('committed') });
    await txn.commit();
    txn = await producer.transaction();
    await txn.send({ topic, acks: -1, messages: all('aborted') });
    await txn.abort();
    txn = await producer.transaction();
    await txn.send({ topic, acks: -1, messages: all('last') });
    await txn.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'repl-txn-reader', maxWaitTimeInMs: 100, readUncommitted: false });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor('6 committed records', () => seen.length >= 6, 20_000);
    await consumer.disconnect();
    assert.deepEqual(seen.sort(), [...all('committed'), ...all('last')].map((m) => m.value).sort());
    await admin.disconnect();
  });
});

describe('coordinator follows partition leadership', () => {
  const cluster = new InProcessCluster({ 'offsets.topic.replication.factor': '3', 'offsets.topic.num.partitions': '1' });
  before(async () => cluster.start([1, 2, 3]));
  after(async () => cluster.close());

  it('committed offsets are served by the new leader of __consumer_offsets after a leader change', async () => {
    const topic = 'coord-moves';
    const kafka = kafkaFor(cluster, 'coord', 15);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 6 }, (_, i) => ({ value: `m${i}` })) });
    const consumer = kafka.consumer({ groupId: 'moving-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    await consumer.run({ autoCommit: false, eachMessage: async () => void seen++ });
    await waitFor('6 records', () => seen >= 6);
    await consumer.commitOffsets([{ topic, partition: 0, offset: '4' }]);
    await consumer.disconnect();

    const state = cluster.store.partitionState('__consumer_offsets', 0)!;
    assert.equal(cluster.store.topic('__consumer_offsets')!.partitions[0]!.replicas.length, 3);
    const old = state.leader;
    const next = [1, 2, 3].find((id) => id !== old)!;
    assert.deepEqual(cluster.running.get(old)!.broker.groups.offsetsTopic.loadedPartitions(), [0]);
    await cluster.electLeader('__consumer_offsets', next, [1, 2, 3]);
    await waitFor('the new leader loaded the group state', () => cluster.running.get(next)!.broker.groups.offsetsTopic.loadedPartitions().length === 1);
    assert.deepEqual(cluster.running.get(old)!.broker.groups.offsetsTopic.loadedPartitions(), []);
    // FindCoordinator (inside fetchOffsets) points at the new leader, which replayed the commit.
    const offsets = await admin.fetchOffsets({ groupId: 'moving-group', topics: [topic] });
    assert.equal(offsets[0]!.partitions[0]!.offset, '4');
    await producer.disconnect();
    await admin.disconnect();
  });
});

describe('replication with fjord.flush.mode=kafka', () => {
  const cluster = new InProcessCluster({ 'fjord.flush.mode': 'kafka' });
  before(async () => cluster.start([1, 2, 3]));
  after(async () => cluster.close());

  it('acks=all completes once every ISR replica has written the batch; replicas end identical', async () => {
    const topic = 'repl-kafka-mode';
    const kafka = kafkaFor(cluster, 'kafka-mode');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const leader = cluster.store.partitionState(topic, 0)!.leader;
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `k${i * 10 + j}` })) });
      for (const id of [1, 2, 3].filter((x) => x !== leader)) {
        assert.ok(cluster.partition(id, topic).log.writtenEndOffset >= (i + 1) * 10, `follower ${id} acknowledged data it had not written`);
      }
    }
    assert.equal(cluster.partition(leader, topic).highWatermark, 100);
    for (const id of [1, 2, 3]) await waitFor(`replica ${id} at 100`, () => cluster.partition(id, topic).log.logEndOffset === 100);
    await Promise.all([1, 2, 3].map((id) => cluster.partition(id, topic).log.flush()));
    const bytes = await Promise.all([1, 2, 3].map((id) => logBytes(cluster.dirs.get(id)!, topic)));
    assert.ok(bytes[0]!.equals(bytes[1]!) && bytes[0]!.equals(bytes[2]!), 'replica logs differ');
    await producer.disconnect();
    await admin.disconnect();
  });
});
