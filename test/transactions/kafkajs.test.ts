// Transactions with kafkajs against a real broker: send + sendOffsets + commit/abort, consumers in
// read_committed and read_uncommitted, offsets moving only on commit, all of it across a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;
type KafkaClient = InstanceType<typeof Kafka>;

const BROKER_CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
};

/** Reads `topic` from the beginning until a record with value `until` arrives; returns the values before it. */
export async function consumeUntil(kafka: KafkaClient, topic: string, until: string, readUncommitted: boolean, timeoutMs = 20_000): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${readUncommitted}-${Math.random()}`, readUncommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const seen: string[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not see ${until} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const v = message.value?.toString() ?? '';
            if (v === until) {
              clearTimeout(timer);
              resolve();
            } else seen.push(v);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('transactions with kafkajs', () => {
  let broker: TestBroker;
  let kafka: KafkaClient;
  before(async () => {
    broker = await startTestBroker(BROKER_CONFIG);
    kafka = new Kafka({ clientId: 'txn-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tx-out', numPartitions: 1 }, { topic: 'tx-in', numPartitions: 1 }] });
    await admin.disconnect();
  });
  after(async () => broker?.dispose());

  it('read_committed consumers see exactly the committed records; read_uncommitted sees all', async () => {
    const producer = kafka.producer({ transactionalId: 'kjs-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      let t = await producer.transaction();
      await t.send({ topic: 'tx-out', messages: [{ value: 'c1' }, { value: 'c2' }] });
      await t.commit();
      t = await producer.transaction();
      await t.send({ topic: 'tx-out', messages: [{ value: 'a1' }, { value: 'a2' }] });
      await t.abort();
      t = await producer.transaction();
      await t.send({ topic: 'tx-out', messages: [{ value: 'c3' }] });
      await t.send({ topic: 'tx-out', messages: [{ value: 'END' }] });
      await t.commit();
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(await consumeUntil(kafka, 'tx-out', 'END', false), ['c1', 'c2', 'c3']);
    assert.deepEqual(await consumeUntil(kafka, 'tx-out', 'END', true), ['c1', 'c2', 'a1', 'a2', 'c3']);
  });

  it('an open transaction holds read_committed consumers at its first offset', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tx-lso', numPartitions: 1 }] });
    const producer = kafka.producer({ transactionalId: 'kjs-lso', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const t = await producer.transaction();
      await t.send({ topic: 'tx-lso', messages: [{ value: 'open' }] });
      const log = broker.broker.replicas.get('tx-lso', 0)!.log;
      assert.equal(log.highWatermark, 1);
      assert.equal(log.lastStableOffset, 0, 'the open transaction pins the last stable offset');
      // kafkajs lists offsets with read_committed: latest is the last stable offset.
      assert.equal((await admin.fetchTopicOffsets('tx-lso'))[0]!.high, '0');
      await t.commit();
      // Like Kafka, EndTxn answers once the commit is decided; the marker follows at once.
      await waitFor(() => log.lastStableOffset === 2, 10_000, 'record + commit marker');
      assert.equal((await admin.fetchTopicOffsets('tx-lso'))[0]!.high, '2');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('sendOffsets moves the group offset only when the transaction commits', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ transactionalId: 'kjs-offsets', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const offsetsOf = async () => (await admin.fetchOffsets({ groupId: 'eos-group', topics: ['tx-in'] }))[0]!.partitions[0]!.offset;
      let t = await producer.transaction();
      await t.send({ topic: 'tx-out', messages: [{ value: 'x' }] });
      await t.sendOffsets({ consumerGroupId: 'eos-group', topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '5' }] }] });
      assert.equal(await offsetsOf(), '-1', 'pending offsets are not visible before the commit');
      await t.commit();
      await waitFor(async () => (await offsetsOf()) === '5', 10_000, 'the committed offset');
      t = await producer.transaction();
      await t.sendOffsets({ consumerGroupId: 'eos-group', topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '9' }] }] });
      await t.abort();
      await waitFor(() => broker.broker.transactions.get('kjs-offsets')?.state === 'CompleteAbort', 10_000, 'the abort marker');
      assert.equal(await offsetsOf(), '5', 'an aborted transaction leaves the offset alone');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('keeps committed offsets, transaction state and aborted ranges across a restart', async () => {
    const dataDir = broker.dataDir;
    await broker.close();
    broker = await startTestBroker(BROKER_CONFIG, dataDir);
    kafka = new Kafka({ clientId: 'txn-kafkajs-2', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: 'eos-group', topics: ['tx-in'] });
      assert.equal(offsets[0]!.partitions[0]!.offset, '5');
    } finally {
      await admin.disconnect();
    }
    assert.deepEqual(await consumeUntil(kafka, 'tx-out', 'END', false), ['c1', 'c2', 'c3']);
    // The same transactional id resumes with a bumped epoch and can commit again.
    const producer = kafka.producer({ transactionalId: 'kjs-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const t = await producer.transaction();
      await t.send({ topic: 'tx-out', messages: [{ value: 'after-restart' }] });
      await t.commit();
    } finally {
      await producer.disconnect();
    }
    const described = await waitFor(() => (broker.broker.transactions.get('kjs-1')?.state === 'CompleteCommit' ? broker.broker.transactions.get('kjs-1') : undefined), 10_000, 'CompleteCommit');
    assert.ok((described?.producerEpoch ?? 0) >= 1);
  });
});
