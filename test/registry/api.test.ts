// Schema Registry REST API against a real broker: Confluent's paths, bodies and error codes;
// state survives a restart (replayed from _schemas).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';

const CT = 'application/vnd.schemaregistry.v1+json';
let dir: string;
let broker: RunningBroker;

async function call(method: string, path: string, body?: unknown, contentType = CT): Promise<{ status: number; body: any; type: string | null }> {
  const res = await fetch(broker.registryUrl + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* raw */
  }
  return { status: res.status, body: parsed, type: res.headers.get('content-type') };
}

const avro = (fields: unknown[], name = 'User') => JSON.stringify({ type: 'record', name, fields });
const A1 = avro([{ name: 'id', type: 'long' }]);
const A2 = avro([{ name: 'id', type: 'long' }, { name: 'email', type: ['null', 'string'], default: null }]);
const A_BAD = avro([{ name: 'id', type: 'long' }, { name: 'age', type: 'int' }]);

before(async () => {
  dir = await tempDir('fjord-registry-');
  broker = await startBroker({ dataDir: dir, port: 0, registry: true });
});
after(async () => {
  await broker.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

test('register, look up, list, and get by id with Confluent bodies', async () => {
  assert.deepEqual((await call('GET', '/schemas/types')).body, ['JSON', 'PROTOBUF', 'AVRO']);
  const r1 = await call('POST', '/subjects/users-value/versions', { schema: A1 });
  assert.equal(r1.status, 200);
  assert.equal(r1.type, CT);
  const id1 = r1.body.id as number;
  assert.ok(id1 >= 1);
  // Same schema again: same id, no new version. Same schema in another subject: same id.
  assert.deepEqual((await call('POST', '/subjects/users-value/versions', { schema: A1 })).body, { id: id1 });
  assert.deepEqual((await call('POST', '/subjects/audit-value/versions', { schema: A1 }, 'application/json')).body, { id: id1 });
  const r2 = await call('POST', '/subjects/users-value/versions', { schema: A2 });
  assert.equal(r2.status, 200);
  assert.ok(r2.body.id > id1);
  assert.deepEqual((await call('GET', '/subjects/users-value/versions')).body, [1, 2]);
  const latest = await call('GET', '/subjects/users-value/versions/latest');
  assert.deepEqual(latest.body, { subject: 'users-value', version: 2, id: r2.body.id, schema: A2 });
  assert.deepEqual((await call('GET', '/subjects/users-value/versions/1/schema')).body, JSON.parse(A1));
  assert.deepEqual((await call('GET', `/schemas/ids/${id1}`)).body, { schema: A1 });
  assert.deepEqual((await call('GET', `/schemas/ids/${id1}/subjects`)).body, ['audit-value', 'users-value']);
  assert.deepEqual((await call('GET', `/schemas/ids/${id1}/versions`)).body, [
    { subject: 'audit-value', version: 1 },
    { subject: 'users-value', version: 1 },
  ]);
  const lookup = await call('POST', '/subjects/users-value', { schema: A1 });
  assert.deepEqual(lookup.body, { subject: 'users-value', version: 1, id: id1, schema: A1 });
  // Whitespace does not change identity; key order does only without normalize.
  const spaced = JSON.stringify(JSON.parse(A1), null, 2);
  assert.equal((await call('POST', '/subjects/users-value', { schema: spaced })).body.id, id1);
  const reordered = JSON.stringify({ name: 'User', fields: [{ type: 'long', name: 'id' }], type: 'record' });
  assert.equal((await call('POST', '/subjects/users-value', { schema: reordered })).body.error_code, 40403);
  assert.equal((await call('POST', '/subjects/users-value?normalize=true', { schema: reordered })).body.id, id1);
  assert.deepEqual((await call('GET', '/subjects?subjectPrefix=users')).body, ['users-value']);
  assert.ok(((await call('GET', '/schemas?subjectPrefix=users&latestOnly=true')).body as unknown[]).length === 1);
});

test('incompatible change is refused with 409 naming the field; verbose compatibility check', async () => {
  const bad = await call('POST', '/subjects/users-value/versions', { schema: A_BAD });
  assert.equal(bad.status, 409);
  assert.equal(bad.body.error_code, 409);
  assert.match(bad.body.message, /READER_FIELD_MISSING_DEFAULT_VALUE/);
  assert.match(bad.body.message, /'age'/);
  const check = await call('POST', '/compatibility/subjects/users-value/versions/latest?verbose=true', { schema: A_BAD });
  assert.equal(check.body.is_compatible, false);
  assert.match(check.body.messages[0], /'age'/);
  assert.deepEqual((await call('POST', '/compatibility/subjects/users-value/versions', { schema: A2 })).body, { is_compatible: true });
  // FORWARD: adding a field without default is fine; then the same change is accepted.
  assert.deepEqual((await call('PUT', '/config/users-value', { compatibility: 'FORWARD' })).body, { compatibility: 'FORWARD' });
  assert.equal((await call('POST', '/subjects/users-value/versions', { schema: avro([{ name: 'id', type: 'long' }, { name: 'email', type: ['null', 'string'], default: null }, { name: 'age', type: 'int' }]) })).status, 200);
});

test('config and mode: global, per subject, defaultToGlobal, invalid values', async () => {
  assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
  assert.equal((await call('GET', '/config/audit-value')).body.error_code, 40408);
  assert.deepEqual((await call('GET', '/config/audit-value?defaultToGlobal=true')).body, { compatibilityLevel: 'BACKWARD' });
  const bad = await call('PUT', '/config', { compatibility: 'SIDEWAYS' });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error_code, 42203);
  assert.deepEqual((await call('PUT', '/config', { compatibility: 'full_transitive' })).body, { compatibility: 'FULL_TRANSITIVE' });
  assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'FULL_TRANSITIVE' });
  assert.deepEqual((await call('DELETE', '/config')).body, { compatibilityLevel: 'FULL_TRANSITIVE' });
  assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
  assert.deepEqual((await call('GET', '/mode')).body, { mode: 'READWRITE' });
  assert.equal((await call('PUT', '/mode', { mode: 'BOGUS' })).body.error_code, 42204);
  assert.deepEqual((await call('PUT', '/mode/audit-value', { mode: 'READONLY' })).body, { mode: 'READONLY' });
  const ro = await call('POST', '/subjects/audit-value/versions', { schema: A2 });
  assert.equal(ro.status, 422);
  assert.equal(ro.body.error_code, 42205);
  assert.deepEqual((await call('DELETE', '/mode/audit-value')).body, { mode: 'READONLY' });
});

