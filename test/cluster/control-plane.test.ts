// The etcd control plane with real processes: a real etcd, three `fjord broker --etcd` child
// processes, real clients (kafkajs admin, kcat -L, Metadata v12 for leader epochs).
// Membership and controller, placement (leaders spread, RF > live brokers refused), failover
// after kill -9 of a leader (new leader from the ISR, epoch bumped, within the lease TTL),
// controller failover, and a restarted broker registering again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { waitFor } from '../helpers/broker.js';
import { disposeChildren, metadataV12, partitionsOf, spawnClusterBroker, type ClusterChild } from './control-helpers.js';

const run = promisify(execFile);

describe('etcd control plane (3 broker processes)', () => {
  let etcd: EtcdProcess;
  const children: ClusterChild[] = [];
  const live = () => children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
  const admin = (port: number) => new Kafka({ clientId: 'ctl-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();

  before(async () => {
    etcd = await startEtcd();
    for (const id of [1, 2, 3]) children.push(await spawnClusterBroker(etcd.endpoint, id));
  });

  after(async () => {
    await disposeChildren(children);
    await etcd?.stop();
  });

  it('registers every broker and elects one controller; Metadata, DescribeCluster and kcat -L show them', async () => {
    // Until an election finishes each broker names itself (admin requests work anywhere), so
    // "a controller" means every broker naming the same one.
    const md = (await waitFor(async () => {
      const m = await metadataV12(children[0]!.port, []);
      if (m.brokers.length !== 3) return undefined;
      for (const c of children) if ((await metadataV12(c.port, [])).controllerId !== m.controllerId) return undefined;
      return m;
    }, 10_000, 'three brokers and one controller all agree on'))!;
    assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    assert.ok([1, 2, 3].includes(md.controllerId));

    const a = admin(children[1]!.port);
    await a.connect();
    try {
      const cluster = await a.describeCluster();
      assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
      assert.equal(cluster.controller, md.controllerId);
    } finally {
      await a.disconnect();
    }

    const { stdout } = await run('kcat', ['-b', `127.0.0.1:${children[2]!.port}`, '-L'], { timeout: 10_000 });
    assert.match(stdout, /3 brokers:/);
    for (const c of children) assert.match(stdout, new RegExp(`broker ${c.nodeId} at 127\\.0\\.0\\.1:${c.port}`));
    assert.match(stdout, /\(controller\)/);
  });

  it('CreateTopics with RF=3 spreads replicas and leaders; RF=4 on 3 brokers is INVALID_REPLICATION_FACTOR', async () => {
    const a = admin(children[0]!.port);
    await a.connect();
    try {
      assert.equal(await a.createTopics({ topics: [{ topic: 'spread', numPartitions: 6, replicationFactor: 3 }], waitForLeaders: false }), true);
      const parts = (await waitFor(async () => {
        const p = await partitionsOf(children[2]!.port, 'spread');
        return p.length === 6 ? p : undefined;
      }, 10_000, 'topic visible on another broker'))!;
      const leaders = new Map<number, number>();
      for (const p of parts) {
        assert.equal(p.replicaNodes.length, 3);
        assert.deepEqual([...p.replicaNodes].sort(), [1, 2, 3]);
        assert.deepEqual([...p.isrNodes].sort(), [1, 2, 3]);
        assert.equal(p.leaderId, p.replicaNodes[0]);
        assert.equal(p.leaderEpoch, 0);
        leaders.set(p.leaderId, (leaders.get(p.leaderId) ?? 0) + 1);
      }
      assert.deepEqual([...leaders.values()], [2, 2, 2], `leaders ${JSON.stringify([...leaders])}`);

      await assert.rejects(
        a.createTopics({ topics: [{ topic: 'too-wide', numPartitions: 1, replicationFactor: 4 }] }),
        (err: any) => err.errors?.[0]?.type === 'INVALID_REPLICATION_FACTOR' || /INVALID_REPLICATION_FACTOR|replication factor/i.test(String(err.errors?.[0]?.message ?? err.message)),
      );
      assert.equal((await partitionsOf(children[0]!.port, 'too-wide')).length, 0);

      // default.replication.factor applies to RF -1 (kafkajs sends -1 when not given): 1 here.
      await a.createTopics({ topics: [{ topic: 'one-replica', numPartitions: 3 }] });
      const single = (await waitFor(async () => {
        const p = await partitionsOf(children[1]!.port, 'one-replica');
        return p.length === 3 ? p : undefined;
      }))!;
      assert.deepEqual(single.map((p) => p.replicaNodes.length), [1, 1, 1]);
    } finally {
      await a.disconnect();
    }
  });

  it('kill -9 of a leader: its partitions get a new leader from the ISR with a bumped epoch within the lease TTL', async () => {
    const before = await partitionsOf(children[0]!.port, 'spread');
    const md = await metadataV12(children[0]!.port, []);
    // Kill a broker that is not the controller (controller failover has its own test).
    const victim = children.find((c) => c.nodeId !== md.controllerId)!;
    const led = before.filter((p) => p.leaderId === victim.nodeId);
    assert.ok(led.length > 0);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const observer = live()[0]!;
    const after = (await waitFor(async () => {
      const p = await partitionsOf(observer.port, 'spread');
      return p.length === 6 && p.every((x) => x.leaderId !== victim.nodeId && x.leaderId >= 0 && !x.isrNodes.includes(victim.nodeId)) ? p : undefined;
    }, 15_000, 'new leaders for the killed broker\'s partitions'))!;
    const tookMs = Date.now() - killedAt;
    // Lease TTL is 2 s; etcd checks expiry every ~0.5 s; allow scheduling slack on a loaded machine.
    assert.ok(tookMs < 8000, `failover took ${tookMs} ms`);
    for (const p of after) {
      const old = before.find((x) => x.partitionIndex === p.partitionIndex)!;
      if (old.leaderId === victim.nodeId) {
        assert.equal(p.leaderEpoch, old.leaderEpoch + 1, `partition ${p.partitionIndex} epoch`);
        // First live ISR member in replica order.
        assert.equal(p.leaderId, old.replicaNodes.find((r) => r !== victim.nodeId));
      } else {
        assert.equal(p.leaderId, old.leaderId);
        assert.equal(p.leaderEpoch, old.leaderEpoch);
      }
      assert.deepEqual([...p.isrNodes].sort(), old.isrNodes.filter((r) => r !== victim.nodeId).sort());
    }
    // The dead broker left Metadata's broker list.
    assert.deepEqual((await metadataV12(observer.port, [])).brokers.map((b) => b.nodeId).sort(), [1, 2, 3].filter((n) => n !== victim.nodeId));

    // Its single-replica partition has no one to fail over to: offline, ISR kept, LEADER_NOT_AVAILABLE.
    const lonely = (await partitionsOf(observer.port, 'one-replica')).find((p) => p.replicaNodes[0] === victim.nodeId)!;
    assert.equal(lonely.leaderId, -1);
    assert.equal(lonely.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
    assert.deepEqual(lonely.isrNodes, [victim.nodeId]);
    assert.deepEqual(lonely.offlineReplicas, [victim.nodeId]);

    // It comes back under the same node id and data dir: registered again (ISR rejoin is replication's
    // job), and the partition it alone holds leads again from it.
    const idx = children.indexOf(victim);
    children[idx] = await spawnClusterBroker(etcd.endpoint, victim.nodeId, { dataDir: victim.dataDir });
    await waitFor(async () => (await metadataV12(observer.port, [])).brokers.length === 3, 15_000, 'the restarted broker registered');
    const back = (await waitFor(async () => {
      const p = (await partitionsOf(observer.port, 'one-replica')).find((x) => x.partitionIndex === lonely.partitionIndex);
      return p && p.leaderId === victim.nodeId ? p : undefined;
    }, 10_000, 'the single-replica partition back online'))!;
    assert.equal(back.leaderEpoch, lonely.leaderEpoch + 1);
    assert.equal(back.errorCode, ErrorCode.NONE);
  });

  it('kill -9 of the controller: another broker is elected', async () => {
    const first = (await metadataV12(children[0]!.port, [])).controllerId;
    const controller = children.find((c) => c.nodeId === first)!;
    await controller.kill('SIGKILL');
    const other = live()[0]!;
    const next = await waitFor(async () => {
      const ids = new Set<number>();
      for (const c of live()) ids.add((await metadataV12(c.port, [])).controllerId);
      const [id] = ids;
      return ids.size === 1 && id! > 0 && id !== first ? id : undefined;
    }, 15_000, 'a new controller every live broker agrees on');
    assert.ok(live().some((c) => c.nodeId === next));
    // The new controller does the controller's work: the old controller's leaderships moved.
    await waitFor(async () => {
      const p = await partitionsOf(other.port, 'spread');
      return p.length === 6 && p.every((x) => x.leaderId !== first && x.leaderId >= 0);
    }, 15_000, 'leaders moved off the dead controller');
  });
});
