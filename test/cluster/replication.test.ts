// Replication (issue #11) with three brokers in this process sharing one metadata store: the
// test changes partition state through store.updatePartitionState, standing in for the
// controller. Real kafkajs clients over TCP; the replicas' segment files are compared byte for byte.
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerConnection } from '../../src/cluster/broker-client.js';
import { EmbeddedMetadataStore } from '../../src/cluster/embedded-store.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { FetchResponse } from '../../src/protocol/gen/fetch.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import type { ProduceResponse } from '../../src/protocol/gen/produce.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;

const LAG_MS = 1500;
const BROKER_CONFIG: Record<string, string> = {
  'replica.lag.time.max.ms': String(LAG_MS),
  'replica.fetch.wait.max.ms': '200',
  'replica.fetch.backoff.ms': '100',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
};

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Three brokers (ids 1..3) in this process on one shared embedded metadata store. */
class InProcessCluster {
  readonly running = new Map<number, RunningBroker>();
  readonly dirs = new Map<number, string>();
  store!: EmbeddedMetadataStore;
  storeDir!: string;

  constructor(private readonly extraConfig: Record<string, string> = {}) {}

  async start(ids: number[]): Promise<void> {
    this.storeDir = await tempDir('fjord-repl-store-');
    this.store = new EmbeddedMetadataStore(this.storeDir, ids[0]!);
    for (const id of ids) {
      this.dirs.set(id, await tempDir(`fjord-repl-${id}-`));
      await this.startBroker(id);
    }
  }

  async startBroker(id: number): Promise<RunningBroker> {
    const b = await startBroker({
      dataDir: this.dirs.get(id)!,
      port: 0,
      config: { ...BROKER_CONFIG, ...this.extraConfig, 'node.id': String(id) },
      metadataStore: this.store,
    });
    this.running.set(id, b);
    return b;
  }

  async stopBroker(id: number): Promise<void> {
    const b = this.running.get(id);
    this.running.delete(id);
    await b?.close();
  }

  bootstrap(): string[] {
    return [...this.running.values()].map((b) => b.bootstrap);
  }

  partition(id: number, topic: string, index = 0) {
    return this.running.get(id)!.broker.replicas.get(topic, index)!;
  }

