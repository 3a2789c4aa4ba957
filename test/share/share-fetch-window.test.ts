// ShareFetch reads the log in windows sized for the records it may still acquire (not up to
// MaxBytes at once): a fetch of a few hundred records from a long log gets exactly those records,
// each batch once, over several windows when records are larger than estimated; MaxBytes still
// bounds the response; acknowledgements riding on the next ShareFetch advance the start offset.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaClient } from '@kafkats/client';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { batchPositions, decodeRecordsSync } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { call, RawClient } from '../helpers/raw-client.js';

const RECORDS = 300;
const PER_BATCH = 3;
const VALUE = Buffer.alloc(10 * 1024, 'w');


/** Offsets of the records in a ShareFetch partition's batches; throws on a batch sent twice. */
function offsetsIn(records: Buffer | Buffer[] | null): number[] {
  const buf = !records ? Buffer.alloc(0) : Array.isArray(records) ? Buffer.concat(records) : records;
  const out: number[] = [];
  const bases = new Set<number>();
  for (const [pos] of batchPositions(buf)) {
    const recs = decodeRecordsSync(buf, pos);
    assert.ok(!bases.has(recs[0]!.offset), `batch at ${recs[0]!.offset} sent twice`);
    bases.add(recs[0]!.offset);
    for (const r of recs) out.push(r.offset);
  }
  return out;
}

describe('ShareFetch log reads', () => {
  let broker: TestBroker;
  let raw: RawClient;
  let topicId: string;
  const memberId = 'window-member-0000000001';

  before(async () => {
    broker = await startTestBroker({ 'offsets.topic.num.partitions': '1', 'share.coordinator.state.topic.num.partitions': '1' });
    const client = new KafkaClient({ brokers: [broker.bootstrap], clientId: 'share-window', logLevel: 'error' });
    await client.connect();
    await client.createTopics([{ name: 'big', numPartitions: 1, replicationFactor: 1 }]);
    const producer = client.producer({ lingerMs: 0 });
    for (let i = 0; i < RECORDS; i += PER_BATCH) {
      await producer.send('big', Array.from({ length: PER_BATCH }, (_, j) => ({ key: Buffer.from(`k${i + j}`), value: VALUE })));
    }
    await producer.disconnect();
    await client.disconnect();
    raw = await RawClient.open(broker.port);
    topicId = broker.broker.metadata.topic('big')!.topicId;
    const alter = await call(raw, ApiKey.AlterShareGroupOffsets, 0, { groupId: 'windows', topics: [{ topicName: 'big', partitions: [{ partitionIndex: 0, startOffset: -2 }] }] });
    assert.equal(alter.errorCode, ErrorCode.NONE);
    const hb = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: 'windows', memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: ['big'] });
    assert.equal(hb.errorCode, ErrorCode.NONE);
  });

  after(async () => {
    raw?.close();
    await broker?.dispose();
  });

  const fetch = (epoch: number, maxRecords: number, maxBytes: number, acks: { firstOffset: number; lastOffset: number }[] = []) =>
    call(raw, ApiKey.ShareFetch, 2, {
      groupId: 'windows', memberId, shareSessionEpoch: epoch, maxWaitMs: 0, minBytes: 1, maxBytes, maxRecords, batchSize: maxRecords,
      shareAcquireMode: 1, isRenewAck: false, forgottenTopicsData: [],
      topics: [{ topicId, partitions: [{ partitionIndex: 0, partitionMaxBytes: 0, acknowledgementBatches: acks.map((a) => ({ ...a, acknowledgeTypes: [1] })) }] }],
    });
  const startOffset = async () => {
    const d = await call(raw, ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId: 'windows', topics: [{ topicName: 'big', partitions: [0] }] }] });
    return d.groups[0].topics[0].partitions[0].startOffset as number;
  };

  it('acquires exactly the records asked for over several windows, each batch once', async () => {
    // MaxBytes bounds the response: 50 KiB holds one 30 KiB batch, not two.
    const small = await fetch(0, 200, 50 * 1024);
    const p0 = small.responses[0].partitions[0];
    assert.deepEqual(p0.acquiredRecords.map((a: any) => [a.firstOffset, a.lastOffset]), [[0, 2]]);
    assert.deepEqual(offsetsIn(p0.records), [0, 1, 2]);
    // 200 records of 10 KiB from a 50 MiB allowance: more than the first window's estimate.
    const big = await fetch(1, 200, 50 * 1024 * 1024, [{ firstOffset: 0, lastOffset: 2 }]);
    const p1 = big.responses[0].partitions[0];
    assert.equal(p1.acknowledgeErrorCode, ErrorCode.NONE);
    assert.deepEqual(p1.acquiredRecords.map((a: any) => [a.firstOffset, a.lastOffset]), [[3, 202]]);
    const offsets = offsetsIn(p1.records);
    // Whole batches go out; the last one may reach past the acquired (record-limit) range.
    assert.deepEqual(offsets.filter((o) => o <= 202), Array.from({ length: 200 }, (_, i) => i + 3));
    assert.ok(offsets.length <= 200 + PER_BATCH, `${offsets.length} records sent`);
    assert.equal(await startOffset(), 3);
    // The rest of the log; the acknowledgements ride on this fetch.
    const rest = await fetch(2, 500, 50 * 1024 * 1024, [{ firstOffset: 3, lastOffset: 202 }]);
    const p2 = rest.responses[0].partitions[0];
    assert.equal(p2.acknowledgeErrorCode, ErrorCode.NONE);
    assert.deepEqual(p2.acquiredRecords.map((a: any) => [a.firstOffset, a.lastOffset]), [[203, RECORDS - 1]]);
    assert.deepEqual(offsetsIn(p2.records).filter((o) => o >= 203), Array.from({ length: RECORDS - 203 }, (_, i) => i + 203));
    assert.equal(await startOffset(), 203);
    const done = await fetch(3, 500, 50 * 1024 * 1024, [{ firstOffset: 203, lastOffset: RECORDS - 1 }]);
    assert.equal(done.responses[0].partitions[0].acquiredRecords.length, 0);
    assert.equal(await startOffset(), RECORDS);
  });
});
