// REST Proxy against a real broker with Node's fetch (what curl does): v3 admin and streaming
// produce, v2 produce in every embedded format and consumer instances reading records back.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';

const V2 = 'application/vnd.kafka.v2+json';
let dir: string;
let broker: RunningBroker;
let cluster: string;

async function call(method: string, path: string, body?: unknown, contentType = 'application/json', accept?: string): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(broker.restUrl + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': contentType } : {}), ...(accept ? { accept } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

/** Reads records through a v2 consumer instance until `count` arrive (bounded by time). */
async function readV2(group: string, format: string, topics: string[], count: number): Promise<any[]> {
  const created = await call('POST', `/consumers/${group}`, { name: `${group}-c`, format, 'auto.offset.reset': 'earliest' }, V2);
  assert.equal(created.status, 200, created.text);
  assert.match(created.body.base_uri, new RegExp(`/consumers/${group}/instances/${group}-c$`));
  const inst = `/consumers/${group}/instances/${group}-c`;
  assert.equal((await call('POST', `${inst}/subscription`, { topics }, V2)).status, 204);
  assert.deepEqual((await call('GET', `${inst}/subscription`)).body, { topics });
  const out: any[] = [];
  const deadline = Date.now() + 30_000;
  while (out.length < count && Date.now() < deadline) {
    const r = await call('GET', `${inst}/records?timeout=1000`, undefined, undefined, `application/vnd.kafka.${format}.v2+json`);
    assert.equal(r.status, 200, r.text);
    out.push(...(r.body as any[]));
  }
  assert.equal((await call('POST', `${inst}/offsets`)).status, 200);
  assert.equal((await call('DELETE', inst)).status, 204);
  assert.equal((await call('GET', `${inst}/records`)).body.error_code, 40403);
  return out;
}

describe('REST proxy', () => {
  before(async () => {
    dir = await tempDir('fjord-rest-');
    broker = await startBroker({ dataDir: dir, port: 0, config: { 'group.initial.rebalance.delay.ms': '0' }, registry: true, rest: { maxRequestBytes: 1024 * 1024, consumerInstanceTimeoutMs: 1500 } });
    cluster = (await call('GET', '/v3/clusters')).body.data[0].cluster_id;
  });
  after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('v3: cluster, brokers, topic create/list/get/configs/partitions/delete', async () => {
    const c = await call('GET', `/v3/clusters/${cluster}`);
    assert.equal(c.body.kind, 'KafkaCluster');
    const brokers = await call('GET', `/v3/clusters/${cluster}/brokers`);
    assert.equal(brokers.body.data.length, 1);
    assert.equal(brokers.body.data[0].port, broker.port);
    const created = await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'v3-admin', partitions_count: 4, configs: [{ name: 'retention.ms', value: '3600000' }] });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.partitions_count, 4);
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'v3-admin', partitions_count: 4 })).status, 400);
    const topics = await call('GET', `/v3/clusters/${cluster}/topics`);
    assert.ok(topics.body.data.some((t: any) => t.topic_name === 'v3-admin'));
    const cfg = await call('GET', `/v3/clusters/${cluster}/topics/v3-admin/configs/retention.ms`);
    assert.equal(cfg.body.value, '3600000');
    assert.equal(cfg.body.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal((await call('PUT', `/v3/clusters/${cluster}/topics/v3-admin/configs/retention.ms`, { value: '7200000' })).status, 204);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/v3-admin/configs/retention.ms`)).body.value, '7200000');
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics/v3-admin/configs:alter`, { data: [{ name: 'retention.ms', operation: 'DELETE' }] })).status, 204);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/v3-admin/configs/retention.ms`)).body.is_default, true);
    const parts = await call('GET', `/v3/clusters/${cluster}/topics/v3-admin/partitions`);
    assert.deepEqual(parts.body.data.map((p: any) => p.partition_id), [0, 1, 2, 3]);
    assert.equal((await call('DELETE', `/v3/clusters/${cluster}/topics/v3-admin`)).status, 204);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/v3-admin`)).status, 404);
    assert.equal((await call('GET', '/v3/clusters/not-a-cluster/topics')).status, 404);
  });

  it('v3 streaming produce: 10k records in one request, one result per record; v2 consumer reads them all back', async () => {
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'stream', partitions_count: 3 });
    const N = 10_000;
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(JSON.stringify({ key: { type: 'JSON', data: `k${i % 17}` }, value: { type: 'JSON', data: { i, pad: 'x'.repeat(20) } } }));
    // A streaming body: chunks arrive while earlier records are already being produced.
    const encoder = new TextEncoder();
    let next = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (next >= N) return ctrl.close();
        ctrl.enqueue(encoder.encode(lines.slice(next, next + 500).join('\n') + '\n'));
        next += 500;
      },
    });
    const res = await fetch(`${broker.restUrl}/v3/clusters/${cluster}/topics/stream/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 200);
    const results = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(results.length, N);
    assert.ok(results.every((r) => r.error_code === 200 && r.topic_name === 'stream'));
    // Same key → same partition; offsets per partition are 0..n-1 without gaps.
    const byKey = new Map<string, number>();
    const perPartition = new Map<number, number[]>();
    results.forEach((r, i) => {
      const key = `k${i % 17}`;
      if (byKey.has(key)) assert.equal(r.partition_id, byKey.get(key));
      byKey.set(key, r.partition_id);
      perPartition.set(r.partition_id, [...(perPartition.get(r.partition_id) ?? []), r.offset]);
    });
    for (const offs of perPartition.values()) assert.deepEqual(offs, offs.map((_, i) => i));
    const got = await readV2('stream-readers', 'json', ['stream'], N);
    assert.equal(got.length, N);
    const seen = new Set(got.map((r) => r.value.i));
    assert.equal(seen.size, N);
    const lag = await call('GET', `/v3/clusters/${cluster}/consumer-groups/stream-readers/lag-summary`);
    assert.equal(lag.body.total_lag, 0);
    const lags = await call('GET', `/v3/clusters/${cluster}/consumer-groups/stream-readers/lags`);
    assert.equal(lags.body.data.length, 3);
  });

  it('v3 records: per-record errors in a stream, bad content type, unknown topic', async () => {
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'mixed', partitions_count: 1 });
    const body = [
      JSON.stringify({ value: { type: 'STRING', data: 'ok-1' } }),
      '{"value": {"type": "BINARY", "data": "***"}}',
      JSON.stringify({ value: { type: 'STRING', data: 'ok-2' }, headers: [{ name: 'h', value: Buffer.from('v').toString('base64') }] }),
    ].join('\n');
    const r = await call('POST', `/v3/clusters/${cluster}/topics/mixed/records`, body);
    const results = r.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(results.map((x) => x.error_code), [200, 42205, 200]);
    assert.deepEqual([results[0].offset, results[2].offset], [0, 1]);
    const truncated = await call('POST', `/v3/clusters/${cluster}/topics/mixed/records`, '{"value": {"type": "STRING", "data": "x"}');
    assert.match(truncated.text, /"error_code":400/);
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics/mixed/records`, 'x', 'text/plain')).status, 415);
    const unknown = await call('POST', `/v3/clusters/${cluster}/topics/nope/records`, '{}');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error_code, 40401);
    // Nothing partial: the topic holds exactly the two good records.
    const kafka = new kafkajs.Kafka({ brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('mixed');
    await admin.disconnect();
    assert.equal(offsets[0]!.high, '2');
  });

  it('v2 produce in binary and json; Avro registers the schema; errors 415/422/404/413', async () => {
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'v2', partitions_count: 2 });
    const bin = await call('POST', '/topics/v2', { records: [{ key: Buffer.from('k').toString('base64'), value: Buffer.from('hello').toString('base64') }] }, 'application/vnd.kafka.binary.v2+json');
    assert.equal(bin.status, 200, bin.text);
    assert.equal(bin.body.offsets.length, 1);
    const js = await call('POST', '/topics/v2/partitions/1', { records: [{ value: { a: 1 } }, { value: [1, 2] }] }, 'application/vnd.kafka.json.v2+json');
    assert.deepEqual(js.body.offsets.map((o: any) => o.partition), [1, 1]);
    const schema = JSON.stringify({ type: 'record', name: 'Reading', fields: [{ name: 'celsius', type: 'double' }] });
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'readings', partitions_count: 1 });
    const av = await call('POST', '/topics/readings', { value_schema: schema, records: [{ value: { celsius: 21.5 } }, { value: { celsius: -3 } }] }, 'application/vnd.kafka.avro.v2+json');
    assert.equal(av.status, 200, av.text);
    const id = av.body.value_schema_id as number;
    const reg = await fetch(`${broker.registryUrl}/subjects/readings-value/versions/latest`).then((r) => r.json() as Promise<any>);
    assert.equal(reg.id, id);
    const byId = await call('POST', '/topics/readings', { value_schema_id: id, records: [{ value: { celsius: 40 } }] }, 'application/vnd.kafka.avro.v2+json');
    assert.equal(byId.status, 200);
    const badValue = await call('POST', '/topics/readings', { value_schema_id: id, records: [{ value: { celsius: 'hot' } }] }, 'application/vnd.kafka.avro.v2+json');
    assert.equal(badValue.status, 422);
    const avroBack = await readV2('avro-readers', 'avro', ['readings'], 3);
    assert.deepEqual(avroBack.map((r) => r.value), [{ celsius: 21.5 }, { celsius: -3 }, { celsius: 40 }]);
    const jsonSchema = JSON.stringify({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] });
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'counts', partitions_count: 1 });
    assert.equal((await call('POST', '/topics/counts', { value_schema: jsonSchema, records: [{ value: { n: 1 } }] }, 'application/vnd.kafka.jsonschema.v2+json')).status, 200);
    assert.equal((await call('POST', '/topics/counts', { value_schema: jsonSchema, records: [{ value: { m: 1 } }] }, 'application/vnd.kafka.jsonschema.v2+json')).status, 422);
    const proto = 'syntax = "proto3";\nmessage Tick { int64 at = 1; string who = 2; }\n';
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'ticks', partitions_count: 1 });
    assert.equal((await call('POST', '/topics/ticks', { value_schema: proto, records: [{ value: { at: 5, who: 'me' } }] }, 'application/vnd.kafka.protobuf.v2+json')).status, 200);
    const ticks = await readV2('tick-readers', 'protobuf', ['ticks'], 1);
    assert.deepEqual(ticks[0].value, { at: 5, who: 'me' });

    const errors: [string, unknown, string, number, number][] = [
      ['/topics/v2', { records: [{ value: 1 }] }, 'text/plain', 415, 415],
      ['/topics/v2', '{"records": [', 'application/vnd.kafka.json.v2+json', 422, 422],
      ['/topics/v2', { nothing: true }, 'application/vnd.kafka.json.v2+json', 422, 422],
      ['/topics/missing', { records: [{ value: 1 }] }, 'application/vnd.kafka.json.v2+json', 404, 40401],
      ['/topics/v2/partitions/9', { records: [{ value: 1 }] }, 'application/vnd.kafka.json.v2+json', 404, 40402],
      ['/topics/readings', { records: [{ value: { celsius: 1 } }] }, 'application/vnd.kafka.avro.v2+json', 422, 42202],
      ['/topics/v2', { records: [{ value: 'x'.repeat(2 * 1024 * 1024) }] }, 'application/vnd.kafka.json.v2+json', 413, 413],
    ];
    for (const [path, body, ct, status, code] of errors) {
      const r = await call('POST', path, body, ct);
      assert.equal(r.status, status, `${path} ${ct}: ${r.text.slice(0, 200)}`);
      assert.equal(r.body.error_code, code, `${path} ${ct}: ${r.text.slice(0, 200)}`);
    }
    assert.equal((await call('GET', '/topics')).status, 200);
  });

  it('v2 consumer instances: positions, committed offsets, duplicate names, expiry', async () => {
    await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'seekable', partitions_count: 1 });
    await call('POST', '/topics/seekable', { records: Array.from({ length: 10 }, (_, i) => ({ value: i })) }, 'application/vnd.kafka.json.v2+json');
    const inst = '/consumers/seekers/instances/s1';
    assert.equal((await call('POST', '/consumers/seekers', { name: 's1', format: 'json', 'auto.offset.reset': 'earliest' }, V2)).status, 200);
    assert.equal((await call('POST', '/consumers/seekers', { name: 's1', format: 'json' }, V2)).body.error_code, 40902);
    assert.equal((await call('POST', '/consumers/seekers', { format: 'xml' }, V2)).body.error_code, 42204);
    await call('POST', `${inst}/subscription`, { topics: ['seekable'] }, V2);
    const first: any[] = [];
    const deadline = Date.now() + 15_000;
    while (first.length < 10 && Date.now() < deadline) first.push(...(await call('GET', `${inst}/records?timeout=500`)).body);
    assert.deepEqual(first.map((r) => r.value), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal((await call('POST', `${inst}/offsets`, { offsets: [{ topic: 'seekable', partition: 0, offset: 4 }] }, V2)).status, 200);
    // Committing "last consumed 4" makes the group resume at 5 (Confluent's v2 semantics).
    const lags = await call('GET', `/v3/clusters/${cluster}/consumer-groups/seekers/lags`);
    assert.deepEqual(lags.body.data.map((l: any) => [l.current_offset, l.log_end_offset, l.lag]), [[5, 10, 5]]);
    assert.equal((await call('POST', `${inst}/positions`, { offsets: [{ topic: 'seekable', partition: 0, offset: 7 }] }, V2)).status, 204);
    const after7: any[] = [];
    const d2 = Date.now() + 15_000;
    while (after7.length < 3 && Date.now() < d2) after7.push(...(await call('GET', `${inst}/records?timeout=500`)).body);
    assert.deepEqual(after7.map((r) => r.value), [7, 8, 9]);
    assert.equal((await call('POST', `${inst}/positions/beginning`, { partitions: [{ topic: 'seekable', partition: 0 }] }, V2)).status, 204);
    const again: any[] = [];
    const d3 = Date.now() + 15_000;
    while (again.length < 1 && Date.now() < d3) again.push(...(await call('GET', `${inst}/records?timeout=500`)).body);
    assert.equal(again[0].value, 0);
    // Idle instances expire after consumer.instance.timeout.ms (1.5 s here).
    const expiryDeadline = Date.now() + 10_000;
    let status = 200;
    while (Date.now() < expiryDeadline) {
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(`${broker.restUrl}/consumers/seekers/instances/s1/subscription`, { method: 'GET' }).catch(() => undefined);
      if (res) status = res.status;
      if (status === 404) break;
      // Reading the subscription touches the instance; only wait passively after the first look.
      await new Promise((r) => setTimeout(r, 2000));
    }
    assert.equal(status, 404);
  });
});
