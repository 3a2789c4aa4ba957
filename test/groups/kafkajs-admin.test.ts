// Group administration with kafkajs' admin client: listGroups, describeGroups (members and their
// assignments), fetchOffsets, resetOffsets / setOffsets, deleteGroups (NON_EMPTY_GROUP while
// members are active), and that a deleted group's offsets are gone for good (also after restart).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel, AssignerProtocol } = kafkajs;

const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '3',
};

describe('group admin with kafkajs', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: ReturnType<InstanceType<typeof Kafka>['admin']>;
  before(async () => {
    broker = await startTestBroker(CONFIG);
    kafka = new Kafka({ clientId: 'grp-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
    await broker.dispose();
  });

  it('lists, describes, sets/resets offsets and deletes groups', async () => {
    const topic = 'adm-t';
    const groupId = 'adm-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 8 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
    const got: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    try {
      await waitFor(() => got.length === 8, 20_000, 'consumed 8 records');
      await waitFor(
        async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.every((p) => p.offset === '4'),
        10_000,
        'offsets committed',
      );

      const listed = await admin.listGroups();
      const entry = listed.groups.find((g) => g.groupId === groupId);
      assert.ok(entry, 'group listed');
      assert.equal(entry.protocolType, 'consumer');

      const { groups } = await admin.describeGroups([groupId, 'no-such-group']);
      const g = groups.find((x) => x.groupId === groupId)!;
      assert.equal(g.state, 'Stable');
      assert.equal(g.protocolType, 'consumer');
      assert.equal(g.protocol, 'RoundRobinAssigner');
      assert.equal(g.members.length, 1);
      assert.equal(g.members[0]!.clientId, 'grp-admin');
      assert.equal(g.members[0]!.clientHost, '/127.0.0.1');
      const assignment = AssignerProtocol.MemberAssignment.decode(g.members[0]!.memberAssignment)!;
      assert.deepEqual([...assignment.assignment[topic]!].sort(), [0, 1]);
      const metadata = AssignerProtocol.MemberMetadata.decode(g.members[0]!.memberMetadata)!;
      assert.deepEqual(metadata.topics, [topic]);
      const missing = groups.find((x) => x.groupId === 'no-such-group')!;
      assert.equal(missing.state, 'Dead');

      // Active group: offsets cannot be reset and the group cannot be deleted.
      await assert.rejects(admin.deleteGroups([groupId]), (err: Error & { groups?: { errorCode: number }[] }) => {
        return /NON_EMPTY_GROUP|not empty/i.test(`${err.message} ${JSON.stringify(err.groups ?? [])}`) || err.groups?.[0]?.errorCode === 68;
      });
    } finally {
      await consumer.disconnect();
    }

    await waitFor(async () => (await admin.describeGroups([groupId])).groups[0]!.state === 'Empty', 10_000, 'group empty');
    // setOffsets / resetOffsets on the empty group.
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '2' }] });
    let offs = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(offs[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset), ['1', '2']);
    // kafkajs commits its "earliest" marker (-2); the next consumer resolves it to the log start.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    offs = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(offs[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset), ['-2', '-2']);

    // A new member resumes from the set offsets: partition 0 from offset 2, partition 1 at its end.
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '4' }] });
    const again: string[] = [];
    const c2 = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
    await c2.connect();
    await c2.subscribe({ topics: [topic] });
    await c2.run({ eachMessage: async ({ message }) => void again.push(message.value!.toString()) });
    try {
      await waitFor(() => again.length === 2, 20_000, 're-consumed after setOffsets');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(again.sort(), ['v4', 'v6']);
    } finally {
      await c2.disconnect();
    }

    await waitFor(async () => (await admin.describeGroups([groupId])).groups[0]!.state === 'Empty', 10_000, 'group empty again');
    await admin.deleteGroups([groupId]);
    assert.ok(!(await admin.listGroups()).groups.some((x) => x.groupId === groupId), 'deleted group not listed');
    offs = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.ok(offs[0]!.partitions.every((p) => p.offset === '-1'), 'offsets of a deleted group are gone');
    await assert.rejects(admin.deleteGroups([groupId]), (err: Error & { groups?: { errorCode: number }[] }) => err.groups?.[0]?.errorCode === 69);

    // The deletion is durable: tombstones win on replay.
    await broker.close();
    const restarted = await startTestBroker(CONFIG, broker.dataDir);
    broker = restarted;
    const k2 = new Kafka({ clientId: 'grp-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    await admin.disconnect();
    admin = k2.admin();
    await admin.connect();
    assert.ok(!(await admin.listGroups()).groups.some((x) => x.groupId === groupId));
    offs = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.ok(offs[0]!.partitions.every((p) => p.offset === '-1'));
  });
});
