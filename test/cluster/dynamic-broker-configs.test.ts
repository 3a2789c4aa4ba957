// Dynamic broker configs on an etcd cluster of three in-process brokers: an alter through one
// broker reaches every broker live (as Kafka brokers follow /config/brokers or ConfigRecords):
// the cluster default and a per-broker value show in DescribeConfigs of the other brokers with
// their sources, and take effect there over the wire (message.max.bytes → MESSAGE_TOO_LARGE on
// produce); concurrent alters of different keys through different brokers all survive (CAS).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Broker } from '../../src/broker/broker.js';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { describeConfigsRaw, incrementalAlter, Resource } from '../admin/helpers.js';
import { FAST_SESSION } from './control-helpers.js';
import { InProcessCluster } from './replication-helpers.js';

const { Kafka, logLevel } = kafkajs;
const SET = 0;
const DELETE = 1;
/** DescribeConfigs source codes. */
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
const STATIC_OR_DEFAULT = [4, 5];

describe('dynamic broker configs propagate through etcd', () => {
  let etcd: EtcdProcess;
  const brokers: Broker[] = [];
  const byId = (id: number) => brokers[id - 1]!;

  before(async () => {
    etcd = await startEtcd();
    for (const id of [1, 2, 3]) {
      const dataDir = await tempDir(`fjord-dyncfg-${id}-`);
      brokers.push(
        await Broker.start({
          dataDir,
          port: 0,
          config: {
            'node.id': String(id),
            'fjord.etcd.endpoints': etcd.endpoint,
            ...FAST_SESSION,
            'offsets.topic.replication.factor': '1',
            'transaction.state.log.replication.factor': '1',
          },
        }),
      );
    }
    await waitFor(() => brokers.every((b) => b.metadata.brokers().length === 3), 10_000, 'three registrations');
    // One single-replica topic led by each broker: produce there exercises that broker's config.
    for (const id of [1, 2, 3]) {
      await byId(1).topics.create({ name: `on-${id}`, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [id] }] });
      await waitFor(() => byId(id).replicas.get(`on-${id}`, 0) !== undefined, 10_000, `on-${id} open on broker ${id}`);
    }
  });
  after(async () => {
    for (const b of brokers.splice(0)) {
      await b.close().catch(() => undefined);
      await rm(b.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
    await etcd?.stop();
  });

  async function alter(throughId: number, resourceName: string, configs: { name: string; configOperation: number; value: string | null }[]): Promise<void> {
    const res = await incrementalAlter(byId(throughId).port, [{ resourceType: Resource.BROKER, resourceName, configs }]);
    assert.equal(res[0]!.errorCode, ErrorCode.NONE, res[0]!.errorMessage ?? '');
  }

  /** What DescribeConfigs on broker `id` (its own resource) says about one config. */
  async function described(id: number, name: string): Promise<{ value: string | null; configSource: number }> {
    const r = await describeConfigsRaw(byId(id).port, Resource.BROKER, String(id), [name]);
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    return r.configs[0];
  }

  async function waitDescribed(id: number, name: string, value: string, source: number): Promise<void> {
    await waitFor(async () => {
      const c = await described(id, name);
      return c.value === value && c.configSource === source;
    }, 10_000, `broker ${id} describing ${name}=${value} (source ${source})`);
  }

  /** Produces one record of `bytes` to `on-<id>` (led by broker id); resolves with the error type, or 'NONE'. */
  async function produceTo(id: number, bytes: number): Promise<string> {
    const kafka = new Kafka({ brokers: [byId(id).bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic: `on-${id}`, acks: -1, messages: [{ value: Buffer.alloc(bytes, 7) }] });
      return 'NONE';
    } catch (err) {
      const e = err as { type?: string; cause?: { type?: string }; message: string };
      return e.type ?? e.cause?.type ?? e.message;
    } finally {
      await producer.disconnect();
    }
  }

  /** Waits until broker `id` has heard the store change carrying `key` = `value` (undefined: absent). */
  async function storeHas(id: number, key: string, value: string | undefined): Promise<void> {
    await waitFor(() => byId(id).metadata.brokerConfigs()[key] === value, 10_000, `broker ${id} seeing ${key}=${value}`);
  }

  it('a cluster default set through broker 1 applies live on brokers 2 and 3', async () => {
    assert.equal(await produceTo(3, 20_000), 'NONE');
    await alter(1, '', [{ name: 'message.max.bytes', configOperation: SET, value: '10000' }]);
    for (const id of [1, 2, 3]) await waitDescribed(id, 'message.max.bytes', '10000', DYNAMIC_DEFAULT_BROKER_CONFIG);
    // The topic default follows on the topics every broker leads: over the wire, no restart.
    await waitFor(() => byId(3).replicas.get('on-3', 0)!.settings.maxMessageBytes === 10000, 10_000, 'on-3 max.message.bytes follows the default');
    assert.equal(await produceTo(3, 20_000), 'MESSAGE_TOO_LARGE');
    assert.equal(await produceTo(2, 20_000), 'MESSAGE_TOO_LARGE');
    assert.equal(await produceTo(3, 1_000), 'NONE');
    const topicView = await describeConfigsRaw(byId(2).port, Resource.TOPIC, 'on-2', ['max.message.bytes']);
    assert.equal(topicView.configs[0].value, '10000');
  });

  it('a per-broker value for broker 2 set through broker 3 applies only on broker 2; deleting it reverts', async () => {
    await alter(3, '2', [{ name: 'message.max.bytes', configOperation: SET, value: '5000' }]);
    await waitDescribed(2, 'message.max.bytes', '5000', DYNAMIC_BROKER_CONFIG);
    await waitFor(() => byId(2).replicas.get('on-2', 0)!.settings.maxMessageBytes === 5000, 10_000, 'on-2 follows broker 2');
    // Brokers 1 and 3 have heard the same change and ignored it: the entry is broker 2's.
    for (const id of [1, 3]) {
      await storeHas(id, '2:message.max.bytes', '5000');
      const c = await described(id, 'message.max.bytes');
      assert.deepEqual([c.value, c.configSource], ['10000', DYNAMIC_DEFAULT_BROKER_CONFIG], `broker ${id}`);
      assert.equal(byId(id).config.messageMaxBytes, 10000);
    }
    assert.equal(await produceTo(2, 7_000), 'MESSAGE_TOO_LARGE');
    assert.equal(await produceTo(3, 7_000), 'NONE');

    await alter(1, '2', [{ name: 'message.max.bytes', configOperation: DELETE, value: null }]);
    await waitDescribed(2, 'message.max.bytes', '10000', DYNAMIC_DEFAULT_BROKER_CONFIG);
    await waitFor(() => byId(2).replicas.get('on-2', 0)!.settings.maxMessageBytes === 10000, 10_000, 'on-2 back to the default');
    assert.equal(await produceTo(2, 7_000), 'NONE');

    // Removing the cluster default reverts every broker to its static / built-in value.
    await alter(2, '', [{ name: 'message.max.bytes', configOperation: DELETE, value: null }]);
    for (const id of [1, 2, 3]) {
      await waitFor(async () => {
        const c = await described(id, 'message.max.bytes');
        return c.value === '1048588' && STATIC_OR_DEFAULT.includes(c.configSource);
      }, 10_000, `broker ${id} back to the default message.max.bytes`);
    }
    assert.equal(await produceTo(3, 20_000), 'NONE');
  });

  it('concurrent alters of different keys through different brokers all survive', async () => {
    const keys = ['log.cleaner.backoff.ms', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.io.buffer.size'];
    for (let round = 1; round <= 5; round++) {
      const value = (i: number) => String(100_000 * round + i);
      // Each broker changes its own key of the cluster default, all at once.
      await Promise.all(keys.map((name, i) => alter(i + 1, '', [{ name, configOperation: SET, value: value(i) }])));
      for (const id of [1, 2, 3]) {
        for (const [i, name] of keys.entries()) {
          await storeHas(id, name, value(i));
          assert.equal(byId(id).config.get(name), value(i), `round ${round}: broker ${id} ${name}`);
        }
      }
    }
    const defaults = await describeConfigsRaw(byId(2).port, Resource.BROKER, '', null);
    const shown = new Map<string, string>(defaults.configs.map((c: { name: string; value: string }) => [c.name, c.value]));
    for (const [i, name] of keys.entries()) assert.equal(shown.get(name), String(500_000 + i));
    await Promise.all(keys.map((name, i) => alter(((i + 1) % 3) + 1, '', [{ name, configOperation: DELETE, value: null }])));
    for (const id of [1, 2, 3]) for (const name of keys) await storeHas(id, name, undefined);
    for (const name of keys) assert.equal(byId(3).config.dynamicLayer('cluster-default').has(name), false);
  });
});

describe('dynamic broker configs on a shared embedded store', () => {
  const cluster = new InProcessCluster();
  before(() => cluster.start([1, 2]));
  after(() => cluster.close());

  it('a per-broker value set through broker 1 applies on broker 2 at once, not on broker 1', async () => {
    const b1 = cluster.running.get(1)!;
    const b2 = cluster.running.get(2)!;
    const res = await incrementalAlter(b1.port, [{ resourceType: Resource.BROKER, resourceName: '2', configs: [{ name: 'log.cleaner.backoff.ms', configOperation: SET, value: '4321' }] }]);
    assert.equal(res[0]!.errorCode, ErrorCode.NONE, res[0]!.errorMessage ?? '');
    // The embedded store emits its change before the write resolves: no wait needed.
    assert.equal(b2.broker.config.get('log.cleaner.backoff.ms'), '4321');
    assert.equal(b2.broker.config.lookup('log.cleaner.backoff.ms').source, 'DYNAMIC_BROKER_CONFIG');
    assert.equal(b1.broker.config.get('log.cleaner.backoff.ms'), '15000');
    // Two concurrent alters of different keys through the two brokers both land.
    await Promise.all([
      incrementalAlter(b1.port, [{ resourceType: Resource.BROKER, resourceName: '', configs: [{ name: 'log.cleaner.threads', configOperation: SET, value: '2' }] }]),
      incrementalAlter(b2.port, [{ resourceType: Resource.BROKER, resourceName: '', configs: [{ name: 'log.cleaner.io.buffer.size', configOperation: SET, value: '65536' }] }]),
    ]);
    for (const b of [b1, b2]) {
      assert.equal(b.broker.config.get('log.cleaner.threads'), '2');
      assert.equal(b.broker.config.get('log.cleaner.io.buffer.size'), '65536');
    }
  });
});
