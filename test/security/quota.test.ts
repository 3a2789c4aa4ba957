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

describe('request and connection-rate quotas', () => {
  let broker: TestBroker;
  before(async () => {
    // Short windows so a few hundred milliseconds of measurements decide (Kafka's minimum span is windows-1).
    broker = await startTestBroker({ 'quota.window.size.seconds': '1', 'quota.window.num': '2' });
  });
  after(async () => broker?.dispose());

  it('request_percentage throttles a client that keeps the event loop busy; others are not throttled', async () => {
    const c = await RawClient.open(broker.port);
    // Many Metadata requests of all topics, pipelined: returns the largest throttle_time_ms seen.
    const burst = async (count: number): Promise<number> => {
      for (let i = 0; i < count; i++) c.request(ApiKey.Metadata, 12, i, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      let max = 0;
      for (let i = 0; i < count; i++) max = Math.max(max, (await c.response(ApiKey.Metadata, 12))!.body.throttleTimeMs);
      return max;
    };
    assert.equal(await burst(200), 0, 'no request quota yet');
    await setQuota(broker.port, 'raw-test', 'request_percentage', 0.01);
    // 0.01% of a thread is 0.1 ms of handling per second: a burst of requests is well over it.
    let throttled = 0;
    const deadline = Date.now() + 10_000;
    while (throttled === 0 && Date.now() < deadline) throttled = await burst(200);
    c.close();
    assert.ok(throttled > 0, 'a client over request_percentage is told to back off');
    // Another client id has no quota.
    const other = await RawClient.open(broker.port);
    other.request(ApiKey.Metadata, 12, 1, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const res = await other.response(ApiKey.Metadata, 12);
    other.close();
    assert.ok(res, 'the broker keeps serving other clients');
  });

  it('connection_creation_rate closes connections from an IP over its rate and accepts them again later', async () => {
    const c = await RawClient.open(broker.port);
    c.request(ApiKey.AlterClientQuotas, 1, 1, {
      entries: [{ entity: [{ entityType: 'ip', entityName: null }], ops: [{ key: 'connection_creation_rate', value: 5, remove: false }] }],
      validateOnly: false,
    });
    assert.equal((await c.response(ApiKey.AlterClientQuotas, 1))!.body.entries[0].errorCode, 0);
    c.close();
    // Whether a fresh connection is served (an ApiVersions answer) or closed on accept.
    const served = async (): Promise<boolean> => {
      const s = await RawClient.open(broker.port);
      s.request(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'q', clientSoftwareVersion: '1' });
      const r = await s.response(ApiKey.ApiVersions, 3);
      s.close();
      return r !== null;
    };
    let refused = 0;
    for (let i = 0; i < 30; i++) if (!(await served())) refused++;
    assert.ok(refused > 0, '30 connections at once exceed 5 per second');
    // Once the window has passed, the IP may connect again.
    let again = false;
    const deadline = Date.now() + 8_000;
    while (!again && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      again = await served();
    }
    assert.ok(again, 'connections are accepted again once the rate drops');
  });
});
