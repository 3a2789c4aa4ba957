// `fjord txn list | describe | abort` against a real broker, with a kafkajs transaction in flight
// and a hanging transaction no coordinator knows (written with partition verification off).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { fjord, ok } from '../cli/run.js';

const { Kafka, logLevel } = kafkajs;

describe('fjord txn', () => {
  let broker: TestBroker;
  let b: string[];
  before(async () => {
    broker = await startTestBroker({ 'transaction.partition.verification.enable': 'false' });
    b = ['-b', broker.bootstrap];
  });
  after(async () => broker?.dispose());

  it('lists, describes and aborts an ongoing transaction, fencing its producer', async () => {
    const kafka = new Kafka({ clientId: 'txn-cli', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cli-txn', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer({ transactionalId: 'cli-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic: 'cli-txn', messages: [{ partition: 1, value: 'pending' }] });

    const listed = JSON.parse(await ok(['txn', 'list', '--state', 'Ongoing', '--json', ...b]));
    assert.deepEqual(listed.map((x: { transactionalId: string; state: string }) => [x.transactionalId, x.state]), [['cli-1', 'Ongoing']]);
    const described = JSON.parse(await ok(['txn', 'describe', 'cli-1', '--json', ...b]));
    assert.equal(described.state, 'Ongoing');
    assert.deepEqual(described.partitions, [{ topic: 'cli-txn', partition: 1 }]);

    const aborted = JSON.parse(await ok(['txn', 'abort', 'cli-1', '--json', ...b]));
    assert.equal(aborted.aborted, true);
    assert.ok(aborted.producerEpoch > described.producerEpoch, 'the producer was fenced');
    assert.equal(JSON.parse(await ok(['txn', 'describe', 'cli-1', '--json', ...b])).state, 'Empty', 'aborted, then re-initialised with the bumped epoch');
    await producer.disconnect().catch(() => undefined);
    const log = broker.broker.replicas.get('cli-txn', 1)!.log;
    assert.equal(log.lastStableOffset, log.highWatermark);

    // a table for people, and Kafka's error name for an unknown id
    const missing = await fjord(['txn', 'describe', 'no-such-id', ...b]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /TRANSACTIONAL_ID_NOT_FOUND/);
  });

  it('aborts a hanging transaction in a partition with WriteTxnMarkers', async () => {
    // A transactional batch from a producer no coordinator knows: it would pin the LSO forever.
    const c = await RawClient.open(broker.port);
    try {
      const records = await buildBatch({
        records: [{ key: null, value: Buffer.from('hanging'), timestamp: Date.now() }],
        producerId: 777_777,
        producerEpoch: 3,
        baseSequence: 0,
        isTransactional: true,
      });
      c.request(ApiKey.Produce, 9, 1, { transactionalId: 'ghost', acks: -1, timeoutMs: 5000, topicData: [{ name: 'cli-txn', partitionData: [{ index: 0, records }] }] });
      const res = await c.response(ApiKey.Produce, 9);
      assert.equal(res!.body.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
    } finally {
      c.close();
    }
    const log = broker.broker.replicas.get('cli-txn', 0)!.log;
    assert.ok(log.lastStableOffset < log.highWatermark, 'the hanging transaction pins the LSO');
    const r = JSON.parse(await ok(['txn', 'abort', '--topic', 'cli-txn', '--partition', '0', '--json', ...b]));
    assert.equal(r.producerId, 777_777);
    assert.equal(r.aborted, true);
    assert.equal(log.lastStableOffset, log.highWatermark, 'read_committed moves on');
    assert.equal(log.abortedTransactions(0, log.highWatermark).length, 1);
    const again = await fjord(['txn', 'abort', '--topic', 'cli-txn', '--partition', '0', ...b]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no open transaction/);
  });
});
