// Kafka Connect's REST API driven with plain HTTP against a real worker and broker, with the
// FileStream connectors: shapes, validation errors, lifecycle, offsets, restart of a failed task.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startWorker, type RunningWorker } from '../../src/connect/index.js';
import { execFile } from 'node:child_process';
import { fjordCommand, repoRoot, startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { BROKER_CONFIG, http, produce, readTopic, waitFor } from './util.js';

let broker: TestBroker;
let worker: RunningWorker;
let dir: string;
let url: string;

before(async () => {
  broker = await startTestBroker(BROKER_CONFIG);
  dir = await tempDir('fjord-connect-file-');
  // A user connector written against the SDK, loaded from plugin.path.
  const pluginDir = join(dir, 'plugins');
  mkdirSync(pluginDir);
  writeFileSync(
    join(pluginDir, 'counter.mjs'),
    `export default {
      className: 'com.example.CounterSource', type: 'source', version: '1.0.0',
      config: { topic: { type: 'string', importance: 'high' }, count: { type: 'int', default: 3, min: 1 } },
      createConnector() { let c = {}; return { start(cfg) { c = cfg; }, taskConfigs() { return [c]; }, stop() {} }; },
      createTask() {
        let next = 0, total = 0, topic = '';
        return {
          start(cfg, ctx) { topic = cfg.topic; total = Number(cfg.count ?? 3); next = Number(ctx.offset({ counter: 'main' })?.next ?? 0); },
          async poll(signal) {
            if (next >= total) { await new Promise((r) => setTimeout(r, 100)); return null; }
            const n = next++;
            return [{ topic, key: 'k' + n, value: { n }, valueSchema: null, sourcePartition: { counter: 'main' }, sourceOffset: { next: n + 1 } }];
          },
          stop() {},
        };
      },
    };\n`,
  );
  worker = await startWorker({
    bootstrap: [broker.bootstrap],
    groupId: 'rest-test',
    port: 0,
    config: {
      'offset.flush.interval.ms': '100',
      'offset.storage.partitions': '3',
      'status.storage.partitions': '2',
      'plugin.path': pluginDir,
    },
  });
  url = worker.url;
});

after(async () => {
  await worker?.close();
  await broker?.dispose();
});

test('GET / and /connector-plugins describe the worker', async () => {
  const root = await http(url, 'GET', '/');
  assert.equal(root.status, 200);
  assert.equal(typeof root.body.version, 'string');
  assert.ok(root.body.kafka_cluster_id);
  const plugins = await http(url, 'GET', '/connector-plugins');
  const classes = plugins.body.map((p: { class: string }) => p.class);
  for (const c of [
    'io.debezium.connector.postgresql.PostgresConnector',
    'io.confluent.connect.jdbc.JdbcSinkConnector',
    'org.apache.kafka.connect.file.FileStreamSourceConnector',
    'org.apache.kafka.connect.file.FileStreamSinkConnector',
  ]) {
    assert.ok(classes.includes(c), c);
  }
  const all = await http(url, 'GET', '/connector-plugins?connectorsOnly=false');
  assert.ok(all.body.some((p: { class: string; type: string }) => p.type === 'transformation' && p.class.endsWith('RegexRouter')));
});

test('validation errors: validate endpoint counts them, create answers 400 with error_code', async () => {
  const v = await http(url, 'PUT', '/connector-plugins/FileStreamSourceConnector/config/validate', {
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
    'tasks.max': 'many',
    topic: 'a,b',
  });
  assert.equal(v.status, 200);
  assert.equal(v.body.name, 'org.apache.kafka.connect.file.FileStreamSourceConnector');
  // name (required, as in Kafka), tasks.max, file, topic
  assert.equal(v.body.error_count, 4, JSON.stringify(v.body.configs.filter((c: any) => c.value.errors.length)));
  const file = v.body.configs.find((c: any) => c.definition.name === 'file');
  assert.match(file.value.errors[0], /Missing required configuration "file"/);
  const created = await http(url, 'POST', '/connectors', { name: 'bad', config: { 'connector.class': 'NoSuchConnector' } });
  assert.equal(created.status, 400);
  assert.equal(created.body.error_code, 400);
  assert.match(created.body.message, /NoSuchConnector could not be found/);
  const missing = await http(url, 'GET', '/connectors/nope/status');
  assert.deepEqual(missing.body, { error_code: 404, message: 'Connector nope not found' });
});

test('file source → topic → file sink; pause, resume, stop, offsets, delete', async () => {
  const input = join(dir, 'in.txt');
  const output = join(dir, 'out.txt');
  writeFileSync(input, 'line-1\nline-2\n');
  const src = await http(url, 'POST', '/connectors', {
    name: 'file-src',
    config: {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: 'file-lines',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
  });
  assert.equal(src.status, 201, JSON.stringify(src.body));
  assert.deepEqual(src.body.tasks, [{ connector: 'file-src', task: 0 }]);
  assert.equal(src.body.type, 'source');
  const dup = await http(url, 'POST', '/connectors', { name: 'file-src', config: { 'connector.class': 'FileStreamSource', file: input, topic: 'x' } });
  assert.equal(dup.status, 409);

  const sink = await http(url, 'POST', '/connectors', {
    name: 'file-sink',
    config: {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      file: output,
      topics: 'file-lines',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
  });
  assert.equal(sink.status, 201, JSON.stringify(sink.body));
  appendFileSync(input, 'line-3\n');
  await waitFor('sink file has three lines', () => {
    try {
      return readFileSync(output, 'utf8') === 'line-1\nline-2\nline-3\n';
    } catch {
      return false;
    }
  });

  const status = await http(url, 'GET', '/connectors/file-src/status');
  assert.equal(status.body.connector.state, 'RUNNING');
  assert.equal(status.body.tasks[0].state, 'RUNNING');
  assert.equal(status.body.type, 'source');

  const list = await http(url, 'GET', '/connectors?expand=status&expand=info');
  assert.deepEqual(Object.keys(list.body).sort(), ['file-sink', 'file-src']);
  assert.equal(list.body['file-src'].info.config.file, input);
  assert.equal(list.body['file-sink'].status.type, 'sink');

  const topics = await http(url, 'GET', '/connectors/file-src/topics');
  assert.deepEqual(topics.body, { 'file-src': { topics: ['file-lines'] } });

  assert.equal((await http(url, 'PUT', '/connectors/file-src/pause')).status, 202);
  await waitFor('paused', async () => (await http(url, 'GET', '/connectors/file-src/status')).body.tasks[0].state === 'PAUSED');
  appendFileSync(input, 'line-4\n');
  assert.equal((await http(url, 'PUT', '/connectors/file-src/resume')).status, 202);
  await waitFor('line-4 delivered', () => readFileSync(output, 'utf8').endsWith('line-4\n'));

  // Offsets can only be changed on a stopped connector.
  const early = await http(url, 'DELETE', '/connectors/file-src/offsets');
  assert.equal(early.status, 400);
  assert.match(early.body.message, /STOPPED state/);
  assert.equal((await http(url, 'PUT', '/connectors/file-src/stop')).status, 204);
  await waitFor('stopped', async () => (await http(url, 'GET', '/connectors/file-src/status')).body.connector.state === 'STOPPED');
  const offsets = await http(url, 'GET', '/connectors/file-src/offsets');
  assert.deepEqual(offsets.body, { offsets: [{ partition: { filename: input }, offset: { position: 28 } }] });
  // Rewind to the start of line-3: after resuming, lines 3 and 4 are sent again.
  const patched = await http(url, 'PATCH', '/connectors/file-src/offsets', { offsets: [{ partition: { filename: input }, offset: { position: 14 } }] });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal((await http(url, 'PUT', '/connectors/file-src/resume')).status, 202);
  const records = await readTopic(broker.bootstrap, 'file-lines', (r) => r.length >= 6);
  assert.deepEqual(
    records.map((r) => r.value),
    ['line-1', 'line-2', 'line-3', 'line-4', 'line-3', 'line-4'],
  );

  const sinkOffsets = await http(url, 'GET', '/connectors/file-sink/offsets');
  assert.deepEqual(sinkOffsets.body.offsets[0].partition, { kafka_topic: 'file-lines', kafka_partition: 0 });

  assert.equal((await http(url, 'DELETE', '/connectors/file-src')).status, 204);
  assert.equal((await http(url, 'GET', '/connectors/file-src')).status, 404);
  assert.deepEqual((await http(url, 'GET', '/connectors')).body, ['file-sink']);
});

test('a failing task is FAILED with a trace and recovers on restart; DLQ gets poison records with context headers', async () => {
  const output = join(dir, 'json-out.txt');
  await produce(broker.bootstrap, 'json-in', [{ value: '{"a":1}' }, { value: 'not json' }, { value: '{"a":2}' }]);
  // errors.tolerance=none: the poison record fails the task.
  const res = await http(url, 'POST', '/connectors', {
    name: 'strict-sink',
    config: {
      'connector.class': 'FileStreamSink',
      file: output,
      topics: 'json-in',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    },
  });
  assert.equal(res.status, 201);
  const failed = await waitFor('task FAILED', async () => {
    const s = (await http(url, 'GET', '/connectors/strict-sink/status')).body;
    return s.tasks[0]?.state === 'FAILED' ? s : null;
  });
  assert.match(failed.tasks[0].trace, /DataError|serialization error/);
  // Fix the config to tolerate errors with a DLQ; PUT config restarts the tasks.
  const put = await http(url, 'PUT', '/connectors/strict-sink/config', {
    'connector.class': 'FileStreamSink',
    file: output,
    topics: 'json-in',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    'errors.tolerance': 'all',
    'errors.deadletterqueue.topic.name': 'json-dlq',
    'errors.deadletterqueue.context.headers.enable': 'true',
  });
  assert.equal(put.status, 200);
  await waitFor('RUNNING after reconfiguration', async () => (await http(url, 'GET', '/connectors/strict-sink/status')).body.tasks[0]?.state === 'RUNNING');
  await waitFor('good records written', () => {
    try {
      return readFileSync(output, 'utf8') === '{"a":1}\n{"a":2}\n';
    } catch {
      return false;
    }
  });
  const dlq = await readTopic(broker.bootstrap, 'json-dlq', (r) => r.length >= 1);
  assert.equal(dlq.length, 1);
  assert.equal(dlq[0]!.value, 'not json');
  assert.equal(String(dlq[0]!.headers['__connect.errors.topic']), 'json-in');
  assert.equal(String(dlq[0]!.headers['__connect.errors.offset']), '1');
  assert.equal(String(dlq[0]!.headers['__connect.errors.connector.name']), 'strict-sink');
  assert.match(String(dlq[0]!.headers['__connect.errors.exception.message']), /serialization error/);

  // Task restart through the REST API.
  assert.equal((await http(url, 'POST', '/connectors/strict-sink/tasks/0/restart')).status, 204);
  await waitFor('RUNNING after task restart', async () => (await http(url, 'GET', '/connectors/strict-sink/tasks/0/status')).body.state === 'RUNNING');
  const restart = await http(url, 'POST', '/connectors/strict-sink/restart?includeTasks=true&onlyFailed=true');
  assert.equal(restart.status, 202);
  assert.equal(restart.body.name, 'strict-sink');
});

test('fjord connect CLI: create, list, status, pause, resume, offsets, delete through the REST API', async () => {
  const { cmd, args } = fjordCommand();
  // Asynchronous: the worker runs in this process and must keep answering while the CLI runs.
  const cli = (...a: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(cmd, [...args, 'connect', '--url', url, ...a], { cwd: repoRoot, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const file = join(dir, 'cli.json');
  writeFileSync(file, JSON.stringify({ name: 'cli-src', config: { 'connector.class': 'FileStreamSource', file: join(dir, 'cli-in.txt'), topic: 'cli-lines' } }));
  const created = await cli('create', file, '--json');
  assert.equal(created.status, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).name, 'cli-src');
  await waitFor('cli-src RUNNING', async () => {
    const s = await cli('status', 'cli-src', '--json');
    return s.status === 0 && JSON.parse(s.stdout).tasks[0]?.state === 'RUNNING';
  });
  assert.match((await cli('list')).stdout, /cli-src\tsource\tRUNNING/);
  assert.equal((await cli('pause', 'cli-src')).status, 0);
  assert.equal((await cli('resume', 'cli-src')).status, 0);
  assert.equal((await cli('stop', 'cli-src')).status, 0);
  assert.deepEqual(JSON.parse((await cli('offsets', 'cli-src', '--json')).stdout), { offsets: [] });
  assert.equal((await cli('delete', 'cli-src')).status, 0);
  const gone = await cli('status', 'cli-src');
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /404 Connector cli-src not found/);
});

test('SDK: a connector module from plugin.path is listed, validated and runs', async () => {
  const plugins = (await http(url, 'GET', '/connector-plugins')).body;
  assert.ok(plugins.some((p: { class: string; type: string }) => p.class === 'com.example.CounterSource' && p.type === 'source'));
  const bad = await http(url, 'POST', '/connectors', { name: 'counter', config: { 'connector.class': 'com.example.CounterSource', count: '0' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /topic[\s\S]*count|count[\s\S]*topic/);
  const res = await http(url, 'POST', '/connectors', {
    name: 'counter',
    config: { 'connector.class': 'CounterSource', topic: 'counted', count: '3',
      // As in Kafka, converter properties apply only with the converter named at the same level.
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false', 'key.converter': 'org.apache.kafka.connect.storage.StringConverter' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const records = await readTopic(broker.bootstrap, 'counted', (r) => r.length >= 3);
  assert.deepEqual(records.map((r) => [r.key, r.value]), [['k0', '{"n":0}'], ['k1', '{"n":1}'], ['k2', '{"n":2}']]);
  await waitFor('offset stored', async () => (await http(url, 'GET', '/connectors/counter/offsets')).body.offsets[0]?.offset.next === 3);
});

test('HTTP sink: batches, retries a failing endpoint with backoff, ignores null values', async () => {
  const bodies: unknown[] = [];
  let failuresLeft = 2;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      if (failuresLeft-- > 0) {
        res.writeHead(503).end();
        return;
      }
      bodies.push(JSON.parse(data));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    await produce(broker.bootstrap, 'http-in', [{ value: '{"id":1}' }, { value: null }, { value: '{"id":2}' }, { value: '{"id":3}' }]);
    const res = await http(url, 'POST', '/connectors', {
      name: 'http-sink',
      config: {
        'connector.class': 'io.confluent.connect.http.HttpSinkConnector',
        topics: 'http-in',
        'http.api.url': `http://127.0.0.1:${port}/ingest`,
        'batch.max.size': '2',
        'retry.backoff.ms': '50',
        'max.retries': '5',
        'behavior.on.null.values': 'ignore',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitFor('all values posted', () => bodies.flat().length >= 3);
    assert.deepEqual(bodies, [[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    assert.equal((await http(url, 'GET', '/connectors/http-sink/status')).body.tasks[0].state, 'RUNNING');
  } finally {
    await http(url, 'DELETE', '/connectors/http-sink');
    server.close();
  }
});
