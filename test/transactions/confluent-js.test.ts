// @confluentinc/kafka-javascript (librdkafka, from test/clients) transactions: the KafkaJS-style
// transactional producer commits, aborts and sends offsets; node-rdkafka-style consumers in
// read_committed and read_uncommitted see exactly what they should.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

function loadCkjs(): any {
  try {
    return createRequire(join(repoRoot, 'test', 'clients', 'package.json'))('@confluentinc/kafka-javascript');
  } catch (err) {
    throw new Error(`cannot load @confluentinc/kafka-javascript (run scripts/setup-test-clients.sh): ${(err as Error).message}`);
  }
}

describe('transactions with @confluentinc/kafka-javascript', () => {
  let ckjs: any;
  let broker: TestBroker;
  let kafka: any;

  /** Reads partition 0 of `topic` from offset 0 until the value END; returns the values before it. */
  const readUntilEnd = async (topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> => {
    const consumer = new ckjs.KafkaConsumer(
      {
        'metadata.broker.list': broker.bootstrap,
        'group.id': `txn-rdk-${Math.random().toString(36).slice(2)}`,
        'enable.auto.commit': false,
        'isolation.level': isolation,
        'fetch.wait.max.ms': 100,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await new Promise<void>((res, rej) => consumer.connect({ timeout: 10_000 }, (err: Error | null) => (err ? rej(err) : res())));
    const seen: string[] = [];
    try {
      consumer.assign([{ topic, partition: 0, offset: 0 }]);
      const deadline = Date.now() + 20_000;
      for (;;) {
        assert.ok(Date.now() < deadline, `END not reached (${isolation}); saw ${JSON.stringify(seen)}`);
        const msgs: any[] = await new Promise((res, rej) => consumer.consume(100, (err: Error | null, m: any[]) => (err ? rej(err) : res(m))));
        for (const m of msgs) {
          const v = m.value.toString();
          if (v === 'END') return seen;
          seen.push(v);
        }
        if (msgs.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await new Promise<void>((res) => consumer.disconnect(() => res()));
    }
  };

  before(async () => {
    ckjs = loadCkjs();
    broker = await startTestBroker({ 'num.partitions': '1' });
    kafka = new ckjs.KafkaJS.Kafka({
      kafkaJS: { clientId: 'txn-rdk', brokers: [broker.bootstrap], logLevel: ckjs.KafkaJS.logLevel.NOTHING, connectionTimeout: 3000 },
    });
  });
  after(async () => broker?.dispose());

  it('commit, abort and offsets in a transaction; read_committed sees only committed records', async () => {
    const producer = kafka.producer({ kafkaJS: { transactionalId: 'rdk-txn', idempotent: true, maxInFlightRequests: 1 } });
    await producer.connect();
    try {
      let t = await producer.transaction();
      await t.send({ topic: 'rdk-txn', messages: [{ value: 'c1' }, { value: 'c2' }] });
      await t.commit();
      t = await producer.transaction();
      await t.send({ topic: 'rdk-txn', messages: [{ value: 'a1' }] });
      await t.abort();
      // librdkafka takes the group from a consumer instance (send_offsets_to_transaction)
      const offsetsConsumer = kafka.consumer({ kafkaJS: { groupId: 'rdk-eos' } });
      await offsetsConsumer.connect();
      try {
        t = await producer.transaction();
        await t.send({ topic: 'rdk-txn', messages: [{ value: 'END' }] });
        await t.sendOffsets({ consumer: offsetsConsumer, topics: [{ topic: 'rdk-txn', partitions: [{ partition: 0, offset: '3' }] }] });
        await t.commit();
      } finally {
        await offsetsConsumer.disconnect();
      }
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(await readUntilEnd('rdk-txn', 'read_committed'), ['c1', 'c2']);
    assert.deepEqual(await readUntilEnd('rdk-txn', 'read_uncommitted'), ['c1', 'c2', 'a1']);
    await waitFor(() => broker.broker.transactions.get('rdk-txn')?.state === 'CompleteCommit', 10_000, 'CompleteCommit');
    const committed = broker.broker.groups.offsets.get('rdk-eos');
    assert.equal([...(committed?.values() ?? [])][0]?.offset, 3, 'offsets sent in the transaction are committed with it');
  });
});
