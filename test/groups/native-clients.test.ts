// Classic consumer groups with librdkafka-based clients: @confluentinc/kafka-javascript (its
// KafkaJS-compatible API) and kcat's balanced consumer (-G), including resuming from the offsets
// they committed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { repoRoot, startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;
const confluent = createRequire(join(repoRoot, 'test/clients/package.json'))('@confluentinc/kafka-javascript');

const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '3',
};

function runKcat(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('classic groups with librdkafka clients', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: ReturnType<InstanceType<typeof Kafka>['admin']>;
  let producer: ReturnType<InstanceType<typeof Kafka>['producer']>;
  before(async () => {
    broker = await startTestBroker(CONFIG);
    kafka = new Kafka({ clientId: 'grp-native', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });
  after(async () => {
    await producer.disconnect();
    await admin.disconnect();
    await broker.dispose();
  });

  for (const strategy of ['range', 'cooperative-sticky']) it(`@confluentinc/kafka-javascript consumers (${strategy}) share a group and commit`, async () => {
    const topic = `ckjs-${strategy}`;
    const groupId = `ckjs-group-${strategy}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const values = Array.from({ length: 40 }, (_, i) => `c${i}`);

    const ck = new confluent.KafkaJS.Kafka({ kafkaJS: { brokers: [broker.bootstrap], logLevel: confluent.KafkaJS.logLevel.NOTHING } });
    const seen = new Map<string, number>();
    const perConsumer: Set<number>[] = [new Set(), new Set()];
    const consumers = [0, 1].map(() =>
      ck.consumer({
        kafkaJS: { groupId, fromBeginning: true, sessionTimeout: 6000, heartbeatInterval: 300 },
        'group.protocol': 'classic',
        'partition.assignment.strategy': strategy,
      }),
    );
    try {
      for (const [i, c] of consumers.entries()) {
        await c.connect();
        await c.subscribe({ topics: [topic] });
        await c.run({
          eachMessage: async ({ partition, message }: { partition: number; message: { value: Buffer } }) => {
            const v = message.value.toString();
            seen.set(v, (seen.get(v) ?? 0) + 1);
            perConsumer[i]!.add(partition);
          },
        });
      }
      await waitFor(async () => {
        const d = await admin.describeGroups([groupId]);
        const g = d.groups[0]!;
        // Cooperative rebalancing takes two rounds: wait for the final, complete assignment.
        const owned = g.members.map((m) => kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? []);
        return g.state === 'Stable' && g.members.length === 2 && owned.every((p) => p.length === 2);
      }, 30_000, 'two librdkafka members in a stable group with two partitions each');
      // Produce once the group is stable, so no record is consumed before the final assignment.
      await producer.send({ topic, messages: values.map((value, i) => ({ value, partition: i % 4 })) });
      await waitFor(() => values.every((v) => seen.has(v)), 30_000, 'all records consumed');
      const d = await admin.describeGroups([groupId]);
      assert.equal(d.groups[0]!.protocolType, 'consumer');
      assert.equal(d.groups[0]!.protocol, strategy);
      // Each member ends up owning two of the four partitions.
      const owned = d.groups[0]!.members.map((m) => kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment)!.assignment[topic] ?? []);
      assert.deepEqual(owned.map((p) => p.length), [2, 2]);
      assert.deepEqual(owned.flat().sort(), [0, 1, 2, 3]);
    } finally {
      for (const c of consumers) await c.disconnect();
    }
    // Both members consumed, from disjoint partitions, nothing twice.
    for (const v of values) assert.equal(seen.get(v), 1, `${v} once`);
    assert.deepEqual(perConsumer.map((s) => s.size), [2, 2]);
    assert.deepEqual([...perConsumer[0]!, ...perConsumer[1]!].sort(), [0, 1, 2, 3]);
    await waitFor(
      async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.every((p) => p.offset === '10'),
      10_000,
      'offsets committed on close',
    );
  });

  it('kcat -G balanced consumer consumes and resumes from its committed offsets', async () => {
    const topic = 'kcat-t';
    const groupId = 'kcat-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `k${i}`, partition: i % 2 })) });
    const args = (count: number) => [
      '-b', broker.bootstrap, '-G', groupId, '-c', String(count), '-q', '-f', '%s\\n',
      '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=300', topic,
    ];
    const first = await runKcat(args(10), 30_000);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n').sort(), Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(committed[0]!.partitions.map((p) => p.offset), ['5', '5']);

    await producer.send({ topic, messages: [{ value: 'late-0', partition: 0 }, { value: 'late-1', partition: 1 }] });
    const second = await runKcat(args(2), 30_000);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.stdout.trim().split('\n').sort(), ['late-0', 'late-1']);
  });
});
