// Replication (issue #11) with three brokers in this process sharing one metadata store: the
// test changes partition state through store.updatePartitionState, standing in for the
// controller. Real kafkajs clients over TCP; the replicas' segment files are compared byte for byte.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerConnection } from '../../src/cluster/broker-client.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { FetchResponse } from '../../src/protocol/gen/fetch.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import type { ProduceResponse } from '../../src/protocol/gen/produce.js';
import { consumeAll, InProcessCluster, kafkaFor, LAG_MS, logBytes, waitFor } from './replication-helpers.js';

const { Kafka, logLevel } = kafkajs;

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
    // A stopped replica left its committed high watermark in replication-offset-checkpoint.
    for (const id of followers) {
      const checkpoint = await readFile(join(cluster.dirs.get(id)!, 'replication-offset-checkpoint'), 'utf8');
      assert.ok(checkpoint.split('\n').includes(`${topic} 0 200`), checkpoint);
    }
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

