#!/usr/bin/env node
// Transactional produce throughput (issue #10): librdkafka (@confluentinc/kafka-javascript from
// test/clients), 1 KiB records, transactions of 1,000 records committed back to back, as a ratio of
// acks=all produce by the same client against the same broker in the same run.
//
//   node bench/txn.mjs [--seconds 6] [--txn-records 1000] [--size 1024] [--partitions 6] [--rounds 1]
//
// Phases (each on its own topic, fresh producer): plain acks=all, idempotent acks=all,
// transactional; repeated --rounds times in alternating order, so a drifting machine load hits
// all of them alike. Every phase is bounded in time; the last line of stdout is one JSON object.
// FJORD_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the broker.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ckjs = createRequire(join(root, 'test', 'clients', 'package.json'))('@confluentinc/kafka-javascript');

const opts = { seconds: 6, 'txn-records': 1000, size: 1024, partitions: 6, rounds: 1 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[k] = Number(process.argv[i + 1]);
}
const OVERALL_MS = 60_000 + opts.rounds * 3 * (opts.seconds * 1000 + 30_000);
const watchdog = setTimeout(() => {
  console.error('txn bench exceeded its time limit');
  cleanup().finally(() => process.exit(1));
}, OVERALL_MS);
const log = (m) => process.stderr.write(`[txn-bench] ${m}\n`);
const cb = (fn) => new Promise((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));

function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}
function portOpen(port) {
  return new Promise((res) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

let child;
let dataDir;
async function cleanup() {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => (child.kill('SIGKILL'), r()), 10_000);
      child.once('exit', () => (clearTimeout(t), r()));
    });
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

async function startBroker() {
  const port = await freePort();
  dataDir = await mkdtemp(join(tmpdir(), 'fjord-bench-txn-'));
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/ missing: run npx tsc -p tsconfig.json');
  const nodeArgs = process.env.FJORD_BROKER_NODE_ARGS ? process.env.FJORD_BROKER_NODE_ARGS.split(' ') : [];
  child = spawn(process.execPath, [...nodeArgs, main, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-20_000)));
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`broker exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`broker did not listen:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return `127.0.0.1:${port}`;
}

async function createTopic(bootstrap, topic) {
  const admin = ckjs.AdminClient.create({ 'bootstrap.servers': bootstrap });
  try {
    await cb((done) => admin.createTopic({ topic, num_partitions: opts.partitions, replication_factor: 1 }, 20_000, done));
  } finally {
    admin.disconnect();
  }
}

const common = (bootstrap) => ({
  'bootstrap.servers': bootstrap,
  'linger.ms': 5,
  'batch.size': 1024 * 1024,
  acks: 'all',
  'compression.codec': 'none',
  'queue.buffering.max.messages': 100_000,
  'queue.buffering.max.kbytes': 256 * 1024,
  dr_cb: true,
});

async function connectProducer(conf) {
  const producer = new ckjs.Producer(conf);
  await cb((done) => producer.connect({ timeout: 20_000 }, done));
  producer.setPollInterval(5);
  return producer;
}

/** Produces with a null partition (sticky partitioner) unless the local queue is full. */
async function produceOne(producer, topic, value) {
  for (;;) {
    try {
      producer.produce(topic, null, value, null, Date.now());
      return;
    } catch (err) {
      if (!/full/i.test(String(err?.message))) throw err;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** acks=all for opts.seconds (idempotent or not); MB/s of delivered payload. */
async function plainPhase(bootstrap, topic, idempotent) {
  const producer = await connectProducer({ ...common(bootstrap), 'enable.idempotence': idempotent });
  let delivered = 0;
  let failed = 0;
  let lastError = null;
  producer.on('delivery-report', (err) => {
    if (err) (failed++, (lastError = String(err.message ?? err)));
    else delivered++;
  });
  const value = Buffer.alloc(opts.size, 'x');
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) await produceOne(producer, topic, value);
    sent += 1000;
  }
  await cb((done) => producer.flush(30_000, done));
  // delivery reports reach JS on the next poll after flush
  for (const stop = performance.now() + 10_000; delivered + failed < sent && performance.now() < stop; ) await new Promise((r) => setTimeout(r, 1));
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => producer.disconnect(10_000, () => r()));
  if (failed || delivered !== sent) throw new Error(`${failed} failed, ${delivered}/${sent} delivered (${lastError})`);
  return { MBps: (delivered * opts.size) / 1e6 / secs, records: delivered, seconds: secs };
}

