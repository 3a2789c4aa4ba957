// KIP-392, fetch from the closest replica, across etcd + three broker processes in three racks
// with replica.selector.class = RackAwareReplicaSelector: kcat (librdkafka) with client.rack set
// to a follower's rack reads every record, and that follower serves it; raw Fetch frames check
// preferred_read_replica from the leader and the follower's answers and errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { RACK_AWARE_SELECTOR } from '../../src/cluster/replica-selector.js';
import { startCluster, type RunningCluster } from '../../src/cluster/start-cluster.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { until } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { describeChild, runChild } from '../e2e/run-child.js';

const { Kafka, logLevel } = kafkajs;
const TOPIC = 'kip392';
const COUNT = 200;
const rackOf = (nodeId: number) => `rack-${nodeId}`;


interface FetchedPartition {
  errorCode: number;
  highWatermark: number;
  preferredReadReplica: number;
  records: Buffer | Buffer[] | null;
}

/** One consumer Fetch (replica id -1) of partition 0 of TOPIC at `offset`, naming `rack`. */
async function fetchOnce(port: number, offset: number, rack: string, version = 11): Promise<FetchedPartition> {
  const c = await RawClient.open(port);
  try {
    c.request(ApiKey.Fetch, version, 1, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 1024 * 1024 }] }],
      forgottenTopicsData: [],
      rackId: rack,
    });
    const res = await c.response(ApiKey.Fetch, version);
    assert.ok(res, 'a Fetch response');
    return res.body.responses[0].partitions[0] as FetchedPartition;
  } finally {
    c.close();
  }
}

function recordBytes(p: FetchedPartition): number {
  const r = p.records;
  if (!r) return 0;
  return Array.isArray(r) ? r.reduce((n, b) => n + b.length, 0) : r.length;
}

describe('KIP-392: consumers fetch from the replica in their rack', () => {
  let cluster: RunningCluster;
  const output: string[] = [];
  let leader = -1;
  let follower = -1;

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      racks: [rackOf(1), rackOf(2), rackOf(3)],
      config: {
        'replica.selector.class': RACK_AWARE_SELECTOR,
        'replica.fetch.wait.max.ms': '100',
        'replica.fetch.backoff.ms': '100',
      },
      logger: (line) => output.push(line),
    });
    const kafka = new Kafka({ clientId: 'kip392', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }] });
      const state = await until('all three replicas in sync', 20_000, async () => {
        const p = (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics[0]!.partitions[0]!;
        return p.partitionErrorCode === 0 && p.leader >= 0 && p.isr.length === 3 ? p : undefined;
      });
      leader = state.leader;
      follower = state.replicas.find((id) => id !== leader)!;
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: COUNT }, (_, i) => ({ partition: 0, value: `v-${i}` })) });
      } finally {
        await producer.disconnect();
      }
    } finally {
      await admin.disconnect();
    }
    // The follower learns the high watermark from its next fetch; until then an offset past it
    // is OFFSET_NOT_AVAILABLE there.
    await until(`broker ${follower} learning high watermark ${COUNT}`, 10_000, async () => {
      const p = await fetchOnce(cluster.broker(follower).port, COUNT, rackOf(follower));
      return p.errorCode === ErrorCode.NONE && p.highWatermark === COUNT ? true : undefined;
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('kcat with client.rack of a follower reads every record, served by that follower', { timeout: 30_000 }, async () => {
    const servedLine = `${TOPIC}-0: serving consumer fetches as a follower of ${leader}`;
    assert.ok(!output.some((l) => l.includes(servedLine)), 'no follower served consumers before');
    const read = await runChild(
      'kcat',
      ['-C', '-b', cluster.bootstrap, '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q', '-X', `client.rack=${rackOf(follower)}`, '-X', 'fetch.wait.max.ms=100'],
      { timeoutMs: 25_000 },
    );
    assert.equal(read.code, 0, describeChild(read));
    assert.deepEqual(read.stdout.trim().split('\n'), Array.from({ length: COUNT }, (_, i) => `v-${i}`), 'every record, in order');
    const served = output.filter((l) => l.includes(servedLine));
    assert.equal(served.length, 1, `one follower served the consumer:\n${output.slice(-40).join('\n')}`);
    assert.ok(served[0]!.startsWith(`[broker ${follower}]`), `the follower in the client's rack served it: ${served[0]}`);
  });

  it('the leader answers preferred_read_replica (no records) for a follower rack, reads itself otherwise', async () => {
    const leaderPort = cluster.broker(leader).port;
    const toFollower = await fetchOnce(leaderPort, 0, rackOf(follower));
    assert.equal(toFollower.errorCode, ErrorCode.NONE);
    assert.equal(toFollower.preferredReadReplica, follower);
    assert.equal(recordBytes(toFollower), 0, 'no records with a preferred read replica');
    assert.equal(toFollower.highWatermark, COUNT);

    for (const rack of [rackOf(leader), 'rack-elsewhere', '']) {
      const own = await fetchOnce(leaderPort, 0, rack);
      assert.equal(own.errorCode, ErrorCode.NONE);
      assert.equal(own.preferredReadReplica, -1, `rack '${rack}': the leader serves`);
      assert.ok(recordBytes(own) > 0, `rack '${rack}': records from the leader`);
    }
  });

  it('a follower serves consumers within its log and answers Kafka errors outside it', async () => {
    const port = cluster.broker(follower).port;
    const inLog = await fetchOnce(port, 0, rackOf(follower));
    assert.equal(inLog.errorCode, ErrorCode.NONE);
    assert.ok(recordBytes(inLog) > 0);
    assert.equal(inLog.preferredReadReplica, -1);
    assert.equal((await fetchOnce(port, COUNT + 50, rackOf(follower))).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    // Fetch v10 carries no client metadata: only the leader serves it, as before KIP-392.
    assert.equal((await fetchOnce(port, 0, '', 10)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });
});
