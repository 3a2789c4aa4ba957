// KIP-848 with a second client implementation: @platformatic/kafka consumers with
// groupProtocol 'consumer' (it sends its owned partitions and subscription on every heartbeat).
// Two members share a 4-partition topic, then one closes and the other takes everything.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'kip848-plt';
const GROUP = 'kip848-plt-group';

describe('KIP-848 with @platformatic/kafka (groupProtocol consumer)', () => {
  let broker: TestBroker;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const consumers: { consumer: Consumer<any, any, any, any>; closed: boolean }[] = [];

  before(async () => {
    broker = await startTestBroker({
      'group.consumer.heartbeat.interval.ms': '500',
      'group.consumer.min.heartbeat.interval.ms': '100',
      'group.consumer.session.timeout.ms': '6000',
      'group.consumer.min.session.timeout.ms': '1000',
    });
    await broker.broker.topics.create({ name: TOPIC, numPartitions: 4, replicationFactor: 1 });
  });
  after(async () => {
    for (const c of consumers) {
      if (c.closed) continue;
      try {
        await c.consumer.close(true);
      } catch {
        // already failing; the broker goes away next
      }
    }
    await broker.dispose();
  });

  async function start(clientId: string) {
    const consumer = new Consumer({
      clientId,
      bootstrapBrokers: [broker.bootstrap],
      groupId: GROUP,
      groupProtocol: 'consumer',
      retries: 5,
      retryDelay: 200,
    });
    const stream = await consumer.consume({ topics: [TOPIC], autocommit: false, maxWaitTime: 200 });
    stream.on('data', () => {});
    stream.on('error', () => {});
    const entry = { consumer, closed: false };
    consumers.push(entry);
    return entry;
  }

  const owned = (c: { consumer: Consumer<any, any, any, any> }) =>
    (c.consumer.assignments ?? []).reduce((s, a) => s + a.partitions.length, 0);

  async function describeGroup(): Promise<any> {
    const raw = await RawClient.open(broker.port);
    try {
      raw.request(ApiKey.ConsumerGroupDescribe, 0, 1, { groupIds: [GROUP] });
      return (await raw.response(ApiKey.ConsumerGroupDescribe, 0))!.body.groups[0];
    } finally {
      raw.socket.destroy();
    }
  }

  it('splits partitions between two members and moves them when one leaves', async () => {
    const a = await start('plt-a');
    const b = await start('plt-b');
    await waitFor(() => owned(a) === 2 && owned(b) === 2, 20_000, 'two partitions each');
    const g = await waitFor(async () => {
      const d = await describeGroup();
      return d.groupState === 'Stable' && d.members.length === 2 ? d : null;
    }, 10_000, 'a stable group of 2');
    assert.equal(g.errorCode, ErrorCode.NONE);
    const all = g.members.flatMap((m: any) => m.assignment.topicPartitions.flatMap((t: any) => t.partitions)).sort();
    assert.deepEqual(all, [0, 1, 2, 3]);

    await a.consumer.close(true);
    a.closed = true;
    await waitFor(() => owned(b) === 4, 20_000, 'the remaining member to own all 4 partitions');
    const after2 = await waitFor(async () => {
      const d = await describeGroup();
      return d.groupState === 'Stable' && d.members.length === 1 ? d : null;
    }, 10_000, 'a stable group of 1');
    assert.equal(after2.members[0].assignment.topicPartitions[0].partitions.length, 4);
  });
});
