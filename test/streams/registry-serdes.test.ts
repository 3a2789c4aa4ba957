// AvroSerde (and JsonSchemaSerde, ProtobufSerde) on the built-in schema registry: Confluent's wire format both ways (checked against
// @kafkajs/confluent-schema-registry), schema evolution on read, and a KafkaStreams app that reads
// and writes Avro, its serdes prefetched by start().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { AvroSerde, Consumed, JsonSchemaSerde, ProtobufSerde, KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder } from '../../src/streams/index.js';
import { tempDir } from '../helpers/broker.js';
import { createTopics, produce, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const ORDER_V1 = { type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'int' }] };
const ORDER_V2 = { ...ORDER_V1, fields: [...ORDER_V1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
const TOTAL = { type: 'record', name: 'Total', namespace: 'shop', fields: [{ name: 'orders', type: 'int' }, { name: 'sum', type: 'long' }] };

describe('streams: AvroSerde with the schema registry', () => {
  let broker: RunningBroker;
  let dir: string;
  let bootstrap: string;
  before(async () => {
    dir = await tempDir('fjord-streams-avro-');
    broker = await startBroker({ dataDir: join(dir, 'data'), port: 0, config: { 'group.initial.rebalance.delay.ms': '0' }, registry: true });
    bootstrap = `127.0.0.1:${broker.port}`;
    await createTopics(bootstrap, { orders: 2, totals: 1 });
  });
  after(async () => {
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes and reads Confluent wire format; reads an older writer schema through the reader schema', async () => {
    const registry = new SchemaRegistry({ host: broker.registryUrl! });
    const { id: v1 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V1) }, { subject: 'wire-value' });
    const fromConfluent = await registry.encode(v1, { id: 'o-1', amount: 5 });
    const serde = new AvroSerde<{ id: string; amount: number; currency: string }>({ 'schema.registry.url': broker.registryUrl!, schema: ORDER_V2, topics: ['wire'] });
    await serde.prefetch();
    assert.deepEqual({ ...serde.deserialize('wire', fromConfluent) }, { id: 'o-1', amount: 5, currency: 'EUR' }, 'v1 record read as v2 with the default');
    const ours = serde.serialize('wire', { id: 'o-2', amount: 7, currency: 'NOK' });
    assert.equal(ours[0], 0);
    assert.notEqual(ours.readInt32BE(1), v1, 'v2 registered as a new id');
    assert.deepEqual({ ...(await registry.decode(ours)) }, { id: 'o-2', amount: 7, currency: 'NOK' });
    assert.throws(() => serde.serialize('other-topic', { id: 'x', amount: 1, currency: 'EUR' }), /no schema id for subject other-topic-value/);
    assert.throws(() => serde.deserialize('wire', Buffer.from('plain')), /not Confluent wire format/);
    assert.throws(() => serde.deserialize('wire', Buffer.from([0, 0, 0, 0x7f, 0x7f, 1])), /unknown schema id/);
  });

  it('a KafkaStreams app reads Avro orders and writes Avro totals (serdes prefetched by start)', async () => {
    const registry = new SchemaRegistry({ host: broker.registryUrl! });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V1) }, { subject: 'orders-value' });
    const orders = await Promise.all(Array.from({ length: 12 }, (_, i) => registry.encode(id, { id: `o-${i}`, amount: i + 1 })));
    await produce(bootstrap, orders.map((value, i) => ({ topic: 'orders', key: `customer-${i % 2}`, value, timestamp: 1000 + i })));
    const orderSerde = new AvroSerde<{ id: string; amount: number }>({ 'schema.registry.url': broker.registryUrl!, schema: ORDER_V1, topics: ['orders'] });
    const totalSerde = new AvroSerde<{ orders: number; sum: number }>({ 'schema.registry.url': broker.registryUrl!, schema: TOTAL, topics: ['totals'] });
    const b = new StreamsBuilder();
    b.stream<string, { id: string; amount: number }>('orders', Consumed.with(S, orderSerde))
      .groupByKey()
      .aggregate(() => ({ orders: 0, sum: 0 }), (_k, o, t) => ({ orders: t.orders + 1, sum: t.sum + o.amount }), Materialized.with(S, Serdes.Json()))
      .toStream()
      .to('totals', Produced.with(S, totalSerde));
    const stateDir = await tempDir('fjord-streams-avro-state-');
    const app = new KafkaStreams(b.build(), { 'application.id': 'avro-app', 'bootstrap.servers': bootstrap, 'state.dir': stateDir, 'commit.interval.ms': 100 });
    await app.start();
    try {
      let last = new Map<string, unknown>();
      const ok = await waitFor(async () => {
        const rows = await readTopic(bootstrap, 'totals', Serdes.ByteArray());
        last = new Map(rows.map((r) => [r.key!, r.value]));
        return last.size === 2 && (await Promise.all([...last.values()].map((v) => registry.decode(v as Buffer)))).reduce((n, t: any) => n + t.orders, 0) === 12;
      }, 15_000);
      assert.ok(ok, `totals: ${last.size}`);
      const decoded = await Promise.all(['customer-0', 'customer-1'].map(async (k) => ({ ...(await registry.decode(last.get(k) as Buffer)) })));
      assert.deepEqual(decoded, [{ orders: 6, sum: 1 + 3 + 5 + 7 + 9 + 11 }, { orders: 6, sum: 2 + 4 + 6 + 8 + 10 + 12 }]);
    } finally {
      await app.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('JsonSchemaSerde: Confluent wire format both ways, invalid values refused before they are written', async () => {
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', title: 'Click', type: 'object', properties: { page: { type: 'string' }, ms: { type: 'integer' } }, required: ['page'] };
    const registry = new SchemaRegistry({ host: broker.registryUrl! });
    const serde = new JsonSchemaSerde<{ page: string; ms?: number }>({ 'schema.registry.url': broker.registryUrl!, schema, topics: ['clicks'] });
    await serde.prefetch();
    const ours = serde.serialize('clicks', { page: '/home', ms: 12 });
    assert.equal(ours[0], 0);
    assert.deepEqual(await registry.decode(ours), { page: '/home', ms: 12 }, 'Confluent-format reader decodes it');
    const id = await registry.getLatestSchemaId('clicks-value');
    assert.equal(ours.readInt32BE(1), id, 'registered under the topic subject');
    const theirs = await registry.encode(id, { page: '/cart' });
    assert.deepEqual(serde.deserialize('clicks', theirs), { page: '/cart' });
    assert.throws(() => serde.serialize('clicks', { ms: 3 } as never), /does not match the JSON schema/);
  });

  it('ProtobufSerde: Confluent wire format both ways (message index path), a second message by name', async () => {
    const proto = 'syntax = "proto3";\npackage shop;\nmessage Order { string id = 1; int64 amount = 2; }\nmessage Refund { string order_id = 1; int32 cents = 2; }\n';
    const registry = new SchemaRegistry({ host: broker.registryUrl! });
    const orders = new ProtobufSerde<{ id: string; amount: number }>({ 'schema.registry.url': broker.registryUrl!, schema: proto, topics: ['pb-orders'] });
    const refunds = new ProtobufSerde<{ order_id: string; cents: number }>({ 'schema.registry.url': broker.registryUrl!, schema: proto, messageName: 'Refund', topics: ['pb-refunds'] });
    await Promise.all([orders.prefetch(), refunds.prefetch()]);
    const o = orders.serialize('pb-orders', { id: 'o-1', amount: 42 });
    assert.equal(o[5], 0, 'first message: index path is the single byte 0');
    const decoded = (await registry.decode(o)) as { id: string; amount: unknown };
    assert.equal(decoded.id, 'o-1');
    assert.equal(Number(decoded.amount), 42);
    assert.deepEqual(orders.deserialize('pb-orders', o), { id: 'o-1', amount: 42 });
    const r = refunds.serialize('pb-refunds', { order_id: 'o-1', cents: 250 });
    assert.deepEqual([...r.subarray(5, 7)], [2, 2], 'second message: count 1, index 1 (zigzag)');
    assert.deepEqual(refunds.deserialize('pb-refunds', r), { order_id: 'o-1', cents: 250 });
    assert.throws(() => orders.serialize('pb-orders', { id: 7 } as never), /does not match Protobuf message Order/);
  });
});
