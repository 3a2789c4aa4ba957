#!/usr/bin/env node
// Fjord benchmark harness (issue #5): `npm run bench [-- --quick] [-- --only fjord,peers,...]`.
// One run measures, on the same machine and with the same 1 KiB messages:
//   1. ceilings (plain Node): loopback TCP, durable append pipeline (write + fdatasync/10 ms);
//   2. Fjord (`fjord broker`, fresh data dir, default group-commit durability) driven by
//      bench/.build/fjord-load (C, librdkafka): produce acks=1 / acks=all, consume, e2e latency;
//   3. peers: Redis Streams XADD (in-memory and appendfsync always), NATS JetStream file store;
//   4. `fjord dev` cold start + idle RSS, produce with 1 / 100 / 1000 partitions;
// then prints a table of ratios vs targets and writes bench/results/latest.json.
// Runs `scripts/setup-bench.sh` first (Debian packages + native load generators; --no-setup skips
// it) and builds the broker when dist/ is missing.
// MB = 1,000,000 bytes of message payload (1 KiB values), everywhere.
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = join(ROOT, 'bench', '.build');
const LOAD = join(BUILD, 'fjord-load');
const NATS_PUB = join(BUILD, 'nats-pub');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice(7) ?? (argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined);
const ONLY = onlyArg ? new Set(onlyArg.split(',')) : null;
const want = (section) => !ONLY || ONLY.has(section);
const DATA_ROOT = (() => {
  const i = argv.indexOf('--data-root');
  return i >= 0 ? resolve(argv[i + 1]) : tmpdir();
})();

// Durations (s) and sizes: --quick keeps the whole run under ~3 minutes.
const P = QUICK
  ? { tcpS: 2, durableS: 3, produceS: 4, latencyS: 5, latencyWarmS: 1, partitionsS: 3, redisN: 200_000, redisFsyncN: 100_000, natsS: 4, startupRuns: 3 }
  : { tcpS: 5, durableS: 8, produceS: 10, latencyS: 11, latencyWarmS: 1, partitionsS: 8, redisN: 500_000, redisFsyncN: 300_000, natsS: 10, startupRuns: 5 };
const MSG = 1024;
const PARTITIONS = 6;
const LAT_RATE = 5000;

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

// ------------------------------------------------------------------ process helpers
const children = new Set();
function killAll() {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch {}
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });

/** Runs a command to completion (bounded by timeoutS); resolves { code, stdout, stderr, timedOut }. */
function run(cmd, args, { timeoutS = 60, cwd = ROOT, env } = {}) {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { if (stderr.length < 200_000) stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutS * 1000);
    child.on('error', (err) => { stderr += String(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolveRun({ code, stdout, stderr, timedOut });
    });
  });
}

/** The last JSON line of a finished run, or throws with a reason. */
function jsonResult(r, what) {
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.timedOut) throw new Error(`${what}: timed out${line ? ` (partial: ${line})` : ''}`);
  if (!line) throw new Error(`${what}: exit ${r.code}, no result; stderr: ${lastLines(r.stderr)}`);
  const out = JSON.parse(line);
  if (r.code !== 0) out.exitCode = r.code;
  return out;
}
const lastLines = (s, n = 4) => s.trim().split('\n').filter((l) => !/PROTOERR|brokers are down/.test(l)).slice(-n).join(' | ') || '(empty)';

/** Starts a long-running process; resolves once `ready(stdoutSoFar)` is true (or rejects). */
function startDaemon(cmd, args, { ready, timeoutS = 20, cwd = ROOT, name = cmd }) {
  return new Promise((resolveStart, rejectStart) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`${name} not ready after ${timeoutS}s: ${lastLines(out + err)}`)), timeoutS * 1000);
    const finish = (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) { stop(child); rejectStart(e); } else resolveStart(child);
    };
    const check = async () => {
      try { if (await ready(out + err)) finish(); } catch {}
    };
    child.stdout.on('data', (d) => { out += d; if (out.length > 100_000) out = out.slice(-50_000); check(); });
    child.stderr.on('data', (d) => { err += d; if (err.length > 100_000) err = err.slice(-50_000); check(); });
    child.on('error', (e) => finish(e));
    child.on('exit', (code) => { children.delete(child); finish(new Error(`${name} exited (${code}): ${lastLines(out + err)}`)); });
    child.getOutput = () => out + err;
  });
}

/** SIGTERM, then SIGKILL after graceS; resolves when the process is gone. */
function stop(child, graceS = 10) {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, graceS * 1000);
    child.once('exit', () => { clearTimeout(t); children.delete(child); r(); });
    try { child.kill('SIGTERM'); } catch { r(); }
  });
}

/** Wraps an async step and reports the CPU share (cores) a process used during it. */
async function withCpu(pid, fn) {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  const result = await fn();
  const c1 = cpuSeconds(pid);
  const el = (performance.now() - t0) / 1000;
  return { result, cpuShare: c0 == null || c1 == null ? null : round((c1 - c0) / el, 2) };
}
function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}

function tmp(prefix) {
  mkdirSync(DATA_ROOT, { recursive: true });
  return mkdtempSync(join(DATA_ROOT, `fjord-bench-${prefix}-`));
}
const tmpDirs = [];
function tmpTracked(prefix) { const d = tmp(prefix); tmpDirs.push(d); return d; }

// ------------------------------------------------------------------ machine
function machine() {
  const cpuInfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();
  const model = /model name\s*:\s*(.*)/.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const df = spawnSync('findmnt', ['-n', '-o', 'SOURCE,FSTYPE,OPTIONS', '-T', DATA_ROOT], { encoding: 'utf8' });
  const src = df.stdout?.trim().split(/\s+/) ?? [];
  let rotational = null;
  let diskModel = null;
  const dev = src[0]?.match(/^\/dev\/([a-z]+)/)?.[1];
  if (dev) {
    try { rotational = readFileSync(`/sys/block/${dev}/queue/rotational`, 'utf8').trim() === '1'; } catch {}
    try { diskModel = readFileSync(`/sys/block/${dev}/device/model`, 'utf8').trim(); } catch {}
  }
  return {
    host: hostname(),
    cpuModel: model,
    cores: cpus().length,
    memoryGB: round(totalmem() / 2 ** 30, 1),
    disk: { dataRoot: DATA_ROOT, device: src[0] ?? null, fsType: src[1] ?? null, mountOptions: src[2] ?? null, rotational, model: diskModel },
    kernel: release(),
    node: process.version,
  };
}

