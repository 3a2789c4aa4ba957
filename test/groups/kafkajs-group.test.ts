// Classic consumer groups with kafkajs: three members split a 6-partition topic, consume every
// record exactly once with commits, a leaving member's partitions move, and committed offsets
// survive a broker restart (replayed from __consumer_offsets).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;
type Consumer = ReturnType<InstanceType<typeof Kafka>['consumer']>;

const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '5',
};

const consumerOpts = (groupId: string) => ({
  groupId,
  sessionTimeout: 6000,
  rebalanceTimeout: 8000,
  heartbeatInterval: 200,
  maxWaitTimeInMs: 100,
  retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 },
});

interface Member {
  name: string;
  consumer: Consumer;
  assignment: number[];
  received: string[];
}

async function startMember(kafka: InstanceType<typeof Kafka>, name: string, groupId: string, topic: string, seen: Map<string, number>): Promise<Member> {
  const consumer = kafka.consumer(consumerOpts(groupId));
  const m: Member = { name, consumer, assignment: [], received: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assignment = [...((e.payload.memberAssignment as Record<string, number[]>)[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const v = message.value!.toString();
      m.received.push(v);
      seen.set(v, (seen.get(v) ?? 0) + 1);
    },
  });
  return m;
}

describe('classic groups with kafkajs', () => {
  let broker: TestBroker | undefined;
  after(async () => {
    await broker?.dispose();
  });

  it('splits partitions, rebalances when a member leaves, and resumes from committed offsets after a restart', async () => {
    broker = await startTestBroker(CONFIG);
    const topic = 'grp-six';
    const groupId = 'grp-kafkajs';
    let kafka = new Kafka({ clientId: 'grp-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const producer = kafka.producer();
    await producer.connect();
    const seen = new Map<string, number>();
    const produceRound = async (round: string, perPartition: number) => {
      const values: string[] = [];
      for (let p = 0; p < 6; p++) {
        const messages = Array.from({ length: perPartition }, (_, i) => ({ value: `${round}-p${p}-${i}`, partition: p }));
        values.push(...messages.map((x) => x.value));
        await producer.send({ topic, messages });
      }
      return values;
    };

    const members: Member[] = [];
    try {
      for (const name of ['a', 'b', 'c']) members.push(await startMember(kafka, name, groupId, topic, seen));
      // Stable group of three, two partitions each, covering all six.
      await waitFor(
        async () => {
          const d = await admin.describeGroups([groupId]);
          const g = d.groups[0]!;
          const all = members.flatMap((m) => m.assignment).sort((x, y) => x - y);
          return g.state === 'Stable' && g.members.length === 3 && members.every((m) => m.assignment.length === 2) && all.join() === '0,1,2,3,4,5';
        },
        30_000,
        'three members with two partitions each',
      );
      const first = await produceRound('r1', 10);
      await waitFor(() => first.every((v) => seen.has(v)), 20_000, 'all round-1 records consumed');
      for (const v of first) assert.equal(seen.get(v), 1, `record ${v} delivered once`);
      // Each member consumed exactly its own partitions.
      for (const m of members) {
        const parts = new Set(m.received.map((v) => Number(/-p(\d)-/.exec(v)![1])));
        assert.deepEqual([...parts].sort(), m.assignment, `${m.name} consumed its assigned partitions`);
      }
      // Commits reached the coordinator.
      await waitFor(
        async () => {
          const offs = await admin.fetchOffsets({ groupId, topics: [topic] });
          return offs[0]!.partitions.every((p) => p.offset === '10');
        },
        10_000,
        'committed offsets at 10',
      );

      // Member c leaves; its partitions move to a and b.
      const gone = members.pop()!;
      const moved = gone.assignment;
      await gone.consumer.disconnect();
      await waitFor(
        () => members.every((m) => m.assignment.length === 3) && members.flatMap((m) => m.assignment).sort().join() === '0,1,2,3,4,5',
        30_000,
        'two members with three partitions each',
      );
      assert.ok(moved.every((p) => members.some((m) => m.assignment.includes(p))));
      const second = await produceRound('r2', 5);
      await waitFor(() => second.every((v) => seen.has(v)), 20_000, 'all round-2 records consumed');
      for (const v of [...first, ...second]) assert.equal(seen.get(v), 1, `record ${v} delivered once`);
      await waitFor(
        async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.every((p) => p.offset === '15'),
        10_000,
        'committed offsets at 15',
      );
    } finally {
      for (const m of members) await m.consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }

    // Restart on the same data dir: the group's offsets are replayed from __consumer_offsets.
    const dataDir = broker.dataDir;
    await broker.close();
    broker = await startTestBroker(CONFIG, dataDir);
    kafka = new Kafka({ clientId: 'grp-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin2 = kafka.admin();
    await admin2.connect();
    const producer2 = kafka.producer();
    await producer2.connect();
    let resumed: Member | undefined;
    try {
      const offs = await admin2.fetchOffsets({ groupId, topics: [topic] });
      assert.deepEqual(offs[0]!.partitions.map((p) => p.offset), ['15', '15', '15', '15', '15', '15']);
      const groups = (await admin2.listGroups()).groups.map((g) => g.groupId);
      assert.ok(groups.includes(groupId), 'group is known after restart');
      const third: string[] = [];
      for (let p = 0; p < 6; p++) {
        await producer2.send({ topic, messages: [{ value: `r3-p${p}`, partition: p }] });
        third.push(`r3-p${p}`);
      }
      const seen2 = new Map<string, number>();
      resumed = await startMember(kafka, 'd', groupId, topic, seen2);
      await waitFor(() => third.every((v) => seen2.has(v)), 30_000, 'round-3 records consumed after restart');
      // Give a late redelivery a moment to show up, then check nothing committed came back.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual([...seen2.keys()].sort(), [...third].sort(), 'only uncommitted records are delivered');
      assert.deepEqual(resumed.assignment, [0, 1, 2, 3, 4, 5]);
    } finally {
      await resumed?.consumer.disconnect();
      await producer2.disconnect();
      await admin2.disconnect();
    }
  });
});
