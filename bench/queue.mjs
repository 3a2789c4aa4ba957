// Queue benchmark (issue #13): 8 share consumers (KIP-932, @kafkats/client ShareConsumer, explicit
// acknowledgement) on a 2-partition topic of 1 KiB records, against a classic consumer group reading
// the same topic in the same run, and Redis Streams consumer groups (XREADGROUP + XACK, 8 consumers)
// when redis-server is installed. Prints one JSON object on stdout; progress on stderr.
//
//   node bench/queue.mjs [--records N] [--ack-batch N] [--data-root DIR]   (npm run bench -- --only queue)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { KafkaClient } from '@kafkats/client';
import { freePort } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const N = Number(arg('--records', '40000'));
const DATA_ROOT = arg('--data-root', tmpdir());
const WORKERS = 8;
const ACK_BATCH = Number(arg('--ack-batch', '100'));
const MAX_RECORDS = 500;
const VALUE = Buffer.alloc(1024, 'q');
const log = (m) => process.stderr.write(`${m}\n`);
const children = [];
const dirs = [];


async function waitPort(port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const okay = await new Promise((res) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), res(true)));
      s.once('error', () => res(false));
    });
    if (okay) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fjordQueue() {
  const dir = mkdtempSync(join(DATA_ROOT, 'fjord-queue-bench-'));
  dirs.push(dir);
  const port = await freePort();
  // QUEUE_BENCH_CPU_PROF=DIR writes the broker's CPU profile there (node --cpu-prof).
  const prof = process.env.QUEUE_BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.QUEUE_BENCH_CPU_PROF] : [];
  const broker = spawn(process.execPath, [...prof, MAIN, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dir, '--config', 'offsets.topic.num.partitions=4', '--config', 'share.coordinator.state.topic.num.partitions=4'], { stdio: ['ignore', 'ignore', process.env.QUEUE_BENCH_DEBUG ? 'inherit' : 'ignore'] });
  children.push(broker);
  await waitPort(port);
  const client = new KafkaClient({ brokers: [`127.0.0.1:${port}`], clientId: 'queue-bench', logLevel: 'error' });
  await client.connect();
  await client.createTopics([{ name: 'queue', numPartitions: 2, replicationFactor: 1 }]);
  const produceAll = async () => {
    const producer = client.producer({ lingerMs: 5 });
    for (let i = 0; i < N; i += 500) {
      await producer.send('queue', Array.from({ length: Math.min(500, N - i) }, (_, j) => ({ key: Buffer.from(String(i + j)), value: VALUE })));
    }
    await producer.disconnect();
  };

  // Share group: 8 workers join an empty queue (a client's warm-up fetch on a full queue acquires
  // and releases records, which spends their delivery attempts), then N records are produced;
  // measured from the first send until the broker holds every acknowledgement.
  log(`queue: ${WORKERS} share consumers, each record acknowledged (ACCEPT)`);
  await startAtEarliest(port);
  let acked = 0;
  const workers = [];
  // One client (connection) per worker, as separate worker processes would have: a broker answers
  // a connection's requests in order, so workers sharing one connection would wait behind each
  // other's long-polling ShareFetch (Kafka does the same).
  const shareClients = [];
  for (let w = 0; w < WORKERS; w++) {
    const shareClient = new KafkaClient({ brokers: [`127.0.0.1:${port}`], clientId: `queue-bench-share-${w}`, logLevel: 'error' });
    await shareClient.connect();
    shareClients.push(shareClient);
    const c = shareClient.shareConsumer({ groupId: 'share-bench', maxRecords: MAX_RECORDS });
    c.on('error', () => {});
    // runEach sends ACCEPT for each record whose handler returns, batched per partition by
    // ackBatchSize. Each handler waits for its record's acknowledgement, so the concurrency must
    // cover a whole fetch for batches of ackBatchSize to form (with 16 they held ~16 records).
    c.runEach('queue', async () => {
      acked++;
    }, { ackBatchSize: ACK_BATCH, concurrency: MAX_RECORDS }).catch(() => {});
    workers.push(c);
    if (w === 0) await until(async () => (await memberCount(port)) === 1, 60_000, 'first share consumer');
  }
  await until(async () => (await memberCount(port)) === WORKERS, 60_000, 'all share consumers joined');
  log(`queue: producing ${N} x 1 KiB to 2 partitions`);
  const t1 = performance.now();
  await produceAll();
  await until(async () => (await startOffsetsSum(port)) >= N, 180_000, 'every record acknowledged');
  const shareS = (performance.now() - t1) / 1000;
  await Promise.race([Promise.allSettled(workers.map((c) => c.stop())), new Promise((r) => setTimeout(r, 3000))]);

  // Classic group, same shape: one consumer joined, then N more records, until all consumed.
  log('queue: classic consumer group, same run');
  let classicSeen = 0;
  const consumer = client.consumer({ groupId: 'classic-bench', autoOffsetReset: 'latest' });
  consumer.runEach('queue', async () => {
    classicSeen++;
  }).catch(() => {});
  await until(async () => (await describeClassic(port)) === 'Stable', 60_000, 'classic consumer joined');
  await new Promise((r) => setTimeout(r, 1000)); // its first fetch positions at the end of the log
  const t0 = performance.now();
  await produceAll();
  await until(() => classicSeen >= N, 180_000, 'classic consumer');
  const classicS = (performance.now() - t0) / 1000;
  consumer.stop();
  await Promise.race([Promise.allSettled([client.disconnect(), ...shareClients.map((c) => c.disconnect())]), new Promise((r) => setTimeout(r, 2000))]);
  broker.kill('SIGTERM');
  return { classicRecordsPerS: Math.round(N / classicS), shareAckedRecordsPerS: Math.round(acked / shareS), shareAcked: acked };
}

