// The newest protocol versions (Kafka 4.1/4.2 specs) each handler serves, with what each new
// version adds, through raw requests to a real broker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { apiSpecs } from '../../src/protocol/gen/specs.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const ZERO_UUID = Buffer.alloc(16).toString('base64url');

describe('newest protocol versions', () => {
  let broker: TestBroker;
  let c: RawClient;
  let cid = 1;
  async function call(apiKey: number, version: number, body: unknown): Promise<any> {
    c.request(apiKey, version, cid++, body);
    const res = await c.response(apiKey, version);
    assert.ok(res, `no response to api ${apiKey} v${version}`);
    return res.body;
  }
  let topicId = '';

  before(async () => {
    broker = await startTestBroker();
    c = await RawClient.open(broker.port);
    await broker.broker.topics.create({ name: 'newest', numPartitions: 1, replicationFactor: -1 });
    const md = await call(ApiKey.Metadata, 13, { topics: [{ name: 'newest', topicId: ZERO_UUID }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.equal(md.errorCode, ErrorCode.NONE); // v13: top-level error code
    topicId = md.topics[0].topicId;
    assert.notEqual(topicId, ZERO_UUID);
  });
  after(async () => {
    c.close();
    await broker.dispose();
  });

  it('ApiVersions v5 advertises the newest versions, never beyond the specs', async () => {
    const res = await call(ApiKey.ApiVersions, 5, { clientSoftwareName: 't', clientSoftwareVersion: '1', clusterId: null, nodeId: -1 });
    assert.equal(res.errorCode, ErrorCode.NONE);
    const adv = new Map<number, [number, number]>(res.apiKeys.map((k: any) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    for (const [key, [, max]] of adv) assert.ok(max <= apiSpecs.get(key)!.maxVersion, `api ${key} v${max} is beyond its spec`);
    const expectMax: [number, number][] = [
      [ApiKey.Produce, 13],
      [ApiKey.Fetch, 18],
      [ApiKey.ListOffsets, 11],
      [ApiKey.Metadata, 13],
      [ApiKey.OffsetCommit, 10],
      [ApiKey.OffsetFetch, 10],
      [ApiKey.DescribeGroups, 6],
      [ApiKey.DeleteGroups, 3],
      [ApiKey.ApiVersions, 5],
      [ApiKey.DescribeCluster, 2],
      [ApiKey.DescribeLogDirs, 5],
      [ApiKey.ConsumerGroupDescribe, 1],
      [ApiKey.AlterPartitionReassignments, 1],
    ];
    for (const [key, max] of expectMax) assert.equal(adv.get(key)?.[1], max, `api ${apiSpecs.get(key)!.name}`);
  });

  it('ApiVersions v5 asks a client that meant another cluster or node to rebootstrap', async () => {
    const base = { clientSoftwareName: 't', clientSoftwareVersion: '1' };
    const right = await call(ApiKey.ApiVersions, 5, { ...base, clusterId: broker.broker.clusterId, nodeId: broker.broker.nodeId });
    assert.equal(right.errorCode, ErrorCode.NONE);
    const wrong = await call(ApiKey.ApiVersions, 5, { ...base, clusterId: 'another-cluster', nodeId: broker.broker.nodeId });
    assert.equal(wrong.errorCode, ErrorCode.REBOOTSTRAP_REQUIRED);
    const otherNode = await call(ApiKey.ApiVersions, 5, { ...base, clusterId: broker.broker.clusterId, nodeId: broker.broker.nodeId + 7 });
    assert.equal(otherNode.errorCode, ErrorCode.REBOOTSTRAP_REQUIRED);
  });

  it('Produce v13 and OffsetCommit/OffsetFetch v10 name topics by id', async () => {
    const records = await buildBatch({ records: [{ value: Buffer.from('a') }, { value: Buffer.from('b') }] });
    const produce = (id: string) =>
      call(ApiKey.Produce, 13, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ topicId: id, partitionData: [{ index: 0, records }] }] });
    const ok = await produce(topicId);
    assert.equal(ok.responses[0].topicId, topicId);
    assert.equal(ok.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
    assert.equal(ok.responses[0].partitionResponses[0].baseOffset, 0);
    const unknownId = Buffer.alloc(16, 0x0f).toString('base64url');
    const bad = await produce(unknownId);
    assert.equal(bad.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_ID);

    const commit = await call(ApiKey.OffsetCommit, 10, {
      groupId: 'by-id',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        { topicId, partitions: [{ partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: -1, committedMetadata: 'm' }] },
        { topicId: unknownId, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    assert.deepEqual(
      commit.topics.map((t: any) => [t.topicId, t.partitions[0].errorCode]),
      [
        [topicId, ErrorCode.NONE],
        [unknownId, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    const fetched = await call(ApiKey.OffsetFetch, 10, {
      groups: [{ groupId: 'by-id', memberId: null, memberEpoch: -1, topics: [{ topicId, partitionIndexes: [0] }, { topicId: unknownId, partitionIndexes: [0] }] }],
      requireStable: false,
    });
    const g = fetched.groups[0];
    assert.equal(g.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      g.topics.map((t: any) => [t.topicId, t.partitions[0].committedOffset, t.partitions[0].errorCode]),
      [
        [topicId, 2, ErrorCode.NONE],
        [unknownId, -1, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    const all = await call(ApiKey.OffsetFetch, 10, { groups: [{ groupId: 'by-id', memberId: null, memberEpoch: -1, topics: null }], requireStable: false });
    assert.deepEqual(all.groups[0].topics.map((t: any) => [t.topicId, t.partitions[0].committedOffset]), [[topicId, 2]]);
  });

  it('ListOffsets v11 answers EARLIEST_PENDING_UPLOAD (-6) with no offset; older versions refuse it', async () => {
    const req = (timestamp: number) => ({ replicaId: -1, isolationLevel: 0, topics: [{ name: 'newest', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] });
    const v11 = await call(ApiKey.ListOffsets, 11, req(-6));
    assert.deepEqual([v11.topics[0].partitions[0].errorCode, v11.topics[0].partitions[0].offset], [ErrorCode.NONE, -1]);
    const v10 = await call(ApiKey.ListOffsets, 10, req(-6));
    assert.equal(v10.topics[0].partitions[0].errorCode, ErrorCode.UNSUPPORTED_VERSION);
  });

  it('DescribeGroups v6 reports unknown groups as GROUP_ID_NOT_FOUND (v5: an empty Dead group)', async () => {
    const v6 = await call(ApiKey.DescribeGroups, 6, { groups: ['no-such-group'], includeAuthorizedOperations: false });
    assert.equal(v6.groups[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.match(v6.groups[0].errorMessage, /no-such-group/);
    const v5 = await call(ApiKey.DescribeGroups, 5, { groups: ['no-such-group'], includeAuthorizedOperations: false });
    assert.deepEqual([v5.groups[0].errorCode, v5.groups[0].groupState], [ErrorCode.NONE, 'Dead']);
  });

  it('DeleteGroups v3 explains per-group errors; DescribeCluster v2 marks brokers unfenced', async () => {
    const del = await call(ApiKey.DeleteGroups, 3, { groupsNames: ['no-such-group'] });
    assert.equal(del.results[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.match(del.results[0].errorMessage, /no-such-group/);
    const cluster = await call(ApiKey.DescribeCluster, 2, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true });
    assert.equal(cluster.errorCode, ErrorCode.NONE);
    assert.ok(cluster.brokers.length >= 1);
    assert.ok(cluster.brokers.every((b: any) => b.isFenced === false));
  });

  it('AlterPartitionReassignments v1 refuses a replication factor change when told to', async () => {
    const res = await call(ApiKey.AlterPartitionReassignments, 1, {
      timeoutMs: 1000,
      allowReplicationFactorChange: false,
      topics: [{ name: 'newest', partitions: [{ partitionIndex: 0, replicas: [broker.broker.nodeId, broker.broker.nodeId + 1] }] }],
    });
    assert.equal(res.responses[0].partitions[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  });
});