// ------------------------------------------------------------------ 1. ceilings
async function ceilingPair(serverRole, serverArgs, clientRole, clientArgs, timeoutS) {
  const script = join(ROOT, 'bench', 'ceilings.mjs');
  let port;
  const server = await startDaemon(process.execPath, [script, serverRole, ...serverArgs], {
    name: serverRole,
    ready: (out) => { const m = /\{"port":(\d+)\}/.exec(out); if (m) port = Number(m[1]); return !!m; },
  });
  try {
    const { result, cpuShare } = await withCpu(server.pid, () => run(process.execPath, [script, clientRole, String(port), ...clientArgs], { timeoutS }));
    const res = jsonResult(result, clientRole);
    // Servers report their own CPU (they exit as the client finishes, before /proc can be read):
    // the TCP server in its reply, the durable server on its stdout.
    await stop(server, 3);
    const own = /"serverCpuS":([\d.e-]+)/.exec(server.getOutput())?.[1];
    res.serverCpuShare = cpuShare ?? (res.serverCpuShare != null ? round(res.serverCpuShare, 3) : own != null ? round(Number(own) / res.seconds, 3) : null);
    return res;
  } finally {
    await stop(server, 3);
  }
}

async function ceilings(results) {
  log(`ceiling: loopback TCP, 64 KiB writes, ${P.tcpS}s`);
  try {
    const r = await ceilingPair('tcp-server', [], 'tcp-client', [String(P.tcpS)], P.tcpS + 30);
    results.ceilings.tcpMBps = round(r.MBps);
    results.details.tcp = r;
  } catch (e) { results.ceilings.tcpMBps = null; results.reasons.tcp = e.message; log(`  failed: ${e.message}`); }

  log(`ceiling: durable append pipeline (512 KiB requests x8 in flight, write + fdatasync every 10 ms), ${P.durableS}s`);
  const dir = tmpTracked('durable');
  try {
    const r = await ceilingPair('durable-server', [dir], 'durable-client', [String(P.durableS), String(512 * 1024), '8'], P.durableS + 60);
    results.ceilings.durableMBps = round(r.MBps);
    results.details.durable = r;
  } catch (e) { results.ceilings.durableMBps = null; results.reasons.durable = e.message; log(`  failed: ${e.message}`); }
}

// ------------------------------------------------------------------ 2. Fjord
async function ensureBuilt() {
  if (existsSync(MAIN)) return;
  log('dist/ missing: building the broker (npx tsc -p tsconfig.json)');
  const r = await run('npx', ['tsc', '-p', 'tsconfig.json'], { timeoutS: 300 });
  if (!existsSync(MAIN)) throw new Error(`build failed: ${lastLines(r.stdout + r.stderr)}`);
}

async function startBroker(dataDir, main = process.env.FJORD_BENCH_BROKER_MAIN ?? MAIN) {
  const port = await freePort();
  // FJORD_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the broker;
  // FJORD_BENCH_BROKER_MAIN runs another build's broker (before/after in one run).
  const nodeArgs = process.env.FJORD_BROKER_NODE_ARGS ? process.env.FJORD_BROKER_NODE_ARGS.split(' ') : [];
  const child = await startDaemon(process.execPath, [...nodeArgs, main, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    name: 'fjord broker',
    ready: (out) => /listening on/.test(out),
    timeoutS: 30,
  });
  return { child, bootstrap: `127.0.0.1:${port}` };
}

async function load(args, timeoutS) {
  return jsonResult(await run(LOAD, args, { timeoutS }), `fjord-load ${args[0]}`);
}

/** A produce run only counts if every message was acknowledged. */
function checkProduce(r) {
  if (r.flushTimedOut) throw new Error(`broker stopped acknowledging: ${r.undelivered} of ${r.sent} messages still unacknowledged 20 s after the last send (${r.msgs} acknowledged)`);
  if (r.failed) throw new Error(`${r.failed} messages failed: ${r.lastError}`);
}

/**
 * Produce acks=1 / acks=all, consume, e2e latency on one broker. `build` (optional) runs another
 * build's broker (FJORD_BENCH_BASELINE) into its own result objects, for before/after in one run.
 */
async function fjordThroughput(results, build) {
  const R = build ? build.results : results;
  const dataDir = tmpTracked('fjord');
  const { child, bootstrap } = await startBroker(dataDir, build?.main);
  const pid = child.pid;
  const F = R.fjord;
  try {
    const produce = async (key, topic, acks) => {
      await load(['create', bootstrap, topic, String(PARTITIONS)], 60);
      log(`fjord: produce acks=${acks}, ${PARTITIONS} partitions, 1 KiB, linger.ms=5, batch.size=1 MB, ${P.produceS}s`);
      const { result, cpuShare } = await withCpu(pid, () =>
        load(['produce', bootstrap, topic, '--acks', acks, '--seconds', String(P.produceS), '--size', String(MSG), '--linger-ms', '5', '--batch-bytes', '1048576'], P.produceS + 40));
      result.brokerCpuShare = cpuShare;
      R.details[key] = result;
      checkProduce(result);
      return result;
    };
    try {
      const r = await produce('produceAcks1', 'bench-acks1', '1');
      F.produceAcks1MBps = round(r.MBps);
    } catch (e) { F.produceAcks1MBps = null; R.reasons.produceAcks1 = e.message; log(`  failed: ${e.message}`); }

    let acksAll = null;
    try {
      acksAll = await produce('produceAcksAll', 'bench-acksall', 'all');
      F.produceAcksAllMBps = round(acksAll.MBps);
    } catch (e) {
      F.produceAcksAllMBps = null; R.reasons.produceAcksAll = e.message; log(`  failed: ${e.message}`);
      acksAll = R.details.produceAcksAll ?? null; // still consume what was acknowledged
    }

    if (acksAll?.msgs) {
      log(`fjord: consume ${acksAll.msgs} messages (the acks=all topic, from page cache)`);
      try {
        const { result, cpuShare } = await withCpu(pid, () =>
          load(['consume', bootstrap, 'bench-acksall', '--partitions', String(PARTITIONS), '--expect', String(acksAll.msgs), '--timeout-s', String(P.produceS * 6 + 30)], P.produceS * 6 + 60));
        result.brokerCpuShare = cpuShare;
        R.details.consume = result;
        if (result.msgs < result.expected) throw new Error(`consumed ${result.msgs} of ${result.expected} (${result.lastError})`);
        F.consumeMBps = round(result.MBps);
      } catch (e) { F.consumeMBps = null; R.reasons.consume = e.message; log(`  failed: ${e.message}`); }
    } else { F.consumeMBps = null; R.reasons.consume = 'nothing produced with acks=all'; }

    log(`fjord: end-to-end latency at ${LAT_RATE} msg/s, acks=all, linger.ms=0, ${P.latencyS}s (first ${P.latencyWarmS}s not counted)`);
    try {
      await load(['create', bootstrap, 'bench-latency', String(PARTITIONS)], 60);
      const { result, cpuShare } = await withCpu(pid, () =>
        load(['latency', bootstrap, 'bench-latency', '--partitions', String(PARTITIONS), '--rate', String(LAT_RATE), '--seconds', String(P.latencyS), '--warmup-s', String(P.latencyWarmS), '--size', String(MSG), '--acks', 'all', '--linger-ms', '0'], P.latencyS + 60));
      result.brokerCpuShare = cpuShare;
      R.details.latency = result;
      if (!result.samples) throw new Error(`no latency samples (sent ${result.sent}, received ${result.received})`);
      F.e2eP50Ms = round(result.p50Ms, 2);
      F.e2eP99Ms = round(result.p99Ms, 2);
      F.e2eP999Ms = round(result.p999Ms, 2);
      if (result.received < result.sent) R.reasons.latency = `only ${result.received} of ${result.sent} messages arrived`;
    } catch (e) { F.e2eP50Ms = F.e2eP99Ms = F.e2eP999Ms = null; R.reasons.latency = e.message; log(`  failed: ${e.message}`); }
  } finally {
    await stop(child);
  }
}