async function memberCount(port) {
  const body = await request(port, 77, 1, { groupIds: ['share-bench'], includeAuthorizedOperations: false });
  return body.groups[0].members?.length ?? 0;
}

async function describeClassic(port) {
  const body = await request(port, 15, 5, { groups: ['classic-bench'], includeAuthorizedOperations: false });
  return body.groups[0].groupState;
}

/** Sum of the share group's start offsets (DescribeShareGroupOffsets). */
async function startOffsetsSum(port) {
  const body = await request(port, 90, 1, { groups: [{ groupId: 'share-bench', topics: [{ topicName: 'queue', partitions: [0, 1] }] }] });
  return body.groups[0].topics[0]?.partitions.reduce((n, p) => n + Math.max(0, p.startOffset), 0) ?? 0;
}

async function request(port, apiKey, version, payload) {
  const gen = await import(join(ROOT, 'dist', 'src', 'protocol', 'gen', 'index.js'));
  const { Writer, Reader } = await import(join(ROOT, 'dist', 'src', 'protocol', 'primitives.js'));
  const w = new Writer();
  const size = w.reserveInt32();
  gen.encodeRequestHeader(w, gen.requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId: 1, clientId: 'bench' });
  gen.apiSpecs.get(apiKey).encodeRequest(w, version, payload);
  w.patchInt32(size, w.length - 4);
  const s = connect({ host: '127.0.0.1', port });
  await new Promise((res) => s.once('connect', res));
  s.write(w.toBuffer());
  let buf = Buffer.alloc(0);
  await new Promise((res) => s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) res();
  }));
  s.destroy();
  const r = new Reader(buf.subarray(4));
  gen.decodeResponseHeader(r, gen.responseHeaderVersion(apiKey, version));
  return gen.apiSpecs.get(apiKey).decodeResponse(r, version);
}

/** AlterShareGroupOffsets share-bench → earliest on both partitions, through the generated codecs. */
async function startAtEarliest(port) {
  const { apiSpecs, encodeRequestHeader, requestHeaderVersion } = await import(join(ROOT, 'dist', 'src', 'protocol', 'gen', 'index.js'));
  const { Writer } = await import(join(ROOT, 'dist', 'src', 'protocol', 'primitives.js'));
  const w = new Writer();
  const size = w.reserveInt32();
  encodeRequestHeader(w, requestHeaderVersion(91, 0), { requestApiKey: 91, requestApiVersion: 0, correlationId: 1, clientId: 'bench' });
  apiSpecs.get(91).encodeRequest(w, 0, { groupId: 'share-bench', topics: [{ topicName: 'queue', partitions: [{ partitionIndex: 0, startOffset: -2 }, { partitionIndex: 1, startOffset: -2 }] }] });
  w.patchInt32(size, w.length - 4);
  const s = connect({ host: '127.0.0.1', port });
  await new Promise((res) => s.once('connect', res));
  s.write(w.toBuffer());
  await new Promise((res) => s.once('data', res));
  s.destroy();
}