  /** The controller's part: a new leader (epoch + 1) and ISR, by compare-and-set. */
  async electLeader(topic: string, leader: number, isr: number[], index = 0): Promise<void> {
    for (;;) {
      const s = this.store.partitionState(topic, index)!;
      const ok = await this.store.updatePartitionState(topic, index, { leader, leaderEpoch: s.leaderEpoch + 1, isr, version: s.version }, s.version);
      if (ok) return;
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.stopBroker(id);
    for (const d of [...this.dirs.values(), this.storeDir]) await rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/** Every .log segment of the partition directory, concatenated in offset order. */
async function logBytes(dataDir: string, topic: string, index = 0): Promise<Buffer> {
  const dir = join(dataDir, `${topic}-${index}`);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  return Buffer.concat(await Promise.all(names.map((n) => readFile(join(dir, n)))));
}

function kafkaFor(cluster: InProcessCluster, clientId: string, retries = 8) {
  return new Kafka({ clientId, brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 } });
}

async function consumeAll(cluster: InProcessCluster, topic: string, expected: number): Promise<string[]> {
  const kafka = kafkaFor(cluster, `reader-${topic}`);
  const consumer = kafka.consumer({ groupId: `g-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(`${expected} records of ${topic}`, () => seen.length >= expected, 20_000);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('replication (three brokers, shared metadata store)', () => {
  const cluster = new InProcessCluster();
  before(async () => cluster.start([1, 2, 3]));
  after(async () => cluster.close());

  it('acks=all on RF=3: every replica holds byte-identical logs, consumers see only up to the high watermark', async () => {
    const topic = 'repl-identical';
    const kafka = kafkaFor(cluster, 'identical');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const leader = cluster.store.partitionState(topic, 0)!.leader;
    const producer = kafka.producer();
    await producer.connect();
    const followerIds = [1, 2, 3].filter((id) => id !== leader);
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i}`, value: `v${i * 10 + j}` })) });
      // Durability default: acknowledged means fsynced on every ISR replica, not only received.
      for (const id of followerIds) assert.ok(cluster.partition(id, topic).log.recoveryPoint >= (i + 1) * 10, `follower ${id} acknowledged data it had not fsynced`);
    }
    // acks=all completed: the leader's high watermark covers all 200 records.
    assert.equal(cluster.partition(leader, topic).highWatermark, 200);
    for (const id of [1, 2, 3]) {
      await waitFor(`replica ${id} at 200`, () => cluster.partition(id, topic).log.logEndOffset === 200 && cluster.partition(id, topic).highWatermark === 200);
    }
    await Promise.all([1, 2, 3].map((id) => cluster.partition(id, topic).log.flush()));
    const bytes = await Promise.all([1, 2, 3].map((id) => logBytes(cluster.dirs.get(id)!, topic)));
    assert.ok(bytes[0]!.length > 0);
    assert.ok(bytes[0]!.equals(bytes[1]!) && bytes[0]!.equals(bytes[2]!), 'replica logs differ');
    const epochs = [1, 2, 3].map((id) => cluster.partition(id, topic).log.leaderEpochCache.format());
    assert.equal(new Set(epochs).size, 1);

    // High-watermark gating: with both followers gone, acks=1 records land on the leader only;
    // until the ISR shrinks they stay invisible to consumers.
    const followers = [1, 2, 3].filter((id) => id !== leader);
    for (const id of followers) await cluster.stopBroker(id);
    const direct = new Kafka({ clientId: 'gating', brokers: [cluster.running.get(leader)!.bootstrap], logLevel: logLevel.NOTHING });
    const p1 = direct.producer();
    await p1.connect();
    await p1.send({ topic, acks: 1, messages: [{ value: 'above-hw' }] });
    const lp = cluster.partition(leader, topic);
    assert.equal(lp.log.logEndOffset, 201);
    assert.equal(lp.highWatermark, 200);
    const offsets = await direct.admin().fetchTopicOffsets(topic);
    assert.equal(offsets[0]!.high, '200');
    // After replica.lag.time.max.ms the ISR is the leader alone and the HW catches up.
    await waitFor('ISR shrink to the leader', () => cluster.store.partitionState(topic, 0)!.isr.length === 1);
    await waitFor('HW 201', () => lp.highWatermark === 201);
    await p1.disconnect();
    for (const id of followers) await cluster.startBroker(id);
    await waitFor('ISR back to 3', () => cluster.store.partitionState(topic, 0)!.isr.length === 3, 20_000);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('min.insync.replicas=2: writes continue with one follower down, NOT_ENOUGH_REPLICAS with two, catch-up after restart', async () => {
    const topic = 'repl-minisr';
    const kafka = kafkaFor(cluster, 'minisr');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const leader = cluster.store.partitionState(topic, 0)!.leader;
    const [f1, f2] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'a0' }] });

    await cluster.stopBroker(f1);
    const started = Date.now();
    await producer.send({ topic, acks: -1, messages: [{ value: 'a1' }] }); // completes once f1 leaves the ISR
    assert.ok(Date.now() - started < LAG_MS * 4);
    assert.deepEqual(cluster.store.partitionState(topic, 0)!.isr, [leader, f2].sort());

    await cluster.stopBroker(f2);
    const strict = new Kafka({ clientId: 'minisr-strict', brokers: [cluster.running.get(leader)!.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const p2 = strict.producer({ retry: { retries: 0 } });
    await p2.connect();
    // Waiting for an ISR member that is gone: after the shrink the append is answered
    // NOT_ENOUGH_REPLICAS_AFTER_APPEND, and later produce requests NOT_ENOUGH_REPLICAS.
    const codes: string[] = [];
    for (const value of ['lost-1', 'lost-2']) {
      try {
        await p2.send({ topic, acks: -1, timeout: 10_000, messages: [{ value }] });
        codes.push('NONE');
      } catch (err) {
        const e = err as { type?: string; cause?: { type?: string } };
        codes.push(e.cause?.type ?? e.type ?? String(err));
      }
    }
    assert.deepEqual(codes, ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'NOT_ENOUGH_REPLICAS']);
    await p2.disconnect();

    // The followers come back, catch up from their logs on disk and rejoin the ISR.
    await cluster.startBroker(f1);
    await cluster.startBroker(f2);
    await waitFor('ISR back to 3', () => cluster.store.partitionState(topic, 0)!.isr.length === 3, 20_000);
    await producer.send({ topic, acks: -1, messages: [{ value: 'a2' }] });
    const end = cluster.partition(leader, topic).log.logEndOffset;
    for (const id of [f1, f2]) await waitFor(`replica ${id} caught up`, () => cluster.partition(id, topic).log.logEndOffset === end);
    const seen = await consumeAll(cluster, topic, 4);
    // lost-1 was appended (the leader kept it; acks=all failed after the append), lost-2 never was.
    assert.deepEqual(seen, ['a0', 'a1', 'lost-1', 'a2']);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('leader change: the old leader truncates its divergent tail (OffsetForLeaderEpoch) and clients re-route', async () => {
    const topic = 'repl-diverge';
    const kafka = kafkaFor(cluster, 'diverge', 15);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    const old = cluster.store.partitionState(topic, 0)!.leader;
    const [next, third] = [1, 2, 3].filter((id) => id !== old) as [number, number];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 5 }, (_, i) => ({ value: `c${i}` })) });
    for (const id of [next, third]) await waitFor(`replica ${id} at 5`, () => cluster.partition(id, topic).log.logEndOffset === 5);

    // The followers go down; the old leader takes acks=1 writes nobody else has (its divergent tail).
    await cluster.stopBroker(next);
    await cluster.stopBroker(third);
    const direct = new Kafka({ clientId: 'diverge-direct', brokers: [cluster.running.get(old)!.bootstrap], logLevel: logLevel.NOTHING });
    const p1 = direct.producer();
    await p1.connect();
    await p1.send({ topic, acks: 1, messages: [{ value: 'divergent-1' }, { value: 'divergent-2' }] });
    await p1.disconnect();
    assert.equal(cluster.partition(old, topic).log.logEndOffset, 7);

    // The controller elects `next` (epoch 1). The old leader follows it at once; `next` starts.
    await cluster.electLeader(topic, next, [old, next].sort());
    await waitFor('old leader is a follower', () => !cluster.partition(old, topic).isLeader);
    // KIP-951: the old leader's NOT_LEADER_OR_FOLLOWER names the new leader and its endpoint.
    const conn = await BrokerConnection.open('127.0.0.1', cluster.running.get(old)!.port, { clientId: 'kip-951', timeoutMs: 5000 });
    try {
      const topicId = cluster.store.topic(topic)!.topicId;
      const produced = await conn.request<ProduceResponse>(ApiKey.Produce, 10, {
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: Buffer.alloc(0) }] }],
      });
      const pr = produced.responses[0]!.partitionResponses[0]!;
      assert.equal(pr.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(pr.currentLeader, { leaderId: next, leaderEpoch: 1 });
      assert.deepEqual(produced.nodeEndpoints.map((e) => e.nodeId), [next]);
      const fetched = await conn.request<FetchResponse>(ApiKey.Fetch, 16, {
        replicaState: { replicaId: -1, replicaEpoch: -1 },
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1024,
        topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
      });
      const fr = fetched.responses[0]!.partitions[0]!;
      assert.equal(fr.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(fr.currentLeader, { leaderId: next, leaderEpoch: 1 });
      assert.deepEqual(fetched.nodeEndpoints.map((e) => e.nodeId), [next]);
    } finally {
      conn.close();
    }
    await cluster.startBroker(next);
    await waitFor('old leader truncated to 5', () => cluster.partition(old, topic).log.logEndOffset === 5);
    // The producer created before the change still has the old leader: it gets
    // NOT_LEADER_OR_FOLLOWER (naming the new leader), re-routes and succeeds.
    await producer.send({ topic, acks: -1, messages: [{ value: 'd0' }, { value: 'd1' }] });
    await waitFor('old leader caught up', () => cluster.partition(old, topic).log.logEndOffset === 7 && cluster.partition(old, topic).highWatermark === 7);
    await cluster.startBroker(third);
    await waitFor('third replica caught up', () => cluster.partition(third, topic).log.logEndOffset === 7);
    await Promise.all([1, 2, 3].map((id) => cluster.partition(id, topic).log.flush()));
    const bytes = await Promise.all([1, 2, 3].map((id) => logBytes(cluster.dirs.get(id)!, topic)));
    assert.ok(bytes[0]!.equals(bytes[1]!) && bytes[1]!.equals(bytes[2]!), 'replica logs differ after truncation');
    assert.equal(cluster.partition(old, topic).log.leaderEpochCache.format(), '0\n2\n0 0\n1 5\n');
    const seen = await consumeAll(cluster, topic, 7);
    assert.deepEqual(seen, ['c0', 'c1', 'c2', 'c3', 'c4', 'd0', 'd1']);
    await producer.disconnect();
    await admin.disconnect();
  });
});

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
