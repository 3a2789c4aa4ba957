// A bounded protocol fuzzer: valid request frames of the main APIs, mutated (bit flips,
// interesting integers, truncation, splices; record batches mutated under a fixed-up CRC so the
// record checks are reached), sent over many connections to a broker running as a child
// process. Between rounds a fresh connection must get ApiVersions and Metadata answered
// (liveness); the broker's RSS is sampled from /proc. Used by the short pass in the test suite
// (fuzz.test.ts) and by `npm run fuzz -- --frames N` (run.ts).
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ApiKey, encodeRequestHeader, requestHeaderVersion } from '../../src/protocol/gen/index.js';
import { apiSpecs } from '../../src/protocol/gen/specs.js';
import { Writer } from '../../src/protocol/primitives.js';
import { buildBatchSync, writeBatchCrc } from '../../src/protocol/records/batch.js';
import { Compression, RECORDS } from '../../src/protocol/records/layout.js';
import { RawClient } from '../helpers/raw-client.js';

export const FUZZ_TOPICS = ['fuzz-plain', 'fuzz-compact', 'fuzz-zstd'] as const;
export const FUZZ_TOPIC_CONFIGS: Record<string, Record<string, string>> = {
  'fuzz-plain': {},
  'fuzz-compact': { 'cleanup.policy': 'compact' },
  'fuzz-zstd': { 'compression.type': 'zstd' },
};

/** xorshift32: reproducible runs from a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

export function encodeFrame(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  const w = new Writer();
  const size = w.reserveInt32();
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'fuzz' });
  apiSpecs.get(apiKey)!.encodeRequest(w, version, body);
  w.patchInt32(size, w.length - 4);
  return Buffer.from(w.toBuffer());
}

export interface Seed {
  name: string;
  frame: Buffer;
  /** Where the record batch starts inside the frame (produce seeds), for CRC fix-ups. */
  batchAt?: number;
  batchSize?: number;
}

function batch(codec: Compression, rng: Rng): Buffer {
  const n = 1 + rng.int(5);
  const records = [];
  for (let i = 0; i < n; i++) {
    records.push({ key: `k${rng.int(50)}`, value: 'v'.repeat(rng.int(300)), headers: rng.int(2) ? [{ key: 'h', value: 'x' }] : [] });
  }
  return buildBatchSync({ records, compression: codec });
}

/** Valid frames of the main APIs, at versions the broker serves. */
export function seeds(rng: Rng, versions: Map<number, number>): Seed[] {
  const v = (key: number, want: number) => Math.min(want, versions.get(key) ?? want);
  const out: Seed[] = [];
  const add = (name: string, key: number, want: number, body: unknown) => {
    if (!versions.has(key)) return;
    out.push({ name, frame: encodeFrame(key, v(key, want), 1, body) });
  };
  for (const topic of FUZZ_TOPICS) {
    for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
      const records = batch(codec, rng);
      const frame = encodeFrame(ApiKey.Produce, v(ApiKey.Produce, 9), 1, {
        transactionalId: null,
        acks: rng.pick([1, -1, 1]),
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      });
      out.push({ name: `produce-${topic}-${codec}`, frame, batchAt: frame.indexOf(records), batchSize: records.length });
    }
    add(`fetch-${topic}`, ApiKey.Fetch, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 18, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    add(`list-offsets-${topic}`, ApiKey.ListOffsets, 7, {
      replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
    });
    add(`delete-records-${topic}`, ApiKey.DeleteRecords, 2, { topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 0 }] }], timeoutMs: 1000 });
  }
  add('api-versions', ApiKey.ApiVersions, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' });
  add('metadata', ApiKey.Metadata, 12, { topics: FUZZ_TOPICS.map((name) => ({ name })), allowAutoTopicCreation: false });
  add('metadata-all', ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: true });
  add('create-topics', ApiKey.CreateTopics, 7, {
    topics: [{ name: 'fuzz-ct', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '3600000' }] }],
    timeoutMs: 10000, validateOnly: true,
  });
  add('create-partitions', ApiKey.CreatePartitions, 3, { topics: [{ name: 'fuzz-plain', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true });
  add('delete-topics', ApiKey.DeleteTopics, 6, { topicNames: ['fuzz-gone'], topics: [{ name: 'fuzz-gone', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 1000 });
  add('find-coordinator', ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['fuzz-group'] });
  add('join-group', ApiKey.JoinGroup, 7, {
    groupId: 'fuzz-group', sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId: '', groupInstanceId: null,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('0000000000010003666f6f00000000', 'hex') }], reason: null,
  });
  add('sync-group', ApiKey.SyncGroup, 5, { groupId: 'fuzz-group', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
  add('heartbeat', ApiKey.Heartbeat, 4, { groupId: 'fuzz-group', generationId: 1, memberId: 'm', groupInstanceId: null });
  add('offset-commit', ApiKey.OffsetCommit, 8, {
    groupId: 'fuzz-group', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: 'fuzz-plain', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
  });
  add('offset-fetch', ApiKey.OffsetFetch, 8, { groups: [{ groupId: 'fuzz-group', topics: null }], requireStable: false });
  add('describe-groups', ApiKey.DescribeGroups, 5, { groups: ['fuzz-group'], includeAuthorizedOperations: false });
  add('list-groups', ApiKey.ListGroups, 4, { statesFilter: [] });
  add('describe-configs', ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 'fuzz-plain', configurationKeys: null }], includeSynonyms: true, includeDocumentation: false });
  add('init-producer-id', ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
  add('describe-cluster', ApiKey.DescribeCluster, 0, { includeClusterAuthorizedOperations: false });
  add('describe-log-dirs', ApiKey.DescribeLogDirs, 4, { topics: null });
  add('consumer-group-heartbeat', ApiKey.ConsumerGroupHeartbeat, 0, {
    groupId: 'fuzz-cg', memberId: 'AAAAAAAAAAAAAAAAAAAAAA', memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['fuzz-plain'], topicPartitions: [],
  });
  return out;
}

