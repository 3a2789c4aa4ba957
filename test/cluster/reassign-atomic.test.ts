// A partition reassignment (KIP-455) ends in ONE store write, as Kafka's single
// PartitionChangeRecord: the new leader / ISR and the new replica list change at the same etcd
// revision, and no broker ever hears the new state next to the old replica list. An ISR member
// that is not a replica (an older version could leave one behind) is dropped, by the leader
// (no controller involved) and by the controller. Real etcd, real brokers, real replication.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import kafkajs from 'kafkajs';
import { Broker } from '../../src/broker/broker.js';
import { decidePartition } from '../../src/cluster/controller.js';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import type { EtcdMetadataStore } from '../../src/cluster/etcd-store.js';
import type { PartitionAssignment, PartitionState, TopicRecord } from '../../src/cluster/metadata-store.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { FAST_SESSION, alterReassignment } from './control-helpers.js';
import { InProcessCluster, kafkaFor } from './replication-helpers.js';

const { Kafka, logLevel } = kafkajs;

const CONFIG = {
  ...FAST_SESSION,
  // Leadership moves only through the reassignment (the assertions follow the leader epoch).
  'auto.leader.rebalance.enable': 'false',
  'replica.fetch.wait.max.ms': '200',
  'replica.fetch.backoff.ms': '100',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
};

async function startMember(etcd: string, nodeId: number): Promise<Broker> {
  const dataDir = await tempDir(`fjord-reassign-${nodeId}-`);
  return Broker.start({ dataDir, port: 0, config: { 'node.id': String(nodeId), 'fjord.etcd.endpoints': etcd, ...CONFIG } });
}

/** Produces `count` records with acks=all through kafkajs (bounded retries). */
async function produceAll(bootstrap: string[], topic: string, count: number): Promise<void> {
  const kafka = new Kafka({ clientId: `p-${topic}`, brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < count; i++) await producer.send({ topic, acks: -1, timeout: 5000, messages: [{ value: `r${i}` }] });
  } finally {
    await producer.disconnect();
  }
}

