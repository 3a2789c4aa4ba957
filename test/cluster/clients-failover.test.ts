// Clients ride through a leader failover with nothing beyond their own retries: against etcd + 3
// broker processes (startCluster), each client produces 100 values one acknowledgement at a time
// (acks=all) to a 1-partition RF=3 topic with min.insync.replicas=2; once 30 are acknowledged the
// partition leader is killed with SIGKILL. Every send must still succeed, and reading the
// partition back (with the same client) must give every value, once, in order.
// Clients: kafkajs, @confluentinc/kafka-javascript (librdkafka), kcat, confluent-kafka-python,
// kafka-python (no idempotence there: duplicates from retries are allowed, loss and reordering not).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startCluster, type RunningCluster } from '../../src/cluster/start-cluster.js';
import { repoRoot } from '../helpers/broker.js';
import { describeChild, runChild } from '../e2e/run-child.js';

const COUNT = 100;
const KILL_AFTER = 30;
const PYTHON = '/usr/bin/python3';
const PY_SCRIPT = join(repoRoot, 'test', 'cluster', 'clients', 'ride_through.py');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/* eslint-disable @typescript-eslint/no-explicit-any */
type Ckjs = any;

describe('clients ride through a leader kill (3 brokers, RF=3, min.insync.replicas=2)', () => {
  let cluster: RunningCluster;
  let kafka: Kafka;
  let admin: Admin;

  before(async () => {
    cluster = await startCluster({ brokers: 3, config: { 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '750' } });
    kafka = new Kafka({ clientId: 'ride-admin', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect().catch(() => {});
    await cluster?.stop();
  });

  async function leaderOf(topic: string): Promise<{ leader: number; isr: number[] }> {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const p = md.topics[0]!.partitions[0]!;
    return { leader: p.partitionErrorCode === 0 ? p.leader : -1, isr: p.isr };
  }

  /** A fresh topic whose single partition has all three replicas in sync. */
  async function freshTopic(name: string): Promise<string> {
    for (const b of cluster.brokers) if (!b.running) await b.start();
    await cluster.waitForBrokers(3);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: name, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = await leaderOf(name).catch(() => undefined);
      if (state && state.leader >= 0 && state.isr.length === 3) return name;
      assert.ok(Date.now() < deadline, `topic ${name} not fully replicated: ${JSON.stringify(state)}`);
      await sleep(100);
    }
  }

  /**
   * Runs `produce`, which calls onAck(i) after each acknowledged value; kills the leader after
   * KILL_AFTER acks, and checks afterwards that leadership moved. Returns the killed node id.
   */
  async function produceAcrossKill(topic: string, produce: (onAck: (i: number) => void) => Promise<void>): Promise<number> {
    const { leader } = await leaderOf(topic);
    let acked = 0;
    let killing: Promise<void> | undefined;
    await produce(() => {
      acked++;
      if (acked === KILL_AFTER) killing = cluster.broker(leader).kill();
    });
    assert.ok(killing, `the producer reached ${KILL_AFTER} acks`);
    await killing;
    assert.equal(acked, COUNT, 'every value was acknowledged');
    const now = await leaderOf(topic);
    assert.notEqual(now.leader, leader, 'a new leader took over');
    assert.ok(now.leader >= 0);
    return leader;
  }

  function checkValues(values: string[], prefix: string, { duplicatesAllowed = false } = {}): void {
    const expected = Array.from({ length: COUNT }, (_, i) => `${prefix}-${i}`);
    const unique = values.filter((v, i) => values.indexOf(v) === i);
    if (!duplicatesAllowed) assert.equal(values.length, unique.length, `no duplicates: ${values.length - unique.length} found`);
    assert.deepEqual(unique, expected, 'every acknowledged value, once, in order');
  }

  it('kafkajs (idempotent producer)', { timeout: 120_000 }, async () => {
    const topic = await freshTopic('ride-kafkajs');
    const client = new Kafka({ clientId: 'ride-kafkajs', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await produceAcrossKill(topic, async (onAck) => {
        for (let i = 0; i < COUNT; i++) {
          await producer.send({ topic, acks: -1, messages: [{ value: `kafkajs-${i}`, partition: 0 }] });
          onAck(i);
        }
      });
    } finally {
      await producer.disconnect();
    }
    const consumer = client.consumer({ groupId: 'ride-kafkajs', maxWaitTimeInMs: 200 });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    const deadline = Date.now() + 30_000;
    while (values.length < COUNT && Date.now() < deadline) await sleep(50);
    await consumer.disconnect();
    checkValues(values, 'kafkajs');
  });

  it('@confluentinc/kafka-javascript (librdkafka, idempotent)', { timeout: 120_000 }, async () => {
    const ckjs: Ckjs = createRequire(join(repoRoot, 'test', 'clients', 'package.json'))('@confluentinc/kafka-javascript');
    const topic = await freshTopic('ride-ckjs');
    const client = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers: cluster.bootstrapServers, logLevel: ckjs.KafkaJS.logLevel.NOTHING } });
    const producer = client.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 0, 'message.timeout.ms': 60_000 });
    await producer.connect();
    try {
      await produceAcrossKill(topic, async (onAck) => {
        for (let i = 0; i < COUNT; i++) {
          await producer.send({ topic, messages: [{ value: `ckjs-${i}`, partition: 0 }] });
          onAck(i);
        }
      });
    } finally {
      await producer.disconnect();
    }
    const consumer = client.consumer({ kafkaJS: { groupId: 'ride-ckjs', fromBeginning: true }, 'fetch.wait.max.ms': 100 });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic });
    await consumer.run({ eachMessage: async ({ message }: any) => void values.push(message.value.toString()) });
    const deadline = Date.now() + 30_000;
    while (values.length < COUNT && Date.now() < deadline) await sleep(50);
    await consumer.disconnect();
    checkValues(values, 'ckjs');
  });

  it('kcat (librdkafka, idempotent)', { timeout: 150_000 }, async () => {
    const topic = await freshTopic('ride-kcat');
    // kcat -P produces what it read from stdin only at end of input, so each run sends a batch of
    // 10 and exits once all are delivered (or reports the failure); the leader dies after 3 runs.
    const BATCH = 10;
    await produceAcrossKill(topic, async (onAck) => {
      for (let first = 0; first < COUNT; first += BATCH) {
        const input = Array.from({ length: BATCH }, (_, k) => `kcat-${first + k}`).join('\n') + '\n';
        const r = await runChild(
          'kcat',
          ['-P', '-b', cluster.bootstrap, '-t', topic, '-p', '0', '-vv', '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'message.timeout.ms=60000'],
          { input, timeoutMs: 90_000 },
        );
        assert.equal(r.code, 0, describeChild(r));
        assert.doesNotMatch(r.stderr, /Delivery failed/, describeChild(r));
        assert.equal(r.stderr.match(/Message delivered/g)?.length ?? 0, BATCH, describeChild(r));
        for (let k = 0; k < BATCH; k++) onAck(first + k);
      }
    });
    const read = await runChild('kcat', ['-C', '-b', cluster.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed'], { timeoutMs: 60_000 });
    assert.equal(read.code, 0, describeChild(read));
    checkValues(read.stdout.trim().split('\n'), 'kcat');
  });

  for (const client of ['confluent', 'kafka-python'] as const) {
    it(`${client === 'confluent' ? 'confluent-kafka-python' : 'kafka-python'} (python3)`, { timeout: 150_000 }, async () => {
      assert.ok(existsSync(PYTHON), `${PYTHON} missing: run scripts/setup-test-clients.sh`);
      const topic = await freshTopic(`ride-py-${client}`);
      const prefix = `py-${client}`;
      const common = ['--client', client, '--bootstrap', cluster.bootstrap, '--topic', topic, '--count', String(COUNT), '--prefix', prefix];
      let out = '';
      let err = '';
      const child = spawn(PYTHON, [PY_SCRIPT, '--mode', 'produce', '--timeout', '90', ...common], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      try {
        await produceAcrossKill(topic, async (onAck) => {
          let seen = 0;
          child.stdout!.on('data', (d: Buffer) => {
            out += d;
            for (const m of d.toString().matchAll(/^acked (\d+)$/gm)) {
              assert.equal(Number(m[1]), seen, 'acks arrive in order');
              onAck(seen++);
            }
          });
          child.stderr!.on('data', (d: Buffer) => (err += d));
          const code = await exited;
          assert.equal(code, 0, `producer exit ${code}\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`);
        });
      } finally {
        clearTimeout(timer);
        child.kill('SIGKILL');
      }
      const read = await runChild(PYTHON, [PY_SCRIPT, '--mode', 'consume', '--timeout', '40', ...common], { timeoutMs: 60_000 });
      assert.equal(read.code, 0, describeChild(read));
      const values = JSON.parse(read.stdout.trim().split('\n').pop() ?? '[]') as string[];
      checkValues(values, prefix, { duplicatesAllowed: client === 'kafka-python' });
    });
  }
});
