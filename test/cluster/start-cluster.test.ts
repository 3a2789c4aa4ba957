// startCluster (public API), `fjord dev --brokers N`, `fjord cluster info`, `fjord topic describe`
// against etcd + real broker processes on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startCluster, type RunningCluster } from '../../src/index.js';
import { fjordCommand, repoRoot, tempDir, until } from '../helpers/broker.js';
import { describeChild, runChild } from '../e2e/run-child.js';



function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function fjord(args: string[]): Promise<string> {
  const { cmd, args: base } = fjordCommand();
  const r = await runChild(cmd, [...base, ...args], { timeoutMs: 30_000, cwd: repoRoot });
  assert.equal(r.code, 0, describeChild(r));
  return r.stdout;
}

it('startCluster names the Debian package when etcd is not on PATH', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(startCluster({ brokers: 1 }), /etcd.*not found on PATH.*etcd-server/s);
  } finally {
    process.env.PATH = saved;
  }
});

describe('startCluster with 3 brokers', () => {
  let cluster: RunningCluster;
  let admin: Admin;
  /** Broker ids in Metadata, asked of one broker that is not `victim` (a paused one would not answer). */
  const brokerIds = async (victim?: number) => {
    const via = cluster.brokers.find((b) => b.running && b.nodeId !== victim)!;
    const md = new PlatformaticAdmin({ clientId: 'start-cluster-test', bootstrapBrokers: [`127.0.0.1:${via.port}`], retries: 0, timeout: 3000 });
    try {
      return [...(await md.metadata({ topics: [], forceUpdate: true })).brokers.keys()].sort();
    } finally {
      await md.close().catch(() => {});
    }
  };
  /** Leaders of the topic's partitions, asked of one broker that is not `victim`. */
  const leaders = async (topic: string, victim?: number) => {
    const via = cluster.brokers.find((b) => b.running && b.nodeId !== victim)!;
    const md = new PlatformaticAdmin({ clientId: 'start-cluster-test', bootstrapBrokers: [`127.0.0.1:${via.port}`], retries: 0, timeout: 3000 });
    try {
      return (await md.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)!.partitions.map((p) => p.leader);
    } finally {
      await md.close().catch(() => {});
    }
  };

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      faultProxies: true,
      config: { 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '750', 'replica.lag.time.max.ms': '5000' },
    });
    const kafka = new Kafka({ clientId: 'start-cluster-test', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect().catch(() => {});
    const dir = cluster?.dataDir;
    await cluster?.stop();
    if (dir) assert.equal(existsSync(dir), false, 'stop() removed the temp data dir');
  });

  it('registers every broker and elects a controller; cluster info and topic describe show them', async () => {
    assert.deepEqual(await brokerIds(), [1, 2, 3]);
    assert.equal(cluster.bootstrapServers.length, 3);
    const info = JSON.parse(await fjord(['cluster', 'info', '--json', '-b', cluster.bootstrapServers[0]!]));
    assert.deepEqual(info.brokers.map((b: { id: number }) => b.id), [1, 2, 3]);
    assert.ok([1, 2, 3].includes(info.controllerId), `controller ${info.controllerId}`);
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'described', numPartitions: 3, replicationFactor: 3 }] });
    const topic = await until('full ISR on every partition', 20_000, async () => {
      const t = JSON.parse(await fjord(['topic', 'describe', 'described', '--json', '-b', cluster.bootstrap]));
      return t.partitions.every((p: { isr: number[] }) => p.isr.length === 3) ? t : undefined;
    });
    assert.equal(topic.replicationFactor, 3);
    for (const p of topic.partitions) assert.deepEqual([...p.replicas].sort(), [1, 2, 3]);
    const text = await fjord(['cluster', 'info', '-b', cluster.bootstrap]);
    assert.match(text, /0 under-replicated, 0 offline/);
  });

  it('kill -9 of a broker shows as under-replicated until it is restarted', async () => {
    const victim = cluster.broker(2);
    await victim.kill();
    assert.equal(victim.running, false);
    await until('broker 2 gone from Metadata', 20_000, async () => ((await brokerIds()).includes(2) ? undefined : true));
    // The controller moves leadership off the dead broker; the ISR shrinks.
    await until('under-replicated but no offline partitions', 20_000, async () => {
      const i = JSON.parse(await fjord(['cluster', 'info', '--json', '-b', cluster.bootstrapServers[0]!]));
      return i.underReplicated.length > 0 && i.offline.length === 0 ? i : undefined;
    });
    await victim.restart();
    await cluster.waitForBrokers(3);
    await until('ISR whole again', 30_000, async () => {
      const i = JSON.parse(await fjord(['cluster', 'info', '--json', '-b', cluster.bootstrapServers[0]!]));
      return i.underReplicated.length === 0 ? true : undefined;
    });
  });

  it('a paused broker loses its registration and gets it back when resumed', async () => {
    const victim = cluster.broker(3);
    victim.pause();
    try {
      await until('paused broker 3 gone from Metadata', 20_000, async () => ((await brokerIds(3)).includes(3) ? undefined : true));
    } finally {
      victim.resume();
    }
    await until('broker 3 back', 20_000, async () => ((await brokerIds()).includes(3) ? true : undefined));
  });

  it('isolate() cuts a broker off from etcd and the others; heal() brings it back', async () => {
    const victim = cluster.broker(1);
    victim.isolate({ clients: false });
    try {
      await until('isolated broker 1 gone from Metadata', 20_000, async () => ((await brokerIds(1)).includes(1) ? undefined : true));
      await until('leadership moved off broker 1', 20_000, async () => ((await leaders('described', 1)).includes(1) ? undefined : true));
      const producer = new Kafka({ clientId: 'isolate-test', brokers: cluster.bootstrapServers.slice(1), logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({ topic: 'described', acks: -1, messages: [0, 1, 2].map((p) => ({ value: `while-isolated-${p}`, partition: p })) });
      await producer.disconnect();
    } finally {
      victim.heal();
    }
    await until('broker 1 back', 20_000, async () => ((await brokerIds()).includes(1) ? true : undefined));
  });

  it('stopEtcd/startEtcd: the brokers come back to a restarted etcd', async () => {
    await cluster.stopEtcd({ kill: true });
    await cluster.startEtcd();
    await cluster.waitForBrokers(3, 30_000);
    const producer = new Kafka({ clientId: 'etcd-restart-test', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'described', acks: -1, messages: [{ value: 'after-etcd-restart' }] });
    await producer.disconnect();
  });
});