describe('reassignment finish: state and replica list in one etcd transaction', () => {
  let etcd: EtcdProcess;
  let raw: Etcd3;
  const brokers: Broker[] = [];
  before(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoint });
  });
  afterEach(async () => {
    for (const b of brokers.splice(0)) {
      await b.close().catch(() => undefined);
      await rm(b.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });
  after(async () => {
    raw?.close();
    await etcd?.stop();
  });

  /** etcd's mod revisions of the topic record and of one partition's state key. */
  async function modRevisions(store: EtcdMetadataStore, topic: string, partition: number): Promise<{ topic: string; state: string }> {
    const ns = raw.namespace('/fjord/');
    const t = await ns.get(`topics/${topic}`).exec();
    const s = await ns.get(`partitions/${store.topic(topic)!.topicId}/${partition}`).exec();
    return { topic: t.kvs[0]!.mod_revision, state: s.kvs[0]!.mod_revision };
  }

  it('the new leader / ISR and the new replica list land at one etcd revision; no broker hears one without the other', async () => {
    for (const id of [1, 2, 3]) brokers.push(await startMember(etcd.endpoint, id));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 3 && b.metadata.controllerId() > 0), 10_000, 'three registrations and a controller');
    const store = brokers[0]!.metadata as EtcdMetadataStore;
    await brokers[0]!.topics.create({ name: 'moving', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
    await waitFor(() => brokers.every((b) => b.metadata.partitionState('moving', 0)?.isr.length === 2), 10_000, 'ISR [1,2] everywhere');
    await produceAll(brokers.map((b) => `127.0.0.1:${b.port}`), 'moving', 20);
    const before = store.partitionState('moving', 0)!;
    assert.equal(before.leader, 1);

    // Every broker records what its cache holds whenever it hears of a change of the partition.
    const seen: { broker: number; state: PartitionState; assignment: PartitionAssignment }[] = [];
    for (const b of brokers) {
      b.metadata.onChange((c) => {
        if ((c.kind === 'partition-state' && c.topic === 'moving') || (c.kind === 'topic-updated' && c.topic.name === 'moving')) {
          seen.push({ broker: b.nodeId, state: structuredClone(b.metadata.partitionState('moving', 0)!), assignment: structuredClone(b.metadata.topic('moving')!.partitions[0]!) });
        }
      });
    }

    // [1,2] -> [2,3]: broker 3 replicates the 20 records, the leader adds it to the ISR, the
    // controller finishes: leader 1 (removed) hands over to 2, ISR [2,3], replicas [2,3].
    assert.equal((await alterReassignment(brokers[1]!.port, 'moving', [2, 3])).errorCode, ErrorCode.NONE);
    const finished = (b: Broker) => {
      const a = b.metadata.topic('moving')!.partitions[0]!;
      return a.addingReplicas === undefined && a.replicas.join() === '2,3';
    };
    await waitFor(() => brokers.every(finished), 20_000, 'the reassignment finished on every broker');
    const after = store.partitionState('moving', 0)!;
    assert.equal(after.leader, 2);
    assert.equal(after.leaderEpoch, before.leaderEpoch + 1);
    assert.deepEqual([...after.isr].sort(), [2, 3]);

    // One transaction: both keys were last written at the same revision. (Two writes, state
    // first and replica list second, leave the topic record one revision or more ahead.)
    const revs = await modRevisions(store, 'moving', 0);
    assert.equal(revs.topic, revs.state, `topic record at revision ${revs.topic}, partition state at ${revs.state}`);

    // What the brokers heard: a state of the new epoch always with the final replica list, and
    // the final replica list always with that state; every ISR within the replica list.
    assert.ok(seen.some((s) => s.state.leaderEpoch === after.leaderEpoch), 'the finish was heard');
    for (const s of seen) {
      const final = s.assignment.addingReplicas === undefined && s.assignment.replicas.join() === '2,3';
      assert.equal(s.state.leaderEpoch === after.leaderEpoch, final, `broker ${s.broker} heard ${JSON.stringify(s)}`);
      for (const id of s.state.isr) assert.ok(s.assignment.replicas.includes(id), `broker ${s.broker} heard ISR member ${id} outside ${JSON.stringify(s.assignment)}`);
    }
    // The moved partition takes acks=all writes on its new replicas.
    await produceAll(brokers.map((b) => `127.0.0.1:${b.port}`), 'moving', 5);
    await waitFor(() => brokers[1]!.replicas.get('moving', 0)!.highWatermark === 25, 10_000, 'high watermark 25 on the new leader');
  });

  it('the store operation: compare-and-set on the state version, an aborted change writes nothing, a concurrent topic change survives', async () => {
    for (const id of [1, 2]) brokers.push(await startMember(etcd.endpoint, id));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 2), 10_000, 'two registrations');
    const store = brokers[0]!.metadata as EtcdMetadataStore;
    const other = brokers[1]!.metadata as EtcdMetadataStore;
    await brokers[0]!.topics.create({ name: 'both', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
    const s0 = store.partitionState('both', 0)!;
    const revs0 = await modRevisions(store, 'both', 0);
    const setReplicas = (replicas: number[]) => (record: TopicRecord) => {
      record.partitions[0]!.replicas = replicas;
      return record;
    };

    // Stale version: nothing written.
    assert.equal(await store.updatePartitionStateAndTopic('both', 0, { ...s0, isr: [1] }, s0.version + 1, setReplicas([1])), false);
    // The change aborts: nothing written.
    assert.equal(await store.updatePartitionStateAndTopic('both', 0, { ...s0, isr: [1] }, s0.version, () => undefined), false);
    assert.deepEqual(await modRevisions(store, 'both', 0), revs0);
    assert.deepEqual(store.topic('both')!.partitions[0]!.replicas, [1, 2]);

    // A topic config change through another broker first; the combined write keeps it (it
    // re-reads the record when its cached copy is behind).
    await other.updateTopicConfigs('both', { 'retention.ms': '12345' });
    assert.equal(await store.updatePartitionStateAndTopic('both', 0, { ...s0, isr: [2, 1] }, s0.version, setReplicas([2, 1])), true);
    for (const s of [store, other]) {
      await waitFor(() => s.partitionState('both', 0)!.version === s0.version + 1 && s.topic('both')!.partitions[0]!.replicas.join() === '2,1', 5000, `broker ${s === store ? 1 : 2} applied it`);
      assert.equal(s.topic('both')!.configs['retention.ms'], '12345');
    }
    const revs1 = await modRevisions(store, 'both', 0);
    assert.equal(revs1.topic, revs1.state);
  });

  it('an ISR member that is no replica is dropped by the controller at once, leader and epoch kept', async () => {
    for (const id of [1, 2, 3]) brokers.push(await startMember(etcd.endpoint, id));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 3 && b.metadata.controllerId() > 0), 10_000, 'three registrations and a controller');
    const store = brokers[0]!.metadata as EtcdMetadataStore;
    await brokers[0]!.topics.create({ name: 'stray', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
    await waitFor(() => store.partitionState('stray', 0)?.isr.length === 2, 10_000, 'ISR [1,2]');
    const s = store.partitionState('stray', 0)!;
    // What a leader of the two-write era could leave behind: broker 3 in the ISR, not a replica.
    assert.equal(await store.updatePartitionState('stray', 0, { ...s, isr: [...s.isr, 3] }, s.version), true);
    // Well under the controller's 5 s safety pass and the leader's lag check (30 s default).
    await waitFor(() => !store.partitionState('stray', 0)!.isr.includes(3), 3000, 'broker 3 dropped from the ISR');
    const now = store.partitionState('stray', 0)!;
    assert.deepEqual([...now.isr].sort(), [1, 2]);
    assert.equal(now.leader, s.leader);
    assert.equal(now.leaderEpoch, s.leaderEpoch);
    await produceAll(brokers.map((b) => `127.0.0.1:${b.port}`), 'stray', 3);
  });
});

