// Exactly-once source tasks (KIP-618): a worker with exactly.once.source.support=enabled writes each
// poll's records and their source offsets in one transaction. A worker killed with SIGKILL while a
// file streams in, then restarted, leaves every line in the topic exactly once for read_committed
// readers. Connector validation refuses exactly-once settings the worker cannot honour.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startWorker, type RunningWorker } from '../../src/connect/index.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { BROKER_CONFIG, http, waitFor, spawnWorkerProcess, type WorkerProcess } from './util.js';

let broker: TestBroker;
let dir: string;
const children: WorkerProcess[] = [];
let consumer: Consumer | undefined;
let plainWorker: RunningWorker | undefined;

async function spawnWorker(): Promise<WorkerProcess> {
  const w = await spawnWorkerProcess(broker.bootstrap, 'eos', { 'exactly.once.source.support': 'enabled', 'session.timeout.ms': '6000' });
  children.push(w);
  return w;
}

before(async () => {
  broker = await startTestBroker(BROKER_CONFIG);
  dir = await tempDir('fjord-connect-eos-');
});

after(async () => {
  await consumer?.disconnect().catch(() => {});
  await plainWorker?.close().catch(() => {});
  for (const c of children) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
  await broker?.dispose();
});

test('exactly-once source: kill -9 mid-stream and restart leaves every line exactly once', async () => {
  const file = join(dir, 'lines.txt');
  const total = 3000;
  let written = 0;
  const writeLines = (n: number) => {
    let chunk = '';
    for (let i = 0; i < n && written < total; i++) chunk += `line-${written++}\n`;
    appendFileSync(file, chunk);
  };
  writeFileSync(file, '');
  writeLines(200);

  // A read_committed reader that stays up across the kill and the restart.
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'eos-lines', numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  consumer = kafka.consumer({ groupId: `eos-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: 'eos-lines', fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });

  let worker = await spawnWorker();
  const created = await waitFor('connector created', async () => {
    const r = await http(worker.url, 'POST', '/connectors', {
      name: 'eos-file',
      config: {
        'connector.class': 'FileStreamSource',
        file,
        topic: 'eos-lines',
        'batch.size': '25',
        'exactly.once.support': 'required',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    });
    return r.status === 409 ? null : r;
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  // Keep the file growing so that the kill lands while transactions are being written.
  const grow = setInterval(() => writeLines(40), 10);
  try {
    await waitFor('some lines committed', () => seen.length >= 400, 30_000);
    worker.child.kill('SIGKILL');
    await worker.exited;
    assert.ok(seen.length < total, 'the kill landed before the end of the file');
    await waitFor('file complete', () => written >= total, 30_000);
  } finally {
    clearInterval(grow);
  }
  worker = await spawnWorker();
  await waitFor(`all ${total} lines (have ${seen.length})`, () => seen.length >= total, 60_000);
  // Give a duplicate the chance to show up before judging.
  await waitFor('task reports RUNNING', async () => (await http(worker.url, 'GET', '/connectors/eos-file/status')).body?.tasks?.[0]?.state === 'RUNNING');
  const expected = Array.from({ length: total }, (_, i) => `line-${i}`);
  assert.equal(seen.length, total, `duplicates: ${seen.length - new Set(seen).size}`);
  assert.deepEqual(seen, expected);

  // The task's transactional id is Kafka Connect's `<group>-<connector>-<task>`; the restart bumped
  // its epoch (fencing the killed instance) and nothing is left open.
  const client = await RawClient.open(broker.port);
  try {
    client.request(ApiKey.DescribeTransactions, 0, 1, { transactionalIds: ['eos-eos-file-0'] });
    const state = (await client.response(ApiKey.DescribeTransactions, 0))!.body.transactionStates[0];
    assert.equal(state.errorCode, 0);
    assert.ok(state.producerEpoch >= 1, `epoch ${state.producerEpoch}`);
  } finally {
    client.socket.destroy();
  }
});

test('validation: exactly.once.support=required needs a worker with exactly-once sources; connector boundaries are refused', async () => {
  plainWorker = await startWorker({ bootstrap: [broker.bootstrap], groupId: 'plain', port: 0, config: {} });
  const config = { 'connector.class': 'FileStreamSource', file: join(dir, 'x.txt'), topic: 'x', 'exactly.once.support': 'required' };
  const res = await http(plainWorker.url, 'PUT', '/connector-plugins/FileStreamSource/config/validate', config);
  assert.equal(res.status, 200);
  const errorsOf = (body: { configs: { value: { name: string; errors: string[] } }[] }, name: string) =>
    body.configs.find((c) => c.value.name === name)?.value.errors ?? [];
  assert.deepEqual(errorsOf(res.body, 'exactly.once.support'), ['This worker does not have exactly-once source support enabled.']);
  const bad = await http(plainWorker.url, 'PUT', '/connector-plugins/FileStreamSource/config/validate', { ...config, 'exactly.once.support': 'maybe' });
  assert.equal(errorsOf(bad.body, 'exactly.once.support').length, 1);
  const create = await http(plainWorker.url, 'POST', '/connectors', { name: 'needs-eos', config });
  assert.equal(create.status, 400);
  assert.match(create.body.message, /exactly-once source support/);
});
