// Shared by the fuzz test and `npm run fuzz`: a broker child process with the fuzz topics,
// and the end-of-run checks (every partition readable to its end by kcat, RSS after idle).
import { rm } from 'node:fs/promises';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { freePort, spawnBroker, tempDir, waitFor, type ChildBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { runChild } from '../e2e/run-child.js';
import { FUZZ_TOPICS, FUZZ_TOPIC_CONFIGS, rssOf } from './fuzzer.js';

export interface FuzzTarget {
  broker: ChildBroker;
  dataDir: string;
  alive: () => boolean;
  /** Stops the broker (SIGTERM) and starts a fresh one on the same data dir and port. */
  restart(): Promise<void>;
  /** Stops the broker and removes the data dir (kept when `keepData`, for inspection). */
  dispose(keepData?: boolean): Promise<void>;
}

export async function startFuzzTarget(config: Record<string, string> = {}): Promise<FuzzTarget> {
  const dataDir = await tempDir('fjord-fuzz-');
  const broker = await spawnBroker(dataDir, await freePort(), config);
  let dead = false;
  void broker.exited.then(() => (dead = true));
  const c = await RawClient.open(broker.port);
  try {
    c.request(ApiKey.CreateTopics, 7, 1, {
      topics: FUZZ_TOPICS.map((name) => ({
        name, numPartitions: 1, replicationFactor: 1, assignments: [],
        configs: Object.entries(FUZZ_TOPIC_CONFIGS[name]!).map(([k, v]) => ({ name: k, value: v })),
      })),
      timeoutMs: 10000, validateOnly: false,
    });
    const res = await c.response(ApiKey.CreateTopics, 7);
    for (const t of res!.body.topics) if (t.errorCode !== 0) throw new Error(`create ${t.name}: ${t.errorMessage}`);
  } finally {
    c.close();
  }
  const target: FuzzTarget = {
    broker,
    dataDir,
    alive: () => !dead && target.broker.child.exitCode === null,
    async restart() {
      await stopChild(target.broker);
      target.broker = await spawnBroker(dataDir, target.broker.port, config);
      dead = false;
      const b = target.broker;
      void b.exited.then(() => {
        if (target.broker === b) dead = true;
      });
    },
    async dispose(keepData = false) {
      if (!dead) await stopChild(target.broker);
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return target;
}

async function stopChild(broker: ChildBroker): Promise<void> {
  broker.child.kill('SIGTERM');
  await Promise.race([broker.exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (broker.child.exitCode === null && broker.child.signalCode === null) {
    broker.child.kill('SIGKILL');
    await broker.exited;
  }
}

async function offsets(port: number, topic: string): Promise<{ earliest: number; latest: number }> {
  const c = await RawClient.open(port);
  try {
    const get = async (timestamp: number) => {
      c.request(ApiKey.ListOffsets, 7, 1, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] });
      const r = await c.response(ApiKey.ListOffsets, 7);
      return Number(r!.body.topics[0].partitions[0].offset);
    };
    return { earliest: await get(-2), latest: await get(-1) };
  } finally {
    c.close();
  }
}

export interface ReadCheck {
  topic: string;
  earliest: number;
  latest: number;
  kcatRecords: number;
  ok: boolean;
  detail: string;
}

/** kcat reads each fuzz partition from its start to its end. */
export async function kcatReadsToEnd(target: FuzzTarget): Promise<ReadCheck[]> {
  const out: ReadCheck[] = [];
  for (const topic of FUZZ_TOPICS) {
    const { earliest, latest } = await offsets(target.broker.port, topic);
    const r = await runChild('kcat', ['-b', target.broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o\n'], { timeoutMs: 60_000 });
    const lines = r.stdout.trim() ? r.stdout.trim().split('\n') : [];
    const last = lines.length ? Number(lines.at(-1)) : -1;
    const ok = !r.timedOut && r.code === 0 && (latest <= earliest || last === latest - 1);
    out.push({ topic, earliest, latest, kcatRecords: lines.length, ok, detail: ok ? '' : `kcat code ${r.code} last ${last} stderr ${r.stderr.slice(0, 300)}` });
  }
  return out;
}

/** RSS once the broker has been idle: the lowest sample over `ms`. */
export async function idleRss(pid: number, ms = 5000): Promise<number> {
  let low = Infinity;
  const end = Date.now() + ms;
  await waitFor(async () => {
    low = Math.min(low, rssOf(pid));
    await new Promise((r) => setTimeout(r, 250));
    return Date.now() >= end;
  }, ms + 5000, 'idle RSS');
  return low;
}