describe('an ISR member that is no replica, without a controller (shared embedded store)', () => {
  const cluster = new InProcessCluster();
  before(async () => cluster.start([1, 2, 3]));
  after(async () => cluster.close());

  it('the leader drops it at its next lag check, and acks=all writes complete again', async () => {
    const topic = 'stray-embedded';
    const admin = kafkaFor(cluster, 'stray').admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }] });
    } finally {
      await admin.disconnect();
    }
    await waitFor(() => cluster.store.partitionState(topic, 0)?.isr.length === 2, 10_000, 'ISR [1,2]');
    const s = cluster.store.partitionState(topic, 0)!;
    assert.equal(await cluster.store.updatePartitionState(topic, 0, { ...s, isr: [...s.isr, 3] }, s.version), true);
    // Nobody else writes this store: only the leader can take it out (replica.lag.time.max.ms 1.5 s).
    await waitFor(() => !cluster.store.partitionState(topic, 0)!.isr.includes(3), 10_000, 'the leader dropped broker 3');
    const now = cluster.store.partitionState(topic, 0)!;
    assert.deepEqual([...now.isr].sort(), [1, 2]);
    assert.equal(now.leaderEpoch, s.leaderEpoch);
    const producer = kafkaFor(cluster, 'stray-p').producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, timeout: 5000, messages: [{ value: 'after' }] });
    } finally {
      await producer.disconnect();
    }
  });
});

describe('controller decision on an ISR member that is no replica', () => {
  it('drops it, keeping leader and epoch; a leader that is no replica is replaced', () => {
    const a = { partition: 0, replicas: [1, 2] };
    const live = new Set([1, 2, 3]);
    assert.deepEqual(decidePartition(a, { leader: 1, leaderEpoch: 4, isr: [1, 2, 3], version: 7 }, live, live, false), { leader: 1, leaderEpoch: 4, isr: [1, 2], version: 7 });
    assert.deepEqual(decidePartition(a, { leader: 3, leaderEpoch: 4, isr: [3, 2], version: 7 }, live, live, false), { leader: 2, leaderEpoch: 5, isr: [2], version: 7 });
  });
});
