#!/usr/bin/env node
// Rough throughput with librdkafka (@confluentinc/kafka-javascript, node-rdkafka-style API) against
// `fjord broker` as a child process: produce N x SIZE-byte messages (acks=all, linger.ms=5,
// batch.size=1MB, 6 partitions), then consume them all back by assignment. Prints MB/s for each.
//
//   node bench/quick-librdkafka.mjs [--count 200000] [--size 1024] [--partitions 6] [--codec none]
//
// Uses dist/src/cli/main.js when built (npx tsc -p tsconfig.json), else the sources via tsx.
// Needs scripts/setup-test-clients.sh. Not a test: a number for the README.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portOpen } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ckjs = createRequire(join(root, 'test', 'clients', 'package.json'))('@confluentinc/kafka-javascript');

const opts = { count: 200_000, size: 1024, partitions: 6, codec: 'none' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[k] = k === 'codec' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
const OVERALL_MS = 240_000;
const watchdog = setTimeout(() => {
  console.error('bench exceeded its time limit');
  cleanup().finally(() => process.exit(1));
}, OVERALL_MS);


let child;
let dataDir;
async function cleanup() {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => (child.kill('SIGKILL'), r()), 5000);
      child.once('exit', () => (clearTimeout(t), r()));
    });
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

async function startBroker() {
  const port = await freePort();
  dataDir = await mkdtemp(join(tmpdir(), 'fjord-bench-'));
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
  const args = existsSync(compiled) ? [compiled] : ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts')];
  child = spawn(process.execPath, [...(process.env.FJORD_BROKER_NODE_ARGS ? process.env.FJORD_BROKER_NODE_ARGS.split(" ") : []), ...args, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`broker exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`broker did not listen:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { bootstrap: `127.0.0.1:${port}`, runner: existsSync(compiled) ? 'dist' : 'tsx' };
}

async function createTopic(bootstrap, topic) {
  const admin = ckjs.AdminClient.create({ 'bootstrap.servers': bootstrap });
  await new Promise((res, rej) =>
    admin.createTopic({ topic, num_partitions: opts.partitions, replication_factor: 1 }, 10_000, (err) => (err ? rej(err) : res())),
  );
  admin.disconnect();
}

async function produce(bootstrap, topic) {
  const producer = new ckjs.Producer({
    'bootstrap.servers': bootstrap,
    'linger.ms': 5,
    'batch.size': 1024 * 1024,
    'acks': 'all',
    'compression.codec': opts.codec,
    'queue.buffering.max.messages': 500_000,
    'queue.buffering.max.kbytes': 1024 * 1024,
    'dr_cb': true,
  });
  await new Promise((res, rej) => producer.connect({ timeout: 10_000 }, (err) => (err ? rej(err) : res())));
  producer.setPollInterval(10);
  let delivered = 0;
  let failed = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  producer.on('delivery-report', (err) => {
    if (err) failed++;
    else delivered++;
    if (delivered + failed === opts.count) resolveDone();
  });
  const value = Buffer.alloc(opts.size, 'x');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < opts.count; i++) {
    for (;;) {
      try {
        producer.produce(topic, i % opts.partitions, value, null, Date.now());
        break;
      } catch (err) {
        if (!/full/i.test(String(err?.message))) throw err;
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  }
  await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise((r) => producer.disconnect(5000, () => r()));
  if (failed) throw new Error(`${failed} deliveries failed`);
  return secs;
}

async function consume(bootstrap, topic) {
  const consumer = new ckjs.KafkaConsumer(
    {
      'bootstrap.servers': bootstrap,
      'group.id': 'bench-unused',
      'enable.auto.commit': false,
      'fetch.max.bytes': 50 * 1024 * 1024,
      'max.partition.fetch.bytes': 8 * 1024 * 1024,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise((res, rej) => consumer.connect({ timeout: 10_000 }, (err) => (err ? rej(err) : res())));
  const t0 = process.hrtime.bigint();
  consumer.assign(Array.from({ length: opts.partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  let got = 0;
  let bytes = 0;
  while (got < opts.count) {
    const msgs = await new Promise((res, rej) => consumer.consume(10_000, (err, m) => (err ? rej(err) : res(m))));
    got += msgs.length;
    for (const m of msgs) bytes += m.value.length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise((r) => consumer.disconnect(() => r()));
  if (bytes !== opts.count * opts.size) throw new Error(`consumed ${bytes} bytes, expected ${opts.count * opts.size}`);
  return secs;
}

/** Seconds for kcat to read the whole topic, or null when kcat is missing. */
function kcatConsume(bootstrap, topic) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const k = spawn('kcat', ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o\\n'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    k.stdout.on('data', (d) => {
      for (const b of d) if (b === 10) lines++;
    });
    const timer = setTimeout(() => k.kill('SIGKILL'), 60_000);
    k.once('error', () => (clearTimeout(timer), res(null)));
    k.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 || lines !== opts.count) return rej(new Error(`kcat exit ${code}, ${lines}/${opts.count} messages`));
      res(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

try {
  const { bootstrap, runner } = await startBroker();
  const topic = 'bench';
  await createTopic(bootstrap, topic);
  const mb = (opts.count * opts.size) / (1024 * 1024);
  const p = await produce(bootstrap, topic);
  const c = await consume(bootstrap, topic);
  const fmt = (secs) => `${(mb / secs).toFixed(1)} MB/s, ${Math.round(opts.count / secs).toLocaleString('en-US')} msg/s (${secs.toFixed(2)} s)`;
  console.log(`librdkafka ${ckjs.librdkafkaVersion} -> fjord (${runner}), ${opts.count} x ${opts.size} B, ${opts.partitions} partitions, codec ${opts.codec}`);
  console.log(`produce (acks=all, linger.ms=5, batch.size=1MB): ${fmt(p)}`);
  console.log(`consume (assigned, from offset 0):               ${fmt(c)}`);
  // Cross-check without the JS binding's per-message objects: kcat (native librdkafka) reading it all.
  const k = await kcatConsume(bootstrap, topic);
  if (k !== null) console.log(`consume with kcat -C -e (librdkafka 2.0.2):     ${fmt(k)}`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