it('fjord dev --brokers 3 runs etcd and three brokers until SIGTERM', { timeout: 120_000 }, async () => {
  const dir = await tempDir('fjord-dev-cluster-');
  // Brokers on basePort..+2, etcd client and peer on +3 and +4.
  const basePort = await freePortRange(5);
  const etcdPort = basePort + 3;
  const { cmd, args } = fjordCommand();
  const child = spawn(cmd, [...args, 'dev', '--brokers', '3', '--port', String(basePort), '--etcd-port', String(etcdPort), '--data-dir', dir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await until('fjord dev --brokers ready', 60_000, async () => {
      assert.equal(child.exitCode, null, out);
      return out.includes('bootstrap servers') ? true : undefined;
    });
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${basePort},127\\.0\\.0\\.1:${basePort + 1},127\\.0\\.0\\.1:${basePort + 2}`));
    const md = await runChild('kcat', ['-L', '-b', `127.0.0.1:${basePort}`, '-J'], { timeoutMs: 20_000 });
    assert.equal(md.code, 0, describeChild(md));
    assert.equal(JSON.parse(md.stdout).brokers.length, 3);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    for (let i = 0; i < 3; i++) assert.equal(await portOpen(basePort + i), false, `broker port ${basePort + i} closed`);
    assert.equal(await portOpen(etcdPort), false, 'etcd stopped');
  } finally {
    child.kill('SIGKILL');
  }
});

/**
 * A port p with p..p+count-1 free (the dev cluster takes consecutive ports), below the kernel's
 * ephemeral range: a port inside it can be taken by any outgoing connection (etcd's, a broker's)
 * between this check and the bind (seen in CI: EADDRINUSE on broker 2's port).
 */
async function freePortRange(count: number): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {}
  // An unusual system whose ephemeral range starts low: fall back to the range below 50000.
  if (!(low > 21000)) low = 50000;
  const from = 20000;
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = from + Math.floor(Math.random() * (low - from - count));
    const open = await Promise.all(Array.from({ length: count }, (_, i) => portOpen(p + i)));
    if (!open.some(Boolean)) return p;
  }
  throw new Error('no free port range');
}
