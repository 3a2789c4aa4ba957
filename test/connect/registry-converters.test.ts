// Schema-registry converters (Confluent's AvroConverter, JsonSchemaConverter, ProtobufConverter)
// against the built-in registry: a source connector's structs land in Confluent's wire format that
// Confluent's own JavaScript serdes decode, and records those serdes wrote reach a sink as Connect
// data. Bad bytes go to the dead-letter topic instead of failing the task.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { startWorker, type RunningWorker } from '../../src/connect/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';
import { http, readTopic, waitFor } from './util.js';

let broker: RunningBroker;
let worker: RunningWorker;
let dir: string;
let registry: SchemaRegistry;

const PEOPLE = [
  { id: 1, name: 'Ada', score: 9.5, active: true, tags: ['math'], nick: null },
  { id: 2, name: 'Grace', score: 8.25, active: false, tags: [], nick: 'amazing' },
];

before(async () => {
  dir = await tempDir('fjord-connect-registry-');
  broker = await startBroker({ dataDir: join(dir, 'data'), port: 0, config: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' }, registry: true });
  // Confluent's JSON Schema converter annotates types with connect.type / connect.index, which
  // ajv's strict mode (this client's default) rejects as unknown keywords.
  registry = new SchemaRegistry({ host: broker.registryUrl! }, { [SchemaType.JSON]: { strict: false } });
  // A source whose records carry a Connect struct schema, as Debezium's or JDBC's do.
  const pluginDir = join(dir, 'plugins');
  mkdirSync(pluginDir);
  writeFileSync(
    join(pluginDir, 'people.mjs'),
    `const schema = { type: 'struct', name: 'com.example.Person', fields: [
        { field: 'id', type: 'int32' }, { field: 'name', type: 'string' }, { field: 'score', type: 'float64' },
        { field: 'active', type: 'boolean' }, { field: 'tags', type: 'array', items: { type: 'string' } },
        { field: 'nick', type: 'string', optional: true } ] };
    const people = ${JSON.stringify(PEOPLE)};
    export default {
      className: 'com.example.PeopleSource', type: 'source', version: '1.0.0',
      config: { topic: { type: 'string', importance: 'high' } },
      createConnector() { let c = {}; return { start(cfg) { c = cfg; }, taskConfigs() { return [c]; }, stop() {} }; },
      createTask() {
        let next = 0, topic = '';
        return {
          start(cfg, ctx) { topic = cfg.topic; next = Number(ctx.offset({ src: 'people' })?.next ?? 0); },
          async poll() {
            if (next >= people.length) { await new Promise((r) => setTimeout(r, 100)); return null; }
            const n = next++;
            return [{ topic, keySchema: { type: 'int32' }, key: people[n].id, valueSchema: schema, value: people[n],
              sourcePartition: { src: 'people' }, sourceOffset: { next: n + 1 } }];
          },
          stop() {},
        };
      },
    };\n`,
  );
  worker = await startWorker({
    bootstrap: [broker.bootstrap],
    groupId: 'registry-conv',
    port: 0,
    config: {
      'offset.flush.interval.ms': '100',
      'plugin.path': pluginDir,
      // What `fjord dev` sets: converters without their own URL use the built-in registry.
      'value.converter.schema.registry.url': broker.registryUrl!,
      'key.converter.schema.registry.url': broker.registryUrl!,
    },
  });
});

after(async () => {
  await worker?.close();
  await broker?.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

async function rawRecords(topic: string, count: number): Promise<{ key: Buffer | null; value: Buffer | null }[]> {
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `raw-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const out: { key: Buffer | null; value: Buffer | null }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void out.push({ key: message.key, value: message.value }) });
    await waitFor(`${count} records in ${topic}`, () => out.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

for (const [format, className, schemaType] of [
  ['Avro', 'io.confluent.connect.avro.AvroConverter', SchemaType.AVRO],
  ['JSON Schema', 'io.confluent.connect.json.JsonSchemaConverter', SchemaType.JSON],
  ['Protobuf', 'io.confluent.connect.protobuf.ProtobufConverter', SchemaType.PROTOBUF],
] as const) {
  test(`${format}: a source's structs are registered under <topic>-value and decode with Confluent's serdes`, async () => {
    const topic = `people-${format.replace(/\W/g, '').toLowerCase()}`;
    const res = await http(worker.url, 'POST', '/connectors', {
      name: `src-${topic}`,
      config: { 'connector.class': 'com.example.PeopleSource', topic, 'value.converter': className, 'key.converter': 'org.apache.kafka.connect.storage.StringConverter' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const records = await rawRecords(topic, PEOPLE.length);
    const subjects = (await http(broker.registryUrl!, 'GET', '/subjects')).body as string[];
    assert.ok(subjects.includes(`${topic}-value`), `subjects: ${subjects}`);
    const latest = (await http(broker.registryUrl!, 'GET', `/subjects/${topic}-value/versions/latest`)).body;
    assert.equal(latest.schemaType ?? 'AVRO', schemaType);
    for (const [i, r] of records.entries()) {
      assert.equal(r.value![0], 0, 'magic byte');
      assert.equal(r.value!.readInt32BE(1), latest.id);
      assert.equal(r.key!.toString(), String(PEOPLE[i]!.id));
      const decoded = (await registry.decode(r.value!)) as Record<string, unknown>;
      const want = PEOPLE[i]!;
      assert.equal(decoded.id, want.id);
      assert.equal(decoded.name, want.name);
      assert.equal(decoded.score, want.score);
      assert.equal(decoded.active, want.active);
      assert.deepEqual([...(decoded.tags as string[])], want.tags);
      // Protobuf has no null for an unset optional string; Avro and JSON keep it.
      if (want.nick !== null || schemaType !== SchemaType.PROTOBUF) assert.equal(decoded.nick ?? null, want.nick);
    }
  });
}

test('Avro: records written by Confluent serdes reach a sink as Connect data; undecodable bytes go to the DLQ', async () => {
  const schema = { type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'sku', type: 'string' }, { name: 'qty', type: 'int' }] };
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: 'orders-value' });
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'orders',
    messages: [
      { value: await registry.encode(id, { sku: 'A-1', qty: 2 }) },
      { value: Buffer.from('not avro at all') },
      { value: await registry.encode(id, { sku: 'B-7', qty: 5 }) },
    ],
  });
  await producer.disconnect();
  const out = join(dir, 'orders.txt');
  const res = await http(worker.url, 'POST', '/connectors', {
    name: 'orders-sink',
    config: {
      'connector.class': 'FileStreamSink',
      topics: 'orders',
      file: out,
      'value.converter': 'io.confluent.connect.avro.AvroConverter',
      'value.converter.schema.registry.url': broker.registryUrl!,
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': 'orders-dlq',
      'errors.deadletterqueue.context.headers.enable': 'true',
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const lines = await waitFor('two orders in the file', () => {
    try {
      const l = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean);
      return l.length >= 2 ? l : null;
    } catch {
      return null;
    }
  });
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 5 }]);
  const dlq = await readTopic(broker.bootstrap, 'orders-dlq', (r) => r.length >= 1);
  assert.equal(dlq[0]!.value, 'not avro at all');
  assert.match(String(dlq[0]!.headers['__connect.errors.exception.message']), /magic byte/i);
});

test('a registry converter without a registry URL is refused with a clear message', async () => {
  const lonely = await startWorker({ bootstrap: [broker.bootstrap], groupId: 'no-registry', port: 0, config: {} });
  try {
    const res = await http(lonely.url, 'POST', '/connectors', {
      name: 'no-url',
      config: { 'connector.class': 'FileStreamSource', file: join(dir, 'none.txt'), topic: 'x', 'value.converter': 'io.confluent.connect.avro.AvroConverter' },
    });
    // The task fails at start (as in Kafka Connect, converter configs are checked when tasks start).
    assert.ok(res.status === 201 || res.status === 400, JSON.stringify(res.body));
    if (res.status === 201) {
      const status = await waitFor('task FAILED', async () => {
        const s = (await http(lonely.url, 'GET', '/connectors/no-url/status')).body;
        return s?.tasks?.[0]?.state === 'FAILED' ? s : null;
      });
      assert.match(status.tasks[0].trace, /schema\.registry\.url/);
    }
  } finally {
    await lonely.close();
  }
});
