// Broker-side schema validation (confluent.key/value.schema.validation) against the in-process
// Schema Registry of startBroker({ registry: true }): a kafkajs producer's records with a schema
// id registered for the topic's subject are stored, others are refused with INVALID_RECORD and a
// record error naming the record; the header form, the record-name strategies, null values and
// topics without the configs behave as Confluent Server's.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { tempDir } from '../helpers/broker.js';
import { fetchAll, RawClient } from '../helpers/raw-client.js';

const ORDER = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] });
const USER = JSON.stringify({ type: 'record', name: 'User', namespace: 'shop', fields: [{ name: 'name', type: 'string' }] });

function framed(id: number, body = 'payload'): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b[0] = 0;
  b.writeInt32BE(id, 1);
  b.write(body, 5);
  return b;
}

const isInvalidRecord = (err: { type?: string }) => {
  assert.equal(err.type, 'INVALID_RECORD');
  return true;
};

describe('broker-side schema validation', () => {
  let dataDir = '';
  let running: RunningBroker;
  let producer: Producer;
  let kafka: Kafka;
  let orderId = 0;
  let userId = 0;

  async function register(subject: string, schema: string): Promise<number> {
    const res = await fetch(`${running.registryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { id: number }).id;
  }

  before(async () => {
    dataDir = await tempDir('fjord-schema-validation-');
    running = await startBroker({ dataDir, port: 0, registry: true, config: { 'offsets.topic.num.partitions': '1' } });
    kafka = new Kafka({ brokers: [running.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'orders', configEntries: [{ name: 'confluent.value.schema.validation', value: 'true' }] },
        { topic: 'by-record', configEntries: [
          { name: 'confluent.value.schema.validation', value: 'true' },
          { name: 'confluent.value.subject.name.strategy', value: 'io.confluent.kafka.serializers.subject.RecordNameStrategy' },
        ] },
        { topic: 'plain' },
      ],
    });
    // A bad strategy name is refused like any bad topic config.
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'bad', configEntries: [{ name: 'confluent.value.subject.name.strategy', value: 'Whatever' }] }] }),
      (err: { errors?: { type?: string }[] }) => {
        assert.equal(err.errors?.[0]?.type, 'INVALID_CONFIG');
        return true;
      },
    );
    await admin.disconnect();
    orderId = await register('orders-value', ORDER);
    userId = await register('users-value', USER);
    await register('shop.User', USER); // the same schema under its record name: same id
    producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await running?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('accepts records whose schema id is registered for the topic subject', async () => {
    const [meta] = await producer.send({ topic: 'orders', messages: [{ key: 'k1', value: framed(orderId) }, { key: null, value: null }] });
    assert.equal(meta!.errorCode, 0);
    // The key is not validated (only confluent.value.schema.validation is on), a null value passes.
    const stored = await fetchAll(running.port, 'orders', 0);
    assert.equal(stored.length, 2);
    assert.deepEqual(stored[0]!.value, framed(orderId));
  });

  it('refuses unknown ids, ids of another subject and unframed values with INVALID_RECORD', async () => {
    for (const value of [framed(9999), framed(userId), Buffer.from('{"id":1}')]) {
      await assert.rejects(producer.send({ topic: 'orders', messages: [{ value }] }), isInvalidRecord);
    }
    assert.equal((await fetchAll(running.port, 'orders', 0)).length, 2, 'nothing refused was stored');
    // Topics without the configs take anything.
    const [plain] = await producer.send({ topic: 'plain', messages: [{ value: 'not framed' }] });
    assert.equal(plain!.errorCode, 0);
  });

  it('names the failing record in the record errors, and rejects the whole batch', async () => {
    const raw = await RawClient.open(running.port);
    try {
      const records = await buildBatch({ records: [{ value: framed(orderId) }, { value: framed(orderId) }, { value: framed(userId) }] });
      raw.request(ApiKey.Produce, 9, 1, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records }] }] });
      const res = (await raw.response(ApiKey.Produce, 9))!.body as {
        responses: { partitionResponses: { errorCode: number; errorMessage: string | null; recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[] }[] }[];
      };
      const p = res.responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, ErrorCode.INVALID_RECORD);
      assert.equal(p.recordErrors.length, 1);
      assert.equal(p.recordErrors[0]!.batchIndex, 2);
      assert.match(p.recordErrors[0]!.batchIndexErrorMessage ?? '', /Record 2 of orders: value has schema id \d+, which is not registered under subject orders-value/);
      assert.equal((await fetchAll(running.port, 'orders', 0)).length, 2);
    } finally {
      raw.close();
    }
  });

  it('takes the schema id from the __value_schema_id header, and follows RecordNameStrategy', async () => {
    const header = framed(orderId, '');
    const [viaHeader] = await producer.send({ topic: 'orders', messages: [{ value: 'plain JSON body', headers: { __value_schema_id: header } }] });
    assert.equal(viaHeader!.errorCode, 0);
    await assert.rejects(producer.send({ topic: 'orders', messages: [{ value: framed(orderId), headers: { __value_schema_id: framed(9999, '') } }] }), isInvalidRecord);

    // RecordNameStrategy: the subject is the record's full name, shop.User, whatever the topic.
    const [byName] = await producer.send({ topic: 'by-record', messages: [{ value: framed(userId) }] });
    assert.equal(byName!.errorCode, 0);
    await assert.rejects(producer.send({ topic: 'by-record', messages: [{ value: framed(orderId) }] }), isInvalidRecord);
  });
});
