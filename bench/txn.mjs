#!/usr/bin/env node
// Transactional produce throughput (issue #10): librdkafka (bench/.build/fjord-load, the C load
// generator of `npm run bench`), 1 KiB records, transactions of 1,000 records committed back to
// back, as a ratio of acks=all produce by the same client against the same broker in the same run.
// (A JavaScript client is no good here: producing 1,000 records costs it ~30 ms of CPU during which
// the broker idles, and commits serialise that cost with the broker's.)
//
//   node bench/txn.mjs [--seconds 6] [--txn-records 1000] [--size 1024] [--partitions 6] [--rounds 1] [--kinds plain,idem,txn]
//
// Phases (each on its own topic, fresh producer): plain acks=all, idempotent acks=all,
// transactional; repeated --rounds times in alternating order, so a drifting machine load hits
// all of them alike. Every phase is bounded in time; the last line of stdout is one JSON object.
// FJORD_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the broker;
// FJORD_BENCH_BROKER_STDERR=1 passes the broker's stderr through.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portOpen } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOAD = join(root, 'bench', '.build', 'fjord-load');

const opts = { seconds: 6, 'txn-records': 1000, size: 1024, partitions: 6, rounds: 1, kinds: 'plain,idem,txn' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[k] = k === 'kinds' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
const KINDS = new Set(opts.kinds.split(','));
const OVERALL_MS = 60_000 + opts.rounds * 3 * (opts.seconds * 1000 + 30_000);
const watchdog = setTimeout(() => {
  console.error('txn bench exceeded its time limit');
  cleanup().finally(() => process.exit(1));
}, OVERALL_MS);
const log = (m) => process.stderr.write(`[txn-bench] ${m}\n`);


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
  // FJORD_BENCH_BROKER_MAIN: another build's dist/src/cli/main.js (before/after comparisons)
  const main = process.env.FJORD_BENCH_BROKER_MAIN ?? join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/ missing: run npx tsc -p tsconfig.json');
  const nodeArgs = process.env.FJORD_BROKER_NODE_ARGS ? process.env.FJORD_BROKER_NODE_ARGS.split(' ') : [];
  child = spawn(process.execPath, [...nodeArgs, main, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-20_000)));
  if (process.env.FJORD_BENCH_BROKER_STDERR) child.stderr.pipe(process.stderr);
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`broker exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`broker did not listen:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return `127.0.0.1:${port}`;
}

/** Runs fjord-load to completion (bounded); resolves its JSON result line. */
function load(args, timeoutS) {
  return new Promise((res, rej) => {
    const p = spawn(LOAD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.once('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !line) return rej(new Error(`fjord-load ${args[0]} exited ${code}: ${(line ?? '') + err.trim().split('\n').slice(-3).join(' | ')}`));
      res(JSON.parse(line));
    });
  });
}

const produceArgs = (bootstrap, topic) => [
  'produce', bootstrap, topic, '--acks', 'all', '--seconds', String(opts.seconds), '--size', String(opts.size),
  '--linger-ms', '5', '--batch-bytes', '1048576',
];

/** One phase: plain acks=all, idempotent acks=all, or transactions of opts['txn-records'] records. */
async function phase(bootstrap, kind, r) {
  const topic = `bench-${kind}-${r}`;
  await load(['create', bootstrap, topic, String(opts.partitions)], 60);
  const extra =
    kind === 'idem' ? ['--idempotence', 'true']
    : kind === 'txn' ? ['--transactional-id', `bench-txn-${r}`, '--txn-msgs', String(opts['txn-records'])]
    : [];
  const out = await load([...produceArgs(bootstrap, topic), ...extra], opts.seconds + 90);
  if (out.failed || out.flushTimedOut) throw new Error(`${kind}: ${out.failed} failed, flush timed out: ${out.flushTimedOut} (${out.lastError})`);
  return { MBps: out.MBps, records: out.msgs, seconds: out.seconds, transactions: out.transactions, meanCommitMs: out.meanCommitMs, clientCpuShare: out.cpuShare };
}

/** Sums bytes and time over rounds of one kind. */
function combine(runs) {
  if (runs.length === 0) return { MBps: null, runs };
  const records = runs.reduce((a, r) => a + r.records, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return { MBps: (records * opts.size) / 1e6 / seconds, runs };
}
const round = (x, d = 2) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

try {
  const load0 = loadavg()[0];
  if (!existsSync(LOAD)) throw new Error('bench/.build/fjord-load missing: run bash scripts/setup-bench.sh');
  const bootstrap = await startBroker();
  const plain = [];
  const idem = [];
  const txn = [];
  for (let r = 0; r < opts.rounds; r++) {
    const order = (r % 2 === 0 ? ['plain', 'idem', 'txn'] : ['txn', 'idem', 'plain']).filter((k) => KINDS.has(k));
    for (const kind of order) {
      log(`round ${r + 1}: ${kind}, ${opts.partitions} partitions, ${opts.size} B records, ${opts.seconds}s`);
      const last = await phase(bootstrap, kind, r);
      (kind === 'plain' ? plain : kind === 'idem' ? idem : txn).push(last);
      log(`  ${round(last.MBps, 1)} MB/s${kind === 'txn' ? `, ${round(last.transactions / last.seconds, 1)} txn/s, commit ${round(last.meanCommitMs, 1)} ms` : ''}`);
    }
  }
  const P = combine(plain);
  const I = combine(idem);
  const T = combine(txn);
  const result = {
    client: 'bench/.build/fjord-load (librdkafka)',
    txnRecords: opts['txn-records'],
    plainAcksAllMBps: round(P.MBps, 1),
    idempotentAcksAllMBps: round(I.MBps, 1),
    transactionalMBps: round(T.MBps, 1),
    txnPerS: T.runs.length ? round(T.runs.reduce((a, r) => a + r.transactions, 0) / T.runs.reduce((a, r) => a + r.seconds, 0), 1) : null,
    runs: { plain: P.runs, idempotent: I.runs, transactional: T.runs },
    meanCommitMs: T.runs.length ? round(T.runs.reduce((a, r) => a + r.meanCommitMs * r.transactions, 0) / T.runs.reduce((a, r) => a + r.transactions, 0), 1) : null,
    txnToPlain: T.MBps && P.MBps ? round(T.MBps / P.MBps, 3) : null,
    txnToIdempotent: T.MBps && I.MBps ? round(T.MBps / I.MBps, 3) : null,
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
