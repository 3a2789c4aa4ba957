// The classic group protocol with hand-made requests: error codes for out-of-order and malformed
// group requests, static membership (KIP-345), session expiry, batched FindCoordinator /
// LeaveGroup / OffsetFetch, list filters, OffsetDelete, and the records in __consumer_offsets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeCoordinatorRecord } from '../../src/coordinator/group/records.js';
import { CONSUMER_OFFSETS_TOPIC as OFFSETS_TOPIC } from '../../src/coordinator/runtime/internal-topics.js';
import { javaStringHashCode, partitionForKey as partitionForGroup } from '../../src/coordinator/runtime/placement.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeConsumerProtocolSubscription } from '../../src/protocol/gen/consumer-protocol-subscription.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { Writer } from '../../src/protocol/primitives.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { RawClient, fetchAll } from '../helpers/raw-client.js';

const NUM_OFFSET_PARTITIONS = 4;
const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '500',
  'offsets.topic.num.partitions': String(NUM_OFFSET_PARTITIONS),
};

function subscription(...topics: string[]): Buffer {
  const w = new Writer();
  w.int16(0);
  encodeConsumerProtocolSubscription(w, 0, { topics, userData: null });
  return w.toBuffer();
}

class Conn {
  private corr = 1;
  private constructor(private readonly c: RawClient) {}
  static async open(port: number): Promise<Conn> {
    return new Conn(await RawClient.open(port));
  }
  /** Sends a request without waiting (for requests the coordinator parks). */
  send(apiKey: number, version: number, body: unknown): Promise<any> {
    this.c.request(apiKey, version, this.corr++, body);
    return this.c.response(apiKey, version).then((r) => {
      if (!r) throw new Error('connection closed');
      return r.body;
    });
  }
  close(): void {
    this.c.close();
  }
}

const join = (groupId: string, memberId: string, extra: Record<string, unknown> = {}) => ({
  groupId,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 3000,
  memberId,
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: subscription('raw-t') }],
  reason: null,
  ...extra,
});

