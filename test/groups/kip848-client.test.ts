// KIP-848 with a real client: librdkafka (@confluentinc/kafka-javascript) consumers with
// group.protocol=consumer. Three members of one group share a 6-partition topic (2 each), every
// record is consumed exactly once with commits, and when one member leaves its partitions move to
// the others. ConsumerGroupDescribe (raw request) shows the members and their assignments.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { repoRoot, startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const clientPkg = join(repoRoot, 'test/clients/package.json');
const available = existsSync(join(repoRoot, 'test/clients/node_modules/@confluentinc/kafka-javascript'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ckjs: any = available ? createRequire(clientPkg)('@confluentinc/kafka-javascript') : undefined;

const TOPIC = 'kip848-e2e';
const GROUP = 'kip848-e2e-group';

describe('KIP-848 with librdkafka (group.protocol=consumer)', () => {
  before(() => assert.ok(available, '@confluentinc/kafka-javascript is missing: run scripts/setup-test-clients.sh'));
  let broker: TestBroker;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let kafka: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const consumers: { name: string; consumer: any; stopped: boolean }[] = [];
  /** "partition:offset" → consumer names that processed it. */
  const seen = new Map<string, string[]>();
  const commitErrors: string[] = [];

  before(async () => {
    broker = await startTestBroker({
      // librdkafka uses the heartbeat interval as the heartbeat request timeout, and a timed-out
      // request resets the coordinator connection (failing in-flight commits): keep it well above
      // the commit latency of a loaded machine.
      'group.consumer.heartbeat.interval.ms': '2000',
      'group.consumer.min.heartbeat.interval.ms': '100',
      'group.consumer.session.timeout.ms': '6000',
      'group.consumer.min.session.timeout.ms': '1000',
    });
    await broker.broker.topics.create({ name: TOPIC, numPartitions: 6, replicationFactor: 1 });
    kafka = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers: [broker.bootstrap], logLevel: ckjs.KafkaJS.logLevel.NOTHING } });
  });

  after(async () => {
    for (const c of consumers) if (!c.stopped) await c.consumer.disconnect().catch(() => {});
    await broker.dispose();
  });

  async function startConsumer(name: string) {
    const consumer = kafka.consumer({
      kafkaJS: { groupId: GROUP, fromBeginning: true, autoCommit: false },
      'group.protocol': 'consumer',
      'client.id': name,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC] });
    consumer.run({
      eachMessage: async ({ partition, message }: { partition: number; message: { offset: string } }) => {
        const key = `${partition}:${message.offset}`;
        seen.set(key, [...(seen.get(key) ?? []), name]);
        try {
          await consumer.commitOffsets([{ topic: TOPIC, partition, offset: String(Number(message.offset) + 1) }]);
        } catch (err) {
          commitErrors.push(`${name} ${key}: ${(err as Error).message}`);
          throw err;
        }
      },
    });
    const entry = { name, consumer, stopped: false };
    consumers.push(entry);
    return entry;
  }

  async function produce(count: number, tag: string) {
    const producer = kafka.producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    try {
      const messages = Array.from({ length: count }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag}-${i}`, partition: i % 6 }));
      await producer.send({ topic: TOPIC, messages });
    } finally {
      await producer.disconnect();
    }
  }

  const assignedCount = (c: { consumer: any }) => (c.consumer.assignment() as unknown[]).length;

  async function describeGroup(): Promise<any> {
    const raw = await RawClient.open(broker.port);
    try {
      raw.request(ApiKey.ConsumerGroupDescribe, 0, 1, { groupIds: [GROUP] });
      const res = await raw.response(ApiKey.ConsumerGroupDescribe, 0);
      return res!.body.groups[0];
    } finally {
      raw.socket.destroy();
    }
  }

  async function committed(): Promise<Map<number, bigint>> {
    const raw = await RawClient.open(broker.port);
    try {
      raw.request(ApiKey.OffsetFetch, 8, 1, { groups: [{ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2, 3, 4, 5] }] }] });
      const res = await raw.response(ApiKey.OffsetFetch, 8);
      const out = new Map<number, bigint>();
      for (const t of res!.body.groups[0].topics) for (const p of t.partitions) out.set(p.partitionIndex, BigInt(p.committedOffset));
      return out;
    } finally {
      raw.socket.destroy();
    }
  }

  it('three members get two partitions each and consume every record once', async () => {
    const members = [await startConsumer('c1'), await startConsumer('c2'), await startConsumer('c3')];
    await waitFor(() => members.every((c) => assignedCount(c) === 2), 30_000, 'each member to own 2 partitions');

    const group = await waitFor(async () => {
      const g = await describeGroup();
      return g.groupState === 'Stable' && g.members.length === 3 ? g : null;
    }, 10_000, 'a stable group of 3 in ConsumerGroupDescribe');
    assert.equal(group.errorCode, ErrorCode.NONE);
    const all: number[] = [];
    for (const m of group.members) {
      assert.equal(m.memberEpoch, group.assignmentEpoch);
      assert.deepEqual(m.subscribedTopicNames, [TOPIC]);
      const parts = m.assignment.topicPartitions.flatMap((t: any) => t.partitions);
      assert.equal(parts.length, 2);
      all.push(...parts);
    }
    assert.deepEqual(all.sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(group.members.map((m: any) => m.clientId).sort(), ['c1', 'c2', 'c3']);

    await produce(60, 'first');
    await waitFor(() => seen.size >= 60, 20_000, '60 records consumed');
    await waitFor(async () => [...(await committed()).values()].reduce((s, v) => s + v, 0n) === 60n, 10_000, 'offsets committed').catch(async (err) => {
      throw new Error(`${(err as Error).message}; commit errors: ${JSON.stringify(commitErrors)}; committed: ${JSON.stringify([...(await committed())].map(([p, o]) => [p, String(o)]))}`);
    });
    for (const [key, who] of seen) assert.equal(who.length, 1, `${key} consumed by ${who.join(',')}`);
    // Every member consumed only its own partitions.
    const consumers3 = new Set([...seen.values()].map((w) => w[0]));
    assert.equal(consumers3.size, 3);
  });

  it('when a member leaves, its partitions move to the others', async () => {
    const leaving = consumers[0]!;
    await leaving.consumer.disconnect();
    leaving.stopped = true;
    const rest = consumers.slice(1);
    await waitFor(() => rest.every((c) => assignedCount(c) === 3), 30_000, 'remaining members to own 3 partitions each');
    const group = await waitFor(async () => {
      const g = await describeGroup();
      return g.groupState === 'Stable' && g.members.length === 2 ? g : null;
    }, 10_000, 'a stable group of 2');
    assert.ok(!group.members.some((m: any) => m.clientId === leaving.name));

    await produce(60, 'second');
    await waitFor(() => seen.size >= 120, 20_000, '120 records consumed');
    await waitFor(async () => [...(await committed()).values()].reduce((s, v) => s + v, 0n) === 120n, 10_000, 'offsets committed').catch(async (err) => {
      throw new Error(`${(err as Error).message}; commit errors: ${JSON.stringify(commitErrors)}; committed: ${JSON.stringify([...(await committed())].map(([p, o]) => [p, String(o)]))}`);
    });
    assert.equal(seen.size, 120);
    for (const [key, who] of seen) assert.equal(who.length, 1, `${key} consumed by ${who.join(',')}`);
    const late = [...seen.entries()].filter(([, who]) => who[0] === leaving.name).length;
    assert.equal(late, 20, 'the leaver consumed only first-round records');
  });

  it('regex subscriptions pick up new matching topics', async () => {
    await broker.broker.topics.create({ name: 'kip848-rx-a', numPartitions: 2, replicationFactor: 1 });
    const rx: any[] = [];
    for (const name of ['rx1', 'rx2']) {
      const c = kafka.consumer({ kafkaJS: { groupId: 'kip848-rx', fromBeginning: true }, 'group.protocol': 'consumer', 'client.id': name });
      await c.connect();
      await c.subscribe({ topics: [/^kip848-rx-.*/] });
      c.run({ eachMessage: async () => {} });
      rx.push(c);
      consumers.push({ name, consumer: c, stopped: false });
    }
    const total = () => rx.reduce((s, c) => s + (c.assignment() as unknown[]).length, 0);
    await waitFor(() => total() === 2 && rx.every((c) => c.assignment().length === 1), 30_000, 'one partition of kip848-rx-a each');
    await broker.broker.topics.create({ name: 'kip848-rx-b', numPartitions: 2, replicationFactor: 1 });
    await broker.broker.topics.create({ name: 'other-rx', numPartitions: 2, replicationFactor: 1 });
    await waitFor(() => total() === 4, 30_000, 'the new matching topic to be assigned');
    const g = (await (async () => {
      const raw = await RawClient.open(broker.port);
      try {
        raw.request(ApiKey.ConsumerGroupDescribe, 0, 1, { groupIds: ['kip848-rx'] });
        return (await raw.response(ApiKey.ConsumerGroupDescribe, 0))!.body.groups[0];
      } finally {
        raw.socket.destroy();
      }
    })());
    const topicsAssigned = new Set(g.members.flatMap((m: any) => m.assignment.topicPartitions.map((t: any) => t.topicName)));
    assert.deepEqual([...topicsAssigned].sort(), ['kip848-rx-a', 'kip848-rx-b']);
    assert.ok(g.members.every((m: any) => typeof m.subscribedTopicRegex === 'string' && m.subscribedTopicRegex.length > 0), 'regex reported');
  });
});