/** Transactions of opts['txn-records'] records committed back to back for opts.seconds. */
async function txnPhase(bootstrap, topic, id) {
  const producer = await connectProducer({ ...common(bootstrap), 'transactional.id': id, 'transaction.timeout.ms': 60_000 });
  let failed = 0;
  let lastError = null;
  producer.on('delivery-report', (err) => {
    if (err) (failed++, (lastError = String(err.message ?? err)));
  });
  await cb((done) => producer.initTransactions(20_000, done));
  const value = Buffer.alloc(opts.size, 'x');
  const n = opts['txn-records'];
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  let txns = 0;
  let commitMs = 0;
  while (performance.now() < end) {
    await cb((done) => producer.beginTransaction(done));
    for (let i = 0; i < n; i++) await produceOne(producer, topic, value);
    const c0 = performance.now();
    await cb((done) => producer.commitTransaction(30_000, done));
    commitMs += performance.now() - c0;
    txns++;
  }
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => producer.disconnect(10_000, () => r()));
  if (failed) throw new Error(`${failed} records failed (${lastError})`);
  return {
    MBps: (txns * n * opts.size) / 1e6 / secs,
    records: txns * n,
    transactions: txns,
    seconds: secs,
    txnPerS: txns / secs,
    meanCommitMs: commitMs / txns,
  };
}

/** Sums bytes and time over rounds of one kind. */
function combine(runs) {
  const records = runs.reduce((a, r) => a + r.records, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return { MBps: (records * opts.size) / 1e6 / seconds, runs };
}
const round = (x, d = 2) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

try {
  const load0 = loadavg()[0];
  const bootstrap = await startBroker();
  const plain = [];
  const idem = [];
  const txn = [];
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? ['plain', 'idem', 'txn'] : ['txn', 'idem', 'plain'];
    for (const kind of order) {
      const topic = `bench-${kind}-${r}`;
      await createTopic(bootstrap, topic);
      log(`round ${r + 1}: ${kind}, ${opts.partitions} partitions, ${opts.size} B records, ${opts.seconds}s`);
      if (kind === 'plain') plain.push(await plainPhase(bootstrap, topic, false));
      else if (kind === 'idem') idem.push(await plainPhase(bootstrap, topic, true));
      else txn.push(await txnPhase(bootstrap, topic, `bench-txn-${r}`));
      const last = (kind === 'plain' ? plain : kind === 'idem' ? idem : txn).at(-1);
      log(`  ${round(last.MBps, 1)} MB/s${last.transactions ? `, ${round(last.txnPerS, 1)} txn/s, commit ${round(last.meanCommitMs, 1)} ms` : ''}`);
    }
  }
  const P = combine(plain);
  const I = combine(idem);
  const T = combine(txn);
  const result = {
    client: `librdkafka ${ckjs.librdkafkaVersion} (@confluentinc/kafka-javascript)`,
    txnRecords: opts['txn-records'],
    plainAcksAllMBps: round(P.MBps, 1),
    idempotentAcksAllMBps: round(I.MBps, 1),
    transactionalMBps: round(T.MBps, 1),
    txnPerS: round(T.runs.reduce((a, r) => a + r.transactions, 0) / T.runs.reduce((a, r) => a + r.seconds, 0), 1),
    meanCommitMs: round(T.runs.reduce((a, r) => a + r.meanCommitMs * r.transactions, 0) / T.runs.reduce((a, r) => a + r.transactions, 0), 1),
    txnToPlain: round(T.MBps / P.MBps, 3),
    txnToIdempotent: round(T.MBps / I.MBps, 3),
    loadAvg1m: [round(load0, 1), round(loadavg()[0], 1)],
  };
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
