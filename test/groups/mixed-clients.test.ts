// One classic group, two client libraries: a kafkajs member joins first, then a librdkafka
// (@confluentinc/kafka-javascript) subscribe() consumer. The librdkafka member's JoinGroup must be
// answered (the kafkajs member rejoins on its next heartbeat) and the partitions split between them.
// kafkajs's own assigners are named differently from librdkafka's (a group needs one protocol all
// members support, else INCONSISTENT_GROUP_PROTOCOL, as in Kafka), so kafkajs uses one named
// "roundrobin" here.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { repoRoot, startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel, AssignerProtocol } = kafkajs;
/* eslint-disable @typescript-eslint/no-explicit-any */
const confluent: any = createRequire(join(repoRoot, 'test/clients/package.json'))('@confluentinc/kafka-javascript');

const TOPIC = 'mixed-t';
const PARTITIONS = 4;

/** A kafkajs assigner speaking librdkafka's "roundrobin" protocol name. */
const roundrobin = () => ({
  name: 'roundrobin',
  version: 0,
  async assign({ members }: { members: { memberId: string }[] }) {
    const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
    const parts = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]));
    for (let p = 0; p < PARTITIONS; p++) parts.get(sorted[p % sorted.length]!.memberId)!.push(p);
    return sorted.map((m) => ({
      memberId: m.memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { [TOPIC]: parts.get(m.memberId)! }, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }: { topics: string[] }) {
    return { name: 'roundrobin', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});

describe('classic group shared by kafkajs and librdkafka', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000' });
  });
  after(async () => broker?.dispose());

  it('a librdkafka subscribe() consumer joining after a kafkajs member gets its JoinGroup answered', async () => {
    const kafka = new Kafka({ clientId: 'mixed', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();

    let kafkajsParts: number[] = [];
    const kc = kafka.consumer({ groupId: 'mixed-g', partitionAssigners: [roundrobin as any], sessionTimeout: 6000, heartbeatInterval: 500 });
    kc.on(kc.events.GROUP_JOIN, (e: any) => (kafkajsParts = e.payload.memberAssignment[TOPIC] ?? []));
    let rdkParts: number[] = [];
    let closing = false;
    const rc = new confluent.KafkaConsumer(
      {
        'bootstrap.servers': broker.bootstrap,
        'group.id': 'mixed-g',
        'partition.assignment.strategy': 'roundrobin',
        'session.timeout.ms': 6000,
        'heartbeat.interval.ms': 500,
        'enable.auto.commit': false,
        rebalance_cb(this: any, err: any, assignment: { partition: number }[]) {
          // The revocation that comes with disconnect() may find the handle already closing
          // ("Local: Erroneous state"); nothing is left to unassign then.
          try {
            if (err.code === confluent.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
              this.assign(assignment);
              rdkParts = assignment.map((a) => a.partition);
            } else {
              this.unassign();
              rdkParts = [];
            }
          } catch (e) {
            if (!closing) throw e;
          }
        },
      },
      {},
    );
    let poll: NodeJS.Timeout | undefined;
    try {
      await kc.connect();
      await kc.subscribe({ topic: TOPIC });
      await kc.run({ eachMessage: async () => undefined });
      await waitFor(() => kafkajsParts.length === PARTITIONS, 20_000, 'the kafkajs member owning every partition');

      await new Promise<void>((res, rej) => rc.connect({ timeout: 10_000 }, (e: Error | null) => (e ? rej(e) : res())));
      rc.subscribe([TOPIC]);
      poll = setInterval(() => rc.consume(10, () => undefined), 100);
      await waitFor(() => rdkParts.length > 0 && kafkajsParts.length > 0 && rdkParts.length + kafkajsParts.length === PARTITIONS, 20_000, 'both members assigned');
      assert.deepEqual([...rdkParts, ...kafkajsParts].sort(), [0, 1, 2, 3], 'the partitions are split, none twice');
    } finally {
      closing = true;
      if (poll) clearInterval(poll);
      await new Promise<void>((res) => rc.disconnect(() => res()));
      await kc.disconnect();
    }
  });
});
