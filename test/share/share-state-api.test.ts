// The share coordinator's state APIs (Initialize / Read / Write / Delete ShareGroupState,
// ReadShareGroupStateSummary) over the wire: state written through WriteShareGroupState is read
// back, merged with earlier writes, survives a restart, drives what a ShareFetch acquires, and
// bad input gets Kafka's codes (stale state / leader epochs, uninitialized writes, unknown topics).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { call, RawClient } from '../helpers/raw-client.js';

const CONFIG = {
  'offsets.topic.num.partitions': '2',
  'share.coordinator.state.topic.num.partitions': '2',
};
const ACKNOWLEDGED = 2;
const ARCHIVED = 4;
const AVAILABLE = 0;


describe('share-state APIs (Initialize / Read / Write / Delete ShareGroupState)', () => {
  let dataDir = '';
  let broker: TestBroker;
  let raw: RawClient;
  let topicId = '';

  before(async () => {
    dataDir = await tempDir('fjord-share-state-');
    broker = await startTestBroker(CONFIG, dataDir);
    raw = await RawClient.open(broker.port);
    await broker.broker.topics.create({ name: 'st', numPartitions: 2, replicationFactor: 1 });
    topicId = broker.broker.metadata.topic('st')!.topicId;
  });

  after(async () => {
    raw?.close();
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  const one = (res: { results: { partitions: unknown[] }[] }) => res.results[0]!.partitions[0] as { errorCode: number; errorMessage: string | null } & Record<string, unknown>;
  const initialize = async (groupId: string, partition: number, stateEpoch: number, startOffset: number, id = topicId) =>
    one(await call(raw, ApiKey.InitializeShareGroupState, 0, { groupId, topics: [{ topicId: id, partitions: [{ partition, stateEpoch, startOffset }] }] }));
  const write = async (groupId: string, partition: number, p: { stateEpoch: number; leaderEpoch: number; startOffset: number; stateBatches: { firstOffset: number; lastOffset: number; deliveryState: number; deliveryCount: number }[] }) =>
    one(await call(raw, ApiKey.WriteShareGroupState, 1, { groupId, topics: [{ topicId, partitions: [{ partition, deliveryCompleteCount: -1, ...p }] }] }));
  const read = async (groupId: string, partition: number, leaderEpoch = -1) =>
    one(await call(raw, ApiKey.ReadShareGroupState, 0, { groupId, topics: [{ topicId, partitions: [{ partition, leaderEpoch }] }] }));

  it('bad input gets Kafka codes', async () => {
    assert.equal((await initialize('ext', 0, 0, 0, 'AAAAAAAAAAAAAAAAAAAAAQ')).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await initialize('ext', 7, 0, 0)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await initialize('ext', -1, 0, 0)).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await initialize('', 0, 0, 0)).errorCode, ErrorCode.INVALID_REQUEST);
    const uninitialized = await write('never-initialized', 0, { stateEpoch: 0, leaderEpoch: 0, startOffset: 0, stateBatches: [] });
    assert.equal(uninitialized.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(uninitialized.errorMessage ?? '', /not initialized/);
    // Reading a share-partition nobody initialized is not an error: start offset -1, like Kafka.
    const empty = await read('never-initialized', 0);
    assert.deepEqual([empty.errorCode, empty.startOffset, empty.stateEpoch], [ErrorCode.NONE, -1, 0]);
  });

  it('written state is read back, merged, fenced by epochs, summarized, and survives a restart', async () => {
    assert.equal((await initialize('ext', 0, 1, 5)).errorCode, ErrorCode.NONE);
    const fresh = await read('ext', 0);
    assert.deepEqual([fresh.errorCode, fresh.startOffset, fresh.stateEpoch, fresh.stateBatches], [ErrorCode.NONE, 5, 1, []]);

    let w = await write('ext', 0, {
      stateEpoch: 1, leaderEpoch: 3, startOffset: 5,
      stateBatches: [{ firstOffset: 5, lastOffset: 7, deliveryState: ACKNOWLEDGED, deliveryCount: 1 }, { firstOffset: 8, lastOffset: 9, deliveryState: AVAILABLE, deliveryCount: 2 }],
    });
    assert.equal(w.errorCode, ErrorCode.NONE, w.errorMessage ?? '');
    // A write carrying only the changed batch is merged into the state (-1 keeps the start offset).
    w = await write('ext', 0, { stateEpoch: 1, leaderEpoch: 3, startOffset: -1, stateBatches: [{ firstOffset: 8, lastOffset: 8, deliveryState: ARCHIVED, deliveryCount: 2 }] });
    assert.equal(w.errorCode, ErrorCode.NONE, w.errorMessage ?? '');
    const expected = [
      { firstOffset: 5, lastOffset: 7, deliveryState: ACKNOWLEDGED, deliveryCount: 1 },
      { firstOffset: 8, lastOffset: 8, deliveryState: ARCHIVED, deliveryCount: 2 },
      { firstOffset: 9, lastOffset: 9, deliveryState: AVAILABLE, deliveryCount: 2 },
    ];
    assert.deepEqual((await read('ext', 0)).stateBatches, expected);

    // Stale epochs are fenced and change nothing.
    const staleState = await write('ext', 0, { stateEpoch: 0, leaderEpoch: 3, startOffset: 9, stateBatches: [] });
    assert.equal(staleState.errorCode, ErrorCode.FENCED_STATE_EPOCH);
    const staleLeader = await write('ext', 0, { stateEpoch: 1, leaderEpoch: 2, startOffset: 9, stateBatches: [] });
    assert.equal(staleLeader.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    assert.equal((await initialize('ext', 0, 0, 0)).errorCode, ErrorCode.FENCED_STATE_EPOCH);
    assert.equal((await read('ext', 0, 2)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    assert.equal((await read('ext', 0)).startOffset, 5);
    const badBatch = await write('ext', 0, { stateEpoch: 1, leaderEpoch: 3, startOffset: -1, stateBatches: [{ firstOffset: 9, lastOffset: 8, deliveryState: 1, deliveryCount: 0 }] });
    assert.equal(badBatch.errorCode, ErrorCode.INVALID_REQUEST);

    const summary = one(await call(raw, ApiKey.ReadShareGroupStateSummary, 1, { groupId: 'ext', topics: [{ topicId, partitions: [{ partition: 0, leaderEpoch: -1 }] }] }));
    assert.deepEqual(
      [summary.errorCode, summary.startOffset, summary.stateEpoch, summary.leaderEpoch, summary.deliveryCompleteCount],
      [ErrorCode.NONE, 5, 1, 3, 4],
    );

    raw.close();
    await broker.close();
    broker = await startTestBroker(CONFIG, dataDir);
    raw = await RawClient.open(broker.port);
    const back = await read('ext', 0);
    assert.deepEqual([back.errorCode, back.startOffset, back.stateEpoch, back.stateBatches], [ErrorCode.NONE, 5, 1, expected]);

    const deleted = one(await call(raw, ApiKey.DeleteShareGroupState, 0, { groupId: 'ext', topics: [{ topicId, partitions: [{ partition: 0 }] }] }));
    assert.equal(deleted.errorCode, ErrorCode.NONE);
    assert.equal((await read('ext', 0)).startOffset, -1);
    assert.equal((await write('ext', 0, { stateEpoch: 1, leaderEpoch: 3, startOffset: 5, stateBatches: [] })).errorCode, ErrorCode.INVALID_REQUEST, 'deleted = uninitialized');
  });

  it('state written through the API is what a share consumer gets', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'st', messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: 1 })) });
    await producer.disconnect();

    // Offsets 0-3 done, 4 archived, 5 released once: the queue resumes at 5.
    assert.equal((await initialize('live', 1, 0, 0)).errorCode, ErrorCode.NONE);
    const w = await write('live', 1, {
      stateEpoch: 0, leaderEpoch: -1, startOffset: 0,
      stateBatches: [
        { firstOffset: 0, lastOffset: 3, deliveryState: ACKNOWLEDGED, deliveryCount: 1 },
        { firstOffset: 4, lastOffset: 4, deliveryState: ARCHIVED, deliveryCount: 5 },
        { firstOffset: 5, lastOffset: 5, deliveryState: AVAILABLE, deliveryCount: 1 },
      ],
    });
    assert.equal(w.errorCode, ErrorCode.NONE, w.errorMessage ?? '');
    const memberId = 'state-api-member-000000';
    const hb = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'live', memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: ['st'] });
    assert.equal(hb.errorCode, ErrorCode.NONE);
    const fetched = await call(raw, ApiKey.ShareFetch, 2, {
      groupId: 'live', memberId, shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, maxRecords: 100, batchSize: 100,
      shareAcquireMode: 1, isRenewAck: false, topics: [{ topicId, partitions: [{ partitionIndex: 1, acknowledgementBatches: [] }] }], forgottenTopicsData: [],
    });
    assert.deepEqual(fetched.responses[0].partitions[0].acquiredRecords, [
      { firstOffset: 5, lastOffset: 5, deliveryCount: 2 },
      { firstOffset: 6, lastOffset: 9, deliveryCount: 1 },
    ]);
    // The live state now shows them acquired.
    const live = await read('live', 1);
    assert.equal(live.startOffset, 5);
    assert.deepEqual((live.stateBatches as { deliveryState: number }[]).map((b) => b.deliveryState), [1, 1]);
  });
});
