// Share groups (KIP-932) end to end with a real share-consumer client, @kafkats/client's
// ShareConsumer, against an in-process broker: a job queue worked by more consumers than
// partitions, redelivery on RELEASE / lock expiry, archiving on REJECT / delivery limit, and
// describe / list / delete of share groups.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaClient, type ShareConsumer } from '@kafkats/client';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { call, RawClient } from '../helpers/raw-client.js';

const LOCK_MS = 2000;
const DELIVERY_LIMIT = 3;


describe('share groups with @kafkats/client ShareConsumer', () => {
  let broker: TestBroker;
  let client: KafkaClient;
  let raw: RawClient;
  const consumers: ShareConsumer[] = [];

  before(async () => {
    broker = await startTestBroker({
      'offsets.topic.num.partitions': '4',
      'group.initial.rebalance.delay.ms': '0',
      'share.coordinator.state.topic.num.partitions': '4',
      'group.share.record.lock.duration.ms': String(LOCK_MS),
      'group.share.delivery.count.limit': String(DELIVERY_LIMIT),
      'group.share.heartbeat.interval.ms': '300',
      'group.share.min.heartbeat.interval.ms': '100',
      'group.share.session.timeout.ms': '5000',
      'group.share.min.session.timeout.ms': '1000',
    });
    client = new KafkaClient({ brokers: [broker.bootstrap], clientId: 'share-test', logLevel: 'error' });
    await client.connect();
    raw = await RawClient.open(broker.port);
  });

  after(async () => {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    raw?.close();
    await client?.disconnect();
    await broker?.dispose();
  });

  async function produce(topic: string, values: string[]): Promise<void> {
    const producer = client.producer({ lingerMs: 0 });
    await producer.send(topic, values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v) })));
    await producer.disconnect();
  }

  /** Starts consumers that record what they process; waits until the group has them all. */
  async function startWorkers(
    groupId: string,
    topic: string,
    n: number,
    handler: (worker: number, value: string, msg: { deliveryCount?: number; release(): Promise<void>; reject(): Promise<void> }) => Promise<void>,
  ): Promise<ShareConsumer[]> {
    const started: ShareConsumer[] = [];
    for (let w = 0; w < n; w++) {
      const c = client.shareConsumer({ groupId, maxWaitMs: 300, maxRecords: 10, acquireMode: 'record_limit' });
      c.on('error', () => {});
      void c.runEach(topic, (m) => handler(w, m.value!.toString(), m)).catch(() => {});
      started.push(c);
      consumers.push(c);
      // The client negotiates API versions on its first coordinator connection; consumers created
      // while that is still under way see no versions yet, so the first one goes ahead alone.
      if (w === 0) await waitFor(() => memberCount(groupId) === 1, 10_000, 'first member');
    }
    // Every member joined and every share-partition is initialized (start offset known).
    await waitFor(() => broker.broker.groups.getGroup(groupId)?.isEmpty() === false && memberCount(groupId) === n, 15_000, `${n} members in ${groupId}`);
    await waitFor(async () => {
      const d = await call(raw, ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId, topics: null }] });
      const parts = d.groups[0].topics.flatMap((t: { partitions: { startOffset: number }[] }) => t.partitions);
      const want = broker.broker.metadata.topic(topic)!.partitions.length;
      return parts.length === want && parts.every((p: { startOffset: number }) => p.startOffset >= 0);
    }, 15_000, 'share-partitions initialized');
    return started;
  }

  function memberCount(groupId: string): number {
    const g = broker.broker.groups.getGroup(groupId) as unknown as { members: Map<string, unknown> } | undefined;
    return g?.members.size ?? 0;
  }

  it('10 consumers on a 2-partition topic all get work; every record is processed exactly once', async () => {
    await broker.broker.topics.create({ name: 'jobs', numPartitions: 2, replicationFactor: 1 });
    const seen = new Map<string, number>();
    const perWorker = new Array<number>(10).fill(0);
    await startWorkers('workers', 'jobs', 10, async (w, v) => {
      seen.set(v, (seen.get(v) ?? 0) + 1);
      perWorker[w]!++;
      // Simulated work keeps each worker busy so the others get records too.
      await new Promise((r) => setTimeout(r, 2));
    });
    const total = 600;
    for (let wave = 0; wave < 6; wave++) {
      await produce('jobs', Array.from({ length: total / 6 }, (_, i) => `job-${wave * (total / 6) + i}`));
    }
    await waitFor(() => seen.size === total, 20_000, 'every job processed');
    // Every acknowledgement is in before we look for duplicates.
    await waitFor(async () => {
      const d = await call(raw, ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId: 'workers', topics: [{ topicName: 'jobs', partitions: [0, 1] }] }] });
      return d.groups[0].topics[0].partitions.every((p: { lag: number }) => p.lag === 0);
    }, 10_000, 'lag 0').catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(broker.broker.groups.shareGroups.inFlightOf('workers'))}`);
    });
    assert.equal(seen.size, total);
    assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], 'no job processed twice');
    assert.ok(perWorker.every((n) => n > 0), `every worker got work: ${perWorker.join(',')}`);

    // Describe shows the ten members, each with one of the two partitions.
    const described = await call(raw, ApiKey.ShareGroupDescribe, 1, { groupIds: ['workers'], includeAuthorizedOperations: false });
    const g = described.groups[0];
    assert.equal(g.errorCode, ErrorCode.NONE);
    assert.equal(g.groupState, 'Stable');
    assert.equal(g.members.length, 10);
    for (const m of g.members) {
      assert.equal(m.assignment.topicPartitions.length, 1);
      assert.equal(m.assignment.topicPartitions[0].topicName, 'jobs');
      assert.equal(m.assignment.topicPartitions[0].partitions.length, 1);
    }
    const listed = await call(raw, ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['share'] });
    assert.deepEqual(listed.groups.map((x: { groupId: string; groupType: string }) => [x.groupId, x.groupType]), [['workers', 'share']]);

    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await waitFor(() => memberCount('workers') === 0, 10_000, 'members left');
    const del = await call(raw, ApiKey.DeleteGroups, 2, { groupsNames: ['workers'] });
    assert.equal(del.results[0].errorCode, ErrorCode.NONE);
    const gone = await call(raw, ApiKey.ShareGroupDescribe, 1, { groupIds: ['workers'], includeAuthorizedOperations: false });
    assert.equal(gone.groups[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('RELEASE redelivers, REJECT archives, a record failing past the delivery limit is archived', async () => {
    await broker.broker.topics.create({ name: 'retries', numPartitions: 1, replicationFactor: 1 });
    const deliveries = new Map<string, number[]>();
    await startWorkers('retry-workers', 'retries', 2, async (_w, v, m) => {
      const list = deliveries.get(v) ?? [];
      list.push(m.deliveryCount ?? -1);
      deliveries.set(v, list);
      if (v === 'release-once' && list.length === 1) return m.release();
      if (v === 'reject') return m.reject();
      if (v === 'poison') return m.release();
      // anything else: accepted (runEach acknowledges on success)
    });
    await produce('retries', ['ok-1', 'release-once', 'reject', 'poison', 'ok-2']);
    await waitFor(() => (deliveries.get('poison')?.length ?? 0) >= DELIVERY_LIMIT && deliveries.get('release-once')?.length === 2, 20_000, 'redeliveries');
    // Everything done: start offset moves past all five records.
    await waitFor(async () => {
      const d = await call(raw, ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId: 'retry-workers', topics: [{ topicName: 'retries', partitions: [0] }] }] });
      return d.groups[0].topics[0].partitions[0].startOffset === 5;
    }, 10_000, 'start offset 5');
    assert.deepEqual(deliveries.get('release-once'), [1, 2]);
    assert.deepEqual(deliveries.get('reject'), [1], 'rejected record never comes back');
    assert.deepEqual(deliveries.get('poison'), [1, 2, 3], 'archived after the delivery limit');
    assert.deepEqual(deliveries.get('ok-1'), [1]);
    assert.deepEqual(deliveries.get('ok-2'), [1]);
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });

  it('records held by a member that vanished come back after the lock duration', async () => {
    await broker.broker.topics.create({ name: 'crashy', numPartitions: 1, replicationFactor: 1 });
    const topicId = broker.broker.metadata.topic('crashy')!.topicId;
    // A raw member joins, acquires everything and goes silent (no acknowledgement, no leave).
    const memberId = 'vanishing-member-000000';
    const hb = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'crash-group', memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: ['crashy'] });
    assert.equal(hb.errorCode, ErrorCode.NONE);
    const alter = await call(raw, ApiKey.AlterShareGroupOffsets, 0, { groupId: 'crash-group', topics: [{ topicName: 'crashy', partitions: [{ partitionIndex: 0, startOffset: 0 }] }] });
    assert.equal(alter.errorCode, ErrorCode.NON_EMPTY_GROUP, 'offsets of a group with members cannot be altered');
    await produce('crashy', ['a', 'b', 'c']);
    const fetchReq = (epoch: number) => ({
      groupId: 'crash-group', memberId, shareSessionEpoch: epoch, maxWaitMs: 2000, minBytes: 1, maxBytes: 1 << 20, maxRecords: 100, batchSize: 100,
      shareAcquireMode: 0, isRenewAck: false, topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }], forgottenTopicsData: [],
    });
    // The share-partition starts at the latest offset when first fetched; 'a','b','c' were produced
    // before, so produce more now that it exists and acquire those.
    const first = await call(raw, ApiKey.ShareFetch, 2, { ...fetchReq(0), maxWaitMs: 0 });
    assert.equal(first.errorCode, ErrorCode.NONE);
    await produce('crashy', ['held-1', 'held-2']);
    const got = await call(raw, ApiKey.ShareFetch, 2, fetchReq(1));
    const acquired = got.responses[0].partitions[0].acquiredRecords;
    assert.deepEqual(acquired, [{ firstOffset: 3, lastOffset: 4, deliveryCount: 1 }]);
    const acquiredAt = Date.now();
    // Another member's acknowledgement of those offsets is refused.
    const other = 'other-member-0000000000';
    await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'crash-group', memberId: other, memberEpoch: 0, rackId: null, subscribedTopicNames: ['crashy'] });
    await call(raw, ApiKey.ShareFetch, 2, { ...fetchReq(0), memberId: other, maxWaitMs: 0, maxRecords: 1 });
    const wrongAck = await call(raw, ApiKey.ShareAcknowledge, 2, {
      groupId: 'crash-group', memberId: other, shareSessionEpoch: 1, isRenewAck: false,
      topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 3, lastOffset: 4, acknowledgeTypes: [1] }] }] }],
    });
    assert.equal(wrongAck.responses[0].partitions[0].errorCode, ErrorCode.INVALID_RECORD_STATE);

    // A real consumer joins; it gets the held records once their lock expired, as second delivery.
    const redelivered: { value: string; count: number | undefined; at: number }[] = [];
    const c = client.shareConsumer({ groupId: 'crash-group', maxWaitMs: 300 });
    c.on('error', () => {});
    consumers.push(c);
    void c.runEach('crashy', async (m) => {
      redelivered.push({ value: m.value!.toString(), count: m.deliveryCount, at: Date.now() });
    }).catch(() => {});
    await waitFor(() => redelivered.length >= 2, 15_000, 'held records redelivered');
    assert.deepEqual(redelivered.map((r) => [r.value, r.count]), [['held-1', 2], ['held-2', 2]]);
    assert.ok(redelivered[0]!.at - acquiredAt >= LOCK_MS - 100, 'not before the lock expired');
    await Promise.all(consumers.splice(0).map((x) => x.stop()));
  });

  it('answers bad input with Kafka error codes', async () => {
    // Unknown group.
    const d = await call(raw, ApiKey.ShareGroupDescribe, 1, { groupIds: ['no-such-group'], includeAuthorizedOperations: false });
    assert.equal(d.groups[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const hb0 = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'no-such-group', memberId: 'm-000000000000000000000', memberEpoch: 3, rackId: null, subscribedTopicNames: null });
    assert.equal(hb0.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    // A classic group's id used as a share group.
    const join = await call(raw, ApiKey.JoinGroup, 5, {
      groupId: 'classic-one', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', groupInstanceId: null, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null,
    });
    assert.equal(join.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    await call(raw, ApiKey.JoinGroup, 5, {
      groupId: 'classic-one', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: join.memberId, groupInstanceId: null, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null,
    });
    const hbClassic = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'classic-one', memberId: 'm-000000000000000000001', memberEpoch: 0, rackId: null, subscribedTopicNames: ['jobs'] });
    assert.equal(hbClassic.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // Stale member epoch.
    const memberId = 'm-000000000000000000002';
    const a = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: ['jobs'] });
    assert.equal(a.errorCode, ErrorCode.NONE);
    await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId: 'm-000000000000000000003', memberEpoch: 0, rackId: null, subscribedTopicNames: ['jobs'] });
    await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId: 'm-000000000000000000004', memberEpoch: 0, rackId: null, subscribedTopicNames: ['jobs'] });
    const b = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId, memberEpoch: a.memberEpoch, rackId: null, subscribedTopicNames: null });
    assert.equal(b.errorCode, ErrorCode.NONE);
    assert.equal(b.memberEpoch, a.memberEpoch + 2);
    await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId: 'm-000000000000000000005', memberEpoch: 0, rackId: null, subscribedTopicNames: ['jobs'] });
    const c = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId, memberEpoch: b.memberEpoch, rackId: null, subscribedTopicNames: null });
    assert.equal(c.memberEpoch, b.memberEpoch + 1);
    // The previous epoch is still accepted (a lost response); older ones are fenced.
    const stale = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId, memberEpoch: a.memberEpoch, rackId: null, subscribedTopicNames: null });
    assert.equal(stale.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    const future = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId, memberEpoch: b.memberEpoch + 5, rackId: null, subscribedTopicNames: null });
    assert.equal(future.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    // Share sessions: unknown session, wrong epoch, acknowledgements when opening.
    const fetch = (epoch: number, extra: object = {}) =>
      call(raw, ApiKey.ShareFetch, 2, {
        groupId: 'epochs', memberId, shareSessionEpoch: epoch, maxWaitMs: 0, minBytes: 1, maxBytes: 1024, maxRecords: 10, batchSize: 10,
        shareAcquireMode: 0, isRenewAck: false, topics: [], forgottenTopicsData: [], ...extra,
      });
    assert.equal((await fetch(7)).errorCode, ErrorCode.SHARE_SESSION_NOT_FOUND);
    assert.equal((await fetch(0)).errorCode, ErrorCode.NONE);
    assert.equal((await fetch(5)).errorCode, ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    const topicId = broker.broker.metadata.topic('jobs')?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA';
    const withAcks = await fetch(0, { topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }] }] }] });
    assert.equal(withAcks.errorCode, ErrorCode.INVALID_REQUEST);
    // A share fetch under a classic group's id.
    const classicFetch = await call(raw, ApiKey.ShareFetch, 2, {
      groupId: 'classic-one', memberId, shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 1, maxBytes: 1024, maxRecords: 10, batchSize: 10,
      shareAcquireMode: 0, isRenewAck: false, topics: [], forgottenTopicsData: [],
    });
    assert.equal(classicFetch.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // A member may not join without subscribing to anything.
    const empty = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'epochs', memberId: 'm-000000000000000000009', memberEpoch: 0, rackId: null, subscribedTopicNames: [] });
    assert.equal(empty.errorCode, ErrorCode.INVALID_REQUEST);
    // ApiVersions reports share.version.
    const versions = await call(raw, ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    const share = versions.finalizedFeatures.find((f: { name: string }) => f.name === 'share.version');
    assert.deepEqual(share && [share.minVersionLevel, share.maxVersionLevel], [1, 1]);
  });
});
