// Queue benchmark (issue #13): 8 share consumers (KIP-932, explicit acknowledgement of every
// record) on a 2-partition topic holding N records of 1 KiB, against a classic consumer group
// reading the same records in the same run, and Redis Streams consumer groups (XREADGROUP + XACK,
// 8 consumers, appendfsync always) when redis-server is installed. Every side starts from a full
// queue, is timed from its first read until the server holds every acknowledgement, and uses a
// minimal client of its protocol (./kafka-wire.mjs on Fjord's codecs; a RESP client for Redis),
// each in its protocol's natural pipelined form: acknowledgements ride on the next ShareFetch,
// commits go out with the next Fetch, XACK is pipelined with the next XREADGROUP.
// Prints one JSON object on stdout; progress on stderr.
//
//   node bench/queue.mjs [--records N] [--rounds R] [--max-records N] [--broker-config k=v]... [--data-root DIR]
//   (npm run bench -- --only queue). --rounds repeats the timed phases, interleaved, and reports
//   medians (default 5); --max-records sets ShareFetch MaxRecords and XREADGROUP COUNT alike
//   (default 500); --broker-config passes a broker config (sensitivity runs).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { KafkaClient } from '@kafkats/client';
import { freePort } from './lib.mjs';
import { loadCodecs, recordsIn, WireConnection } from './kafka-wire.mjs';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

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
// Records per ShareFetch (KafkaShareConsumer's max.poll.records default) and per XREADGROUP COUNT.
const MAX_RECORDS = Number(arg('--max-records', '500'));
const ROUNDS = Math.max(1, Number(arg('--rounds', '5')));
const BROKER_CONFIG = argv.flatMap((a, i) => (argv[i - 1] === '--broker-config' ? ['--config', a] : []));
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