async function fjordPartitions(results) {
  const F = results.fjord;
  F.producePartitionsMBps = {};
  for (const n of [1, 100, 1000]) {
    const dataDir = tmpTracked(`fjord-p${n}`);
    let broker;
    try {
      broker = await startBroker(dataDir);
      await load(['create', broker.bootstrap, `bench-p${n}`, String(n)], 120);
      log(`fjord: produce acks=1 to ${n} partition(s), messages spread round-robin, ${P.partitionsS}s`);
      const { result, cpuShare } = await withCpu(broker.child.pid, () =>
        load(['produce', broker.bootstrap, `bench-p${n}`, '--acks', '1', '--seconds', String(P.partitionsS), '--size', String(MSG), '--linger-ms', '5', '--batch-bytes', '1048576', '--spread', 'rr', '--partitions', String(n)], P.partitionsS + 40));
      result.brokerCpuShare = cpuShare;
      results.details[`produce${n}Partitions`] = result;
      checkProduce(result);
      F.producePartitionsMBps[n] = round(result.MBps);
    } catch (e) {
      F.producePartitionsMBps[n] = null;
      results.reasons[`produce${n}Partitions`] = e.message;
      log(`  failed: ${e.message}`);
    } finally {
      if (broker) await stop(broker.child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  F.produce1PartitionMBps = F.producePartitionsMBps[1];
  F.produce100PartitionsMBps = F.producePartitionsMBps[100];
  F.produce1000PartitionsMBps = F.producePartitionsMBps[1000];
}

// ------------------------------------------------------------------ 4. cold start + idle RSS
/** One Metadata v1 request (all topics) over a raw socket; resolves true on a matching response with ≥1 broker. */
function metadataProbe(port) {
  return new Promise((resolveProbe) => {
    const clientId = Buffer.from('fjord-bench');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4);
    let o = 0;
    o = body.writeInt16BE(3, o); // Metadata
    o = body.writeInt16BE(1, o); // v1
    o = body.writeInt32BE(4242, o);
    o = body.writeInt16BE(clientId.length, o);
    o += clientId.copy(body, o);
    body.writeInt32BE(-1, o); // topics: null = all
    const frame = Buffer.alloc(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);
    let buf = Buffer.alloc(0);
    const s = connect({ port, host: '127.0.0.1' }, () => s.write(frame));
    const done = (ok) => { s.destroy(); resolveProbe(ok); };
    s.setTimeout(2000, () => done(false));
    s.on('error', () => done(false));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      done(buf.readInt32BE(4) === 4242 && buf.length >= 12 && buf.readInt32BE(8) >= 1);
    });
  });
}