test('soft and permanent deletes follow Confluent rules; ids are never reused', async () => {
  const id = (await call('POST', '/subjects/tmp-value/versions', { schema: avro([{ name: 'x', type: 'int' }], 'Tmp') })).body.id as number;
  assert.equal((await call('DELETE', '/subjects/tmp-value?permanent=true')).body.error_code, 40405);
  assert.deepEqual((await call('DELETE', '/subjects/tmp-value')).body, [1]);
  assert.equal((await call('DELETE', '/subjects/tmp-value')).body.error_code, 40404);
  assert.equal((await call('GET', '/subjects/tmp-value/versions')).body.error_code, 40401);
  assert.ok(!((await call('GET', '/subjects')).body as string[]).includes('tmp-value'));
  assert.ok(((await call('GET', '/subjects?deleted=true')).body as string[]).includes('tmp-value'));
  assert.deepEqual((await call('GET', '/subjects?deletedOnly=true')).body, ['tmp-value']);
  assert.equal((await call('GET', '/subjects/tmp-value/versions/1?deleted=true')).body.id, id);
  assert.deepEqual((await call('DELETE', '/subjects/tmp-value?permanent=true')).body, [1]);
  assert.equal((await call('GET', '/subjects/tmp-value/versions/1?deleted=true')).body.error_code, 40401);
  // Version deletes.
  await call('POST', '/subjects/v-value/versions', { schema: avro([{ name: 'x', type: 'int' }], 'V') });
  await call('POST', '/subjects/v-value/versions', { schema: avro([{ name: 'x', type: 'int' }, { name: 'y', type: 'int', default: 0 }], 'V') });
  assert.equal((await call('DELETE', '/subjects/v-value/versions/1?permanent=true')).body.error_code, 40407);
  assert.equal((await call('DELETE', '/subjects/v-value/versions/1')).body, 1);
  assert.equal((await call('DELETE', '/subjects/v-value/versions/1')).body.error_code, 40406);
  assert.equal((await call('GET', '/subjects/v-value/versions/1')).body.error_code, 40402);
  assert.deepEqual((await call('GET', '/subjects/v-value/versions')).body, [2]);
  assert.equal((await call('DELETE', '/subjects/v-value/versions/1?permanent=true')).body, 1);
  const next = (await call('POST', '/subjects/fresh-value/versions', { schema: avro([{ name: 'q', type: 'string' }], 'Fresh') })).body.id as number;
  assert.ok(next > id, 'new ids are above every id handed out');
});

test('references: register, resolve, referencedby, and delete protection', async () => {
  const addr = JSON.stringify({ type: 'record', name: 'Address', namespace: 'x', fields: [{ name: 'city', type: 'string' }] });
  const addrId = (await call('POST', '/subjects/address/versions', { schema: addr })).body.id as number;
  const order = JSON.stringify({ type: 'record', name: 'Order', namespace: 'x', fields: [{ name: 'ship', type: 'x.Address' }] });
  const refs = [{ name: 'x.Address', subject: 'address', version: 1 }];
  const withoutRef = await call('POST', '/subjects/order-value/versions', { schema: order });
  assert.equal(withoutRef.body.error_code, 42201);
  const orderId = (await call('POST', '/subjects/order-value/versions', { schema: order, references: refs })).body.id as number;
  assert.deepEqual((await call('GET', `/schemas/ids/${orderId}`)).body, { schema: order, references: refs });
  assert.deepEqual((await call('GET', '/subjects/address/versions/1/referencedby')).body, [orderId]);
  const del = await call('DELETE', '/subjects/address');
  assert.equal(del.status, 422);
  assert.equal(del.body.error_code, 42206);
  assert.ok(addrId > 0);
});

