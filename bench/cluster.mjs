#!/usr/bin/env node
// Cluster benchmark (issue #11), run by `npm run bench` (section "cluster") or alone:
//   node bench/cluster.mjs [--seconds 10] [--kills 10] [--session-timeout-ms T]
// 1. Throughput: librdkafka load (bench/.build/fjord-load, acks=all, 6 partitions, 1 KiB, linger.ms=5)
//    against one `fjord broker` (embedded metadata, no etcd) and against startCluster({ brokers: 3 })
//    with RF=3 and min.insync.replicas=2, in the same run: the ratio is the figure, with the CPU
//    share (cores) of every process, since they all share this machine's cores.
// 2. Failover: a 1-partition RF=3 topic; kill -9 of its leader, then one kafkajs acks=all send
//    started right after the kill; time to its acknowledgement (served by the new leader),
//    p50/max over --kills kills. The killed broker is restarted and back in the ISR before the next.
// Prints one JSON line on stdout; progress on stderr. Needs dist/ (npx tsc) and fjord-load.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { cpuSeconds, freePort } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const LOAD = join(ROOT, 'bench', '.build', 'fjord-load');
const { startCluster } = await import(join(ROOT, 'dist', 'src', 'index.js'));
const { Kafka, logLevel } = kafkajs;

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SECONDS = opt('--seconds', 10);
const KILLS = opt('--kills', 10);
// Default: the broker's own broker.session.timeout.ms (the etcd lease TTL, the failover floor).
const SESSION_TIMEOUT_MS = opt('--session-timeout-ms', undefined);
const PARTITIONS = 6;
const OVERALL_MS = 15 * 60_000;
const log = (m) => process.stderr.write(`[bench cluster] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

const watchdog = setTimeout(() => {
  log('exceeded its time limit');
  process.exit(1);
}, OVERALL_MS);
watchdog.unref();


/** Runs fn and returns its result plus the CPU share (cores) of each named pid meanwhile. */
async function withCpu(pids, fn) {
  const c0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const t0 = performance.now();
  const result = await fn();
  const el = (performance.now() - t0) / 1000;
  const cpu = {};
  for (const [k, pid] of Object.entries(pids)) {
    const c1 = cpuSeconds(pid);
    cpu[k] = c0[k] == null || c1 == null ? null : round((c1 - c0[k]) / el);
  }
  return { result, cpu };
}

function runLoad(args, timeoutS) {
  return new Promise((res, rej) => {
    const child = spawn(LOAD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (!line) rej(new Error(`fjord-load ${args[0]} exited ${code}: ${err.slice(-500)}`));
      else res(JSON.parse(line));
    });
  });
}


async function createTopic(bootstrapServers, topic, partitions, replicationFactor) {
  const kafka = new Kafka({ clientId: 'bench-admin', brokers: bootstrapServers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries: replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: '2' }] : [] }],
    });
  } finally {
    await admin.disconnect();
  }
}

function produceArgs(bootstrap, topic) {
  return ['produce', bootstrap, topic, '--acks', 'all', '--seconds', String(SECONDS), '--size', '1024', '--linger-ms', '5', '--batch-bytes', '1048576'];
}

function checkProduce(r) {
  if (r.flushTimedOut) throw new Error(`broker stopped acknowledging (${r.undelivered} unacknowledged)`);
  if (r.failed) throw new Error(`${r.failed} messages failed: ${r.lastError}`);
}

async function singleNode() {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-single-'));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise((res, rej) => {
      let out = '';
      const timer = setTimeout(() => rej(new Error(`single broker did not start: ${out}`)), 30_000);
      const onData = (d) => {
        out += d;
        if (/listening on/.test(out)) {
          clearTimeout(timer);
          res();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', () => rej(new Error(`single broker exited: ${out}`)));
    });
    const bootstrap = `127.0.0.1:${port}`;
    await createTopic([bootstrap], 'bench-single', PARTITIONS, 1);
    log(`single node: produce acks=all, ${PARTITIONS} partitions, ${SECONDS}s`);
    const { result, cpu } = await withCpu({ broker: child.pid }, () => runLoad(produceArgs(bootstrap, 'bench-single'), SECONDS + 60));
    checkProduce(result);
    return { MBps: round(result.MBps, 1), cpu: { ...cpu, loadGenerator: round(result.cpuShare ?? null) } };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function clusterThroughput(cluster) {
  await createTopic(cluster.bootstrapServers, 'bench-cluster', PARTITIONS, 3);
  log(`3 brokers RF=3: produce acks=all, ${PARTITIONS} partitions, ${SECONDS}s`);
  const pids = Object.fromEntries(cluster.brokers.map((b) => [`broker${b.nodeId}`, b.pid]));
  pids.etcd = cluster.etcdPid;
  const { result, cpu } = await withCpu(pids, () => runLoad(produceArgs(cluster.bootstrap, 'bench-cluster'), SECONDS + 60));
  checkProduce(result);
  return { MBps: round(result.MBps, 1), cpu: { ...cpu, loadGenerator: round(result.cpuShare ?? null) } };
}

async function leaderOf(admin, topic) {
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = md.topics[0]?.partitions[0];
  return p ? { leader: p.leader, isr: p.isr } : undefined;
}

async function failover(cluster) {
  const topic = 'bench-failover';
  await createTopic(cluster.bootstrapServers, topic, 1, 3);
  const kafka = new Kafka({
    clientId: 'bench-failover',
    brokers: cluster.bootstrapServers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 100, initialRetryTime: 50, maxRetryTime: 200, factor: 0.2 },
  });
  const producer = kafka.producer({ retry: { retries: 100, initialRetryTime: 50, maxRetryTime: 200, factor: 0.2 } });
  const admin = kafka.admin();
  await producer.connect();
  await admin.connect();
  const samples = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      // Whole again: all three in the ISR, and a produce goes through.
      const deadline = Date.now() + 60_000;
      let state;
      while (Date.now() < deadline) {
        state = await leaderOf(admin, topic).catch(() => undefined);
        if (state && state.leader >= 0 && state.isr.length === 3) break;
        await sleep(200);
      }
      if (state?.isr.length !== 3) throw new Error(`partition not fully replicated before kill ${i + 1}: ${JSON.stringify(state)}`);
      await producer.send({ topic, acks: -1, messages: [{ value: `before-${i}` }] });
      const victim = cluster.broker(state.leader);
      const t0 = performance.now();
      await victim.kill();
      await producer.send({ topic, acks: -1, timeout: 30_000, messages: [{ value: `after-${i}` }] });
      const ms = performance.now() - t0;
      samples.push(round(ms, 0));
      log(`failover ${i + 1}/${KILLS}: leader ${victim.nodeId} killed, first acked produce after ${Math.round(ms)} ms`);
      await victim.start();
    }
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { samplesMs: samples, p50Ms: sorted[Math.floor((sorted.length - 1) / 2)] ?? null, maxMs: sorted[sorted.length - 1] ?? null };
}

const out = { seconds: SECONDS, partitions: PARTITIONS, kills: KILLS, reasons: {} };
try {
  out.single = await singleNode();
} catch (e) {
  out.reasons.single = e.message;
  log(`single node failed: ${e.message}`);
}
let cluster;
try {
  const config = { 'offsets.topic.replication.factor': '3' };
  if (SESSION_TIMEOUT_MS !== undefined) {
    config['broker.session.timeout.ms'] = String(SESSION_TIMEOUT_MS);
    config['broker.heartbeat.interval.ms'] = String(Math.max(100, Math.floor(SESSION_TIMEOUT_MS / 4)));
  }
  cluster = await startCluster({ brokers: 3, config });
  out.sessionTimeoutMs = SESSION_TIMEOUT_MS ?? 'broker default';
  try {
    out.cluster = await clusterThroughput(cluster);
  } catch (e) {
    out.reasons.cluster = e.message;
    log(`cluster throughput failed: ${e.message}`);
  }
  if (out.single?.MBps && out.cluster?.MBps) out.clusterToSingleRatio = round(out.cluster.MBps / out.single.MBps);
  try {
    out.failover = await failover(cluster);
  } catch (e) {
    out.reasons.failover = e.message;
    log(`failover failed: ${e.message}`);
  }
} catch (e) {
  out.reasons.cluster = e.message;
  log(`cluster failed to start: ${e.message}`);
} finally {
  await cluster?.stop();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
