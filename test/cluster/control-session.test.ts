// The etcd control plane, in-process brokers against a real etcd: start-up errors (etcd
// unreachable, another cluster id), rack-aware placement, ElectLeaders (preferred and unclean)
// over the wire, automatic preferred-leader rebalance, controlled shutdown moving leadership
// before the broker leaves, and fencing: the session goes dead when etcd does and comes back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Broker } from '../../src/broker/broker.js';
import { decidePartition } from '../../src/cluster/controller.js';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import type { EtcdMetadataStore } from '../../src/cluster/etcd-store.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { fjordCommand, freePort, repoRoot, tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { FAST_SESSION, alterReassignment, partitionsOf } from './control-helpers.js';

const run = promisify(execFile);

async function startMember(etcd: string, nodeId: number, config: Record<string, string> = {}, clusterId?: string): Promise<Broker> {
  const dataDir = await tempDir(`fjord-ctl-in-${nodeId}-`);
  return Broker.start({
    dataDir,
    port: 0,
    clusterId,
    config: { 'node.id': String(nodeId), 'fjord.etcd.endpoints': etcd, ...FAST_SESSION, ...config },
  });
}

async function stopAll(brokers: Broker[]): Promise<void> {
  for (const b of brokers.splice(0)) {
    await b.close().catch(() => undefined);
    await rm(b.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

async function electLeaders(port: number, electionType: number, topic: string, partitions: number[]) {
  const client = await RawClient.open(port);
  try {
    client.request(ApiKey.ElectLeaders, 2, 7, { electionType, topicPartitions: [{ topic, partitions }], timeoutMs: 10_000 });
    const res = await client.response(ApiKey.ElectLeaders, 2);
    return res!.body.replicaElectionResults[0].partitionResult as { partitionId: number; errorCode: number }[];
  } finally {
    client.socket.destroy();
  }
}

/** The ISR expansion replication would do once the returning broker catches up, as a CAS. */
async function putBackInIsr(store: EtcdMetadataStore, topic: string, partition: number, nodeId: number): Promise<void> {
  for (;;) {
    const s = store.partitionState(topic, partition)!;
    if (s.isr.includes(nodeId)) return;
    if (await store.updatePartitionState(topic, partition, { ...s, isr: [...s.isr, nodeId] }, s.version)) return;
  }
}

describe('etcd start-up errors', () => {
  it('etcd unreachable: fjord broker exits non-zero within seconds, naming the endpoint', async () => {
    const port = await freePort();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const dir = await tempDir();
    const { cmd, args } = fjordCommand();
    const started = Date.now();
    try {
      await assert.rejects(
        run(cmd, [...args, 'broker', '--node-id', '1', '--listen', `127.0.0.1:${port}`, '--data-dir', dir, '--etcd', dead], { cwd: repoRoot, timeout: 20_000 }),
        (err: any) => {
          assert.equal(err.code, 1, `exit code, stderr: ${err.stderr}`);
          assert.match(err.stderr, new RegExp(`cannot reach etcd at ${dead.replace(/[./]/g, '\\$&')}`));
          assert.doesNotMatch(err.stderr, /\n\s+at /, 'a message, not a stack trace');
          return true;
        },
      );
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to join an etcd that holds another cluster id', async () => {
    const etcd = await startEtcd();
    const brokers: Broker[] = [];
    try {
      brokers.push(await startMember(etcd.endpoint, 1, {}, 'FjordClusterAAAAAAAAAA'));
      assert.equal(brokers[0]!.clusterId, 'FjordClusterAAAAAAAAAA');
      await assert.rejects(startMember(etcd.endpoint, 2, {}, 'OtherClusterBBBBBBBBBB'), /holds cluster FjordClusterAAAAAAAAAA, not the requested cluster id OtherClusterBBBBBBBBBB/);
      // Without --cluster-id a broker joins whatever cluster etcd holds.
      brokers.push(await startMember(etcd.endpoint, 3));
      assert.equal(brokers[1]!.clusterId, 'FjordClusterAAAAAAAAAA');
    } finally {
      await stopAll(brokers);
      await etcd.stop();
    }
  });
});

describe('controller decisions', () => {
  const a = { partition: 0, replicas: [1, 2, 3] };
  const s = (leader: number, isr: number[], leaderEpoch = 4) => ({ leader, leaderEpoch, isr, version: 9 });
  it('elects the first live ISR member in replica order, bumps the epoch, drops the dead from the ISR', () => {
    assert.deepEqual(decidePartition(a, s(1, [1, 3, 2]), new Set([2, 3]), new Set([2, 3]), false), { leader: 2, leaderEpoch: 5, isr: [3, 2], version: 9 });
  });
  it('keeps leader and epoch when only a follower died', () => {
    assert.deepEqual(decidePartition(a, s(1, [1, 2, 3]), new Set([1, 3]), new Set([1, 3]), false), { leader: 1, leaderEpoch: 4, isr: [1, 3], version: 9 });
    assert.equal(decidePartition(a, s(1, [1, 2, 3]), new Set([1, 2, 3]), new Set([1, 2, 3]), false), undefined);
  });
  it('no live ISR member: offline (leader -1, ISR kept) unless unclean election is enabled', () => {
    assert.deepEqual(decidePartition(a, s(1, [1]), new Set([2, 3]), new Set([2, 3]), false), { leader: -1, leaderEpoch: 5, isr: [1], version: 9 });
    assert.deepEqual(decidePartition(a, s(1, [1]), new Set([2, 3]), new Set([2, 3]), true), { leader: 2, leaderEpoch: 5, isr: [2], version: 9 });
    // Back from offline when an ISR member returns.
    assert.deepEqual(decidePartition(a, s(-1, [1], 5), new Set([1, 2]), new Set([1, 2]), false), { leader: 1, leaderEpoch: 6, isr: [1], version: 9 });
  });
  it('a leader in controlled shutdown hands over; as the last ISR member it keeps leading', () => {
    assert.deepEqual(decidePartition(a, s(1, [1, 2]), new Set([2, 3]), new Set([1, 2, 3]), false), { leader: 2, leaderEpoch: 5, isr: [2], version: 9 });
    assert.equal(decidePartition(a, s(1, [1]), new Set([2, 3]), new Set([1, 2, 3]), false), undefined);
  });
});

describe('etcd cluster of in-process brokers', () => {
  let etcd: EtcdProcess;
  const brokers: Broker[] = [];
  before(async () => {
    etcd = await startEtcd();
  });
  afterEach(async () => {
    await stopAll(brokers);
  });
  after(async () => {
    await etcd?.stop();
  });

  it('places replicas rack-aware: every partition spans both racks, leaders spread evenly', async () => {
    for (const [id, rack] of [[1, 'a'], [2, 'a'], [3, 'b'], [4, 'b']] as const) brokers.push(await startMember(etcd.endpoint, id, { 'broker.rack': rack }));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 4), 10_000, 'four registrations');
    const rackOf = new Map(brokers[0]!.metadata.brokers().map((b) => [b.nodeId, b.rack]));
    assert.deepEqual([...rackOf.values()], ['a', 'a', 'b', 'b']);
    await brokers[2]!.topics.create({ name: 'racked', numPartitions: 8, replicationFactor: 2 });
    const leaders = new Map<number, number>();
    for (const p of brokers[0]!.metadata.topic('racked')!.partitions) {
      assert.equal(new Set(p.replicas.map((r) => rackOf.get(r))).size, 2, `partition ${p.partition}: ${p.replicas}`);
      leaders.set(p.replicas[0]!, (leaders.get(p.replicas[0]!) ?? 0) + 1);
    }
    assert.deepEqual([...leaders.values()], [2, 2, 2, 2]);
  });

  it('ElectLeaders and the automatic rebalance move leadership back to the preferred replica', async () => {
    const cfg = { 'leader.imbalance.check.interval.seconds': '1' };
    for (const id of [1, 2, 3]) brokers.push(await startMember(etcd.endpoint, id, { ...cfg, 'auto.leader.rebalance.enable': id === 1 ? 'true' : 'false' }));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 3), 10_000, 'three registrations');
    const store = brokers[0]!.metadata as EtcdMetadataStore;
    await brokers[0]!.topics.create({ name: 'pref', numPartitions: 3, replicationFactor: 3 });
    // Broker 3 leaves (controlled shutdown): its partition moves to the next ISR member.
    const three = brokers.pop()!;
    const dir3 = three.dataDir;
    const p3 = store.topic('pref')!.partitions.find((p) => p.replicas[0] === 3)!.partition;
    await three.close();
    await waitFor(() => store.partitionState('pref', p3)!.leader !== 3 && store.brokers().length === 2, 10_000, 'leader moved off broker 3');
    const moved = store.partitionState('pref', p3)!;
    assert.ok(!moved.isr.includes(3));

    // Unclean election over the wire: not needed, the partition has a live leader.
    const port = brokers[1]!.port;
    assert.deepEqual((await electLeaders(port, 1, 'pref', [p3])).map((r) => r.errorCode), [ErrorCode.ELECTION_NOT_NEEDED]);
    // Preferred election while broker 3 is away: not available.
    assert.deepEqual((await electLeaders(port, 0, 'pref', [p3])).map((r) => r.errorCode), [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]);

    // Broker 3 returns and (as replication would) rejoins the ISR. Broker 1 is the only one with
    // auto rebalance on; if it is the controller, the rebalance moves the leader back by itself.
    brokers.push(await Broker.start({ dataDir: dir3, port: 0, config: { 'node.id': '3', 'fjord.etcd.endpoints': etcd.endpoint, ...FAST_SESSION, 'auto.leader.rebalance.enable': 'false' } }));
    await putBackInIsr(store, 'pref', p3, 3);
    if (store.controllerId() === 1) {
      await waitFor(() => store.partitionState('pref', p3)!.leader === 3, 10_000, 'automatic preferred-leader rebalance');
      assert.equal(store.partitionState('pref', p3)!.leaderEpoch, moved.leaderEpoch + 1);
      // Now there is nothing to elect.
      assert.deepEqual((await electLeaders(port, 0, 'pref', [p3])).map((r) => r.errorCode), [ErrorCode.ELECTION_NOT_NEEDED]);
    } else {
      const results = await electLeaders(port, 0, 'pref', [p3, 99]);
      assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
      await waitFor(() => store.partitionState('pref', p3)!.leader === 3, 5000, 'preferred leader elected');
      assert.equal(store.partitionState('pref', p3)!.leaderEpoch, moved.leaderEpoch + 1);
    }
    const md = await partitionsOf(brokers[0]!.port, 'pref');
    assert.equal(md.find((p) => p.partitionIndex === p3)!.leaderId, 3);
  });

  it('partition reassignment: recorded, listed, finished once the new replica is in the ISR; cancel restores', async () => {
    for (const id of [1, 2, 3]) brokers.push(await startMember(etcd.endpoint, id));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 3), 10_000, 'three registrations');
    const store = brokers[0]!.metadata as EtcdMetadataStore;
    await brokers[0]!.topics.create({ name: 'moving', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
    const port = brokers[1]!.port;
    const alter = (replicas: number[] | null, allowReplicationFactorChange = true) => alterReassignment(port, 'moving', replicas, allowReplicationFactorChange);
    const list = async () => {
      const c = await RawClient.open(port);
      try {
        c.request(ApiKey.ListPartitionReassignments, 0, 4, { timeoutMs: 10_000, topics: null });
        return (await c.response(ApiKey.ListPartitionReassignments, 0))!.body.topics as { name: string; partitions: { replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[] }[];
      } finally {
        c.socket.destroy();
      }
    };
    assert.equal((await alter(null)).errorCode, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
    assert.equal((await alter([2, 9])).errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.equal((await alter([2], false)).errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);

    // Move [1,2] -> [2,3]: 3 is added, 1 removed; leader 1 must hand over once 3 caught up.
    assert.equal((await alter([2, 3])).errorCode, ErrorCode.NONE);
    const listed = await waitFor(async () => ((await list()).length ? await list() : undefined), 5000, 'listed reassignment');
    assert.deepEqual(listed![0]!.partitions[0], { partitionIndex: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] });
    // Not finished while 3 is outside the ISR.
    await waitFor(() => store.topic('moving')!.partitions[0]!.replicas.length === 3, 5000, 'reassignment reaches broker 1');
    assert.deepEqual(store.topic('moving')!.partitions[0]!.replicas, [2, 3, 1]);
    const before = store.partitionState('moving', 0)!;
    await putBackInIsr(store, 'moving', 0, 3); // what the leader's ISR expansion does once 3 caught up
    await waitFor(() => store.topic('moving')!.partitions[0]!.addingReplicas === undefined, 10_000, 'reassignment finished');
    assert.deepEqual(store.topic('moving')!.partitions[0]!.replicas, [2, 3]);
    const after = store.partitionState('moving', 0)!;
    assert.equal(after.leader, 2);
    assert.equal(after.leaderEpoch, before.leaderEpoch + 1);
    assert.deepEqual([...after.isr].sort(), [2, 3]);
    assert.deepEqual(await list(), []);
    assert.equal((await partitionsOf(brokers[2]!.port, 'moving'))[0]!.leaderId, 2);

    // Start another one and cancel it: back to the replicas before it.
    assert.equal((await alter([1, 3])).errorCode, ErrorCode.NONE);
    await waitFor(async () => (await list()).length === 1, 5000, 'second reassignment listed');
    assert.equal((await alter(null)).errorCode, ErrorCode.NONE);
    // The original replicas come back (in their order within the merged list, as Kafka reverts).
    // Broker 1's view of etcd follows the cancel (written through broker 2) by a watch event.
    await waitFor(() => store.topic('moving')!.partitions[0]!.replicas.length === 2, 5000, 'cancel reaches broker 1');
    assert.deepEqual([...store.topic('moving')!.partitions[0]!.replicas].sort(), [2, 3]);
    await waitFor(async () => (await list()).length === 0, 5000, 'cancelled reassignment no longer listed');

    // Dropping a replica needs no catch-up: done at once.
    assert.equal((await alter([3])).errorCode, ErrorCode.NONE);
    await waitFor(() => store.topic('moving')!.partitions[0]!.replicas.length === 1, 5000, 'shrunk to one replica');
    await waitFor(() => store.partitionState('moving', 0)!.leader === 3, 5000, 'leader on the remaining replica');
    assert.deepEqual(store.partitionState('moving', 0)!.isr, [3]);
  });

  it('controlled shutdown moves every leadership away before the broker leaves the cluster', async () => {
    for (const id of [1, 2, 3]) brokers.push(await startMember(etcd.endpoint, id));
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 3), 10_000, 'three registrations');
    const watcher = brokers[0]!.metadata as EtcdMetadataStore;
    await brokers[0]!.topics.create({ name: 'handover', numPartitions: 6, replicationFactor: 3 });
    const leaving = brokers[2]!;
    const led = watcher.topic('handover')!.partitions.filter((p) => watcher.partitionState('handover', p.partition)!.leader === leaving.nodeId);
    assert.equal(led.length, 2);
    // When the registration disappears, nothing may still be led by the leaving broker.
    let ledAtDeparture = -1;
    watcher.onChange((c) => {
      if (c.kind !== 'brokers-changed' || ledAtDeparture >= 0 || watcher.brokers().some((b) => b.nodeId === leaving.nodeId)) return;
      ledAtDeparture = watcher.topic('handover')!.partitions.filter((p) => watcher.partitionState('handover', p.partition)!.leader === leaving.nodeId).length;
    });
    await leaving.close();
    brokers.splice(2, 1);
    await rm(leaving.dataDir, { recursive: true, force: true });
    await waitFor(() => ledAtDeparture >= 0, 5000, 'the departure seen');
    assert.equal(ledAtDeparture, 0);
    for (const p of led) {
      const s = watcher.partitionState('handover', p.partition)!;
      assert.equal(s.leaderEpoch, 1);
      assert.ok(!s.isr.includes(leaving.nodeId));
    }
  });

  it('fencing: the session dies with etcd within the lease TTL and comes back with it', async () => {
    brokers.push(await startMember(etcd.endpoint, 1));
    const store = brokers[0]!.metadata as EtcdMetadataStore;
    await waitFor(() => store.controllerId() === 1, 10_000, 'controller elected');
    assert.equal(store.sessionAlive(), true);
    await etcd.kill();
    const cut = Date.now();
    await waitFor(() => !store.sessionAlive(), 10_000, 'session declared dead');
    // Dead no later than the lease TTL (2 s) after the last renewal, plus scheduling slack.
    assert.ok(Date.now() - cut < 3500, `session still alive ${Date.now() - cut} ms after etcd died`);
    await etcd.restart();
    await waitFor(() => store.sessionAlive(), 20_000, 'session back');
    await waitFor(() => store.brokers().some((b) => b.nodeId === 1) && store.controllerId() === 1, 20_000, 'registered and controller again');
  });
});
