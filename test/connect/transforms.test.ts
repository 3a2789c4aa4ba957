// Converters and single message transforms under Kafka's class names (pure functions: no broker).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonConverter, StringConverter } from '../../src/connect/converters.js';
import type { ConnectRecord } from '../../src/connect/sdk.js';
import { buildTransformChain } from '../../src/connect/transforms.js';

const K = 'org.apache.kafka.connect.transforms.';
const rec = (value: unknown, extra: Partial<ConnectRecord> = {}): ConnectRecord => ({ topic: 'orders', key: null, value, timestamp: Date.UTC(2026, 11, 4, 15, 0, 0), ...extra });

test('JsonConverter with and without the schema envelope', () => {
  const withSchema = new JsonConverter({});
  const schema = { type: 'struct' as const, optional: false, fields: [{ field: 'id', type: 'int32' as const, optional: false }] };
  const bytes = withSchema.fromConnectData('t', schema, { id: 7 });
  assert.deepEqual(JSON.parse(bytes!.toString()), { schema, payload: { id: 7 } });
  assert.deepEqual(withSchema.toConnectData('t', bytes), { schema, value: { id: 7 } });
  assert.throws(() => withSchema.toConnectData('t', Buffer.from('{"id":7}')), /requires "schema" and "payload"/);
  const plain = new JsonConverter({ 'schemas.enable': 'false' });
  assert.equal(plain.fromConnectData('t', null, { id: 7 })!.toString(), '{"id":7}');
  assert.equal(plain.fromConnectData('t', null, null), null);
  assert.deepEqual(new StringConverter().toConnectData('t', Buffer.from('hi')).value, 'hi');
});

test('field transforms: InsertField, ReplaceField, MaskField, ValueToKey, ExtractField, HoistField, Cast, Flatten', () => {
  const chain = buildTransformChain({
    transforms: 'ins,rep,mask,v2k,cast,flat',
    'transforms.ins.type': `${K}InsertField$Value`,
    'transforms.ins.topic.field': 'src_topic',
    'transforms.ins.static.field': 'dc',
    'transforms.ins.static.value': 'eu',
    'transforms.rep.type': `${K}ReplaceField$Value`,
    'transforms.rep.exclude': 'secret',
    'transforms.rep.renames': 'amount:total',
    'transforms.mask.type': `${K}MaskField$Value`,
    'transforms.mask.fields': 'card',
    'transforms.v2k.type': `${K}ValueToKey`,
    'transforms.v2k.fields': 'id',
    'transforms.cast.type': `${K}Cast$Value`,
    'transforms.cast.spec': 'total:string',
    'transforms.flat.type': `${K}Flatten$Value`,
    'transforms.flat.delimiter': '_',
  });
  const out = chain(rec({ id: 1, amount: 9.5, secret: 'x', card: '4111', addr: { city: 'Oslo' } }))!;
  assert.deepEqual(out.key, { id: 1 });
  assert.deepEqual(out.value, { id: 1, total: '9.5', card: '', addr_city: 'Oslo', src_topic: 'orders', dc: 'eu' });

  const extract = buildTransformChain({ transforms: 'x', 'transforms.x.type': `${K}ExtractField$Value`, 'transforms.x.field': 'after' });
  assert.deepEqual(extract(rec({ after: { a: 1 } }))!.value, { a: 1 });
  const hoist = buildTransformChain({ transforms: 'h', 'transforms.h.type': `${K}HoistField$Key`, 'transforms.h.field': 'k' });
  assert.deepEqual(hoist(rec(null, { key: 5 }))!.key, { k: 5 });
});

test('routing, timestamps, headers and Filter with predicates', () => {
  const route = buildTransformChain({
    transforms: 'r,ts',
    'transforms.r.type': `${K}RegexRouter`,
    'transforms.r.regex': 'ord(.*)',
    'transforms.r.replacement': 'archive-ord$1',
    'transforms.ts.type': `${K}TimestampRouter`,
    'transforms.ts.topic.format': '${topic}-${timestamp}',
    'transforms.ts.timestamp.format': 'yyyyMMdd',
  });
  assert.equal(route(rec({}))!.topic, 'archive-orders-20261204');

  const conv = buildTransformChain({
    transforms: 'tc',
    'transforms.tc.type': `${K}TimestampConverter$Value`,
    'transforms.tc.field': 'at',
    'transforms.tc.target.type': 'string',
    'transforms.tc.format': 'yyyy-MM-dd',
  });
  assert.deepEqual(conv(rec({ at: Date.UTC(2026, 0, 2) }))!.value, { at: '2026-01-02' });

  const headers = buildTransformChain({
    transforms: 'ins,drop',
    'transforms.ins.type': `${K}InsertHeader`,
    'transforms.ins.header': 'origin',
    'transforms.ins.value.literal': 'fjord',
    'transforms.drop.type': `${K}DropHeaders`,
    'transforms.drop.headers': 'noise',
  });
  assert.deepEqual(headers(rec({}, { headers: [{ key: 'noise', value: 'x' }] }))!.headers, [{ key: 'origin', value: 'fjord' }]);

  const filter = buildTransformChain({
    transforms: 'dropTombstones,onlyOrders',
    'transforms.dropTombstones.type': `${K}Filter`,
    'transforms.dropTombstones.predicate': 'isTombstone',
    'transforms.onlyOrders.type': `${K}Filter`,
    'transforms.onlyOrders.predicate': 'isOrders',
    'transforms.onlyOrders.negate': 'true',
    predicates: 'isTombstone,isOrders',
    'predicates.isTombstone.type': `${K}predicates.RecordIsTombstone`,
    'predicates.isOrders.type': `${K}predicates.TopicNameMatches`,
    'predicates.isOrders.pattern': 'orders',
  });
  assert.equal(filter(rec(null)), null);
  assert.equal(filter(rec({}, { topic: 'other' })), null);
  assert.deepEqual(filter(rec({ a: 1 }))!.value, { a: 1 });
  assert.throws(() => buildTransformChain({ transforms: 'x', 'transforms.x.type': 'com.example.Nope' }), /could not be found/);
});
