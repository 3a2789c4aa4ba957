// Replication across real processes: etcd + three `fjord broker --etcd` processes on 127.0.0.1,
// a topic with RF=3 and min.insync.replicas=2, brokers killed with kill -9 while an idempotent
// acks=all kafkajs producer keeps writing. Every acknowledged record must be readable afterwards.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { freePort, startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { fjordCommand, portOpen, repoRoot, tempDir } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface BrokerProcess {
  nodeId: number;
  port: number;
  dataDir: string;
  child?: ChildProcess;
  output: string;
}

class ProcessCluster {
  etcd!: EtcdProcess;
  readonly brokers = new Map<number, BrokerProcess>();

  async start(ids: number[]): Promise<void> {
    this.etcd = await startEtcd();
    for (const id of ids) this.brokers.set(id, { nodeId: id, port: await freePort(), dataDir: await tempDir(`fjord-etcd-repl-${id}-`), output: '' });
    await Promise.all(ids.map((id) => this.launch(id)));
  }

  async launch(id: number): Promise<void> {
    const b = this.brokers.get(id)!;
    const { cmd, args } = fjordCommand();
    const config = {
      'replica.lag.time.max.ms': '2000',
      'replica.fetch.wait.max.ms': '200',
      'replica.fetch.backoff.ms': '100',
      'broker.session.timeout.ms': '3000',
      'broker.heartbeat.interval.ms': '500',
      'offsets.topic.replication.factor': '3',
      'offsets.topic.num.partitions': '1',
    };
    const child = spawn(
      cmd,
      [
        ...args,
        'broker',
        '--node-id', String(id),
        '--listen', `127.0.0.1:${b.port}`,
        '--data-dir', b.dataDir,
        '--etcd', this.etcd.endpoint,
        ...Object.entries(config).flatMap(([k, v]) => ['--config', `${k}=${v}`]),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    b.child = child;
    child.stdout!.on('data', (d) => (b.output += d));
    child.stderr!.on('data', (d) => (b.output += d));
    await waitFor(`broker ${id} listening`, async () => {
      if (child.exitCode !== null) throw new Error(`broker ${id} exited: ${b.output}`);
      return portOpen(b.port);
    });
  }

  /** kill -9 and wait for the exit. */
  async kill(id: number): Promise<void> {
    const child = this.brokers.get(id)!.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  bootstrap(): string[] {
    return [...this.brokers.values()].map((b) => `127.0.0.1:${b.port}`);
  }

  async close(): Promise<void> {
    for (const id of this.brokers.keys()) await this.kill(id);
    await this.etcd?.stop();
    for (const b of this.brokers.values()) await rm(b.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

describe('replication with etcd and broker processes (kill -9)', () => {
  const cluster = new ProcessCluster();
  before(async () => cluster.start([1, 2, 3]));
  after(async () => cluster.close());

  it('keeps every acknowledged record through kill -9 of a follower and of the leader, restarts and catch-up', async () => {
    const topic = 'etcd-repl';
    const kafka = new Kafka({ clientId: 'etcd-repl', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await waitFor('three live brokers', async () => (await admin.describeCluster()).brokers.length === 3);
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const isrOf = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions[0]!;
    const meta = await waitFor('a leader', async () => {
      const p = await isrOf();
      return p.leader >= 0 ? p : undefined;
    });
    const leader = meta.leader;
    const follower = [1, 2, 3].find((id) => id !== leader)!;

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: string[] = [];
    const send = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `r${i}` }] });
        acked.push(`r${i}`);
      }
    };
    await send(0, 20);

    await cluster.kill(follower);
    // The leader shrinks the ISR by CAS in etcd; with min.insync.replicas=2 writes go on.
    await send(20, 20);
    await waitFor('ISR without the killed follower', async () => !(await isrOf()).isr.includes(follower));

    await cluster.launch(follower);
    await waitFor('the restarted follower back in the ISR', async () => (await isrOf()).isr.length === 3, 30_000);
    await send(40, 20);

    // kill -9 of the leader: once its etcd lease expires the controller elects an ISR member
    // (epoch + 1); the idempotent producer retries into the new leader without duplicates.
    const before = await isrOf();
    await cluster.kill(leader);
    const killedAt = Date.now();
    await send(60, 1);
    const failoverMs = Date.now() - killedAt;
    await send(61, 19);
    const afterKill = await isrOf();
    assert.notEqual(afterKill.leader, leader);
    assert.ok(before.isr.includes(afterKill.leader));
    console.log(`# failover: kill -9 of the leader to the first acknowledged produce: ${failoverMs} ms`);
    // The old leader comes back as a follower, truncates to the new leader's log and catches up.
    await cluster.launch(leader);
    await waitFor('the old leader back in the ISR', async () => (await isrOf()).isr.length === 3, 30_000);
    await send(80, 10);

    const consumer = kafka.consumer({ groupId: 'etcd-repl-reader', maxWaitTimeInMs: 100 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor('every acknowledged record', () => seen.length >= acked.length, 30_000);
    await consumer.disconnect();
    assert.deepEqual(seen, acked);
    await producer.disconnect();
    await admin.disconnect();
  });
});
