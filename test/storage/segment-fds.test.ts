// fjord.log.max.open.segment.files (issue #18): a broker with many partitions and segments holds
// a bounded number of open segment files. A real broker in this process (so /proc/self/fd is the
// broker's), kafkajs producing and kcat consuming over TCP; the fd table is sampled throughout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { openFds } from './helpers.js';

const { Kafka, logLevel } = kafkajs;

const BOUND = 32;
const PARTITIONS = 200;
const ROUNDS = 5;
const PER_ROUND = 4;
const TOPIC = 'many-fds';
/** Segment files open beyond the bound: a produce request's partitions until their fsync, reads in flight. */
const LOG_SLACK = 8;
/** Other fds (client sockets, kcat's pipes, index and checkpoint files being written). */
const OTHER_SLACK = 48;

/** Open fds of this process: all of them, and the segment log files under dataDir. */
function countFds(dataDir: string): { total: number; logs: number } {
  const { total, segmentFiles } = openFds(dataDir);
  return { total, logs: segmentFiles.length };
}

/** Samples the fd table every few ms until stop(); returns the maxima. */
function sampler(dataDir: string, baseline: number): { stop(): { total: number; logs: number } } {
  const max = { total: 0, logs: 0 };
  const take = (): void => {
    const c = countFds(dataDir);
    max.total = Math.max(max.total, c.total - baseline);
    max.logs = Math.max(max.logs, c.logs);
  };
  take();
  const t = setInterval(take, 5);
  return {
    stop() {
      clearInterval(t);
      take();
      return { ...max };
    },
  };
}

function value(p: number, seq: number): string {
  return `${p}:${seq}:`.padEnd(300, 'x');
}

/** kcat reads the whole topic to its end (a child process: the broker in this process keeps serving). */
function kcatAll(bootstrap: string): Promise<Map<number, { offset: number; value: string }[]>> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-C', '-b', bootstrap, '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${err}`));
      const byPartition = new Map<number, { offset: number; value: string }[]>();
      for (const line of out.split('\n')) {
        if (!line) continue;
        const [p, o, v] = line.split(' ');
        const list = byPartition.get(Number(p)) ?? [];
        list.push({ offset: Number(o), value: v! });
        byPartition.set(Number(p), list);
      }
      resolve(byPartition);
    });
  });
}

function checkAll(byPartition: Map<number, { offset: number; value: string }[]>, perPartition: number): void {
  for (let p = 0; p < PARTITIONS; p++) {
    const got = byPartition.get(p) ?? [];
    assert.equal(got.length, perPartition, `partition ${p}: ${got.length} records`);
    for (let i = 0; i < got.length; i++) {
      assert.equal(got[i]!.offset, i, `partition ${p} offset`);
      assert.equal(got[i]!.value, value(p, i), `partition ${p} record ${i}`);
    }
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe(`fjord.log.max.open.segment.files=${BOUND}, ${PARTITIONS} partitions with several segments each`, () => {
  const config = { 'fjord.log.max.open.segment.files': String(BOUND) };
  let broker: TestBroker | undefined;
  let dataDir = '';
  after(async () => broker?.dispose());

  const perPartition = ROUNDS * PER_ROUND + 1;

  it('produce to and consume every partition: segment fds stay within the bound, records come back in order', async (t) => {
    const baseline = readdirSync('/proc/self/fd').length;
    broker = await startTestBroker(config);
    dataDir = broker.dataDir;
    const kafka = new Kafka({ clientId: 'fds', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: TOPIC, numPartitions: PARTITIONS, configEntries: [{ name: 'segment.bytes', value: '2048' }] }],
      timeout: 60_000,
    });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();

    // Each request covers a few partitions: until the group commit's fsync, the segments a
    // request wrote must stay open (their data is not yet fsynced).
    const s1 = sampler(dataDir, baseline);
    const seq = new Array<number>(PARTITIONS).fill(0);
    for (let r = 0; r < ROUNDS; r++) {
      for (let p0 = 0; p0 < PARTITIONS; p0 += 4) {
        const messages = [];
        for (let p = p0; p < p0 + 4; p++) for (let k = 0; k < PER_ROUND; k++) messages.push({ partition: p, value: value(p, seq[p]!++) });
        await producer.send({ topic: TOPIC, acks: -1, messages });
      }
    }
    const produced = s1.stop();

    // One request to every partition: all of them are open until fsynced, then closed down to the bound.
    await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: value(p, seq[p]!++) })) });
    await producer.disconnect();
    const settled = await waitFor(() => countFds(dataDir).logs <= BOUND, 5000);

    const s2 = sampler(dataDir, baseline);
    const byPartition = await kcatAll(broker.bootstrap);
    const consumed = s2.stop();
    checkAll(byPartition, perPartition);

    const segments = readdirSync(dataDir)
      .filter((d) => d.startsWith(`${TOPIC}-`))
      .reduce((n, d) => n + readdirSync(`${dataDir}/${d}`).filter((f) => f.endsWith('.log')).length, 0);
    const info = `segments ${segments}; max segment fds produce ${produced.logs} consume ${consumed.logs}; max fds over baseline produce ${produced.total} consume ${consumed.total}`;
    t.diagnostic(info);
    assert.ok(segments > 3 * PARTITIONS, `several segments per partition (${info})`);
    assert.ok(produced.logs <= BOUND + LOG_SLACK, info);
    assert.ok(consumed.logs <= BOUND + LOG_SLACK, info);
    assert.ok(produced.total <= BOUND + LOG_SLACK + OTHER_SLACK, info);
    assert.ok(consumed.total <= BOUND + LOG_SLACK + OTHER_SLACK, info);
    assert.ok(settled, `after the ${PARTITIONS}-partition request was fsynced, segment fds went back to the bound (${countFds(dataDir).logs})`);
  });

  it('a restart on the same data dir opens no segment fds beyond the bound, and all data is readable', async (t) => {
    assert.ok(broker, 'the first test ran');
    await broker.close();
    const baseline = readdirSync('/proc/self/fd').length;
    const s = sampler(dataDir, baseline);
    broker = await startTestBroker(config, dataDir);
    const started = s.stop();
    const s2 = sampler(dataDir, baseline);
    const byPartition = await kcatAll(broker.bootstrap);
    const consumed = s2.stop();
    checkAll(byPartition, perPartition);
    const info = `start-up: max segment fds ${started.logs}, fds over baseline ${started.total}; consume: ${consumed.logs}, ${consumed.total}`;
    t.diagnostic(info);
    assert.ok(started.logs <= BOUND, info);
    assert.ok(consumed.logs <= BOUND + LOG_SLACK, info);
    assert.ok(consumed.total <= BOUND + LOG_SLACK + OTHER_SLACK, info);
  });
});
