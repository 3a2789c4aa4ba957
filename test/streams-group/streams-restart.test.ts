// A streams group survives a broker restart: its records (key versions 17..23) in
// __consumer_offsets are replayed, members keep their epochs and tasks, the topology is back,
// and a member mid-rebalance continues where it was. DeleteGroups removes it for good.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

describe('KIP-1071 streams group persistence', () => {
  it('keeps the group, its topology and assignments across a restart', async () => {
    const dataDir = await tempDir();
    let broker: TestBroker = await startTestBroker({}, dataDir);
    let client = await RawClient.open(broker.port);
    let corr = 0;
    const call = async (apiKey: number, version: number, body: unknown): Promise<any> => {
      const id = ++corr;
      client.request(apiKey, version, id, body);
      const res = await client.response(apiKey, version);
      assert.equal(res?.correlationId, id);
      return res!.body;
    };
    const nulls = { endpointInformationEpoch: 0, instanceId: null, rackId: null, topology: null, processId: null, userEndpoint: null, clientTags: null, taskOffsets: null, taskEndOffsets: null, rebalanceTimeoutMs: -1 };
    const none = { activeTasks: [], standbyTasks: [], warmupTasks: [] };
    const hb = (body: Record<string, unknown>) => call(ApiKey.StreamsGroupHeartbeat, 0, { ...nulls, activeTasks: null, standbyTasks: null, warmupTasks: null, ...body });
    const topology = { epoch: 1, subtopologies: [{ subtopologyId: '0', sourceTopics: ['persist-in'] }] };
    const join = (memberId: string) =>
      hb({ groupId: 'persisted-app', memberId, memberEpoch: 0, rebalanceTimeoutMs: 10_000, topology, processId: `p-${memberId}`, userEndpoint: { host: 'h', port: 1 }, ...none });
    const describeGroup = async () => (await call(ApiKey.StreamsGroupDescribe, 0, { groupIds: ['persisted-app'] })).groups[0];
    try {
      await broker.broker.topics.create({ name: 'persist-in', numPartitions: 4, replicationFactor: 1 });
      const a1 = await join('a');
      assert.equal(a1.activeTasks[0].partitions.length, 4);
      const b1 = await join('b');
      assert.equal(b1.errorCode, ErrorCode.NONE);
      // A revokes two tasks: A moves to the new epoch with 2, B has none yet (A has not acked).
      const a2 = await hb({ groupId: 'persisted-app', memberId: 'a', memberEpoch: a1.memberEpoch, activeTasks: a1.activeTasks, standbyTasks: [], warmupTasks: [] });
      assert.equal(a2.activeTasks[0].partitions.length, 2);
      const before = await describeGroup();
      assert.equal(before.errorCode, ErrorCode.NONE);
      client.socket.destroy();
      await broker.close();

      broker = await startTestBroker({}, dataDir);
      client = await RawClient.open(broker.port);
      const after = await describeGroup();
      assert.equal(after.errorCode, ErrorCode.NONE);
      assert.equal(after.groupEpoch, before.groupEpoch);
      assert.equal(after.assignmentEpoch, before.assignmentEpoch);
      assert.deepEqual(after.topology, before.topology);
      const byId = (g: any) => Object.fromEntries(g.members.map((m: any) => [m.memberId, m]));
      assert.deepEqual(byId(after), byId(before));

      // A acknowledges the revocation, then B gets the two freed tasks.
      const a3 = await hb({ groupId: 'persisted-app', memberId: 'a', memberEpoch: a2.memberEpoch, activeTasks: a2.activeTasks, standbyTasks: [], warmupTasks: [] });
      assert.equal(a3.errorCode, ErrorCode.NONE);
      const b2 = await hb({ groupId: 'persisted-app', memberId: 'b', memberEpoch: b1.memberEpoch, ...none });
      assert.equal(b2.errorCode, ErrorCode.NONE);
      assert.equal(b2.activeTasks[0].partitions.length, 2);

      // Both leave; the empty group can be deleted and is gone after another restart.
      await hb({ groupId: 'persisted-app', memberId: 'a', memberEpoch: -1 });
      await hb({ groupId: 'persisted-app', memberId: 'b', memberEpoch: -1 });
      const deleted = await call(ApiKey.DeleteGroups, 2, { groupsNames: ['persisted-app'] });
      assert.equal(deleted.results[0].errorCode, ErrorCode.NONE);
      client.socket.destroy();
      await broker.close();
      broker = await startTestBroker({}, dataDir);
      client = await RawClient.open(broker.port);
      assert.equal((await describeGroup()).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    } finally {
      client.socket.destroy();
      await broker.dispose();
    }
  });
});

describe('KIP-1071 streams protocol disabled', () => {
  it('hides keys 88/89 and streams.version and refuses heartbeats without streams in group.coordinator.rebalance.protocols', async () => {
    const broker = await startTestBroker({ 'group.coordinator.rebalance.protocols': 'classic,consumer' });
    const client = await RawClient.open(broker.port);
    try {
      client.request(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
      const versions = (await client.response(ApiKey.ApiVersions, 3))!.body as any;
      assert.ok(!versions.apiKeys.some((k: any) => k.apiKey === ApiKey.StreamsGroupHeartbeat || k.apiKey === ApiKey.StreamsGroupDescribe));
      assert.ok(versions.apiKeys.some((k: any) => k.apiKey === ApiKey.ConsumerGroupHeartbeat));
      assert.ok(!versions.finalizedFeatures.some((f: any) => f.name === 'streams.version'));
      client.request(ApiKey.StreamsGroupHeartbeat, 0, 2, { groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1000, topology: { epoch: 1, subtopologies: [] }, processId: 'p', activeTasks: [], standbyTasks: [], warmupTasks: [] });
      const hb = (await client.response(ApiKey.StreamsGroupHeartbeat, 0))!.body as any;
      assert.equal(hb.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    } finally {
      client.socket.destroy();
      await broker.dispose();
    }
  });
});
