// Group configs (ConfigResource GROUP = 32, as in Kafka 4.x) for share groups: DescribeConfigs /
// IncrementalAlterConfigs with validation, their effect on a real share consumer
// (@kafkats/client: share.auto.offset.reset=earliest) and on ShareFetch (share.isolation.level
// read_committed against a kafkajs transactional producer, share.record.lock.duration.ms), and
// their survival across a broker restart on the same data dir.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { KafkaClient, type ShareConsumer } from '@kafkats/client';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, tempDir, waitFor, type TestBroker } from '../helpers/broker.js';
import { call, RawClient } from '../helpers/raw-client.js';

const GROUP = 32;
const BROKER_CONFIG = {
  'offsets.topic.num.partitions': '2',
  'group.initial.rebalance.delay.ms': '0',
  'share.coordinator.state.topic.num.partitions': '2',
  'group.share.heartbeat.interval.ms': '300',
  'group.share.min.heartbeat.interval.ms': '100',
  'group.share.session.timeout.ms': '5000',
  'group.share.min.session.timeout.ms': '1000',
  'transaction.state.log.num.partitions': '2',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
};


describe('share group configs (GROUP config resources)', () => {
  let dataDir = '';
  let broker: TestBroker;
  let raw: RawClient;
  const consumers: ShareConsumer[] = [];
  const clients: KafkaClient[] = [];

  before(async () => {
    dataDir = await tempDir('fjord-group-configs-');
    broker = await startTestBroker(BROKER_CONFIG, dataDir);
    raw = await RawClient.open(broker.port);
  });

  after(async () => {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    for (const c of clients) await c.disconnect().catch(() => {});
    raw?.close();
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  async function describeGroupConfigs(group: string): Promise<Map<string, { value: string | null; source: number }>> {
    const res = await call(raw, ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: GROUP, resourceName: group, configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    assert.equal(res.results[0].errorCode, ErrorCode.NONE, res.results[0].errorMessage);
    return new Map(res.results[0].configs.map((c: { name: string; value: string | null; configSource: number }) => [c.name, { value: c.value, source: c.configSource }]));
  }

  async function alterGroup(group: string, configs: Record<string, string | null>, validateOnly = false): Promise<{ errorCode: number; errorMessage: string | null }> {
    const res = await call(raw, ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{
        resourceType: GROUP,
        resourceName: group,
        configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: value === null ? 1 : 0, value })),
      }],
      validateOnly,
    });
    return res.responses[0];
  }

  it('describes defaults, validates with INVALID_CONFIG, and stores overrides', async () => {
    const defaults = await describeGroupConfigs('orders-q');
    assert.deepEqual(defaults.get('share.auto.offset.reset'), { value: 'latest', source: 5 });
    assert.deepEqual(defaults.get('share.isolation.level'), { value: 'read_uncommitted', source: 5 });
    assert.equal(defaults.get('share.record.lock.duration.ms')?.value, '30000');
    assert.equal(defaults.get('share.session.timeout.ms')?.value, '5000', 'broker value is the default');

    const bad: [Record<string, string>, RegExp][] = [
      [{ 'share.auto.offset.reset': 'sometimes' }, /share\.auto\.offset\.reset/],
      [{ 'share.auto.offset.reset': 'by_duration:1h' }, /ISO-8601/],
      [{ 'share.isolation.level': 'serializable' }, /read_committed/],
      [{ 'share.record.lock.duration.ms': '100' }, /group\.share\.min\.record\.lock\.duration\.ms/],
      [{ 'share.record.lock.duration.ms': 'soon' }, /INT/],
      [{ 'share.heartbeat.interval.ms': '5000' }, /less than share\.session\.timeout\.ms/],
      [{ 'no.such.config': '1' }, /Unknown group config/],
    ];
    for (const [configs, message] of bad) {
      const r = await alterGroup('orders-q', configs);
      assert.equal(r.errorCode, ErrorCode.INVALID_CONFIG, JSON.stringify(configs));
      assert.match(r.errorMessage ?? '', message);
    }
    assert.equal((await alterGroup('', { 'share.isolation.level': 'read_committed' })).errorCode, ErrorCode.INVALID_REQUEST);
    // validateOnly checks without storing
    assert.equal((await alterGroup('orders-q', { 'share.isolation.level': 'read_committed' }, true)).errorCode, ErrorCode.NONE);
    assert.equal((await describeGroupConfigs('orders-q')).get('share.isolation.level')?.value, 'read_uncommitted');

    const ok = await alterGroup('orders-q', { 'share.auto.offset.reset': 'by_duration:PT1H', 'share.record.lock.duration.ms': '20000' });
    assert.equal(ok.errorCode, ErrorCode.NONE, ok.errorMessage ?? '');
    const after = await describeGroupConfigs('orders-q');
    assert.deepEqual(after.get('share.auto.offset.reset'), { value: 'by_duration:PT1H', source: 8 });
    assert.deepEqual(after.get('share.record.lock.duration.ms'), { value: '20000', source: 8 });
    // Another group is untouched.
    assert.equal((await describeGroupConfigs('orders-q2')).get('share.record.lock.duration.ms')?.value, '30000');
    // DELETE returns a config to its default.
    assert.equal((await alterGroup('orders-q', { 'share.record.lock.duration.ms': null })).errorCode, ErrorCode.NONE);
    assert.deepEqual((await describeGroupConfigs('orders-q')).get('share.record.lock.duration.ms'), { value: '30000', source: 5 });
  });

  it('share.auto.offset.reset=earliest: a new share consumer starts at the first record', async () => {
    await broker.broker.topics.create({ name: 'backlog', numPartitions: 1, replicationFactor: 1 });
    const client = new KafkaClient({ brokers: [broker.bootstrap], clientId: 'group-configs', logLevel: 'error' });
    clients.push(client);
    await client.connect();
    const producer = client.producer({ lingerMs: 0 });
    await producer.send('backlog', Array.from({ length: 20 }, (_, i) => ({ key: null, value: Buffer.from(`old-${i}`) })));
    await producer.disconnect();

    assert.equal((await alterGroup('backlog-q', { 'share.auto.offset.reset': 'earliest' })).errorCode, ErrorCode.NONE);
    const seen = new Set<string>();
    const c = client.shareConsumer({ groupId: 'backlog-q', maxWaitMs: 300 });
    c.on('error', () => {});
    consumers.push(c);
    void c.runEach('backlog', async (m) => {
      seen.add(m.value!.toString());
    }).catch(() => {});
    await waitFor(() => seen.size === 20, 20_000, 'the backlog produced before the group existed');
    assert.ok(seen.has('old-0'));
    await c.stop();
  });

  it('share.isolation.level=read_committed acquires only committed records, never past an open transaction', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txq', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ transactionalId: 'txq-writer', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'txq', messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic: 'txq', messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await committed.commit();
    const open = await producer.transaction();
    await open.send({ topic: 'txq', messages: [{ value: 'pending-1' }] });

    for (const [group, level] of [['txq-rc', 'read_committed'], ['txq-ru', 'read_uncommitted']] as const) {
      const r = await alterGroup(group, { 'share.auto.offset.reset': 'earliest', 'share.isolation.level': level, 'share.record.lock.duration.ms': '16000' });
      assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    }
    const topicId = broker.broker.metadata.topic('txq')!.topicId;
    const fetcher = async (group: string) => {
      const memberId = `${group}-member-0000000000000`;
      const hb = await call(raw, ApiKey.ShareGroupHeartbeat, 1, { groupId: group, memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: ['txq'] });
      assert.equal(hb.errorCode, ErrorCode.NONE);
      let epoch = 0;
      return async () => {
        const res = await call(raw, ApiKey.ShareFetch, 2, {
          groupId: group, memberId, shareSessionEpoch: epoch, maxWaitMs: 200, minBytes: 1, maxBytes: 1 << 20, maxRecords: 100, batchSize: 100,
          shareAcquireMode: 0, isRenewAck: false, topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }], forgottenTopicsData: [],
        });
        epoch++;
        assert.equal(res.errorCode, ErrorCode.NONE);
        const p = res.responses[0]?.partitions[0];
        return { lockMs: res.acquisitionLockTimeoutMs as number, ranges: (p?.acquiredRecords ?? []) as { firstOffset: number; lastOffset: number }[] };
      };
    };
    const offsetsOf = (ranges: { firstOffset: number; lastOffset: number }[]) => ranges.flatMap((r) => Array.from({ length: r.lastOffset - r.firstOffset + 1 }, (_, i) => r.firstOffset + i));

    // Log: 0,1 aborted records, 2 abort marker, 3,4 committed, 5 commit marker, 6 open transaction.
    const rc = await fetcher('txq-rc');
    const first = await rc();
    assert.equal(first.lockMs, 16000, 'acquisition lock of the group config');
    const log = broker.broker.replicas.get('txq', 0)!.log;
    assert.deepEqual(offsetsOf(first.ranges), [3, 4], `only committed records, nothing of the open transaction (lso ${log.lastStableOffset}, ${JSON.stringify(broker.broker.groups.shareGroups.inFlightOf('txq-rc'))})`);
    const ru = await fetcher('txq-ru');
    assert.deepEqual(offsetsOf((await ru()).ranges), [0, 1, 3, 4, 6], 'read_uncommitted sees everything but markers');

    await open.commit();
    await producer.disconnect();
    const later = await waitFor(async () => {
      const r = offsetsOf((await rc()).ranges);
      return r.length > 0 ? r : undefined;
    }, 10_000, 'the committed transaction acquired');
    assert.deepEqual(later, [6]);
  });

  it('overrides survive a broker restart', async () => {
    assert.equal((await alterGroup('durable-q', { 'share.isolation.level': 'read_committed', 'share.session.timeout.ms': '4000' })).errorCode, ErrorCode.NONE);
    raw.close();
    for (const c of clients.splice(0)) await c.disconnect().catch(() => {});
    consumers.splice(0);
    await broker.close();
    broker = await startTestBroker(BROKER_CONFIG, dataDir);
    raw = await RawClient.open(broker.port);
    const configs = await describeGroupConfigs('durable-q');
    assert.deepEqual(configs.get('share.isolation.level'), { value: 'read_committed', source: 8 });
    assert.deepEqual(configs.get('share.session.timeout.ms'), { value: '4000', source: 8 });
    assert.deepEqual((await describeGroupConfigs('orders-q')).get('share.auto.offset.reset'), { value: 'by_duration:PT1H', source: 8 });
  });
});
