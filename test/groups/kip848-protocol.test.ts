// KIP-848 over the wire with hand-made requests: ConsumerGroupHeartbeat join / reconcile / leave,
// session-timeout fencing, partition growth, errors, and ConsumerGroupDescribe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

type Owned = { topicId: string; partitions: number[] }[];

describe('KIP-848 ConsumerGroupHeartbeat / ConsumerGroupDescribe (raw)', () => {
  let broker: TestBroker;
  let client: RawClient;
  let corr = 0;

  before(async () => {
    broker = await startTestBroker({
      'group.consumer.heartbeat.interval.ms': '200',
      'group.consumer.min.heartbeat.interval.ms': '100',
      'group.consumer.session.timeout.ms': '1500',
      'group.consumer.min.session.timeout.ms': '1000',
    });
    client = await RawClient.open(broker.port);
  });
  after(async () => {
    client.socket.destroy();
    await broker.dispose();
  });

  async function call(apiKey: number, version: number, body: unknown): Promise<any> {
    const id = ++corr;
    client.request(apiKey, version, id, body);
    const res = await client.response(apiKey, version);
    assert.ok(res, 'response');
    assert.equal(res.correlationId, id);
    return res.body;
  }
  const heartbeat = (body: Record<string, unknown>, version = 1) =>
    call(ApiKey.ConsumerGroupHeartbeat, version, { rebalanceTimeoutMs: -1, ...body });
  const joinBody = (groupId: string, memberId: string, topics: string[]) => ({
    groupId,
    memberId,
    memberEpoch: 0,
    rebalanceTimeoutMs: 10_000,
    subscribedTopicNames: topics,
    topicPartitions: [],
  });
  const count = (o: Owned | undefined | null) => (o ?? []).reduce((s, t) => s + t.partitions.length, 0);

  async function createTopic(name: string, partitions: number): Promise<string> {
    const t = await broker.broker.topics.create({ name, numPartitions: partitions, replicationFactor: 1 });
    return t.topicId;
  }

  it('advertises the APIs in ApiVersions', async () => {
    const res = await call(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    const hb = res.apiKeys.find((k: any) => k.apiKey === ApiKey.ConsumerGroupHeartbeat);
    const desc = res.apiKeys.find((k: any) => k.apiKey === ApiKey.ConsumerGroupDescribe);
    assert.deepEqual([hb?.minVersion, hb?.maxVersion], [0, 1]);
    assert.deepEqual([desc?.minVersion, desc?.maxVersion], [0, 1]);
  });

  it('joins, rebalances with revocation first, leaves, and describes', async () => {
    const topicId = await createTopic('kip848-raw', 6);
    const a1 = await heartbeat(joinBody('g1', 'member-a', ['kip848-raw']));
    assert.equal(a1.errorCode, ErrorCode.NONE);
    assert.equal(a1.memberId, 'member-a');
    assert.equal(a1.memberEpoch, 1);
    assert.equal(a1.heartbeatIntervalMs, 200);
    assert.equal(count(a1.assignment.topicPartitions), 6);
    assert.equal(a1.assignment.topicPartitions[0].topicId, topicId);

    const b1 = await heartbeat(joinBody('g1', 'member-b', ['kip848-raw']));
    assert.equal(b1.memberEpoch, 2);
    assert.equal(count(b1.assignment.topicPartitions), 0, 'nothing until A revokes');

    const a2 = await heartbeat({ groupId: 'g1', memberId: 'member-a', memberEpoch: 1, topicPartitions: a1.assignment.topicPartitions });
    assert.equal(a2.memberEpoch, 1);
    assert.equal(count(a2.assignment.topicPartitions), 3);

    let d = await call(ApiKey.ConsumerGroupDescribe, 0, { groupIds: ['g1'] });
    assert.equal(d.groups[0].groupState, 'Reconciling');
    const a3 = await heartbeat({ groupId: 'g1', memberId: 'member-a', memberEpoch: 1, topicPartitions: a2.assignment.topicPartitions });
    assert.equal(a3.memberEpoch, 2);
    const b2 = await heartbeat({ groupId: 'g1', memberId: 'member-b', memberEpoch: 2, topicPartitions: [] });
    assert.equal(count(b2.assignment.topicPartitions), 3);

    d = await call(ApiKey.ConsumerGroupDescribe, 0, { groupIds: ['g1', 'missing'] });
    const g = d.groups[0];
    assert.equal(g.errorCode, ErrorCode.NONE);
    assert.equal(g.groupState, 'Stable');
    assert.equal(g.groupEpoch, 2);
    assert.equal(g.assignmentEpoch, 2);
    assert.equal(g.assignorName, 'uniform');
    assert.equal(g.members.length, 2);
    for (const m of g.members) {
      assert.equal(m.memberEpoch, 2);
      assert.equal(m.clientId, 'raw-test');
      assert.equal(m.clientHost, '/127.0.0.1');
      assert.deepEqual(m.subscribedTopicNames, ['kip848-raw']);
      assert.equal(m.assignment.topicPartitions[0].topicName, 'kip848-raw');
      assert.equal(m.assignment.topicPartitions[0].partitions.length, 3);
      assert.deepEqual(m.assignment, m.targetAssignment);
    }
    assert.equal(d.groups[1].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    // Errors from the coordinator.
    assert.equal((await heartbeat({ groupId: 'g1', memberId: 'member-a', memberEpoch: 9, topicPartitions: null })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    assert.equal((await heartbeat({ groupId: 'g1', memberId: 'ghost', memberEpoch: 2 })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await heartbeat({ groupId: 'nope', memberId: 'x', memberEpoch: 3 })).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal((await heartbeat({ ...joinBody('g1', 'c', ['kip848-raw']), serverAssignor: 'magic' })).errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    assert.equal((await heartbeat({ ...joinBody('g1', 'c', ['kip848-raw']), topicPartitions: null })).errorCode, ErrorCode.INVALID_REQUEST);

    // A leaves; B takes everything at the next epoch.
    const left = await heartbeat({ groupId: 'g1', memberId: 'member-a', memberEpoch: -1 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -1);
    const b3 = await heartbeat({ groupId: 'g1', memberId: 'member-b', memberEpoch: 2, topicPartitions: b2.assignment.topicPartitions });
    assert.equal(b3.memberEpoch, 3);
    assert.equal(count(b3.assignment.topicPartitions), 6);

    // Partitions added → new epoch and a bigger assignment.
    await broker.broker.topics.addPartitions('kip848-raw', 8, null, false);
    const b4 = await heartbeat({ groupId: 'g1', memberId: 'member-b', memberEpoch: 3, topicPartitions: b3.assignment.topicPartitions });
    assert.equal(b4.memberEpoch, 4);
    assert.equal(count(b4.assignment.topicPartitions), 8);
  });

  it('validates OffsetCommit / OffsetFetch with the member epoch', async () => {
    await createTopic('kip848-commit', 2);
    const a1 = await heartbeat(joinBody('g3', 'a', ['kip848-commit']));
    assert.equal(a1.memberEpoch, 1);
    const commit = async (memberId: string, epoch: number) => {
      const r = await call(ApiKey.OffsetCommit, 9, {
        groupId: 'g3',
        generationIdOrMemberEpoch: epoch,
        memberId,
        groupInstanceId: null,
        topics: [{ name: 'kip848-commit', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      return r.topics[0].partitions[0].errorCode;
    };
    assert.equal(await commit('a', 1), ErrorCode.NONE);
    assert.equal(await commit('a', 0), ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal(await commit('a', 7), ErrorCode.FENCED_MEMBER_EPOCH);
    assert.equal(await commit('nobody', 1), ErrorCode.UNKNOWN_MEMBER_ID);
    const fetch = async (memberId: string | null, memberEpoch: number) =>
      call(ApiKey.OffsetFetch, 9, {
        groups: [{ groupId: 'g3', memberId, memberEpoch, topics: [{ name: 'kip848-commit', partitionIndexes: [0] }] }],
      });
    const ok = await fetch('a', 1);
    assert.equal(ok.groups[0].errorCode, ErrorCode.NONE);
    assert.equal(Number(ok.groups[0].topics[0].partitions[0].committedOffset), 5);
    assert.equal((await fetch('a', 0)).groups[0].errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal((await fetch(null, -1)).groups[0].errorCode, ErrorCode.NONE, 'admin fetch');
  });

  it('fences a member whose session expired and hands its partitions over', async () => {
    await createTopic('kip848-session', 4);
    const a1 = await heartbeat(joinBody('g2', 'a', ['kip848-session']));
    const b1 = await heartbeat(joinBody('g2', 'b', ['kip848-session']));
    assert.equal(count(a1.assignment.topicPartitions), 4);
    // A revokes so B gets its half, then A goes silent. B keeps heartbeating.
    const a2 = await heartbeat({ groupId: 'g2', memberId: 'a', memberEpoch: 1, topicPartitions: a1.assignment.topicPartitions });
    await heartbeat({ groupId: 'g2', memberId: 'a', memberEpoch: 1, topicPartitions: a2.assignment.topicPartitions });
    let epoch = b1.memberEpoch as number;
    let owned: Owned = b1.assignment.topicPartitions;
    const result = await waitFor(
      async () => {
        const r = await heartbeat({ groupId: 'g2', memberId: 'b', memberEpoch: epoch, topicPartitions: owned });
        assert.equal(r.errorCode, ErrorCode.NONE);
        epoch = r.memberEpoch;
        if (r.assignment) owned = r.assignment.topicPartitions;
        return count(owned) === 4 ? r : null;
      },
      8000,
      'B to own all partitions after A expired',
    );
    assert.ok(result.memberEpoch > 2);
    const gone = await heartbeat({ groupId: 'g2', memberId: 'a', memberEpoch: 2, topicPartitions: null });
    assert.equal(gone.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('KIP-848 group state survives a broker restart', () => {
  it('replays ConsumerGroup* records from __consumer_offsets', async () => {
    let broker = await startTestBroker();
    const dataDir = broker.dataDir;
    let client = await RawClient.open(broker.port);
    let corr = 0;
    const call = async (c: RawClient, apiKey: number, version: number, body: unknown): Promise<any> => {
      c.request(apiKey, version, ++corr, body);
      return (await c.response(apiKey, version))!.body;
    };
    try {
      await broker.broker.topics.create({ name: 'kip848-restart', numPartitions: 4, replicationFactor: 1 });
      const join = (memberId: string) =>
        call(client, ApiKey.ConsumerGroupHeartbeat, 1, {
          groupId: 'persisted',
          memberId,
          memberEpoch: 0,
          rebalanceTimeoutMs: 10_000,
          subscribedTopicNames: ['kip848-restart'],
          topicPartitions: [],
          serverAssignor: 'range',
        });
      const a1 = await join('a');
      const b1 = await join('b');
      assert.equal(b1.memberEpoch, 2);
      // A revokes half: A is at epoch 2 with 2 partitions, B at epoch 2 with none yet.
      const a2 = await call(client, ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'persisted', memberId: 'a', memberEpoch: 1, rebalanceTimeoutMs: -1, topicPartitions: a1.assignment.topicPartitions });
      await call(client, ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'persisted', memberId: 'a', memberEpoch: 1, rebalanceTimeoutMs: -1, topicPartitions: a2.assignment.topicPartitions });
      const before = (await call(client, ApiKey.ConsumerGroupDescribe, 0, { groupIds: ['persisted'] })).groups[0];
      client.socket.destroy();
      await broker.close();

      broker = await startTestBroker({}, dataDir);
      client = await RawClient.open(broker.port);
      const after = (await call(client, ApiKey.ConsumerGroupDescribe, 0, { groupIds: ['persisted'] })).groups[0];
      assert.equal(after.errorCode, ErrorCode.NONE);
      assert.equal(after.groupEpoch, before.groupEpoch);
      assert.equal(after.assignmentEpoch, before.assignmentEpoch);
      assert.equal(after.assignorName, 'range');
      const byId = (g: any) => Object.fromEntries(g.members.map((m: any) => [m.memberId, m]));
      assert.deepEqual(byId(after), byId(before));
      // B continues at its epoch and now gets its partitions.
      const b2 = await call(client, ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'persisted', memberId: 'b', memberEpoch: 2, rebalanceTimeoutMs: -1, topicPartitions: [] });
      assert.equal(b2.errorCode, ErrorCode.NONE);
      assert.equal(b2.memberEpoch, 2);
      assert.equal(b2.assignment.topicPartitions[0].partitions.length, 2);
      // ListGroups (the classic helper's handler) sees it as a consumer group from the shared map.
      const listed = await call(client, ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] });
      const g = listed.groups.find((x: any) => x.groupId === 'persisted');
      assert.equal(g?.groupType, 'consumer');
    } finally {
      client.socket.destroy();
      await broker.dispose();
    }
  });
});
