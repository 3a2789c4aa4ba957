// producer.id.expiration.ms is applied: an idempotent producer idle past it disappears from
// DescribeProducers (its state is dropped), while a recent one stays.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { rawCall } from '../admin/helpers.js';
import { startTestBroker, type TestBroker, waitFor } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;

async function activeProducers(port: number, topic: string): Promise<number> {
  const body = await rawCall(port, ApiKey.DescribeProducers, 0, { topics: [{ name: topic, partitionIndexes: [0] }] });
  return body.topics[0].partitions[0].activeProducers.length;
}

describe('producer.id.expiration.ms', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ 'producer.id.expiration.ms': '1500', 'producer.id.expiration.check.interval.ms': '200' });
  });
  after(async () => broker.dispose());

  it('drops the state of producers idle past it', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'expiring', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const sentAt = Date.now();
      await producer.send({ topic: 'expiring', messages: [{ value: 'x', timestamp: String(sentAt) }] });
      assert.equal(await activeProducers(broker.port, 'expiring'), 1);
      await waitFor(async () => (await activeProducers(broker.port, 'expiring')) === 0, 10_000, 'the producer to expire');
      assert.ok(Date.now() - sentAt >= 1500, 'not before producer.id.expiration.ms');
    } finally {
      await producer.disconnect();
    }
  });
});
