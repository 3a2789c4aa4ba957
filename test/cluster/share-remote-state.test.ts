// Share groups in a cluster where a partition's leader is not its share state's coordinator: the
// share-partition leader reads and writes the state at the broker leading the key's
// `__share_group_state` partition with Initialize / Read / Write ShareGroupState, as Kafka's
// persister does. Two brokers in this process share one metadata store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaClient, type ShareConsumer } from '@kafkats/client';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { InProcessCluster, kafkaFor, waitFor } from './replication-helpers.js';

describe('share state at another broker', () => {
  const cluster = new InProcessCluster({
    'offsets.topic.num.partitions': '1',
    'offsets.topic.replication.factor': '1',
    'share.coordinator.state.topic.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'group.initial.rebalance.delay.ms': '0',
    'group.share.heartbeat.interval.ms': '300',
    'group.share.min.heartbeat.interval.ms': '100',
    'group.share.session.timeout.ms': '5000',
    'group.share.min.session.timeout.ms': '1000',
  });
  const consumers: ShareConsumer[] = [];
  let client: KafkaClient | undefined;
  before(async () => cluster.start([1, 2]));
  after(async () => {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    await client?.disconnect().catch(() => {});
    await cluster.close();
  });

  it('a share consumer works both partitions; the state of the remote one is kept at the coordinator', async () => {
    const topic = 'remote-q';
    const kafka = kafkaFor(cluster, 'share-remote', 15);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
    const leaders = [0, 1].map((i) => cluster.store.partitionState(topic, i)!.leader);
    assert.equal(new Set(leaders).size, 2, `leaders spread over both brokers: ${leaders}`);
    // Group configs live in the shared metadata store: every broker sees this one.
    const broker1 = cluster.running.get(1)!.broker;
    await broker1.configAdmin.groups.alter('remote-workers', [{ name: 'share.auto.offset.reset', op: 0, value: 'earliest' }], false);
    const producer = kafka.producer();
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ partition, value: `p${partition}-${i}` })) });
    }
    await producer.disconnect();
    await admin.disconnect();

    client = new KafkaClient({ brokers: cluster.bootstrap(), clientId: 'share-remote', logLevel: 'error' });
    await client.connect();
    const seen = new Set<string>();
    const c = client.shareConsumer({ groupId: 'remote-workers', maxWaitMs: 300 });
    c.on('error', () => {});
    consumers.push(c);
    void c.runEach(topic, async (m) => {
      seen.add(m.value!.toString());
    }).catch(() => {});
    await waitFor('every record of both partitions', () => seen.size === 40, 30_000);

    // The coordinator of the state (leader of __share_group_state-0) holds both partitions' state,
    // including the one led by the other broker, with every record acknowledged.
    const coordinator = cluster.store.partitionState('__share_group_state', 0)!.leader;
    assert.ok(leaders.some((l) => l !== coordinator), 'one partition is led away from the state coordinator');
    const remoteLeader = leaders.find((l) => l !== coordinator)!;
    const remoteBroker = cluster.running.get(remoteLeader)!.broker;
    const topicKey = { groupId: 'remote-workers', topicId: cluster.store.topic(topic)!.topicId, partition: leaders.indexOf(remoteLeader) };
    assert.ok(remoteBroker.groups.shareGroups.partitions.get(topicKey), 'the partition leader runs the share-partition');
    assert.deepEqual(remoteBroker.groups.shareGroups.store.runtime.loadedPartitions(), [], 'but does not coordinate its state');
    const raw = await RawClient.open(cluster.running.get(coordinator)!.port);
    try {
      const topicId = cluster.store.topic(topic)!.topicId;
      let correlation = 1;
      await waitFor('start offsets at the end on the coordinator', async () => {
        raw.request(ApiKey.ReadShareGroupState, 0, correlation, { groupId: 'remote-workers', topics: [{ topicId, partitions: [{ partition: 0, leaderEpoch: -1 }, { partition: 1, leaderEpoch: -1 }] }] });
        const res = (await raw.response(ApiKey.ReadShareGroupState, 0))!.body as { results: { partitions: { errorCode: number; startOffset: number }[] }[] };
        correlation++;
        const parts = res.results[0]!.partitions;
        return parts.every((p) => p.errorCode === ErrorCode.NONE && p.startOffset === 20);
      }, 15_000);
    } finally {
      raw.close();
    }
  });
});