/** Spawns `entry dev` and times it to the first Metadata response; resolves { ms, rss } or throws. */
async function devStartOnce(entry) {
  const dataDir = tmpTracked('dev');
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [entry, 'dev', '--port', String(port), '--data-dir', dataDir, '--no-registry', '--no-rest', '--no-connect'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr.on('data', (d) => { if (err.length < 10_000) err += d; });
  try {
    let ok = false;
    const deadline = t0 + 15_000;
    while (!ok && performance.now() < deadline && child.exitCode === null) {
      ok = await metadataProbe(port);
      if (!ok) await sleep(2);
    }
    if (!ok) throw new Error(`fjord dev gave no Metadata response within 15 s: ${lastLines(err)}`);
    const ms = performance.now() - t0;
    // CPU spent to get there: steadier than wall time on a shared machine.
    const cpuMs = (cpuSeconds(child.pid) ?? NaN) * 1000;
    await sleep(1000);
    return { ms, cpuMs, rss: rssMB(child.pid) };
  } finally {
    await stop(child);
  }
}

/**
 * Cold start of `bin/fjord.js dev` (what `npx fjord dev` runs: the bundled CLI when it is fresh)
 * and of a bare `node -e 0`, interleaved run by run so that both see the same machine load; with
 * FJORD_BENCH_BASELINE, that build's bin/fjord.js too.
 */
async function coldStart(results) {
  const bin = join(ROOT, 'bin', 'fjord.js');
  const bundle = join(ROOT, 'dist', 'src', 'bundle', 'main.js');
  const mtime = (f) => { try { return statSync(f).mtimeMs; } catch { return -1; } };
  if (mtime(bundle) < mtime(join(ROOT, 'dist', '.tsbuildinfo'))) {
    log('cold start: bundling the CLI (scripts/bundle-cli.mjs), the compiled tree is newer');
    await run(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs')], { timeoutS: 120 });
  }
  const entries = [['this', bin, results.fjord, results]];
  if (results.baseline) entries.push(['baseline', join(results.baseline.root, 'bin', 'fjord.js'), results.baseline.fjord, results.baseline]);
  const runs = Object.fromEntries(entries.map(([k]) => [k, { ms: [], cpuMs: [], rss: [] }]));
  const bare = [];
  for (let i = 0; i < P.startupRuns; i++) {
    for (const [k, entry, , R] of entries) {
      try {
        const r = await devStartOnce(entry);
        runs[k].ms.push(r.ms);
        runs[k].cpuMs.push(r.cpuMs);
        runs[k].rss.push(r.rss);
      } catch (e) {
        R.reasons.startup = e.message;
        log(`  failed: ${e.message}`);
      }
    }
    // Reference: spawn of a bare `node -e 0` to exit, on the same (possibly busy) machine.
    const t = performance.now();
    await run(process.execPath, ['-e', '0'], { timeoutS: 30 });
    bare.push(performance.now() - t);
  }
  const median = (a) => { const s = a.filter((x) => x != null).sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : null; };
  for (const [k, entry, F, R] of entries) {
    F.startupMs = round(median(runs[k].ms), 0);
    F.startupCpuMs = round(median(runs[k].cpuMs), 0);
    F.idleRssMB = round(median(runs[k].rss), 1);
    F.nodeBareStartMs = round(median(bare), 0);
    R.details.startup = { entry, bareNodeRuns: bare.map((x) => round(x, 1)), runs: runs[k].ms.map((x) => round(x, 1)), rssMB: runs[k].rss.map((x) => round(x, 1)), note: 'spawn of `node bin/fjord.js dev` to first Metadata v1 response; median of runs, interleaved with the bare node runs' };
  }
}

// ------------------------------------------------------------------ 3. peers
function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function redisRun(results, key, extraArgs, n, label) {
  if (!which('redis-server') || !which('redis-benchmark')) {
    results.peers[key] = null;
    results.reasons[key] = 'redis-server / redis-benchmark not installed (run scripts/setup-bench.sh)';
    log(`  ${label}: skipped, ${results.reasons[key]}`);
    return;
  }
  const dir = tmpTracked('redis');
  const port = await freePort();
  let server;
  try {
    server = await startDaemon('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'no', ...extraArgs], {
      name: 'redis-server', ready: (out) => /Ready to accept connections/.test(out), timeoutS: 15,
    });
    log(`peer: ${label}: redis-benchmark -P 32 -c 50 -n ${n} XADD <1 KiB>`);
    const value = 'x'.repeat(MSG);
    const { result, cpuShare } = await withCpu(server.pid, () =>
      run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', '50', '-P', '32', '-n', String(n), '--csv', 'XADD', 'bench', '*', 'v', value], { timeoutS: 180 }));
    if (result.timedOut) throw new Error('redis-benchmark timed out after 180 s');
    const line = result.stdout.trim().split('\n').pop() ?? '';
    const rps = Number(/^"[^"]*","([\d.]+)"/.exec(line)?.[1]);
    if (!Number.isFinite(rps) || rps <= 0) throw new Error(`could not parse redis-benchmark output: ${lastLines(result.stdout + result.stderr, 2).slice(0, 300)}`);
    results.peers[key] = round((rps * MSG) / 1e6);
    results.details[key] = { requestsPerSec: rps, serverCpuShare: cpuShare, config: extraArgs.join(' ') || 'appendonly no, save ""' };
  } catch (e) {
    results.peers[key] = null;
    results.reasons[key] = e.message;
    log(`  failed: ${e.message}`);
  } finally {
    if (server) await stop(server, 5);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Redis Streams latency (XADD at LAT_RATE with appendfsync always, blocking XREAD reader) and
 * batched XREAD consume, through bench/redis-peer.mjs (a minimal RESP client in Node). */
async function redisLatencyAndConsume(results) {
  if (!which('redis-server')) {
    results.reasons.redisLatency = 'redis-server not installed (run scripts/setup-bench.sh)';
    return;
  }
  const dir = tmpTracked('redis-lat');
  const port = await freePort();
  let server;
  try {
    server = await startDaemon('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'no', '--appendonly', 'yes', '--appendfsync', 'always'], {
      name: 'redis-server', ready: (out) => /Ready to accept connections/.test(out), timeoutS: 15,
    });
    const script = join(ROOT, 'bench', 'redis-peer.mjs');
    log(`peer: Redis Streams latency: XADD ${LAT_RATE}/s (appendfsync always) read by a blocking XREAD, ${P.latencyS}s`);
    try {
      const { result, cpuShare } = await withCpu(server.pid, () =>
        run(process.execPath, [script, 'latency', String(port), String(LAT_RATE), String(P.latencyS), String(P.latencyWarmS), String(MSG)], { timeoutS: P.latencyS + 60 }));
      const r = jsonResult(result, 'redis latency');
      r.serverCpuShare = cpuShare;
      results.details.redisLatency = r;
      results.peers.redisE2eP50Ms = round(r.p50Ms, 2);
      results.peers.redisE2eP99Ms = round(r.p99Ms, 2);
      results.peers.redisE2eP999Ms = round(r.p999Ms, 2);
    } catch (e) { results.reasons.redisLatency = e.message; log(`  failed: ${e.message}`); }
    const n = P.redisFsyncN;
    log(`peer: Redis Streams consume: ${n} values read back with XREAD COUNT 1000`);
    try {
      const { result, cpuShare } = await withCpu(server.pid, () => run(process.execPath, [script, 'consume', String(port), String(n), String(MSG)], { timeoutS: 240 }));
      const r = jsonResult(result, 'redis consume');
      r.serverCpuShare = cpuShare;
      results.details.redisConsume = r;
      results.peers.redisConsumeMBps = round(r.MBps);
    } catch (e) { results.reasons.redisConsume = e.message; log(`  failed: ${e.message}`); }
  } catch (e) {
    results.reasons.redisLatency = e.message;
    log(`  failed: ${e.message}`);
  } finally {
    if (server) await stop(server, 5);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function nats(results) {
  if (!which('nats-server') || !existsSync(NATS_PUB)) {
    results.peers.natsJetStreamMBps = null;
    results.reasons.nats = !which('nats-server') ? 'nats-server not installed (run scripts/setup-bench.sh)' : 'bench/.build/nats-pub missing (run scripts/setup-bench.sh)';
    log(`  NATS: skipped, ${results.reasons.nats}`);
    return;
  }
  const dir = tmpTracked('nats');
  const port = await freePort();
  let server;
  try {
    server = await startDaemon('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
      name: 'nats-server', ready: (out) => /Server is ready/.test(out), timeoutS: 15,
    });
    log(`peer: NATS JetStream file store, async publish 1 KiB (bench/.build/nats-pub, 4000 in flight), ${P.natsS}s, then a pull consumer reads it all`);
    const { result, cpuShare } = await withCpu(server.pid, () =>
      run(NATS_PUB, ['-url', `nats://127.0.0.1:${port}`, '-seconds', String(P.natsS), '-size', String(MSG), '-inflight', '4000', '-consume'], { timeoutS: P.natsS + 200 }));
    const r = jsonResult(result, 'nats-pub');
    r.serverCpuShare = cpuShare;
    results.peers.natsJetStreamMBps = round(r.MBps);
    results.peers.natsConsumeMBps = round(r.consumeMBps);
    results.details.nats = r;
    log(`peer: NATS JetStream latency: publish ${LAT_RATE}/s, pull consumer, ${P.latencyS}s`);
    try {
      const lat = jsonResult(await run(NATS_PUB, ['-url', `nats://127.0.0.1:${port}`, '-stream', 'LAT', '-prefix', 'lat', '-size', String(MSG), '-rate', String(LAT_RATE), '-seconds', String(P.latencyS), '-warmup-s', String(P.latencyWarmS)], { timeoutS: P.latencyS + 60 }), 'nats latency');
      results.details.natsLatency = lat;
      results.peers.natsE2eP50Ms = round(lat.p50Ms, 2);
      results.peers.natsE2eP99Ms = round(lat.p99Ms, 2);
      results.peers.natsE2eP999Ms = round(lat.p999Ms, 2);
    } catch (e) { results.reasons.natsLatency = e.message; log(`  failed: ${e.message}`); }
  } catch (e) {
    results.peers.natsJetStreamMBps = null;
    results.reasons.nats = e.message;
    log(`  failed: ${e.message}`);
  } finally {
    if (server) await stop(server, 5);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ 5. table
/**
 * Core-seconds a process spends per GB (1e9 bytes of payload) moved: its CPU share (cores) over
 * the phase divided by the phase's GB/s. Same run, same machine, so the ratios between Fjord and
 * the plain-Node ceilings hold even when the absolute numbers move with the machine's load.
 */
function cpuPerGB(results) {
  const { ceilings: C, details: d } = results;
  const per = (cpu, MBps) => (cpu == null || !MBps ? null : round(cpu / (MBps / 1000), 2));
  C.tcpServerCpuSPerGB = per(d.tcp?.serverCpuShare, C.tcpMBps);
  C.durableServerCpuSPerGB = per(d.durable?.serverCpuShare, C.durableMBps);
  fjordCpuPerGB(results);
  if (results.baseline) fjordCpuPerGB(results.baseline);
}
function fjordCpuPerGB({ fjord: F, details: d }) {
  const per = (cpu, MBps) => (cpu == null || !MBps ? null : round(cpu / (MBps / 1000), 2));
  F.consumeCpuSPerGB = per(d.consume?.brokerCpuShare, F.consumeMBps);
  F.produceAcksAllCpuSPerGB = per(d.produceAcksAll?.brokerCpuShare, F.produceAcksAllMBps);
  F.produceAcks1CpuSPerGB = per(d.produceAcks1?.brokerCpuShare, F.produceAcks1MBps);
}

function table(results) {
  const { ceilings: C, fjord: F, peers: R } = results;
  const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
  const known = (xs) => xs.filter((x) => x != null && Number.isFinite(x));
  const maxOf = (...xs) => (known(xs).length ? Math.max(...known(xs)) : null);
  const minOf = (...xs) => (known(xs).length ? Math.min(...known(xs)) : null);
  const fmt3 = (...xs) => (xs.every((x) => x == null) ? null : xs.map((x) => x ?? 'n/a').join(' / '));
  cpuPerGB(results);
  const rows = [
    ['ceiling: loopback TCP (64 KiB writes)', C.tcpMBps, 'MB/s'],
    ['ceiling: durable append (fdatasync/10 ms)', C.durableMBps, 'MB/s'],
    ['redis XADD in-memory (-P 32)', R.redisMBps, 'MB/s'],
    ['redis XADD appendfsync always', R.redisFsyncAlwaysMBps, 'MB/s'],
    ['NATS JetStream file, async publish', R.natsJetStreamMBps, 'MB/s'],
    ['fjord produce acks=1', F.produceAcks1MBps, 'MB/s'],
    ['fjord produce acks=all', F.produceAcksAllMBps, 'MB/s'],
    ['fjord consume', F.consumeMBps, 'MB/s'],
    [`fjord e2e p50 @${LAT_RATE}/s`, F.e2eP50Ms, 'ms'],
    ['fjord e2e p99', F.e2eP99Ms, 'ms'],
    ['fjord e2e p99.9', F.e2eP999Ms, 'ms'],
    ['fjord dev cold start', F.startupMs, 'ms'],
    ['fjord dev cold start, CPU time', F.startupCpuMs, 'ms'],
    ['(reference: bare `node -e 0` spawn to exit)', F.nodeBareStartMs, 'ms'],
    ['fjord dev idle RSS', F.idleRssMB, 'MB'],
    ['fjord dev + registry + REST idle RSS', F.devHttpIdleRssMB, 'MB'],
    ['ceiling: fastify hello-world GET', C.fastifyHelloPerSec, 'req/s'],
    ['registry GET /schemas/ids/{id}', F.registryLookupsPerSec, 'req/s'],
    ['REST v3 streaming produce (1 KiB JSON)', F.restProduceMBps, 'MB/s'],
    ['REST v3 produce, first request (cold)', F.restProduceColdMBps, 'MB/s'],
    ['fjord produce 1 partition', F.produce1PartitionMBps, 'MB/s'],
    ['fjord produce 100 partitions', F.produce100PartitionsMBps, 'MB/s'],
    ['fjord produce 1000 partitions', F.produce1000PartitionsMBps, 'MB/s'],
    ['CPU s/GB: fjord broker, consume', F.consumeCpuSPerGB, 'core-s/GB'],
    ['CPU s/GB: TCP ceiling server', C.tcpServerCpuSPerGB, 'core-s/GB'],
    ['CPU s/GB: fjord broker, produce acks=all', F.produceAcksAllCpuSPerGB, 'core-s/GB'],
    ['CPU s/GB: durable pipeline server', C.durableServerCpuSPerGB, 'core-s/GB'],
    ['CPU s/GB: fjord broker, produce acks=1', F.produceAcks1CpuSPerGB, 'core-s/GB'],
    ['redis consume (XREAD COUNT 1000)', R.redisConsumeMBps, 'MB/s'],
    ['NATS JetStream consume (pull, 1000)', R.natsConsumeMBps, 'MB/s'],
    [`redis e2e p50 / p99 / p99.9 @${LAT_RATE}/s`, fmt3(R.redisE2eP50Ms, R.redisE2eP99Ms, R.redisE2eP999Ms), 'ms'],
    [`NATS e2e p50 / p99 / p99.9 @${LAT_RATE}/s`, fmt3(R.natsE2eP50Ms, R.natsE2eP99Ms, R.natsE2eP999Ms), 'ms'],
    ['cluster: single node acks=all (same run)', F.clusterSingleAcksAllMBps, 'MB/s'],
    ['cluster: 3 brokers RF=3 acks=all', F.cluster3AcksAllMBps, 'MB/s'],
    ['cluster: failover p50 (kill -9 leader)', F.clusterFailoverP50Ms, 'ms'],
    ['cluster: failover max', F.clusterFailoverMaxMs, 'ms'],
    ['fjord produce acks=all over SASL_SSL', F.tlsProduceMBps, 'MB/s'],
    ['fjord consume over SASL_SSL', F.tlsConsumeMBps, 'MB/s'],
    ['fjord transactional produce (1,000-record txns)', F.txnProduceMBps, 'MB/s'],
    ['streams word count (JSON, 6 partitions)', F.streamsWordCountPerSec, 'rec/s'],
    ['connect CDC Postgres -> topic', F.connectCdcRowsPerSec, 'rows/s'],
    ['connect CDC commit-to-topic p99', F.connectCdcP99Ms, 'ms'],
    ['connect JDBC sink upserts', F.connectSinkRowsPerSec, 'rows/s'],
  ];
  const checks = [
    ['acks=all / durable ceiling', ratio(F.produceAcksAllMBps, C.durableMBps), '>= 0.65', (x) => x >= 0.65],
    ['acks=all / redis fsync always', ratio(F.produceAcksAllMBps, R.redisFsyncAlwaysMBps), '>= 1.4', (x) => x >= 1.4],
    ['acks=all / NATS JetStream', ratio(F.produceAcksAllMBps, R.natsJetStreamMBps), '>= 2', (x) => x >= 2],
    ['acks=1 / redis in-memory', ratio(F.produceAcks1MBps, R.redisMBps), '>= 1.3', (x) => x >= 1.3],
    ['consume / TCP ceiling', ratio(F.consumeMBps, C.tcpMBps), '>= 0.45', (x) => x >= 0.45],
    ['consume CPU/GB / TCP server CPU/GB', ratio(F.consumeCpuSPerGB, C.tcpServerCpuSPerGB), '<= 2', (x) => x <= 2],
    ['acks=all CPU/GB / durable server CPU/GB', ratio(F.produceAcksAllCpuSPerGB, C.durableServerCpuSPerGB), '<= 1.5', (x) => x <= 1.5],
    ['consume / faster peer consume', ratio(F.consumeMBps, maxOf(R.redisConsumeMBps, R.natsConsumeMBps)), '>= 2', (x) => x >= 2],
    ['e2e p99 / better peer p99', ratio(F.e2eP99Ms, minOf(R.redisE2eP99Ms, R.natsE2eP99Ms)), '<= 0.5', (x) => x <= 0.5],
    ['cold start / bare node spawn', ratio(F.startupMs, F.nodeBareStartMs), '<= 2.5', (x) => x <= 2.5],
    ['e2e p99 (ms)', F.e2eP99Ms, '<= 2', (x) => x <= 2],
    ['e2e p99.9 (ms)', F.e2eP999Ms, '<= 10', (x) => x <= 10],
    ['cold start (ms)', F.startupMs, '< 300', (x) => x < 300],
    ['idle RSS (MB)', F.idleRssMB, '< 80', (x) => x < 80],
    ['REST produce / native acks=all', ratio(F.restProduceMBps, F.produceAcksAllMBps), '>= 0.25', (x) => x >= 0.25],
    ['registry lookups / fastify ceiling', ratio(F.registryLookupsPerSec, C.fastifyHelloPerSec), '>= 0.5', (x) => x >= 0.5],
    ['share group acked / classic group (queue)', F.queueShareToClassic, '>= 0.5', (x) => x >= 0.5],
    ['share group acked / Redis Streams XREADGROUP+XACK', F.queueShareToRedis, '>= 1.5', (x) => x >= 1.5],
    ['1000 partitions / 1 partition', ratio(F.produce1000PartitionsMBps, F.produce1PartitionMBps), '>= 0.7', (x) => x >= 0.7],
    ['3 brokers RF=3 / single node (acks=all)', ratio(F.cluster3AcksAllMBps, F.clusterSingleAcksAllMBps), 'info', () => true],
    ['failover max (ms)', F.clusterFailoverMaxMs, '< 3000', (x) => x < 3000],
    ['SASL_SSL produce / plaintext (acks=all)', ratio(F.tlsProduceMBps, F.tlsPlainProduceMBps), '>= 0.7', (x) => x >= 0.7],
    ['SASL_SSL consume / plaintext', ratio(F.tlsConsumeMBps, F.tlsPlainConsumeMBps), '>= 0.6', (x) => x >= 0.6],
    ['transactional / acks=all produce (same broker)', ratio(F.txnProduceMBps, F.txnPlainAcksAllMBps), '>= 0.8', (x) => x >= 0.8],
    ['streams pass-through / raw consume+produce', F.streamsPassThroughRatio, '>= 0.7', (x) => x >= 0.7],
    ['streams word count / @kafkats/flow', F.streamsWordCountToFlow, '>= 2', (x) => x >= 2],
    ['connect CDC / Postgres insert rate', F.connectCdcRatio, '>= 0.8', (x) => x >= 0.8],
    ['connect sink / batched INSERT ON CONFLICT', F.connectSinkRatio, '>= 0.7', (x) => x >= 0.7],
  ];
  results.checks = Object.fromEntries(checks.map(([name, v, target, ok]) => [name, { value: round(v, 3), target, pass: v == null ? null : ok(v) }]));
  const pad = (s, n) => String(s).padEnd(n);
  const lines = [];
  lines.push('', `Fjord bench ${results.quick ? '(--quick) ' : ''}${results.timestamp}  ${results.machine.cpuModel} x${results.machine.cores}, ${results.machine.memoryGB} GB, kernel ${results.machine.kernel}, node ${results.machine.node}`);
  lines.push('', pad('measurement', 44) + pad('value', 12) + 'unit');
  lines.push('-'.repeat(64));
  for (const [name, v, unit] of rows) lines.push(pad(name, 44) + pad(v == null ? 'n/a' : v, 12) + unit);
  lines.push('', pad('target', 44) + pad('value', 12) + pad('goal', 10) + 'status');
  lines.push('-'.repeat(76));
  for (const [name, v, target, ok] of checks) {
    const status = v == null ? 'n/a' : ok(v) ? 'PASS' : 'miss';
    lines.push(pad(name, 44) + pad(v == null ? 'n/a' : round(v, 2), 12) + pad(target, 10) + status);
  }
  if (results.baseline) {
    const B = results.baseline.fjord;
    lines.push('', `this build vs baseline ${results.baseline.root} (same run; the baseline's Fjord phases ran right after these)`);
    lines.push(pad('measurement', 44) + pad('this', 12) + pad('baseline', 12) + 'this / baseline');
    lines.push('-'.repeat(84));
    const cmp = [
      ['produce acks=1 (MB/s)', F.produceAcks1MBps, B.produceAcks1MBps],
      ['produce acks=all (MB/s)', F.produceAcksAllMBps, B.produceAcksAllMBps],
      ['consume (MB/s)', F.consumeMBps, B.consumeMBps],
      ['broker CPU s/GB, produce acks=1', F.produceAcks1CpuSPerGB, B.produceAcks1CpuSPerGB],
      ['broker CPU s/GB, produce acks=all', F.produceAcksAllCpuSPerGB, B.produceAcksAllCpuSPerGB],
      ['broker CPU s/GB, consume', F.consumeCpuSPerGB, B.consumeCpuSPerGB],
      [`e2e p50 @${LAT_RATE}/s (ms)`, F.e2eP50Ms, B.e2eP50Ms],
      ['e2e p99 (ms)', F.e2eP99Ms, B.e2eP99Ms],
      ['e2e p99.9 (ms)', F.e2eP999Ms, B.e2eP999Ms],
      ['cold start, bin/fjord.js dev (ms)', F.startupMs, B.startupMs],
      ['cold start CPU (ms)', F.startupCpuMs, B.startupCpuMs],
      ['idle RSS (MB)', F.idleRssMB, B.idleRssMB],
    ];
    for (const [name, a, b] of cmp) lines.push(pad(name, 44) + pad(a ?? 'n/a', 12) + pad(b ?? 'n/a', 12) + (ratio(a, b) == null ? 'n/a' : round(ratio(a, b), 2)));
  }
  const cpu = [];
  const d = results.details;
  for (const k of ['produceAcks1', 'produceAcksAll', 'consume', 'latency', 'produce1000Partitions']) {
    if (d[k]) cpu.push(`${k}: client ${d[k].cpuShare ?? 'n/a'} / broker ${d[k].brokerCpuShare ?? 'n/a'}`);
  }
  if (d.cluster?.single?.cpu) cpu.push(`cluster bench single node: ${JSON.stringify(d.cluster.single.cpu)}`);
  if (d.cluster?.cluster?.cpu) cpu.push(`cluster bench 3 brokers: ${JSON.stringify(d.cluster.cluster.cpu)}`);
  if (cpu.length) lines.push('', `CPU share in cores (${results.machine.cores} available): ${cpu.join('; ')}`);
  const reasons = Object.entries(results.reasons);
  if (reasons.length) {
    lines.push('', 'not measured / notes:');
    for (const [k, v] of reasons) lines.push(`  ${k}: ${v}`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ main
// ------------------------------------------------------------------ HTTP: REST proxy, registry
async function httpSide(results) {
  const F = results.fjord;
  const { getLoad, restStreamProduce, startHelloWorld } = await import('./http.mjs');
  const [port, regPort, restPort, helloPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = tmpTracked('http');
  let dev;
  try {
    dev = await startDaemon(process.execPath, [MAIN, 'dev', '--port', String(port), '--data-dir', dataDir, '--registry-port', String(regPort), '--rest-port', String(restPort)], {
      name: 'fjord dev (registry + REST)',
      ready: (out) => /REST proxy\s+http/.test(out),
      timeoutS: 60,
    });
    await sleep(1000);
    F.devHttpIdleRssMB = round(rssMB(dev.pid), 1);
    // The native figure is steady-state streaming over seconds; so is this one: a first request
    // (its own figure, restProduceColdMBps) warms the route, the producer connection and the JIT,
    // then one request long enough (~2-3 s) to be steady is measured.
    const warm = QUICK ? 10_000 : 20_000;
    const count = QUICK ? 100_000 : 250_000;
    log(`REST v3 streaming produce: a ${warm}-record first request, then ${count} x ${MSG} B JSON records in one request`);
    try {
      const cold = await restStreamProduce(`http://127.0.0.1:${restPort}`, 'bench-rest', warm, MSG);
      F.restProduceColdMBps = round(cold.MBps);
      const r = await restStreamProduce(`http://127.0.0.1:${restPort}`, 'bench-rest', count, MSG, { createTopic: false });
      F.restProduceMBps = round(r.MBps);
      results.details.restProduce = { ...r, coldFirstRequest: cold };
      log(`  first request ${F.restProduceColdMBps} MB/s, steady ${F.restProduceMBps} MB/s`);
    } catch (e) { F.restProduceMBps = null; results.reasons.restProduce = e.message; log(`  failed: ${e.message}`); }
    const seconds = QUICK ? 3 : 6;
    try {
      const reg = await fetch(`http://127.0.0.1:${regPort}/subjects/bench-value/versions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'B', fields: [{ name: 'a', type: 'string' }] }) }) });
      const { id } = await reg.json();
      log(`registry lookups: GET /schemas/ids/${id} for ${seconds} s, 32 in flight`);
      const r = await getLoad(`http://127.0.0.1:${regPort}/schemas/ids/${id}`, seconds);
      F.registryLookupsPerSec = Math.round(r.requestsPerSec);
      results.details.registryLookups = r;
    } catch (e) { F.registryLookupsPerSec = null; results.reasons.registryLookups = e.message; log(`  failed: ${e.message}`); }
  } catch (e) {
    results.reasons.http = e.message;
    log(`  failed: ${e.message}`);
  } finally {
    if (dev) await stop(dev);
  }
  let hello;
  try {
    hello = await startHelloWorld(ROOT, helloPort);
    children.add(hello);
    const r = await getLoad(`http://127.0.0.1:${helloPort}/`, QUICK ? 3 : 6);
    results.ceilings.fastifyHelloPerSec = Math.round(r.requestsPerSec);
  } catch (e) { results.ceilings.fastifyHelloPerSec = null; results.reasons.fastifyHello = e.message; }
  finally { if (hello) await stop(hello); }
}

async function main() {
  const t0 = performance.now();
  const results = {
    timestamp: new Date().toISOString(),
    quick: QUICK,
    machine: machine(),
    settings: { messageBytes: MSG, partitions: PARTITIONS, latencyRate: LAT_RATE, mbIs: '1e6 bytes of message payload', ...P },
    ceilings: {},
    fjord: {},
    peers: {},
    checks: {},
    details: {},
    reasons: {},
  };
  // Install the peers and build the load generators when missing (idempotent, ~1 s when all is
  // there), so `npm run bench` works on a fresh machine. --no-setup skips it.
  if (!argv.includes('--no-setup')) {
    log('bench: checking peers and load generators (scripts/setup-bench.sh)');
    const setup = spawnSync('bash', [join(ROOT, 'scripts', 'setup-bench.sh')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (setup.status !== 0) log(`bench: setup-bench.sh exited ${setup.status}; measuring what is available`);
  }
  if (!existsSync(LOAD)) {
    if (want('fjord') || want('partitions')) throw new Error('bench/.build/fjord-load missing: run `bash scripts/setup-bench.sh` first');
  } else {
    const v = spawnSync(LOAD, ['version'], { encoding: 'utf8' });
    results.machine.loadGenerator = `bench/.build/fjord-load (C, ${v.stdout.trim() || 'librdkafka ?'})`;
  }

  if (want('ceilings')) await ceilings(results);
  if (want('fjord') || want('startup') || want('partitions')) await ensureBuilt();
  // FJORD_BENCH_BASELINE=DIR: another checkout (built) measured in the same run, for before/after.
  const baselineRoot = process.env.FJORD_BENCH_BASELINE ? resolve(process.env.FJORD_BENCH_BASELINE) : null;
  if (baselineRoot) results.baseline = { root: baselineRoot, fjord: {}, ceilings: {}, details: {}, reasons: {} };
  if (want('fjord')) {
    await fjordThroughput(results);
    if (baselineRoot) {
      log(`baseline build ${baselineRoot}: the same Fjord phases`);
      await fjordThroughput(results, { main: join(baselineRoot, 'dist', 'src', 'cli', 'main.js'), results: results.baseline });
    }
  }
  if (want('peers')) {
    await redisRun(results, 'redisMBps', ['--appendonly', 'no'], P.redisN, 'Redis Streams in-memory');
    await redisRun(results, 'redisFsyncAlwaysMBps', ['--appendonly', 'yes', '--appendfsync', 'always'], P.redisFsyncN, 'Redis Streams appendonly yes + appendfsync always');
    await redisLatencyAndConsume(results);
    await nats(results);
  }
  if (want('startup')) {
    log(`fjord dev: cold start to first Metadata response, idle RSS after 1 s (${P.startupRuns} runs)`);
    await coldStart(results);
  }
  if (want('partitions')) await fjordPartitions(results);
  if (want('http')) {
    await ensureBuilt();
    await httpSide(results);
  }
  if (want('cluster')) {
    // Issue #11: etcd + 3 brokers vs one broker, and failover time (bench/cluster.mjs).
    await ensureBuilt();
    log('cluster: 3 brokers RF=3 acks=all vs single node, failover over 10 leader kills (bench/cluster.mjs)');
    try {
      const c = jsonResult(await run(process.execPath, [join(ROOT, 'bench', 'cluster.mjs'), '--seconds', String(P.produceS), '--kills', '10'], { timeoutS: 900 }), 'cluster bench');
      results.details.cluster = c;
      results.fjord.clusterSingleAcksAllMBps = c.single?.MBps ?? null;
      results.fjord.cluster3AcksAllMBps = c.cluster?.MBps ?? null;
      results.fjord.clusterFailoverP50Ms = c.failover?.p50Ms ?? null;
      results.fjord.clusterFailoverMaxMs = c.failover?.maxMs ?? null;
      for (const [k, v] of Object.entries(c.reasons ?? {})) results.reasons[`cluster.${k}`] = v;
    } catch (e) {
      results.reasons.cluster = String(e.message ?? e);
    }
  }
  if (want('queue')) {
    // Share groups (issue #13): bench/queue.mjs, 8 share consumers vs a classic group vs Redis Streams.
    log('queue: share group vs classic group vs Redis Streams consumer groups (bench/queue.mjs)');
    try {
      // Long enough to measure a rate: 10,000 records were a ~0.1 s phase.
      results.details.queue = jsonResult(await run(process.execPath, [join(ROOT, 'bench', 'queue.mjs'), '--records', QUICK ? '40000' : '100000'], { timeoutS: 600 }), 'queue bench');
      results.fjord.queueShareAckedRecordsPerS = results.details.queue.shareAckedRecordsPerS;
      results.fjord.queueShareToClassic = results.details.queue.shareToClassic;
      results.fjord.queueShareToRedis = results.details.queue.shareToRedis ?? null;
    } catch (e) {
      results.reasons.queue = String(e.message ?? e);
    }
  }

  if (want('txn')) {
    // Transactions (issue #10): bench/txn.mjs, fjord-load in 1,000-record transactions vs plain and
    // idempotent acks=all, alternating on one broker.
    await ensureBuilt();
    log('txn: transactional produce vs acks=all produce, same broker (bench/txn.mjs)');
    try {
      const t = jsonResult(await run(process.execPath, [join(ROOT, 'bench', 'txn.mjs'), '--seconds', String(QUICK ? 4 : 6), '--rounds', QUICK ? '1' : '2'], { timeoutS: 600 }), 'txn bench');
      results.details.txn = t;
      results.fjord.txnProduceMBps = t.transactionalMBps;
      results.fjord.txnPlainAcksAllMBps = t.plainAcksAllMBps;
    } catch (e) {
      results.reasons.txn = String(e.message ?? e);
    }
  }

  if (want('streams')) {
    // Streams (issue #15): bench/streams-wordcount.mjs, word count and pass-through vs a raw pipe.
    await ensureBuilt();
    log('streams: word count vs @kafkats/flow, pass-through vs raw consume+produce (bench/streams-wordcount.mjs)');
    try {
      const s = jsonResult(await run(process.execPath, [join(ROOT, 'bench', 'streams-wordcount.mjs'), '--records', QUICK ? '100000' : '1000000'], { timeoutS: 900 }), 'streams bench');
      results.details.streams = s;
      results.fjord.streamsWordCountPerSec = s.wordCountRecordsPerS;
      results.fjord.streamsPassThroughRatio = s.passThroughToRawPipe;
      results.fjord.streamsWordCountToFlow = s.wordCountToFlow;
    } catch (e) {
      results.reasons.streams = String(e.message ?? e);
    }
  }

  if (want('connect')) {
    // Connect (issue #17): bench/connect.mjs, CDC vs Postgres's insert rate, sink vs a plain upsert loop.
    await ensureBuilt();
    log('connect: Postgres CDC and JDBC sink vs Postgres alone (bench/connect.mjs)');
    try {
      const c = jsonResult(await run(process.execPath, [join(ROOT, 'bench', 'connect.mjs'), '--rows', QUICK ? '5000' : '20000'], { timeoutS: 900 }), 'connect bench');
      results.details.connect = c;
      results.fjord.connectCdcRowsPerSec = c.cdcRowsPerS;
      results.fjord.connectCdcRatio = c.cdcRatio;
      results.fjord.connectCdcP99Ms = c.cdcLatencyP99Ms;
      results.fjord.connectSinkRowsPerSec = c.sinkRowsPerS;
      results.fjord.connectSinkRatio = c.sinkRatio;
    } catch (e) {
      results.reasons.connect = String(e.message ?? e);
    }
  }

  if (want('tls')) {
    // TLS (issue #12): bench/tls.mjs, produce acks=all and consume over SASL_SSL vs PLAINTEXT on one broker.
    await ensureBuilt();
    log('tls: produce acks=all and consume over SASL_SSL vs PLAINTEXT (bench/tls.mjs)');
    try {
      const t = jsonResult(await run(process.execPath, [join(ROOT, 'bench', 'tls.mjs'), '--seconds', String(P.produceS), '--data-root', DATA_ROOT], { timeoutS: 600 }), 'tls bench');
      results.details.tls = t;
      results.fjord.tlsProduceMBps = round(t.saslSsl.produceMBps);
      results.fjord.tlsConsumeMBps = round(t.saslSsl.consumeMBps);
      results.fjord.tlsPlainProduceMBps = round(t.plaintext.produceMBps);
      results.fjord.tlsPlainConsumeMBps = round(t.plaintext.consumeMBps);
    } catch (e) {
      results.reasons.tls = String(e.message ?? e);
    }
  }

  for (const k of ['tcpMBps', 'durableMBps']) if (!(k in results.ceilings)) results.ceilings[k] = null;
  for (const k of ['produceAcks1MBps', 'produceAcksAllMBps', 'consumeMBps', 'e2eP50Ms', 'e2eP99Ms', 'e2eP999Ms', 'startupMs', 'idleRssMB', 'produce1000PartitionsMBps'])
    if (!(k in results.fjord)) results.fjord[k] = null;
  for (const k of ['redisMBps', 'redisFsyncAlwaysMBps', 'natsJetStreamMBps']) if (!(k in results.peers)) results.peers[k] = null;

  results.durationS = round((performance.now() - t0) / 1000, 1);
  const text = table(results);
  process.stdout.write(text);
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = ONLY ? join(outDir, 'partial.json') : join(outDir, 'latest.json');
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${outFile.slice(ROOT.length + 1)} (${results.durationS}s)`);
}

main()
  .catch((e) => { log(`error: ${e.stack ?? e}`); process.exitCode = 1; })
  .finally(() => {
    killAll();
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  });
