// `fjord share-group list|describe|reset-offsets|delete` against a real broker (each CLI run is a
// child process, so the test keeps their number small): a job queue set up
// to start at the beginning before any worker exists, described while a member holds records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { fjord, ok, suiteBroker } from '../cli/run.js';
import { call, RawClient } from '../helpers/raw-client.js';


describe('fjord share-group', () => {
  const suite = suiteBroker();

  it('reset-offsets sets up a queue, describe shows members, start offsets and in-flight records, delete removes it', async () => {
    const { broker, b } = suite;
    await broker.broker.topics.create({ name: 'tasks', numPartitions: 2, replicationFactor: 1 });
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'tasks', messages: ['a', 'b', 'c', 'd'].map((value) => ({ value, partition: 0 })) });
    await producer.disconnect();
    const applied = JSON.parse(await ok(['share-group', 'reset-offsets', ...b, 'tasks-q', '--topic', 'tasks', '--to-earliest', '--execute', '--json']));
    assert.deepEqual(applied.partitions.map((p: { newStartOffset: number }) => p.newStartOffset), [0, 0]);
    assert.deepEqual(JSON.parse(await ok(['share-group', 'list', ...b, '--json'])), [{ group: 'tasks-q', state: 'Empty' }]);

    // A member joins and acquires two records without acknowledging them.
    const raw = await RawClient.open(broker.port);
    try {
      const memberId = 'cli-member-000000000000';
      const hb = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'tasks-q', memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: ['tasks'] });
      assert.equal(hb.errorCode, ErrorCode.NONE);
      const topicId = broker.broker.metadata.topic('tasks')!.topicId;
      const fetched = await call(raw, ApiKey.ShareFetch, 2, {
        groupId: 'tasks-q', memberId, shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, maxRecords: 2, batchSize: 2,
        shareAcquireMode: 1, isRenewAck: false, topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }], forgottenTopicsData: [],
      });
      assert.deepEqual(fetched.responses[0].partitions[0].acquiredRecords, [{ firstOffset: 0, lastOffset: 1, deliveryCount: 1 }]);

      const d = JSON.parse(await ok(['share-group', 'describe', ...b, 'tasks-q', '--json']));
      assert.equal(d.state, 'Stable');
      assert.equal(d.members.length, 1);
      assert.equal(d.members[0].memberId, memberId);
      assert.match(d.members[0].assignment, /^tasks:0,1$/);
      const p0 = d.partitions.find((p: { partition: number }) => p.partition === 0);
      assert.deepEqual({ start: p0.startOffset, lag: p0.lag, acquired: p0.acquired }, { start: 0, lag: 4, acquired: 2 });

      const busy = await fjord(['share-group', 'delete', ...b, 'tasks-q']);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /NON_EMPTY_GROUP/);
      await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'tasks-q', memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null });
    } finally {
      raw.close();
    }
    await ok(['share-group', 'delete', ...b, 'tasks-q']);
    assert.equal(broker.broker.groups.getGroup('tasks-q'), undefined);
    assert.equal(broker.broker.groups.shareGroups.inFlightOf('tasks-q').length, 0, 'state deleted with the group');
  });

  it('config set/get --group changes a share group config (GROUP config resource)', async () => {
    const { b } = suite;
    await ok(['config', 'set', ...b, '--group', 'emails', 'share.isolation.level=read_committed', 'share.auto.offset.reset=earliest']);
    const got = JSON.parse(await ok(['config', 'get', ...b, '--group', 'emails', '--json'])) as { name: string; value: string; source: string }[];
    const byName = new Map(got.map((c) => [c.name, c]));
    assert.deepEqual([byName.get('share.isolation.level')?.value, byName.get('share.isolation.level')?.source], ['read_committed', 'GROUP_CONFIG']);
    assert.equal(byName.get('share.auto.offset.reset')?.value, 'earliest');
    const bad = await fjord(['config', 'set', ...b, '--group', 'emails', 'share.isolation.level=serializable']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_CONFIG/);
  });
});
