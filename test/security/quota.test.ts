// Client byte-rate quotas, enforced: a produce quota of 1 MB/s holds a producer that could go
// 100× faster within ±20% over 10 s, and the client is told (throttle_time_ms).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatchSync } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
const { Kafka, logLevel } = kafkajs;

const QUOTA = 1024 * 1024;

async function setQuota(port: number, clientId: string, key: string, value: number): Promise<void> {
  const c = await RawClient.open(port);
  c.request(ApiKey.AlterClientQuotas, 1, 1, {
    entries: [{ entity: [{ entityType: 'client-id', entityName: clientId }], ops: [{ key, value, remove: false }] }],
    validateOnly: false,
  });
  const r = await c.response(ApiKey.AlterClientQuotas, 1);
  c.close();
  assert.equal(r!.body.entries[0].errorCode, 0);
}

describe('client quotas', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'quota-topic', numPartitions: 1 }] });
    await admin.disconnect();
    await setQuota(broker.port, 'slow-producer', 'producer_byte_rate', QUOTA);
  });
  after(async () => broker?.dispose());

  it('a 1 MB/s produce quota holds a fast kafkajs producer within ±20% over 10 s', async () => {
    const producer = new Kafka({ brokers: [broker.bootstrap], clientId: 'slow-producer', logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const value = Buffer.alloc(1024, 7);
    const messages = Array.from({ length: 64 }, () => ({ value }));
    const start = Date.now();
    let bytes = 0;
    while (Date.now() - start < 10_000) {
      await producer.send({ topic: 'quota-topic', acks: 1, messages });
      bytes += 64 * 1024;
    }
    const seconds = (Date.now() - start) / 1000;
    await producer.disconnect();
    const rate = bytes / seconds;
    assert.ok(rate > QUOTA * 0.8 && rate < QUOTA * 1.2, `observed ${(rate / 1e6).toFixed(2)} MB/s against a ${(QUOTA / 1e6).toFixed(2)} MB/s quota`);
  });

  it('a throttled client sees throttle_time_ms; an unthrottled one does not', async () => {
    const records = buildBatchSync({ records: [{ value: Buffer.alloc(512 * 1024, 1) }] });
    const produce = async () => {
      const c = await RawClient.open(broker.port);
      let max = 0;
      for (let i = 0; i < 6; i++) {
        c.request(ApiKey.Produce, 9, i, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'quota-topic', partitionData: [{ index: 0, records }] }] });
        const r = await c.response(ApiKey.Produce, 9);
        max = Math.max(max, r!.body.throttleTimeMs);
        // Once throttled the broker reads nothing more from this connection for that long.
        if (max > 0) break;
      }
      c.close();
      return max;
    };
    // RawClient's requests carry client id 'raw-test', which quotas are keyed on.
    assert.equal(await produce(), 0, 'no quota for this client id');
    await setQuota(broker.port, 'raw-test', 'producer_byte_rate', 100 * 1024);
    assert.ok((await produce()) > 0, 'over its quota the client is told to back off');
  });
});
