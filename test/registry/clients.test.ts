// Real Schema Registry clients against Fjord's registry, with a kafkajs producer and consumer
// carrying the encoded records through the broker: @kafkajs/confluent-schema-registry and
// Confluent's own @confluentinc/schemaregistry serdes (Avro, JSON Schema, Protobuf).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  AvroDeserializer,
  AvroSerializer,
  JsonDeserializer,
  JsonSerializer,
  ProtobufDeserializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import { create, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import kafkajs from 'kafkajs';
import protobuf from 'protobufjs';
import descriptorModule from 'protobufjs/ext/descriptor/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;
/** avsc decodes into record classes; compare plain data. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

async function roundTrip(broker: RunningBroker, topic: string, values: Buffer[]): Promise<Buffer[]> {
  const kafka = new Kafka({ clientId: 'registry-clients', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out reading ${topic}: ${got.length}/${values.length}`)), 20_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value!);
        if (got.length === values.length) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return got;
}

describe('schema registry clients', () => {
  let dir: string;
  let broker: RunningBroker;
  before(async () => {
    dir = await tempDir('fjord-registry-clients-');
    broker = await startBroker({ dataDir: dir, port: 0, registry: true });
  });
  after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('@kafkajs/confluent-schema-registry: register, encode, produce, consume, decode; incompatible refused', async () => {
    const registry = new SchemaRegistry({ host: broker.registryUrl! });
    const schema = { type: 'record', name: 'Payment', namespace: 'shop', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'double' }] };
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: 'payments-value' });
    assert.equal(await registry.getLatestSchemaId('payments-value'), id);
    const payloads = [{ id: 'a', amount: 1.5 }, { id: 'b', amount: 20 }];
    const encoded = await Promise.all(payloads.map((p) => registry.encode(id, p)));
    assert.equal(encoded[0]![0], 0, 'magic byte');
    assert.equal(encoded[0]!.readInt32BE(1), id);
    const back = await roundTrip(broker, 'payments', encoded);
    // A fresh client (no cache) decodes through GET /schemas/ids/{id}.
    const fresh = new SchemaRegistry({ host: broker.registryUrl! });
    assert.deepEqual(plain(await Promise.all(back.map((b) => fresh.decode(b)))), payloads);
    const incompatible = { ...schema, fields: [...schema.fields, { name: 'currency', type: 'string' }] };
    await assert.rejects(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject: 'payments-value' }),
      (err: Error) => /incompatible/i.test(err.message) && /currency/.test(err.message),
    );
    const compatible = { ...schema, fields: [...schema.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
    const v2 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject: 'payments-value' });
    assert.ok(v2.id > id);
    // Old data decodes with the new reader schema through Avro resolution.
    const decodedOld = await fresh.decode(back[0]!, { [SchemaType.AVRO]: { readerSchema: compatible } } as never);
    assert.deepEqual(plain(decodedOld), { id: 'a', amount: 1.5, currency: 'EUR' });
    const jsonSchema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    const js = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(jsonSchema) }, { subject: 'numbers-value' });
    assert.deepEqual(await registry.decode(await registry.encode(js.id, { n: 4 })), { n: 4 });
  });

  it('@confluentinc/schemaregistry Avro serde: auto-register, lookup, normalize, deleted flags', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [broker.registryUrl!] });
    const schema = JSON.stringify({ type: 'record', name: 'Click', namespace: 'web', fields: [{ name: 'url', type: 'string' }, { name: 'ms', type: 'long' }] });
    const ser = new AvroSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true, normalizeSchemas: true });
    const clicks = [{ url: '/a', ms: 12n }, { url: '/b', ms: 40n }].map((c) => ({ ...c, ms: Number(c.ms) }));
    // Serializer given a schema explicitly through the registry: register first, then use latest.
    const id = await client.register('clicks-value', { schemaType: 'AVRO', schema }, true);
    const ser2 = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const encoded = await Promise.all(clicks.map((c) => ser2.serialize('clicks', c)));
    assert.equal(encoded[0]!.readInt32BE(1), id);
    const back = await roundTrip(broker, 'clicks', encoded);
    const deser = new AvroDeserializer(new SchemaRegistryClient({ baseURLs: [broker.registryUrl!] }), SerdeType.VALUE, {});
    const decoded = await Promise.all(back.map((b) => deser.deserialize('clicks', b)));
    assert.deepEqual(decoded.map((d: { url: string; ms: unknown }) => ({ url: d.url, ms: Number(d.ms) })), clicks);
    // Auto-register infers a schema from the value and registers it.
    const auto = await ser.serialize('autoreg', { name: 'x', n: 1 });
    const autoId = auto.readInt32BE(1);
    assert.ok(autoId > 0);
    assert.deepEqual(await client.getAllSubjects().then((s) => s.includes('autoreg-value')), true);
    const meta = await client.getLatestSchemaMetadata('clicks-value');
    assert.equal(meta.id, id);
    assert.equal(await client.getId('clicks-value', { schemaType: 'AVRO', schema }, true), id);
    assert.equal(await client.updateConfig('clicks-value', { compatibility: 'FULL' } as never).then((c: { compatibility?: string }) => c.compatibility), 'FULL');
    assert.equal((await client.getConfig('clicks-value')).compatibilityLevel, 'FULL');
    assert.deepEqual(await client.deleteSubject('autoreg-value'), [1]);
    assert.ok(!(await client.getAllSubjects()).includes('autoreg-value'));
  });

  it('@confluentinc/schemaregistry JSON serde round trip with auto-register', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [broker.registryUrl!] });
    const schema = JSON.stringify({ type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } }, required: ['sku'] });
    const ser = new JsonSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true });
    const id = await client.register('orders-json-value', { schemaType: 'JSON', schema });
    const ser2 = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true, validate: true });
    const items = [{ sku: 'a1', qty: 2 }, { sku: 'b2', qty: 5 }];
    const encoded = await Promise.all(items.map((i) => ser2.serialize('orders-json', i)));
    assert.equal(encoded[0]!.readInt32BE(1), id);
    await assert.rejects(ser2.serialize('orders-json', { qty: 1 }), /sku|required|validat/i);
    const back = await roundTrip(broker, 'orders-json', encoded);
    const deser = new JsonDeserializer(new SchemaRegistryClient({ baseURLs: [broker.registryUrl!] }), SerdeType.VALUE, {});
    assert.deepEqual(await Promise.all(back.map((b) => deser.deserialize('orders-json', b))), items);
    assert.ok(ser);
  });

  it('@confluentinc/schemaregistry Protobuf serde: auto-register a descriptor, consume and decode', async () => {
    // Build the message type at runtime: .proto text → FileDescriptorProto → @bufbuild registry.
    const text = 'syntax = "proto3";\npackage shop;\nmessage Item {\n  string sku = 1;\n  int32 qty = 2;\n}\n';
    const root = protobuf.parse(text, { keepCase: true }).root;
    const desc = (root as unknown as { toDescriptor(s: string): { file: { name?: string }[] } }).toDescriptor('proto3');
    const file = desc.file[0]!;
    file.name = 'shop/item.proto';
    const codec = (descriptorModule as unknown as { FileDescriptorProto: { encode(d: unknown): { finish(): Uint8Array } } }).FileDescriptorProto;
    const fdp = fromBinary(FileDescriptorProtoSchema, codec.encode(file).finish());
    const files = createFileRegistry(fdp, () => undefined);
    const Item = files.getMessage('shop.Item')!;
    const client = new SchemaRegistryClient({ baseURLs: [broker.registryUrl!] });
    const ser = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true });
    ser.registry.add(Item);
    const items = [create(Item, { sku: 'p-1', qty: 3 }), create(Item, { sku: 'p-2', qty: 9 })];
    const encoded = await Promise.all(items.map((m) => ser.serialize('items-proto', m)));
    const id = encoded[0]!.readInt32BE(1);
    const registered = await client.getLatestSchemaMetadata('items-proto-value');
    assert.equal(registered.id, id);
    assert.equal(registered.schemaType, 'PROTOBUF');
    const back = await roundTrip(broker, 'items-proto', encoded);
    const deser = new ProtobufDeserializer(new SchemaRegistryClient({ baseURLs: [broker.registryUrl!] }), SerdeType.VALUE, {});
    const decoded = await Promise.all(back.map((b) => deser.deserialize('items-proto', b)));
    assert.deepEqual(decoded.map((d: { sku: string; qty: number }) => ({ sku: d.sku, qty: d.qty })), [{ sku: 'p-1', qty: 3 }, { sku: 'p-2', qty: 9 }]);
    // Changing a field's wire type is refused.
    const bad = text.replace('int32 qty = 2', 'string qty = 2');
    await assert.rejects(client.register('items-proto-value', { schemaType: 'PROTOBUF', schema: bad }), /incompatible|409|FIELD_SCALAR_KIND_CHANGED/i);
  });

  it('registry restart keeps ids: a consumer decodes old records after the restart', async () => {
    const registry = new SchemaRegistry({ host: broker.registryUrl! });
    const id = await registry.getLatestSchemaId('payments-value');
    const encoded = await registry.encode(id, { id: 'z', amount: 3, currency: 'USD' });
    await broker.close();
    broker = await startBroker({ dataDir: dir, port: 0, registry: true });
    const fresh = new SchemaRegistry({ host: broker.registryUrl! });
    assert.equal(await fresh.getLatestSchemaId('payments-value'), id);
    assert.deepEqual(plain(await fresh.decode(encoded)), { id: 'z', amount: 3, currency: 'USD' });
  });
});
