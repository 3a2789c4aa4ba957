// Share-group state survives kill -9: a broker child process is killed while share consumers
// work a queue; after a restart on the same data dir every record is processed (none lost),
// nothing is left acquired by the dead session, and the start offset reaches the end.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { KafkaClient, type ShareConsumer } from '@kafkats/client';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { freePort, spawnBroker, tempDir, waitFor, type ChildBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const CONFIG = {
  'offsets.topic.num.partitions': '2',
  'share.coordinator.state.topic.num.partitions': '2',
  'group.share.record.lock.duration.ms': '30000',
  'group.share.heartbeat.interval.ms': '300',
  'group.share.min.heartbeat.interval.ms': '100',
  'group.share.session.timeout.ms': '5000',
  'group.share.min.session.timeout.ms': '1000',
};
const TOTAL = 300;

let correlation = 1;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(port: number, apiKey: number, version: number, body: unknown): Promise<any> {
  const raw = await RawClient.open(port);
  try {
    raw.request(apiKey, version, correlation++, body);
    const res = await raw.response(apiKey, version);
    assert.ok(res, `no response to api ${apiKey}`);
    return res.body;
  } finally {
    raw.close();
  }
}

async function stopAll(consumers: ShareConsumer[]): Promise<void> {
  // A consumer whose broker died may wait on its connection; do not let that hold the test.
  await Promise.race([Promise.allSettled(consumers.map((c) => c.stop())), new Promise((r) => setTimeout(r, 3000))]);
}

describe('share groups across a broker crash', () => {
  let dataDir = '';
  let broker: ChildBroker | undefined;
  const clients: KafkaClient[] = [];

  after(async () => {
    for (const c of clients) await Promise.race([c.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    broker?.child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('kill -9 while consumers work the queue loses nothing and leaves nothing acquired', async () => {
    dataDir = await tempDir('fjord-share-crash-');
    const port = await freePort();
    broker = await spawnBroker(dataDir, port, CONFIG);
    const client = new KafkaClient({ brokers: [broker.bootstrap], clientId: 'crash-1', logLevel: 'error' });
    clients.push(client);
    await client.connect();
    await client.createTopics([{ name: 'queue', numPartitions: 2, replicationFactor: 1 }]);

    // Set the queue's start to the beginning before any worker exists (the group is created empty).
    const altered = await call(port, ApiKey.AlterShareGroupOffsets, 0, {
      groupId: 'crash-q',
      topics: [{ topicName: 'queue', partitions: [{ partitionIndex: 0, startOffset: -2 }, { partitionIndex: 1, startOffset: -2 }] }],
    });
    assert.equal(altered.errorCode, ErrorCode.NONE);
    assert.deepEqual(altered.responses[0].partitions.map((p: { errorCode: number }) => p.errorCode), [0, 0]);

    const producer = client.producer({ lingerMs: 0 });
    await producer.send('queue', Array.from({ length: TOTAL }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`q-${i}`) })));
    await producer.disconnect();

    const processed = new Map<string, number>();
    const work = async (m: { value: Buffer | null }) => {
      const v = m.value!.toString();
      processed.set(v, (processed.get(v) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 3));
    };
    const first: ShareConsumer[] = [];
    for (let i = 0; i < 3; i++) {
      const c = client.shareConsumer({ groupId: 'crash-q', maxWaitMs: 200, maxRecords: 20, acquireMode: 'record_limit' });
      c.on('error', () => {});
      void c.runEach('queue', work).catch(() => {});
      first.push(c);
      if (i === 0) await waitFor(() => processed.size > 0, 15_000, 'first consumer working');
    }
    await waitFor(() => processed.size >= TOTAL / 3, 15_000, 'a third of the queue processed');
    broker.child.kill('SIGKILL');
    await broker.exited;
    const beforeCrash = processed.size;
    assert.ok(beforeCrash < TOTAL, 'the crash came before the end of the queue');
    await stopAll(first);

    broker = await spawnBroker(dataDir, port, CONFIG);
    const client2 = new KafkaClient({ brokers: [broker.bootstrap], clientId: 'crash-2', logLevel: 'error' });
    clients.push(client2);
    await client2.connect();
    const second: ShareConsumer[] = [];
    for (let i = 0; i < 2; i++) {
      const c = client2.shareConsumer({ groupId: 'crash-q', maxWaitMs: 200, maxRecords: 50 });
      c.on('error', () => {});
      void c.runEach('queue', work).catch(() => {});
      second.push(c);
      if (i === 0) await waitFor(async () => (await describeGroup(port)).members.length === 1, 15_000, 'first member after restart');
    }
    // Far sooner than the 30 s lock: records the dead session held are available at once.
    await waitFor(() => processed.size === TOTAL, 15_000, `every record processed (${processed.size}/${TOTAL})`);
    await waitFor(async () => {
      const d = await call(port, ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId: 'crash-q', topics: [{ topicName: 'queue', partitions: [0, 1] }] }] });
      const parts = d.groups[0].topics[0].partitions as { startOffset: number; lag: number }[];
      return parts.every((p) => p.lag === 0) && parts.reduce((n, p) => n + p.startOffset, 0) === TOTAL;
    }, 15_000, 'start offsets at the end, lag 0');
    const described = await describeGroup(port);
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.equal(described.members.length, 2);
    await stopAll(second);
  });
});

async function describeGroup(port: number): Promise<{ errorCode: number; members: unknown[] }> {
  const d = await call(port, ApiKey.ShareGroupDescribe, 1, { groupIds: ['crash-q'], includeAuthorizedOperations: false });
  return d.groups[0];
}
