// KIP-1071 over the wire with hand-made requests: StreamsGroupHeartbeat join with a topology,
// internal topic creation, task sharing with revocation first, leave, session-timeout fencing,
// missing source topics, errors, StreamsGroupDescribe and the group in ListGroups/ApiVersions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

type Tasks = { subtopologyId: string; partitions: number[] }[];

const MISSING_SOURCE_TOPICS = 1;
const MISSING_INTERNAL_TOPICS = 3;

describe('KIP-1071 StreamsGroupHeartbeat / StreamsGroupDescribe (raw)', () => {
  let broker: TestBroker;
  let client: RawClient;
  let corr = 0;

  before(async () => {
    broker = await startTestBroker({
      'group.streams.heartbeat.interval.ms': '200',
      'group.streams.min.heartbeat.interval.ms': '100',
      'group.streams.session.timeout.ms': '4000',
      'group.streams.min.session.timeout.ms': '1000',
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
  const heartbeat = (body: Record<string, unknown>) =>
    call(ApiKey.StreamsGroupHeartbeat, 0, {
      rebalanceTimeoutMs: -1,
      endpointInformationEpoch: 0,
      instanceId: null,
      rackId: null,
      topology: null,
      activeTasks: null,
      standbyTasks: null,
      warmupTasks: null,
      processId: null,
      userEndpoint: null,
      clientTags: null,
      taskOffsets: null,
      taskEndOffsets: null,
      ...body,
    });
  const describeGroup = async (groupId: string) => (await call(ApiKey.StreamsGroupDescribe, 0, { groupIds: [groupId] })).groups[0];
  /** One subtopology reading `source` with a changelog, plus a second one reading a repartition topic. */
  const topology = (app: string, source: string) => ({
    epoch: 1,
    subtopologies: [
      {
        subtopologyId: '0',
        sourceTopics: [source],
        repartitionSinkTopics: [`${app}-rekey-repartition`],
        stateChangelogTopics: [{ name: `${app}-store-changelog`, partitions: 0, replicationFactor: 0, topicConfigs: [] }],
      },
      {
        subtopologyId: '1',
        sourceTopics: [],
        repartitionSourceTopics: [{ name: `${app}-rekey-repartition`, partitions: 0, replicationFactor: 0, topicConfigs: [] }],
        stateChangelogTopics: [],
      },
    ],
  });
  const join = (groupId: string, memberId: string, source: string, extra: Record<string, unknown> = {}) =>
    heartbeat({
      groupId,
      memberId,
      memberEpoch: 0,
      rebalanceTimeoutMs: 10_000,
      topology: topology(groupId, source),
      processId: `process-${memberId}`,
      activeTasks: [],
      standbyTasks: [],
      warmupTasks: [],
      ...extra,
    });
  const count = (t: Tasks | null | undefined) => (t ?? []).reduce((s, x) => s + x.partitions.length, 0);
  const keys = (t: Tasks) => t.flatMap((x) => x.partitions.map((p) => `${x.subtopologyId}:${p}`));

  it('advertises keys 88/89 and streams.version in ApiVersions', async () => {
    const res = await call(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    assert.ok(res.apiKeys.some((k: any) => k.apiKey === ApiKey.StreamsGroupHeartbeat));
    assert.ok(res.apiKeys.some((k: any) => k.apiKey === ApiKey.StreamsGroupDescribe));
    const f = res.finalizedFeatures.find((x: any) => x.name === 'streams.version');
    assert.equal(f?.maxVersionLevel, 1);
  });

  it('creates internal topics, shares 12 tasks between two members, revokes before moving, leaves', async () => {
    await broker.broker.topics.create({ name: 'sg-input', numPartitions: 6, replicationFactor: 1 });
    const a0 = await join('app1', 'member-a', 'sg-input');
    assert.equal(a0.errorCode, ErrorCode.NONE, a0.errorMessage);
    assert.equal(a0.heartbeatIntervalMs, 200);
    assert.ok(a0.status.some((s: any) => s.statusCode === MISSING_INTERNAL_TOPICS), JSON.stringify(a0.status));
    // The broker creates the repartition topic (6 partitions, from subtopology 0) and the changelog (compacted).
    await waitFor(() => broker.broker.metadata.topic('app1-rekey-repartition') && broker.broker.metadata.topic('app1-store-changelog'), 10_000, 'internal topics');
    assert.equal(broker.broker.metadata.topic('app1-rekey-repartition')!.partitions.length, 6);
    assert.equal(broker.broker.metadata.topic('app1-store-changelog')!.partitions.length, 6);
    assert.equal(broker.broker.metadata.topic('app1-store-changelog')!.configs['cleanup.policy'], 'compact');

    const a1 = await heartbeat({ groupId: 'app1', memberId: 'member-a', memberEpoch: a0.memberEpoch });
    assert.equal(a1.errorCode, ErrorCode.NONE);
    assert.deepEqual(a1.status, [], 'an empty list clears the earlier status');
    assert.equal(count(a1.activeTasks), 12, 'two subtopologies x 6 partitions');
    const aTasks: Tasks = a1.activeTasks;

    const b0 = await join('app1', 'member-b', 'sg-input');
    assert.equal(b0.errorCode, ErrorCode.NONE);
    assert.equal(count(b0.activeTasks), 0, 'nothing until A revokes');

    // A must give up half its tasks before B gets them.
    const a2 = await heartbeat({ groupId: 'app1', memberId: 'member-a', memberEpoch: a1.memberEpoch, activeTasks: aTasks, standbyTasks: [], warmupTasks: [] });
    assert.equal(count(a2.activeTasks), 6);
    assert.equal(a2.memberEpoch, a1.memberEpoch, 'old epoch until the revocation is acknowledged');
    const b1 = await heartbeat({ groupId: 'app1', memberId: 'member-b', memberEpoch: b0.memberEpoch, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.equal(count(b1.activeTasks ?? []), 0, 'still owned by A');

    const a3 = await heartbeat({ groupId: 'app1', memberId: 'member-a', memberEpoch: a2.memberEpoch, activeTasks: a2.activeTasks, standbyTasks: [], warmupTasks: [] });
    assert.ok(a3.memberEpoch > a2.memberEpoch, 'A advances after revoking');
    const b2 = await heartbeat({ groupId: 'app1', memberId: 'member-b', memberEpoch: b1.memberEpoch, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.equal(count(b2.activeTasks), 6);
    const all = [...keys(a2.activeTasks), ...keys(b2.activeTasks)].sort();
    assert.equal(new Set(all).size, 12, 'every task exactly once');

    // Members commit offsets with their member epoch (OffsetCommit v9), like consumer-protocol members.
    const commit = (epoch: number) =>
      call(ApiKey.OffsetCommit, 9, {
        groupId: 'app1',
        generationIdOrMemberEpoch: epoch,
        memberId: 'member-b',
        groupInstanceId: null,
        topics: [{ name: 'sg-input', partitions: [{ partitionIndex: 0, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: '' }] }],
      });
    assert.equal((await commit(b2.memberEpoch)).topics[0].partitions[0].errorCode, ErrorCode.NONE);
    assert.equal((await commit(b2.memberEpoch - 1)).topics[0].partitions[0].errorCode, ErrorCode.STALE_MEMBER_EPOCH);

    const described = await describeGroup('app1');
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.equal(described.groupState, 'Stable');
    assert.equal(described.topology.epoch, 1);
    assert.deepEqual(described.topology.subtopologies.map((s: any) => s.subtopologyId), ['0', '1']);
    assert.equal(described.members.length, 2);
    for (const m of described.members) assert.equal(count(m.assignment.activeTasks), 6);

    const listed = await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['streams'] });
    assert.deepEqual(listed.groups.map((g: any) => [g.groupId, g.groupType]), [['app1', 'streams']]);

    // A leaves: B gets all 12 tasks (nobody owns A's any more).
    const left = await heartbeat({ groupId: 'app1', memberId: 'member-a', memberEpoch: -1 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -1);
    const b3 = await heartbeat({ groupId: 'app1', memberId: 'member-b', memberEpoch: b2.memberEpoch, activeTasks: b2.activeTasks, standbyTasks: [], warmupTasks: [] });
    assert.equal(count(b3.activeTasks), 12);

    // A stale epoch and an unknown member are rejected.
    const fenced = await heartbeat({ groupId: 'app1', memberId: 'member-b', memberEpoch: b3.memberEpoch + 5, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.equal(fenced.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    const unknown = await heartbeat({ groupId: 'app1', memberId: 'member-a', memberEpoch: 3, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('fences a member that stops heartbeating after the session timeout (group config)', async () => {
    // The group's own streams.session.timeout.ms (1 s) wins over the broker default (4 s here).
    await broker.broker.configAdmin.groups.alter('app2', [{ name: 'streams.session.timeout.ms', op: 0, value: '1000' }], false);
    await broker.broker.topics.create({ name: 'sg-input2', numPartitions: 4, replicationFactor: 1 });
    const t = { epoch: 1, subtopologies: [{ subtopologyId: '0', sourceTopics: ['sg-input2'] }] };
    const a0 = await join('app2', 'a', 'sg-input2', { topology: t });
    const b0 = await join('app2', 'b', 'sg-input2', { topology: t });
    assert.equal(a0.errorCode, ErrorCode.NONE);
    assert.equal(b0.errorCode, ErrorCode.NONE);
    // Only A keeps heartbeating: B is removed after 1 s and A ends up with all 4 tasks.
    const started = Date.now();
    let epoch = a0.memberEpoch;
    let active: Tasks = a0.activeTasks;
    const final = await waitFor(
      async () => {
        const r = await heartbeat({ groupId: 'app2', memberId: 'a', memberEpoch: epoch, activeTasks: active, standbyTasks: [], warmupTasks: [] });
        assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage);
        epoch = r.memberEpoch;
        if (r.activeTasks) active = r.activeTasks;
        return count(active) === 4 ? r : undefined;
      },
      10_000,
      'B fenced',
    );
    assert.ok(final);
    assert.ok(Date.now() - started < 3500, 'the group config, not the broker default, timed B out');
    const d = await describeGroup('app2');
    assert.deepEqual(d.members.map((m: any) => m.memberId), ['a']);
    const gone = await heartbeat({ groupId: 'app2', memberId: 'b', memberEpoch: b0.memberEpoch, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.equal(gone.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('reports missing source topics, then assigns once the topic exists; endpoints', async () => {
    const t = { epoch: 1, subtopologies: [{ subtopologyId: 's', sourceTopics: ['sg-later'] }] };
    const a0 = await join('app3', 'a', 'sg-later', { topology: t, userEndpoint: { host: 'localhost', port: 8080 } });
    assert.equal(a0.errorCode, ErrorCode.NONE);
    const missing = a0.status.find((s: any) => s.statusCode === MISSING_SOURCE_TOPICS);
    assert.match(missing.statusDetail, /sg-later/);
    assert.equal(count(a0.activeTasks), 0);
    assert.equal((await describeGroup('app3')).groupState, 'NotReady');

    await broker.broker.topics.create({ name: 'sg-later', numPartitions: 3, replicationFactor: 1 });
    const a1 = await heartbeat({ groupId: 'app3', memberId: 'a', memberEpoch: a0.memberEpoch, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.deepEqual(a1.status, [], 'an empty list clears the earlier status');
    assert.deepEqual(a1.activeTasks, [{ subtopologyId: 's', partitions: [0, 1, 2] }]);
    assert.deepEqual(a1.partitionsByUserEndpoint, [
      { userEndpoint: { host: 'localhost', port: 8080 }, activePartitions: [{ topic: 'sg-later', partitions: [0, 1, 2] }], standbyPartitions: [] },
    ]);
  });

  it('places standby tasks per the streams.num.standby.replicas group config', async () => {
    await broker.broker.configAdmin.groups.alter('app5', [{ name: 'streams.num.standby.replicas', op: 0, value: '1' }], false);
    await broker.broker.topics.create({ name: 'sg-standby', numPartitions: 2, replicationFactor: 1 });
    const t = { epoch: 1, subtopologies: [{ subtopologyId: '0', sourceTopics: ['sg-standby'] }] };
    const a0 = await join('app5', 'a', 'sg-standby', { topology: t });
    assert.equal(count(a0.activeTasks), 2);
    assert.equal(count(a0.standbyTasks), 0, 'no other member to hold a standby');
    await join('app5', 'b', 'sg-standby', { topology: t });
    const d = await describeGroup('app5');
    const target = Object.fromEntries(d.members.map((m: any) => [m.memberId, m.targetAssignment]));
    for (const id of ['a', 'b']) {
      assert.equal(count(target[id].activeTasks), 1, `${id} active`);
      assert.equal(count(target[id].standbyTasks), 1, `${id} standby`);
      assert.notDeepEqual(keys(target[id].activeTasks), keys(target[id].standbyTasks), 'never a standby of its own active task');
    }
  });

  it('removes a member that keeps revoked tasks past its rebalance timeout', async () => {
    await broker.broker.topics.create({ name: 'sg-stuck', numPartitions: 2, replicationFactor: 1 });
    const t = { epoch: 1, subtopologies: [{ subtopologyId: '0', sourceTopics: ['sg-stuck'] }] };
    const a0 = await join('app6', 'a', 'sg-stuck', { topology: t, rebalanceTimeoutMs: 300 });
    const b0 = await join('app6', 'b', 'sg-stuck', { topology: t });
    let bEpoch = b0.memberEpoch;
    let bTasks: Tasks = [];
    // A keeps heartbeating (so its session lives) but never lets go of the task B should get.
    const aCode = await waitFor(
      async () => {
        const a = await heartbeat({ groupId: 'app6', memberId: 'a', memberEpoch: a0.memberEpoch, activeTasks: a0.activeTasks, standbyTasks: [], warmupTasks: [] });
        return a.errorCode !== ErrorCode.NONE ? a.errorCode : undefined;
      },
      5_000,
      'A removed',
    );
    assert.equal(aCode, ErrorCode.UNKNOWN_MEMBER_ID);
    await waitFor(async () => {
      const b = await heartbeat({ groupId: 'app6', memberId: 'b', memberEpoch: bEpoch, activeTasks: bTasks, standbyTasks: [], warmupTasks: [] });
      assert.equal(b.errorCode, ErrorCode.NONE, b.errorMessage);
      bEpoch = b.memberEpoch;
      if (b.activeTasks) bTasks = b.activeTasks;
      return count(bTasks) === 2;
    }, 5_000, 'B owns both tasks');
  });

  it('gives a member behind the group topology STALE_TOPOLOGY and no tasks', async () => {
    await broker.broker.topics.create({ name: 'sg-topo', numPartitions: 2, replicationFactor: 1 });
    const t = (epoch: number) => ({ epoch, subtopologies: [{ subtopologyId: '0', sourceTopics: ['sg-topo'] }] });
    const m1 = await join('app7', 'm1', 'sg-topo', { topology: t(2) });
    assert.deepEqual(m1.status, []);
    assert.equal(count(m1.activeTasks), 2);
    const m2 = await join('app7', 'm2', 'sg-topo', { topology: t(1) });
    assert.deepEqual(m2.status, [{ statusCode: 0, statusDetail: "The member's topology epoch 1 is behind the group's topology epoch 2." }]);
    assert.equal(count(m2.activeTasks), 0);
    const target = (await describeGroup('app7')).members.find((m: any) => m.memberId === 'm1').targetAssignment;
    assert.equal(count(target.activeTasks), 2, 'm1 keeps every task');
  });

  it('tells every member when one asks to shut the application down', async () => {
    await broker.broker.topics.create({ name: 'sg-shutdown', numPartitions: 1, replicationFactor: 1 });
    const t = { epoch: 1, subtopologies: [{ subtopologyId: '0', sourceTopics: ['sg-shutdown'] }] };
    const a0 = await join('app8', 'a', 'sg-shutdown', { topology: t });
    const b0 = await join('app8', 'b', 'sg-shutdown', { topology: t });
    await heartbeat({ groupId: 'app8', memberId: 'b', memberEpoch: b0.memberEpoch, shutdownApplication: true });
    const a1 = await heartbeat({ groupId: 'app8', memberId: 'a', memberEpoch: a0.memberEpoch });
    assert.deepEqual(a1.status, [
      { statusCode: 4, statusDetail: 'Streams group member b encountered a fatal error and requested a shutdown for the entire application.' },
    ]);
  });

  it('answers bad requests with Kafka error codes', async () => {
    const invalid = await join('app4', 'x', 'sg-input', {
      topology: { epoch: 1, subtopologies: [{ subtopologyId: '0', sourceTopics: ['sg-input'] }, { subtopologyId: '0', sourceTopics: ['sg-input'] }] },
    });
    assert.equal(invalid.errorCode, ErrorCode.STREAMS_INVALID_TOPOLOGY);
    assert.match(invalid.errorMessage, /Duplicate subtopology/);
    const noTopology = await join('app4', 'x', 'sg-input', { topology: null });
    assert.equal(noTopology.errorCode, ErrorCode.INVALID_REQUEST);
    const noGroup = await heartbeat({ groupId: 'nope', memberId: 'x', memberEpoch: 4, activeTasks: [], standbyTasks: [], warmupTasks: [] });
    assert.equal(noGroup.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const describedMissing = await describeGroup('nope');
    assert.equal(describedMissing.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    // A consumer-protocol group owns the id.
    const cg = await call(ApiKey.ConsumerGroupHeartbeat, 1, {
      groupId: 'shared-id',
      memberId: 'c1',
      memberEpoch: 0,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: ['sg-input'],
      topicPartitions: [],
    });
    assert.equal(cg.errorCode, ErrorCode.NONE);
    const clash = await join('shared-id', 'x', 'sg-input');
    assert.equal(clash.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    // Group configs are checked against each other and their broker bounds.
    await assert.rejects(
      broker.broker.configAdmin.groups.alter('app4', [{ name: 'streams.heartbeat.interval.ms', op: 0, value: '4000' }, { name: 'streams.session.timeout.ms', op: 0, value: '2000' }], false),
      /streams.heartbeat.interval.ms must be less than streams.session.timeout.ms/,
    );
    await assert.rejects(broker.broker.configAdmin.groups.alter('app4', [{ name: 'streams.num.standby.replicas', op: 0, value: '3' }], false), /group.streams.max.standby.replicas/);
  });
});