test('JSON Schema and Protobuf register and check; IMPORT mode keeps caller ids', async () => {
  const js = JSON.stringify({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false });
  const r = await call('POST', '/subjects/js-value/versions', { schemaType: 'JSON', schema: js });
  assert.equal(r.status, 200);
  assert.deepEqual((await call('GET', `/schemas/ids/${r.body.id}`)).body, { schemaType: 'JSON', schema: js });
  const js2 = JSON.stringify({ type: 'object', properties: {}, additionalProperties: false });
  const bad = await call('POST', '/subjects/js-value/versions', { schemaType: 'JSON', schema: js2 });
  assert.equal(bad.status, 409);
  assert.match(bad.body.message, /PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL/);
  const proto = 'syntax = "proto3";\npackage demo;\nmessage Ping { string id = 1; int64 at = 2; }\n';
  const p = await call('POST', '/subjects/ping-value/versions', { schemaType: 'PROTOBUF', schema: proto });
  assert.equal(p.status, 200);
  const serialized = await call('GET', `/schemas/ids/${p.body.id}?format=serialized`);
  assert.match(serialized.body.schema, /^[A-Za-z0-9+/]+=*$/);
  const pBad = await call('POST', '/subjects/ping-value/versions', { schemaType: 'PROTOBUF', schema: proto.replace('string id = 1', 'int32 id = 1') });
  assert.equal(pBad.status, 409);
  assert.match(pBad.body.message, /FIELD_SCALAR_KIND_CHANGED/);
  assert.equal((await call('PUT', '/mode', { mode: 'IMPORT' })).body.error_code, 42205);
  assert.deepEqual((await call('PUT', '/mode/imported?force=true', { mode: 'IMPORT' })).body, { mode: 'IMPORT' });
  const imp = await call('POST', '/subjects/imported/versions', { schema: avro([{ name: 'z', type: 'int' }], 'Imp'), id: 5000, version: 7 });
  assert.deepEqual(imp.body, { id: 5000 });
  assert.equal((await call('GET', '/subjects/imported/versions/7')).body.id, 5000);
  await call('DELETE', '/mode/imported');
});

test('bad input gets Confluent error codes and the server keeps serving', async () => {
  const cases: [string, string, unknown, number, number][] = [
    ['POST', '/subjects/x/versions', { schema: '{not json' }, 422, 42201],
    ['POST', '/subjects/x/versions', { schema: '{"type":"record","name":"R"}' }, 422, 42201],
    ['POST', '/subjects/x/versions', { schemaType: 'XML', schema: '<a/>' }, 422, 42201],
    ['POST', '/subjects/x/versions', {}, 422, 42201],
    ['POST', '/subjects/x/versions', '{"schema": "tru', 422, 422],
    ['GET', '/subjects/nope/versions', undefined, 404, 40401],
    ['GET', '/subjects/users-value/versions/99', undefined, 404, 40402],
    ['GET', '/subjects/users-value/versions/abc', undefined, 422, 42202],
    ['GET', '/schemas/ids/987654', undefined, 404, 40403],
    ['GET', '/schemas/ids/abc', undefined, 404, 40403],
    ['POST', '/subjects/nope', { schema: A1 }, 404, 40401],
    ['DELETE', '/subjects/nope', undefined, 404, 40401],
  ];
  for (const [m, p, b, status, code] of cases) {
    const r = await call(m, p, b);
    assert.equal(r.status, status, `${m} ${p}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error_code, code, `${m} ${p}: ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.message, 'string');
  }
  assert.equal((await call('GET', '/schemas/types')).status, 200);
});

test('restart rebuilds every schema, id, version and config from _schemas', async () => {
  const before = {
    subjects: (await call('GET', '/subjects')).body,
    latest: (await call('GET', '/subjects/users-value/versions/latest')).body,
    config: (await call('GET', '/config/users-value')).body,
    ids: (await call('GET', '/schemas?deleted=true')).body,
  };
  await broker.close();
  broker = await startBroker({ dataDir: dir, port: 0, registry: true });
  assert.deepEqual((await call('GET', '/subjects')).body, before.subjects);
  assert.deepEqual((await call('GET', '/subjects/users-value/versions/latest')).body, before.latest);
  assert.deepEqual((await call('GET', '/config/users-value')).body, before.config);
  assert.deepEqual((await call('GET', '/schemas?deleted=true')).body, before.ids);
  const fresh = (await call('POST', '/subjects/after-restart/versions', { schema: avro([{ name: 'n', type: 'int' }], 'AfterRestart') })).body.id as number;
  const maxBefore = Math.max(...(before.ids as { id: number }[]).map((s) => s.id));
  assert.ok(fresh > maxBefore, `id ${fresh} must not reuse an id ≤ ${maxBefore}`);
});