describe('classic group protocol (raw requests)', () => {
  let broker: TestBroker;
  const conns: Conn[] = [];
  const open = async () => {
    const c = await Conn.open(broker.port);
    conns.push(c);
    return c;
  };
  before(async () => {
    broker = await startTestBroker(CONFIG);
    const c = await open();
    const r = await c.send(ApiKey.CreateTopics, 5, {
      topics: [{ name: 'raw-t', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(r.topics[0].errorCode, 0);
  });
  after(async () => {
    for (const c of conns) c.close();
    await broker.dispose();
  });

  it('places groups like Kafka: abs(groupId.hashCode) % partitions, batched FindCoordinator', async () => {
    assert.equal(javaStringHashCode('test'), 3556498);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(partitionForGroup('polygenelubricants', 50), 0);
    assert.equal(partitionForGroup('test', 50), 48);
    const c = await open();
    const v0 = await c.send(ApiKey.FindCoordinator, 0, { key: 'g-any' });
    assert.equal(v0.errorCode, 0);
    assert.equal(v0.nodeId, broker.broker.nodeId);
    assert.equal(v0.port, broker.port);
    const v4 = await c.send(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b', 'c'] });
    assert.deepEqual(v4.coordinators.map((x: any) => [x.key, x.errorCode, x.port]), [
      ['a', 0, broker.port],
      ['b', 0, broker.port],
      ['c', 0, broker.port],
    ]);
    const bad = await c.send(ApiKey.FindCoordinator, 4, { keyType: 7, coordinatorKeys: ['a'] });
    assert.equal(bad.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
    const meta = broker.broker.metadata.topic(OFFSETS_TOPIC);
    assert.equal(meta?.partitions.length, NUM_OFFSET_PARTITIONS);
    assert.equal(meta?.configs['cleanup.policy'], 'compact');
  });

  it('answers out-of-order and malformed requests with Kafka error codes', async () => {
    const g = 'err-group';
    const a = await open();
    // JoinGroup v4+: a dynamic member first gets its id.
    const first = await a.send(ApiKey.JoinGroup, 6, join(g, ''));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.ok(first.memberId.startsWith('raw-test-'));
    const memberId = first.memberId;
    const bad = await a.send(ApiKey.JoinGroup, 6, join(g, '', { sessionTimeoutMs: 100 }));
    assert.equal(bad.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    const noProto = await a.send(ApiKey.JoinGroup, 6, join('other-group', '', { protocols: [] }));
    assert.equal(noProto.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const unknownJoin = await a.send(ApiKey.JoinGroup, 6, join('never-seen', 'ghost'));
    assert.equal(unknownJoin.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const joined = await a.send(ApiKey.JoinGroup, 6, join(g, memberId));
    assert.equal(joined.errorCode, 0);
    assert.equal(joined.generationId, 1);
    assert.equal(joined.leader, memberId);
    assert.equal(joined.members.length, 1);
    assert.equal(joined.protocolName, 'range');

    // CompletingRebalance: commits are refused until the assignment is out.
    const commitBody = (gen: number, member: string) => ({
      groupId: g,
      generationIdOrMemberEpoch: gen,
      memberId: member,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 'raw-t', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
    });
    let commit = await a.send(ApiKey.OffsetCommit, 8, commitBody(1, memberId));
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.REBALANCE_IN_PROGRESS);

    // A protocol type other than the group's is inconsistent.
    const b = await open();
    const otherType = await b.send(ApiKey.JoinGroup, 6, join(g, '', { protocolType: 'connect' }));
    assert.equal(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    const wrongGen = await a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: 7, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    assert.equal(wrongGen.errorCode, ErrorCode.ILLEGAL_GENERATION);
    const wrongProto = await a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [],
    });
    assert.equal(wrongProto.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const synced = await a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
      assignments: [{ memberId, assignment: Buffer.from('A') }],
    });
    assert.equal(synced.errorCode, 0);
    assert.equal(synced.assignment.toString(), 'A');

    const hb = (gen: number, member: string, group = g) =>
      a.send(ApiKey.Heartbeat, 4, { groupId: group, generationId: gen, memberId: member, groupInstanceId: null });
    assert.equal((await hb(1, memberId)).errorCode, 0);
    assert.equal((await hb(1, 'stranger')).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await hb(0, memberId)).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await hb(1, memberId, 'no-group')).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

    // Offset commits: stale generation, admin commit into an active group, unknown group.
    commit = await a.send(ApiKey.OffsetCommit, 8, commitBody(0, memberId));
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
    commit = await a.send(ApiKey.OffsetCommit, 8, commitBody(-1, ''));
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    commit = await a.send(ApiKey.OffsetCommit, 9, { ...commitBody(3, 'x'), groupId: 'no-group' });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    commit = await a.send(ApiKey.OffsetCommit, 8, { ...commitBody(3, 'x'), groupId: 'no-group' });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
    const bigMeta = commitBody(1, memberId);
    bigMeta.topics[0]!.partitions[0]!.committedMetadata = 'x'.repeat(5000);
    commit = await a.send(ApiKey.OffsetCommit, 8, bigMeta);
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE);
    const unknownTopic = commitBody(1, memberId);
    unknownTopic.topics[0]!.name = 'nope';
    commit = await a.send(ApiKey.OffsetCommit, 8, unknownTopic);
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    commit = await a.send(ApiKey.OffsetCommit, 8, commitBody(1, memberId));
    assert.equal(commit.topics[0].partitions[0].errorCode, 0);

    // The group is active: it cannot be deleted; a subscribed topic's offsets cannot be deleted.
    const del = await a.send(ApiKey.DeleteGroups, 2, { groupsNames: [g, 'no-group'] });
    assert.deepEqual(del.results.map((r: any) => r.errorCode), [ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND]);
    const od = await a.send(ApiKey.OffsetDelete, 0, { groupId: g, topics: [{ name: 'raw-t', partitions: [{ partitionIndex: 0 }] }] });
    assert.equal(od.errorCode, 0);
    assert.equal(od.topics[0].partitions[0].errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);

    // A second member triggers a rebalance: the first learns it from its heartbeat.
    const second = await b.send(ApiKey.JoinGroup, 6, join(g, ''));
    assert.equal(second.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const secondJoin = b.send(ApiKey.JoinGroup, 6, join(g, second.memberId));
    await waitFor(async () => (await hb(1, memberId)).errorCode === ErrorCode.REBALANCE_IN_PROGRESS, 5000, 'rebalance notice');
    // Commits with the old generation are still accepted while preparing the rebalance.
    commit = await a.send(ApiKey.OffsetCommit, 8, commitBody(1, memberId));
    assert.equal(commit.topics[0].partitions[0].errorCode, 0);
    const syncDuringJoin = await a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    assert.equal(syncDuringJoin.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    const [r1, r2] = await Promise.all([a.send(ApiKey.JoinGroup, 6, join(g, memberId)), secondJoin]);
    assert.equal(r1.generationId, 2);
    assert.equal(r2.generationId, 2);
    assert.equal(r1.leader, memberId);
    assert.equal(r1.members.length, 2, 'leader sees every member');
    assert.equal(r2.members.length, 0, 'followers see none');

    // LeaveGroup v3+: batched, per-member errors.
    const leave = await a.send(ApiKey.LeaveGroup, 5, {
      groupId: g,
      members: [
        { memberId: second.memberId, groupInstanceId: null, reason: 'bye' },
        { memberId: 'ghost', groupInstanceId: null, reason: null },
      ],
    });
    assert.equal(leave.errorCode, 0);
    assert.deepEqual(leave.members.map((m: any) => m.errorCode), [0, ErrorCode.UNKNOWN_MEMBER_ID]);
    // LeaveGroup v0-2: single member, top-level error.
    const leaveOld = await a.send(ApiKey.LeaveGroup, 1, { groupId: g, memberId: 'ghost' });
    assert.equal(leaveOld.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('keeps a static member across a restart without a rebalance and fences the old instance', async () => {
    const g = 'static-group';
    const a = await open();
    const b = await open();
    const staticJoin = (memberId: string, instance: string) => join(g, memberId, { groupInstanceId: instance });
    const ja = await a.send(ApiKey.JoinGroup, 7, staticJoin('', 'inst-a'));
    assert.equal(ja.errorCode, 0, 'static members skip MEMBER_ID_REQUIRED');
    assert.ok(ja.memberId.startsWith('inst-a-'));
    const ma = ja.memberId;
    await a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: ja.generationId, memberId: ma, groupInstanceId: 'inst-a', protocolType: 'consumer', protocolName: 'range',
      assignments: [{ memberId: ma, assignment: Buffer.from('A') }],
    });
    const jbPromise = b.send(ApiKey.JoinGroup, 7, staticJoin('', 'inst-b'));
    const jaAgain = await a.send(ApiKey.JoinGroup, 7, staticJoin(ma, 'inst-a'));
    const jb = await jbPromise;
    assert.equal(jaAgain.generationId, jb.generationId);
    const gen = jb.generationId;
    const mb = jb.memberId;
    const syncA = a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: gen, memberId: ma, groupInstanceId: 'inst-a', protocolType: 'consumer', protocolName: 'range',
      assignments: [
        { memberId: ma, assignment: Buffer.from('A2') },
        { memberId: mb, assignment: Buffer.from('B2') },
      ],
    });
    const syncB = await b.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: gen, memberId: mb, groupInstanceId: 'inst-b', protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    assert.equal((await syncA).assignment.toString(), 'A2');
    assert.equal(syncB.assignment.toString(), 'B2');

    // inst-b "restarts": a new connection, no member id, same instance id and protocols.
    b.close();
    const b2 = await open();
    const rejoin = await b2.send(ApiKey.JoinGroup, 7, staticJoin('', 'inst-b'));
    assert.equal(rejoin.errorCode, 0);
    assert.equal(rejoin.generationId, gen, 'no new generation');
    assert.notEqual(rejoin.memberId, mb);
    const sync2 = await b2.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: gen, memberId: rejoin.memberId, groupInstanceId: 'inst-b', protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    assert.equal(sync2.errorCode, 0);
    assert.equal(sync2.assignment.toString(), 'B2', 'keeps its previous assignment');
    // The other member saw no rebalance; the old incarnation is fenced.
    const hbA = await a.send(ApiKey.Heartbeat, 4, { groupId: g, generationId: gen, memberId: ma, groupInstanceId: 'inst-a' });
    assert.equal(hbA.errorCode, 0);
    const hbOld = await a.send(ApiKey.Heartbeat, 4, { groupId: g, generationId: gen, memberId: mb, groupInstanceId: 'inst-b' });
    assert.equal(hbOld.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const desc = await a.send(ApiKey.DescribeGroups, 5, { groups: [g], includeAuthorizedOperations: false });
    assert.equal(desc.groups[0].groupState, 'Stable');
    assert.deepEqual(desc.groups[0].members.map((m: any) => m.groupInstanceId).sort(), ['inst-a', 'inst-b']);

    // Static membership survives a broker restart too (group metadata replayed).
    for (const c of conns.splice(0)) c.close();
    await broker.close();
    broker = await startTestBroker(CONFIG, broker.dataDir);
    const c = await open();
    const after = await c.send(ApiKey.JoinGroup, 7, staticJoin('', 'inst-b'));
    assert.equal(after.errorCode, 0);
    assert.equal(after.generationId, gen, 'restarted broker knows the generation');
    const sync3 = await c.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: gen, memberId: after.memberId, groupInstanceId: 'inst-b', protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    assert.equal(sync3.assignment.toString(), 'B2');
  });

  it('expires members that stop heartbeating, and lists/filters groups', async () => {
    const g = 'expiry-group';
    const a = await open();
    const first = await a.send(ApiKey.JoinGroup, 6, join(g, '', { sessionTimeoutMs: 600, rebalanceTimeoutMs: 600 }));
    const j = await a.send(ApiKey.JoinGroup, 6, join(g, first.memberId, { sessionTimeoutMs: 600, rebalanceTimeoutMs: 600 }));
    assert.equal(j.errorCode, 0);
    await a.send(ApiKey.SyncGroup, 5, {
      groupId: g, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    let list = await a.send(ApiKey.ListGroups, 5, { statesFilter: ['stable'], typesFilter: ['classic'] });
    assert.ok(list.groups.some((x: any) => x.groupId === g && x.groupState === 'Stable' && x.groupType === 'classic'));
    list = await a.send(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] });
    assert.ok(!list.groups.some((x: any) => x.groupId === g));
    await waitFor(
      async () => (await a.send(ApiKey.DescribeGroups, 5, { groups: [g], includeAuthorizedOperations: false })).groups[0].groupState === 'Empty',
      5000,
      'member expired',
    );
    const hb = await a.send(ApiKey.Heartbeat, 4, { groupId: g, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null });
    assert.equal(hb.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    list = await a.send(ApiKey.ListGroups, 4, { statesFilter: ['Empty'] });
    assert.ok(list.groups.some((x: any) => x.groupId === g));
  });

  it('fetches offsets of several groups at once, deletes offsets, expires them, and writes Kafka records', async () => {
    const a = await open();
    const commit = (groupId: string, partition: number, offset: number) =>
      a.send(ApiKey.OffsetCommit, 9, {
        groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
        topics: [{ name: 'raw-t', partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: 3, committedMetadata: null }] }],
      });
    assert.equal((await commit('simple-1', 0, 11)).topics[0].partitions[0].errorCode, 0);
    assert.equal((await commit('simple-1', 1, 12)).topics[0].partitions[0].errorCode, 0);
    assert.equal((await commit('simple-2', 0, 21)).topics[0].partitions[0].errorCode, 0);
    const f = await a.send(ApiKey.OffsetFetch, 9, {
      groups: [
        { groupId: 'simple-1', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'simple-2', memberId: null, memberEpoch: -1, topics: [{ name: 'raw-t', partitionIndexes: [0, 1] }] },
      ],
      requireStable: false,
    });
    assert.deepEqual(f.groups[0].topics[0].partitions.map((p: any) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch]), [[0, 11, 3], [1, 12, 3]]);
    assert.deepEqual(f.groups[1].topics[0].partitions.map((p: any) => p.committedOffset), [21, -1]);
    const old = await a.send(ApiKey.OffsetFetch, 1, { groupId: 'simple-1', topics: [{ name: 'raw-t', partitionIndexes: [1] }] });
    assert.equal(old.topics[0].partitions[0].committedOffset, 12);

    // OffsetDelete on an empty group removes the offset.
    const od = await a.send(ApiKey.OffsetDelete, 0, { groupId: 'simple-1', topics: [{ name: 'raw-t', partitions: [{ partitionIndex: 1 }] }] });
    assert.equal(od.errorCode, 0);
    const after = await a.send(ApiKey.OffsetFetch, 7, { groupId: 'simple-1', topics: [{ name: 'raw-t', partitionIndexes: [1] }], requireStable: false });
    assert.equal(after.topics[0].partitions[0].committedOffset, -1);

    // The records in __consumer_offsets are Kafka's: OffsetCommitKey v1 / value v3, tombstones.
    const p = partitionForGroup('simple-1', NUM_OFFSET_PARTITIONS);
    const recs = await fetchAll(broker.port, OFFSETS_TOPIC, p);
    const decoded = recs.map((r) => decodeCoordinatorRecord(r.key!, r.value));
    const mine = decoded.filter((d) => d.kind === 'offset' && d.key.group === 'simple-1');
    assert.equal(mine.length, 3);
    assert.equal(recs.find((r) => r.value !== null)!.key!.readInt16BE(0), 1);
    assert.equal(recs.find((r) => r.value !== null)!.value!.readInt16BE(0), 3);
    const last = mine[mine.length - 1]!;
    assert.ok(last.kind === 'offset' && last.value === null && last.key.partition === 1, 'tombstone for the deleted offset');

    // Expiry: a simple group's offsets age from their commit time; then the empty group goes.
    const retention = broker.broker.config.offsetsRetentionMs;
    assert.equal(await broker.broker.groups.runExpiration(Date.now()), 0);
    const removed = await broker.broker.groups.runExpiration(Date.now() + retention + 1000);
    assert.ok(removed >= 2, `expired ${removed} offsets`);
    const list = await a.send(ApiKey.ListGroups, 4, { statesFilter: [] });
    assert.ok(!list.groups.some((x: any) => x.groupId === 'simple-1' || x.groupId === 'simple-2'), 'expired groups removed');
    const gone = await a.send(ApiKey.OffsetFetch, 7, { groupId: 'simple-2', topics: null, requireStable: false });
    assert.deepEqual(gone.topics, []);
  });
});