async function until(check, timeoutMs, what, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function fjordQueue() {
  const dir = mkdtempSync(join(DATA_ROOT, 'fjord-queue-bench-'));
  dirs.push(dir);
  const port = await freePort();
  // QUEUE_BENCH_CPU_PROF=DIR writes the broker's CPU profile there (node --cpu-prof).
  const prof = process.env.QUEUE_BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.QUEUE_BENCH_CPU_PROF] : [];
  const broker = spawn(process.execPath, [...prof, MAIN, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dir, '--config', 'offsets.topic.num.partitions=4', '--config', 'share.coordinator.state.topic.num.partitions=4', ...BROKER_CONFIG], { stdio: ['ignore', 'ignore', process.env.QUEUE_BENCH_DEBUG ? 'inherit' : 'ignore'] });
  children.push(broker);
  await waitPort(port);
  const client = new KafkaClient({ brokers: [`127.0.0.1:${port}`], clientId: 'queue-bench', logLevel: 'error' });
  await client.connect();
  await client.createTopics([{ name: 'queue', numPartitions: 2, replicationFactor: 1 }]);
  const producer = client.producer({ lingerMs: 5 });
  for (let i = 0; i < N; i += 500) {
    await producer.send('queue', Array.from({ length: Math.min(500, N - i) }, (_, j) => ({ key: Buffer.from(String(i + j)), value: VALUE })));
  }
  await producer.disconnect();
  await client.disconnect();

  const codecs = await loadCodecs(ROOT);
  const admin = await WireConnection.open(codecs, port, 'queue-bench-admin');
  const md = await admin.request(3, 12, { topics: [{ topicId: ZERO_UUID, name: 'queue' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  const topicId = md.topics[0].topicId;

  // Share group: the queue holds N records; 8 members join (ShareGroupHeartbeat, not timed, as
  // Redis's XGROUP CREATE is not), then each works its own connection like KafkaShareConsumer:
  // ShareFetch (up to 500 records), decode, ACCEPT every record — the acknowledgements ride on
  // the member's next ShareFetch. Timed until the broker's start offsets cover all N records.
  const cpuShare = (cpu, s) => Math.round(((cpu.user + cpu.system) / 1e6 / s) * 100) / 100;
  const sharePhase = async (round) => {
  const group = `share-bench-${round}`;
  log(`queue: round ${round}: ${WORKERS} share consumers on ${N} queued records, each record acknowledged (ACCEPT)`);
  await startAtEarliest(port, group);
  const members = Array.from({ length: WORKERS }, (_, w) => ({ memberId: `bench-share-member-${w}-${round}-${process.pid}`, epoch: 0, partitions: [] }));
  const heartbeat = async (m) => {
    const r = await admin.request(76, 1, { groupId: group, memberId: m.memberId, memberEpoch: m.epoch, rackId: null, subscribedTopicNames: m.epoch === 0 ? ['queue'] : null });
    if (r.errorCode !== 0) throw new Error(`ShareGroupHeartbeat: error ${r.errorCode} ${r.errorMessage}`);
    m.epoch = r.memberEpoch;
    if (r.assignment) m.partitions = r.assignment.topicPartitions.flatMap((t) => t.partitions);
    return r;
  };
  for (const m of members) await heartbeat(m);
  for (const m of members) await heartbeat(m); // everyone sees the assignment of the full group
  let stop = false;
  let acked = 0;
  /** [round-trip ms, records acquired] of every ShareFetch: what bounds the rate (QUEUE_BENCH_STATS=1 prints it). */
  const shareRounds = [];
  const shareWorker = async (m, w) => {
    const conn = await WireConnection.open(codecs, port, `queue-bench-share-${w}`);
    let epoch = 0;
    let acks = new Map();
    while (!stop) {
      const sent = performance.now();
      const r = await conn.request(78, 1, {
        groupId: group, memberId: m.memberId, shareSessionEpoch: epoch, maxWaitMs: 500, minBytes: 1, maxBytes: 52428800, maxRecords: MAX_RECORDS, batchSize: MAX_RECORDS,
        topics: [{ topicId, partitions: m.partitions.map((p) => ({ partitionIndex: p, partitionMaxBytes: 0, acknowledgementBatches: acks.get(p) ?? [] })) }],
        forgottenTopicsData: [],
      });
      if (r.errorCode !== 0) throw new Error(`ShareFetch: error ${r.errorCode} ${r.errorMessage}`);
      const gotRecords = r.responses.reduce((n, t) => n + t.partitions.reduce((k, p) => k + p.acquiredRecords.reduce((j, a) => j + a.lastOffset - a.firstOffset + 1, 0), 0), 0);
      shareRounds.push([performance.now() - sent, gotRecords]);
      epoch = epoch === 0x7fffffff ? 1 : epoch + 1;
      acks = new Map();
      for (const t of r.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0 || p.acknowledgeErrorCode !== 0) throw new Error(`ShareFetch partition ${p.partitionIndex}: error ${p.errorCode}/${p.acknowledgeErrorCode}`);
          if (p.acquiredRecords.length === 0) continue;
          const records = recordsIn(codecs, p.records, p.acquiredRecords);
          for (const rec of records) if (rec.value.length !== VALUE.length) throw new Error('bad record');
          acked += records.length;
          acks.set(p.partitionIndex, p.acquiredRecords.map((a) => ({ firstOffset: a.firstOffset, lastOffset: a.lastOffset, acknowledgeTypes: [1] })));
        }
      }
    }
    // Close the share session (nothing is held any more).
    await conn.request(79, 1, { groupId: group, memberId: m.memberId, shareSessionEpoch: -1, topics: [] }).catch(() => {});
    conn.close();
  };
  const cpu1 = process.cpuUsage();
  const broker1 = cpuSeconds(broker.pid);
  const t1 = performance.now();
  const working = members.map((m, w) => shareWorker(m, w));
  const failed = Promise.all(working).then(() => {
    if (!stop) throw new Error('a share worker stopped early');
  });
  await Promise.race([until(async () => (await startOffsetsSum(admin, group)) >= N, 180_000, 'every record acknowledged', 2), failed]);
  const shareS = (performance.now() - t1) / 1000;
  const shareClientCpu = process.cpuUsage(cpu1);
  const shareBrokerCpu = cpuSeconds(broker.pid) - broker1;
  stop = true;
  await Promise.race([Promise.allSettled(working), new Promise((r) => setTimeout(r, 3000))]);
  if (process.env.QUEUE_BENCH_STATS) {
    const rtts = shareRounds.map((x) => x[0]).sort((a, b) => a - b);
    const q = (f) => rtts[Math.min(rtts.length - 1, Math.floor(f * rtts.length))]?.toFixed(2);
    const empty = shareRounds.filter((x) => x[1] === 0).length;
    log(`queue: ${shareRounds.length} ShareFetch rounds, ${(N / Math.max(1, shareRounds.length - empty)).toFixed(0)} records per non-empty round, ${empty} empty; round trip p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms`);
  }
  return { shareAckedRecordsPerS: Math.round(N / shareS), shareAcked: acked, shareClientCpuShare: cpuShare(shareClientCpu, shareS), shareBrokerCpuShare: Math.round((shareBrokerCpu / shareS) * 100) / 100 };
  };

  // Classic group, same shape: 2 consumers (one per partition, as many as a classic group can
  // use) read the same N records with Fetch and commit each batch; the commit rides with the next
  // Fetch (sent back to back), like a consumer's commitAsync. Timed until the committed offsets
  // cover all N records.
  const classicPhase = async (round) => {
  const group = `classic-bench-${round}`;
  log(`queue: round ${round}: classic consumer group, same records, each batch committed`);
  let committed = 0;
  let classicStop = false;
  const classicWorker = async (partition) => {
    const conn = await WireConnection.open(codecs, port, `queue-bench-classic-${partition}`);
    let position = 0;
    let commit;
    while (!classicStop) {
      const fetch = conn.request(1, 12, {
        clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1 }, maxWaitMs: 500, minBytes: 1, maxBytes: 52428800, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 'queue', topicId, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: position, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1048576 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      if (commit) {
        const c = await commit;
        const code = c.topics[0].partitions[0].errorCode;
        if (code !== 0) throw new Error(`OffsetCommit: error ${code}`);
      }
      const r = await fetch;
      const p = r.responses[0].partitions[0];
      if (p.errorCode !== 0) throw new Error(`Fetch: error ${p.errorCode}`);
      const records = recordsIn(codecs, p.records, null).filter((rec) => rec.offset >= position);
      for (const rec of records) if (rec.value.length !== VALUE.length) throw new Error('bad record');
      commit = undefined;
      if (records.length > 0) {
        position = records[records.length - 1].offset + 1;
        committed += records.length;
        commit = conn.request(8, 8, { groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'queue', partitions: [{ partitionIndex: partition, committedOffset: position, committedLeaderEpoch: -1, committedMetadata: null }] }] });
      }
    }
    if (commit) await commit.catch(() => {});
    conn.close();
  };
  const cpu0 = process.cpuUsage();
  const broker0 = cpuSeconds(broker.pid);
  const t0 = performance.now();
  const classicWorking = [0, 1].map((p) => classicWorker(p));
  const classicFailed = Promise.all(classicWorking).then(() => {
    if (!classicStop) throw new Error('a classic worker stopped early');
  });
  await Promise.race([until(async () => (await committedSum(admin, group)) >= N, 180_000, 'every record committed', 2), classicFailed]);
  const classicS = (performance.now() - t0) / 1000;
  const classicClientCpu = process.cpuUsage(cpu0);
  const classicBrokerCpu = cpuSeconds(broker.pid) - broker0;
  classicStop = true;
  await Promise.race([Promise.allSettled(classicWorking), new Promise((r) => setTimeout(r, 3000))]);
  return { classicRecordsPerS: Math.round(N / classicS), classicConsumed: committed, classicClientCpuShare: cpuShare(classicClientCpu, classicS), classicBrokerCpuShare: Math.round((classicBrokerCpu / classicS) * 100) / 100 };
  };
  return {
    sharePhase,
    classicPhase,
    close() {
      admin.close();
      broker.kill('SIGTERM');
    },
  };
}

/** Sum of the classic group's committed offsets (OffsetFetch). */
async function committedSum(admin, group) {
  const r = await admin.request(9, 8, { groups: [{ groupId: group, topics: [{ name: 'queue', partitionIndexes: [0, 1] }] }], requireStable: false });
  return r.groups[0].topics[0]?.partitions.reduce((n, p) => n + Math.max(0, p.committedOffset), 0) ?? 0;
}

/** Sum of the share group's start offsets (DescribeShareGroupOffsets). */
/** CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

async function startOffsetsSum(admin, group) {
  const body = await admin.request(90, 1, { groups: [{ groupId: group, topics: [{ topicName: 'queue', partitions: [0, 1] }] }] });
  return body.groups[0].topics[0]?.partitions.reduce((n, p) => n + Math.max(0, p.startOffset), 0) ?? 0;
}

/** AlterShareGroupOffsets of a share group → earliest on both partitions, through the generated codecs. */
async function startAtEarliest(port, group) {
  const { encodeRequestHeader, requestHeaderVersion } = await import(join(ROOT, 'dist', 'src', 'protocol', 'gen', 'index.js'));
  const { apiSpecs } = await import(join(ROOT, 'dist', 'src', 'protocol', 'gen', 'specs.js'));
  const { Writer } = await import(join(ROOT, 'dist', 'src', 'protocol', 'primitives.js'));
  const w = new Writer();
  const size = w.reserveInt32();
  encodeRequestHeader(w, requestHeaderVersion(91, 0), { requestApiKey: 91, requestApiVersion: 0, correlationId: 1, clientId: 'bench' });
  apiSpecs.get(91).encodeRequest(w, 0, { groupId: group, topics: [{ topicName: 'queue', partitions: [{ partitionIndex: 0, startOffset: -2 }, { partitionIndex: 1, startOffset: -2 }] }] });
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
    this.parts = [];
    this.pending = [];
    socket.on('data', (d) => {
      this.parts.push(d);
      // A complete reply ends with CRLF: only then join the parts and parse (joining and parsing
      // from the start on every 64 KiB chunk of a 500-entry reply made the client quadratic).
      if (d.length < 2 || d[d.length - 2] !== 0x0d || d[d.length - 1] !== 0x0a) return;
      let buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      for (;;) {
        const r = buf.length > 0 ? parse(buf, 0) : null;
        if (!r) break;
        buf = buf.subarray(r.end);
        this.pending.shift()(r.value);
      }
      this.parts = buf.length > 0 ? [buf] : [];
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
  const phase = async (round) => {
  const group = `workers-${round}`;
  await r.send('XGROUP', 'CREATE', 'jobs', group, '0');
  log(`queue: round ${round}: redis ${WORKERS} consumers XREADGROUP COUNT ${MAX_RECORDS} + XACK`);
  let acked = 0;
  const cpu0 = process.cpuUsage();
  const server0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const c = await open();
      // The XACK of a batch goes out back to back with the next XREADGROUP (pipelined), as the
      // Kafka side's acknowledgements ride on its next ShareFetch.
      let ack;
      for (;;) {
        const read = c.send('XREADGROUP', 'GROUP', group, `c${w}`, 'COUNT', String(MAX_RECORDS), 'STREAMS', 'jobs', '>');
        if (ack) {
          const n = await ack.reply;
          if (n !== ack.count) throw new Error(`XACK acknowledged ${n} of ${ack.count}`);
          acked += n;
        }
        const res = await read;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length === 0) break;
        for (const e of entries) if (e[1][1].length !== VALUE.length) throw new Error('bad entry');
        ack = { reply: c.send('XACK', 'jobs', group, ...entries.map((e) => e[0])), count: entries.length };
      }
      c.socket.destroy();
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpu = cpuSeconds(server.pid) - server0;
  return {
    redisStreamsAckedRecordsPerS: Math.round(acked / s), redisAcked: acked,
    redisClientCpuShare: Math.round(((cpu.user + cpu.system) / 1e6 / s) * 100) / 100, redisServerCpuShare: Math.round((serverCpu / s) * 100) / 100,
  };
  };
  return {
    phase,
    close() {
      r.socket.destroy();
      server.kill('SIGTERM');
    },
  };
}

async function main() {
  const fjord = await fjordQueue();
  const redis = await redisQueue();
  // Each phase lasts about a second, so a moment of load from elsewhere on the machine can swing
  // one phase's rate; the phases run ROUNDS times, interleaved (share, classic, Redis), each round
  // with fresh groups over the same records, and every figure is the median over the rounds.
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const one = { ...(await fjord.sharePhase(round)), ...(await fjord.classicPhase(round)), ...(redis.phase ? await redis.phase(round) : {}) };
    one.shareToClassic = ratio(one.shareAckedRecordsPerS, one.classicRecordsPerS);
    if (one.redisStreamsAckedRecordsPerS) one.shareToRedis = ratio(one.shareAckedRecordsPerS, one.redisStreamsAckedRecordsPerS);
    rounds.push(one);
  }
  fjord.close();
  redis.close?.();
  const out = { records: N, workers: WORKERS, maxRecords: MAX_RECORDS, rounds: ROUNDS };
  for (const key of Object.keys(rounds[0])) out[key] = median(rounds.map((r) => r[key]));
  if (!redis.phase) out.redisStreams = redis.reason;
  out.perRound = rounds.map((r) => ({ share: r.shareAckedRecordsPerS, classic: r.classicRecordsPerS, redis: r.redisStreamsAckedRecordsPerS, shareToClassic: r.shareToClassic, shareToRedis: r.shareToRedis }));
  process.stdout.write(JSON.stringify(out) + '\n');
}

const ratio = (a, b) => Math.round((a / b) * 100) / 100;
function median(xs) {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : Math.round(((v[m - 1] + v[m]) / 2) * 100) / 100;
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
