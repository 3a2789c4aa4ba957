// Replication throttling during a partition reassignment, on an etcd cluster of in-process
// brokers: adding a replica to a partition of several MB copies at about
// leader./follower.replication.throttled.rate when the partition is listed in the topic's
// leader./follower.replication.throttled.replicas, much faster without; the reassignment still
// completes (the new replica joins the ISR) and the copy holds every acknowledged record.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Broker } from '../../src/broker/broker.js';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { describeConfigsRaw, incrementalAlter, Resource } from '../admin/helpers.js';
import { FAST_SESSION, alterReassignment } from './control-helpers.js';

const { Kafka, logLevel } = kafkajs;
const MB = 1024 * 1024;
const RATE = MB; // bytes/s
const DATA_BYTES = 6 * MB;
const SET = 0;
const DELETE = 1;
// Two 1 s windows: Kafka's rate never divides by less than (windows - 1) windows, so the burst
// before throttling starts is one window's worth (the default 11 windows would allow 10 s of it).
const QUOTA_WINDOWS = { 'replication.quota.window.num': '2', 'replication.quota.window.size.seconds': '1' };

describe('replication throttle during reassignment', () => {
  let etcd: EtcdProcess;
  const brokers: Broker[] = [];
  let port: number;

  before(async () => {
    etcd = await startEtcd();
    for (const id of [1, 2]) {
      const dataDir = await tempDir(`fjord-throttle-${id}-`);
      brokers.push(
        await Broker.start({
          dataDir,
          port: 0,
          config: { 'node.id': String(id), 'fjord.etcd.endpoints': etcd.endpoint, ...FAST_SESSION, ...QUOTA_WINDOWS, 'replica.fetch.wait.max.ms': '200' },
        }),
      );
    }
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 2), 10_000, 'two registrations');
    port = brokers[0]!.port;
  });
  after(async () => {
    for (const b of brokers.splice(0)) {
      await b.close().catch(() => undefined);
      await rm(b.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
    await etcd?.stop();
  });

  /** A one-partition topic on broker 1 holding DATA_BYTES of acknowledged records; returns their count. */
  async function fill(topic: string): Promise<number> {
    await brokers[0]!.topics.create({ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] });
    return produce(topic, DATA_BYTES);
  }

  /** Produces `bytes` of incompressible records with acks=all; returns how many. */
  async function produce(topic: string, bytes: number): Promise<number> {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    let count = 0;
    try {
      const perMessage = 128 * 1024;
      for (let sent = 0; sent < bytes; sent += 4 * perMessage) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 4 }, () => ({ value: randomBytes(perMessage) })) });
        count += 4;
      }
    } finally {
      await producer.disconnect();
    }
    return count;
  }

  /** Reassigns partition 0 from [1] to [1, 2]; resolves with the ms until the reassignment finished. */
  async function addReplica(topic: string, count: number): Promise<number> {
    const started = Date.now();
    const r = await alterReassignment(port, topic, [1, 2]);
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? undefined);
    const store = brokers[0]!.metadata;
    await waitFor(() => store.topic(topic)!.partitions[0]!.addingReplicas === undefined && store.partitionState(topic, 0)!.isr.includes(2), 25_000, `${topic} reassignment finished`);
    const elapsed = Date.now() - started;
    assert.deepEqual(store.topic(topic)!.partitions[0]!.replicas, [1, 2]);
    // The new replica holds every acknowledged record, byte for byte the leader's log size.
    const copy = brokers[1]!.replicas.get(topic, 0)!.log;
    const original = brokers[0]!.replicas.get(topic, 0)!.log;
    assert.equal(copy.logEndOffset, count);
    assert.equal(original.logEndOffset, count);
    return elapsed;
  }

  async function setTopicThrottle(topic: string, leader: string | null, follower: string | null): Promise<void> {
    const res = await incrementalAlter(port, [{
      resourceType: Resource.TOPIC,
      resourceName: topic,
      configs: [
        { name: 'leader.replication.throttled.replicas', configOperation: leader === null ? DELETE : SET, value: leader },
        { name: 'follower.replication.throttled.replicas', configOperation: follower === null ? DELETE : SET, value: follower },
      ],
    }]);
    assert.equal(res[0]!.errorCode, ErrorCode.NONE, res[0]!.errorMessage ?? '');
  }

  /** Sets (null: removes) both rates on every broker, as kafka-reassign-partitions does: per broker id. */
  async function setRates(rate: number | null): Promise<void> {
    for (const b of brokers) {
      // Per broker id, like kafka-reassign-partitions (each broker applies its own entries live).
      const res = await incrementalAlter(b.port, [{
        resourceType: Resource.BROKER,
        resourceName: String(b.config.getInt('node.id')),
        configs: ['leader.replication.throttled.rate', 'follower.replication.throttled.rate'].map((name) => ({
          name, configOperation: rate === null ? DELETE : SET, value: rate === null ? null : String(rate),
        })),
      }]);
      assert.equal(res[0]!.errorCode, ErrorCode.NONE, res[0]!.errorMessage ?? '');
      assert.equal(b.replicas.leaderQuota.limited, rate !== null);
      assert.equal(b.replicas.followerQuota.limited, rate !== null);
    }
  }

  let unthrottledMs = 0;

  it('without a throttle the new replica catches up quickly', async (t) => {
    const count = await fill('fast');
    unthrottledMs = await addReplica('fast', count);
    t.diagnostic(`unthrottled: ${DATA_BYTES} bytes in ${unthrottledMs} ms`);
    assert.ok(unthrottledMs < 4000, `unthrottled copy of ${DATA_BYTES} bytes took ${unthrottledMs} ms`);
  });

  for (const side of ['leader', 'follower'] as const) {
    it(`${side}-side throttle: the copy runs at about the rate, then completes and joins the ISR`, async (t) => {
      const topic = `slow-${side}`;
      const count = await fill(topic);
      await setRates(RATE);
      // kafka-reassign-partitions lists the existing replicas as leader-throttled and the added ones as follower-throttled.
      await setTopicThrottle(topic, side === 'leader' ? '0:1' : null, side === 'follower' ? '0:2' : null);
      const throttledOn = side === 'leader' ? brokers[0]! : brokers[1]!;
      const listKey = side === 'leader' ? 'leaderThrottled' : 'followerThrottled';
      await waitFor(() => throttledOn.replicas.get(topic, 0)?.settings[listKey]?.partitions.has(0) ?? (side === 'follower'), 10_000, 'topic throttle applied');
      const described = await describeConfigsRaw(port, Resource.TOPIC, topic, [`${side}.replication.throttled.replicas`]);
      assert.equal(described.configs[0].value, side === 'leader' ? '0:1' : '0:2');
      const brokerDescribed = await describeConfigsRaw(port, Resource.BROKER, '1', [`${side}.replication.throttled.rate`]);
      assert.equal(brokerDescribed.configs[0].value, String(RATE));

      const elapsed = await addReplica(topic, count);
      // One window of burst plus one fetch (replica.fetch.max.bytes) of overshoot, the rest at RATE.
      const floorMs = ((DATA_BYTES - 2 * MB) / RATE) * 1000 * 0.9;
      const measured = (DATA_BYTES / elapsed) * 1000;
      t.diagnostic(`${side} throttle ${RATE} B/s: ${DATA_BYTES} bytes in ${elapsed} ms = ${Math.round(measured)} B/s`);
      assert.ok(elapsed >= floorMs, `throttled copy took ${elapsed} ms, expected >= ${floorMs} ms`);
      assert.ok(elapsed > 2 * unthrottledMs, `throttled ${elapsed} ms vs unthrottled ${unthrottledMs} ms`);
      assert.ok(measured < RATE * 2, `measured ${Math.round(measured)} B/s over a ${RATE} B/s throttle`);

      // The new replica is in the ISR now: Kafka throttles neither the leader's reads for an
      // in-sync follower nor an in-sync follower's fetches, so acks=all writes run at full speed
      // although the quota is still over its rate.
      const writeStart = Date.now();
      const more = await produce(topic, 4 * MB);
      const writeMs = Date.now() - writeStart;
      t.diagnostic(`${side} throttle, in-sync replica: 4 MiB acks=all in ${writeMs} ms`);
      assert.ok(writeMs < 2000, `acks=all writes with an in-sync throttled replica took ${writeMs} ms`);
      assert.equal(brokers[1]!.replicas.get(topic, 0)!.log.logEndOffset, count + more);

      // Done: remove the throttle like kafka-reassign-partitions --verify does.
      await setTopicThrottle(topic, null, null);
      await setRates(null);
    });
  }
});