const INTERESTING32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x7ffffffe, 0xffff, 0x10000, 1000000];

/** One mutated copy of a seed. */
export function mutate(seed: Seed, rng: Rng): Buffer {
  const f = Buffer.from(seed.frame);
  // Mutate inside the record batch and fix its CRC, so the record checks are what rejects it.
  if (seed.batchAt !== undefined && seed.batchAt >= 0 && rng.next() < 0.5) {
    const start = seed.batchAt;
    const recordsStart = start + RECORDS;
    const end = start + seed.batchSize!;
    const edits = 1 + rng.int(4);
    for (let i = 0; i < edits; i++) {
      const choice = rng.int(4);
      if (choice === 0) {
        // header fields covered by the CRC: attributes .. recordCount
        const at = start + 21 + rng.int(40);
        f[at] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
      } else if (choice === 1 && end - recordsStart >= 4) {
        const at = recordsStart + rng.int(end - recordsStart - 3);
        f.writeInt32BE(rng.pick(INTERESTING32) | 0, at);
      } else if (end > recordsStart) {
        f[recordsStart + rng.int(end - recordsStart)]! ^= 1 << rng.int(8);
      }
    }
    if (rng.next() < 0.3) f.writeInt32BE(rng.pick([0x7fffffff, 2, 0, -1, 1000]), start + 57); // recordCount
    writeBatchCrc(f, start);
    return f;
  }
  const edits = 1 + rng.int(3);
  let out = f;
  for (let i = 0; i < edits; i++) {
    const choice = rng.int(6);
    if (out.length <= 8) break;
    const at = 4 + rng.int(out.length - 4);
    if (choice === 0) out[at]! ^= 1 << rng.int(8);
    else if (choice === 1) out[at] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01]);
    else if (choice === 2 && at + 4 <= out.length) out.writeInt32BE(rng.pick(INTERESTING32) | 0, at);
    else if (choice === 3 && at + 2 <= out.length) out.writeInt16BE(rng.pick([0, -1, 0x7fff, -0x8000, 1]), at);
    else if (choice === 4) out = out.subarray(0, at); // truncated body
    else {
      // splice a random slice of itself
      const from = 4 + rng.int(out.length - 4);
      const len = Math.min(rng.int(32), out.length - from);
      out = Buffer.concat([out.subarray(0, at), out.subarray(from, from + len), out.subarray(at)]);
    }
  }
  // Keep the size prefix right most of the time; sometimes leave it lying.
  if (rng.next() < 0.9) out.writeInt32BE(out.length - 4, 0);
  return out;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** ApiVersions + Metadata on a fresh connection; returns the latency in ms or throws. */