// ------------------------------------------------------------------ Redis Streams

/** A minimal RESP2 client: enough for XADD / XGROUP / XREADGROUP / XACK. */
class Resp {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.pending = [];
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = parse(this.buf, 0);
        if (!r) break;
        this.buf = this.buf.subarray(r.end);
        this.pending.shift()(r.value);
      }
    });
  }
  send(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
      parts.push(`$${b.length}\r\n`, b, '\r\n');
    }
    this.socket.write(Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))));
    return new Promise((res) => this.pending.push(res));
  }
}

function parse(buf, pos) {
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, nl);
  if (type === '+' || type === '-' || type === ':') return { value: type === ':' ? Number(line) : line, end: nl + 2 };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { value: null, end: nl + 2 };
    if (buf.length < nl + 2 + n + 2) return null;
    return { value: buf.subarray(nl + 2, nl + 2 + n), end: nl + 2 + n + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return { value: null, end: nl + 2 };
    const out = [];
    let p = nl + 2;
    for (let i = 0; i < n; i++) {
      const r = parse(buf, p);
      if (!r) return null;
      out.push(r.value);
      p = r.end;
    }
    return { value: out, end: p };
  }
  throw new Error(`RESP: unexpected ${type}`);
}

async function redisQueue() {
  if (spawnSync('which', ['redis-server']).status !== 0) return { reason: 'redis-server not installed (scripts/setup-bench.sh installs it)' };
  const dir = mkdtempSync(join(DATA_ROOT, 'redis-queue-bench-'));
  dirs.push(dir);
  const port = await freePort();
  // Durable like Fjord: every write fsynced before it is answered.
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
  children.push(server);
  await waitPort(port);
  const open = async () => {
    const s = connect({ host: '127.0.0.1', port });
    await new Promise((res) => s.once('connect', res));
    return new Resp(s);
  };
  const r = await open();
  log(`queue: redis XADD ${N} x 1 KiB`);
  for (let i = 0; i < N; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, N - i) }, () => r.send('XADD', 'jobs', '*', 'v', VALUE)));
  }
  await r.send('XGROUP', 'CREATE', 'jobs', 'workers', '0');
  log(`queue: redis ${WORKERS} consumers XREADGROUP COUNT 500 + XACK`);
  let acked = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const c = await open();
      for (;;) {
        const res = await c.send('XREADGROUP', 'GROUP', 'workers', `c${w}`, 'COUNT', '500', 'STREAMS', 'jobs', '>');
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length === 0) break;
        await c.send('XACK', 'jobs', 'workers', ...entries.map((e) => e[0]));
        acked += entries.length;
      }
      c.socket.destroy();
    }),
  );
  const s = (performance.now() - t0) / 1000;
  r.socket.destroy();
  server.kill('SIGTERM');
  return { redisStreamsAckedRecordsPerS: Math.round(acked / s), redisAcked: acked };
}

async function main() {
  const fjord = await fjordQueue();
  const redis = await redisQueue();
  const out = {
    records: N,
    workers: WORKERS,
    ackBatchSize: ACK_BATCH,
    ...fjord,
    shareToClassic: Math.round((fjord.shareAckedRecordsPerS / fjord.classicRecordsPerS) * 100) / 100,
    ...redis,
  };
  if (redis.redisStreamsAckedRecordsPerS) out.shareToRedis = Math.round((fjord.shareAckedRecordsPerS / redis.redisStreamsAckedRecordsPerS) * 100) / 100;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main()
  .catch((e) => {
    log(`queue bench failed: ${e.stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    setTimeout(() => process.exit(), 100).unref();
  });
