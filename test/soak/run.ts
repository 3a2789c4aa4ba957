// `npm run soak -- --minutes N`: mixed load against an in-process broker for N minutes —
// produce to plain, compacted and zstd topics, fetches, consumer-group churn (JoinGroup /
// LeaveGroup), topic create/delete and connection churn — sampling RSS, V8 heap, external
// memory, open fds and event-loop delay once a minute. (The load generator shares the process,
// so the figures include it; it keeps no state between iterations.)
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startBroker } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { Compression } from '../../src/protocol/records/layout.js';
import { tempDir } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, 'sample-seconds': { type: 'string', default: '60' } } });
const minutes = Number(values.minutes);
const sampleMs = Number(values['sample-seconds']) * 1000;
const dataDir = await tempDir('fjord-soak-');
const broker = await startBroker({ dataDir, port: 0, config: { 'log.segment.bytes': '1048576', 'log.retention.bytes': '4194304', 'log.retention.check.interval.ms': '5000' } });
const port = broker.port;
const topics = [
  { name: 'soak-plain', configs: [] },
  { name: 'soak-compact', configs: [{ name: 'cleanup.policy', value: 'compact' }] },
  { name: 'soak-zstd', configs: [{ name: 'compression.type', value: 'zstd' }] },
];
let cid = 1;
async function call(c: RawClient, key: number, version: number, body: unknown): Promise<any> {
  c.request(key, version, cid++, body);
  const r = await c.response(key, version);
  if (!r) throw new Error(`connection closed on api ${key}`);
  return r.body;
}
{
  const c = await RawClient.open(port);
  await call(c, ApiKey.CreateTopics, 7, { topics: topics.map((t) => ({ name: t.name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: t.configs })), timeoutMs: 10000, validateOnly: false });
  c.close();
}

const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
const mb = (n: number) => (n / 1048576).toFixed(1);
const counts = { produced: 0, fetched: 0, groups: 0, topics: 0, connections: 0, errors: 0 };
const samples: string[] = [];
function sample(label: string): void {
  const m = process.memoryUsage();
  const fds = readdirSync('/proc/self/fd').length;
  const line = `${label.padEnd(6)} rss ${mb(m.rss).padStart(6)} MB · heap ${mb(m.heapUsed).padStart(6)} MB · external ${mb(m.external).padStart(6)} MB · fds ${String(fds).padStart(4)} · loop delay p99 ${(eld.percentile(99) / 1e6).toFixed(1)} ms max ${(eld.max / 1e6).toFixed(1)} ms · produced ${counts.produced} fetched ${counts.fetched} groups ${counts.groups} topics ${counts.topics} conns ${counts.connections} errors ${counts.errors}`;
  samples.push(line);
  process.stdout.write(`[soak] ${line}\n`);
  eld.reset();
}

const end = Date.now() + minutes * 60_000;
async function producer(codec: Compression): Promise<void> {
  const c = await RawClient.open(port);
  counts.connections++;
  let i = 0;
  while (Date.now() < end) {
    const t = topics[i % topics.length]!;
    const records = await buildBatch({ records: Array.from({ length: 20 }, (_, j) => ({ key: `k${j % 7}`, value: `value-${i}-${j}-`.padEnd(200, 'x') })), compression: codec });
    const body = await call(c, ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: t.name, partitionData: [{ index: i % 3, records }] }] });
    if (body.responses[0].partitionResponses[0].errorCode !== 0) counts.errors++;
    else counts.produced += 20;
    i++;
  }
  c.close();
}
async function fetcher(): Promise<void> {
  const c = await RawClient.open(port);
  counts.connections++;
  let i = 0;
  while (Date.now() < end) {
    const t = topics[i % topics.length]!;
    const body = await call(c, ApiKey.Fetch, 11, {
      replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: t.name, partitions: [{ partition: i % 3, fetchOffset: 0, partitionMaxBytes: 1 << 18, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = body.responses[0]?.partitions[0];
    if (p && p.errorCode !== 0 && p.errorCode !== 1) counts.errors++;
    counts.fetched++;
    i++;
  }
  c.close();
}
async function churn(): Promise<void> {
  let i = 0;
  while (Date.now() < end) {
    // a fresh connection per round (connection churn)
    const c = await RawClient.open(port);
    counts.connections++;
    try {
      const group = `soak-group-${i % 5}`;
      const join = await call(c, ApiKey.JoinGroup, 7, {
        groupId: group, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId: '', groupInstanceId: null,
        protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null,
      });
      let memberId = join.memberId;
      if (join.errorCode === 79) {
        const again = await call(c, ApiKey.JoinGroup, 7, {
          groupId: group, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId, groupInstanceId: null,
          protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null,
        });
        memberId = again.memberId;
      }
      await call(c, ApiKey.LeaveGroup, 5, { groupId: group, members: [{ memberId, groupInstanceId: null, reason: null }] });
      counts.groups++;
      const name = `soak-tmp-${i}`;
      const ct = await call(c, ApiKey.CreateTopics, 7, { topics: [{ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
      if (ct.topics[0].errorCode !== 0) counts.errors++;
      const dt = await call(c, ApiKey.DeleteTopics, 6, { topics: [{ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 5000 });
      if (dt.responses[0].errorCode !== 0) counts.errors++;
      counts.topics++;
    } catch {
      counts.errors++;
    } finally {
      c.close();
    }
    i++;
  }
}

process.stdout.write(`[soak] ${minutes} min against ${broker.bootstrap}, data in ${dataDir}\n`);
sample('start');
const timer = setInterval(() => sample(`${Math.round((Date.now() - (end - minutes * 60_000)) / 60_000)}m`), sampleMs);
await Promise.all([producer(Compression.None), producer(Compression.Lz4), producer(Compression.Zstd), fetcher(), fetcher(), churn()]);
clearInterval(timer);
sample('end');
await broker.close();
await rm(dataDir, { recursive: true, force: true });