export async function liveness(port: number, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  const c = await withTimeout(RawClient.open(port), timeoutMs, 'connect');
  try {
    c.request(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'liveness', clientSoftwareVersion: '1' });
    const a = await withTimeout(c.response(ApiKey.ApiVersions, 3), timeoutMs, 'ApiVersions');
    if (a?.body.errorCode !== 0) throw new Error('ApiVersions failed');
    c.request(ApiKey.Metadata, 9, 2, { topics: null, allowAutoTopicCreation: false });
    const m = await withTimeout(c.response(ApiKey.Metadata, 9), timeoutMs, 'Metadata');
    if (!m) throw new Error('Metadata failed');
    return Date.now() - started;
  } finally {
    c.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

export async function brokerVersions(port: number): Promise<Map<number, number>> {
  const c = await RawClient.open(port);
  try {
    c.request(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' });
    const res = await c.response(ApiKey.ApiVersions, 3);
    const out = new Map<number, number>();
    for (const k of res!.body.apiKeys) out.set(k.apiKey, Math.min(k.maxVersion, apiSpecs.get(k.apiKey)?.maxVersion ?? k.maxVersion));
    return out;
  } finally {
    c.close();
  }
}

export interface FuzzOptions {
  port: number;
  pid: number;
  frames: number;
  connections: number;
  /** Frames between liveness checks. */
  roundFrames: number;
  seed: number;
  /** A frame that gets neither an answer nor a close within this is dropped (the connection is closed). */
  frameTimeoutMs: number;
  isAlive: () => boolean;
  log?: (line: string) => void;
  /** Stop early (wall-clock budget). */
  deadline?: number;
}

export interface FuzzReport {
  frames: number;
  connections: number;
  answered: number;
  closedByBroker: number;
  unanswered: number;
  crashes: number;
  hangs: number;
  rounds: number;
  maxLivenessMs: number;
  rssBaseline: number;
  rssPeak: number;
  elapsedMs: number;
}

/** One worker connection: sends frames one at a time, waiting for an answer or a close. */
class Sender {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = true;
  constructor(private readonly port: number) {}

  async ensure(report: FuzzReport): Promise<void> {
    if (!this.closed && this.socket) return;
    const s = connect({ host: '127.0.0.1', port: this.port });
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    report.connections++;
    this.socket = s;
    this.closed = false;
    this.buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake?.();
    });
    s.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    s.on('error', () => {});
  }

  /** 'answer' | 'closed' | 'timeout' */
  async send(frame: Buffer, timeoutMs: number): Promise<'answer' | 'closed' | 'timeout'> {
    this.buf = Buffer.alloc(0);
    this.socket!.write(frame);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) return 'answer';
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) {
        this.close();
        return 'timeout';
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.wake = () => {
          clearTimeout(t);
          res();
        };
      });
      this.wake = undefined;
    }
  }

  close(): void {
    this.socket?.destroy();
    this.closed = true;
  }
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const rng = new Rng(opts.seed);
  const versions = await brokerVersions(opts.port);
  const pool = seeds(rng, versions);
  const report: FuzzReport = {
    frames: 0, connections: 0, answered: 0, closedByBroker: 0, unanswered: 0, crashes: 0, hangs: 0, rounds: 0,
    maxLivenessMs: 0, rssBaseline: rssOf(opts.pid), rssPeak: 0, elapsedMs: 0,
  };
  const started = Date.now();
  const senders = Array.from({ length: opts.connections }, () => new Sender(opts.port));
  let sent = 0;
  while (sent < opts.frames) {
    if (opts.deadline && Date.now() > opts.deadline) break;
    const roundEnd = Math.min(opts.frames, sent + opts.roundFrames);
    await Promise.all(
      senders.map(async (s) => {
        while (sent < roundEnd) {
          sent++;
          const seed = rng.pick(pool);
          // One frame in eight goes unmutated, so the broker also keeps doing real work.
          const frame = rng.int(8) === 0 ? seed.frame : mutate(seed, rng);
          try {
            await s.ensure(report);
          } catch {
            return; // connection refused: the liveness check below tells a crash
          }
          report.frames++;
          const r = await s.send(frame, opts.frameTimeoutMs);
          if (r === 'answer') report.answered++;
          else if (r === 'closed') report.closedByBroker++;
          else report.unanswered++;
          // Connection churn: sometimes start over on a fresh connection.
          if (rng.int(50) === 0) s.close();
        }
      }),
    );
    report.rounds++;
    report.rssPeak = Math.max(report.rssPeak, rssOf(opts.pid));
    if (!opts.isAlive()) {
      report.crashes++;
      opts.log?.(`broker died after ${report.frames} frames`);
      break;
    }
    try {
      report.maxLivenessMs = Math.max(report.maxLivenessMs, await liveness(opts.port));
    } catch (err) {
      report.hangs++;
      opts.log?.(`liveness failed after ${report.frames} frames: ${(err as Error).message}`);
      break;
    }
    if (report.rounds % 20 === 0) {
      opts.log?.(`${report.frames} frames, ${report.connections} connections, RSS ${(rssOf(opts.pid) / 1048576).toFixed(0)} MB, max liveness ${report.maxLivenessMs} ms`);
    }
  }
  for (const s of senders) s.close();
  report.elapsedMs = Date.now() - started;
  return report;
}
