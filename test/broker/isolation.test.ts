// Two brokers in one process share nothing: topics, records, groups and committed offsets of one
// are invisible to the other, and closing one leaves the other serving. Also covers the wiring
// seams: a metadata store passed in by factory, several listeners, and logger levels that
// IncrementalAlterConfigs on the broker-logger resource really change.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { EmbeddedMetadataStore } from '../../src/cluster/embedded-store.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { describeConfigsRaw, incrementalAlter, Resource } from '../admin/helpers.js';
import { tempDir } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;

async function consumeAll(bootstrap: string, topic: string, groupId: string, expected: number): Promise<string[]> {
  const kafka = new Kafka({ clientId: `iso-${groupId}`, brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500 });
  await consumer.connect();
  const seen: string[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${expected} records within 20 s`)), 20_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('two brokers in one process', () => {
  const dirs: string[] = [];
  let a: RunningBroker;
  let b: RunningBroker;
  const storesMade: string[] = [];
  const linesOfA: string[] = [];

  before(async () => {
    dirs.push(await tempDir(), await tempDir());
    a = await startBroker({
      dataDir: dirs[0]!,
      listeners: [
        { name: 'PLAINTEXT', host: '127.0.0.1', port: 0 },
        { name: 'SECOND', host: '127.0.0.1', port: 0 },
      ],
      config: {
        'offsets.topic.num.partitions': '3',
        'group.initial.rebalance.delay.ms': '0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SECOND:PLAINTEXT',
      },
      logger: (line) => linesOfA.push(line),
    });
    b = await startBroker({
      dataDir: dirs[1]!,
      port: 0,
      config: { 'offsets.topic.num.partitions': '5', 'group.initial.rebalance.delay.ms': '0' },
      metadataStore: ({ dataDir, nodeId }) => {
        storesMade.push(dataDir);
        return new EmbeddedMetadataStore(dataDir, nodeId);
      },
    });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps topics, records, groups and offsets apart', async () => {
    assert.deepEqual(storesMade, [dirs[1]], 'the metadata store factory built B’s store');
    const adminA = new Kafka({ brokers: [a.bootstrap], logLevel: logLevel.NOTHING }).admin();
    const adminB = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await adminA.connect();
    await adminB.connect();
    try {
      await adminA.createTopics({ topics: [{ topic: 'same-name', numPartitions: 1 }] });
      await adminB.createTopics({ topics: [{ topic: 'same-name', numPartitions: 3 }] });
      await adminB.createTopics({ topics: [{ topic: 'only-on-b', numPartitions: 1 }] });
      assert.ok(!(await adminA.listTopics()).includes('only-on-b'));
      const [metaA] = (await adminA.fetchTopicMetadata({ topics: ['same-name'] })).topics;
      const [metaB] = (await adminB.fetchTopicMetadata({ topics: ['same-name'] })).topics;
      assert.equal(metaA!.partitions.length, 1);
      assert.equal(metaB!.partitions.length, 3);

      const producerA = new Kafka({ brokers: [a.bootstrap], logLevel: logLevel.NOTHING }).producer();
      const producerB = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).producer();
      await producerA.connect();
      await producerB.connect();
      await producerA.send({ topic: 'same-name', messages: [{ value: 'a1' }, { value: 'a2' }] });
      await producerB.send({ topic: 'same-name', messages: [{ value: 'b1' }, { value: 'b2' }, { value: 'b3' }] });
      await producerA.disconnect();
      await producerB.disconnect();

      // The same group id on both brokers: each group sees only its broker's records.
      assert.deepEqual((await consumeAll(a.bootstrap, 'same-name', 'same-group', 2)).sort(), ['a1', 'a2']);
      assert.deepEqual((await consumeAll(b.bootstrap, 'same-name', 'same-group', 3)).sort(), ['b1', 'b2', 'b3']);

      const offA = await adminA.fetchOffsets({ groupId: 'same-group', topics: ['same-name'] });
      const offB = await adminB.fetchOffsets({ groupId: 'same-group', topics: ['same-name'] });
      assert.deepEqual(offA[0]!.partitions.map((p) => p.offset), ['2']);
      assert.equal(offB[0]!.partitions.length, 3);
      assert.equal(offB[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0), 3);

      // Each broker's internal topic follows its own config.
      assert.equal(a.broker.metadata.topic('__consumer_offsets')?.partitions.length, 3);
      assert.equal(b.broker.metadata.topic('__consumer_offsets')?.partitions.length, 5);

      // Closing B leaves A serving.
      await adminB.disconnect();
      await b.close();
      assert.ok((await adminA.listTopics()).includes('same-name'));
    } finally {
      await adminA.disconnect();
    }
  });

  it('serves every listener in the list', async () => {
    assert.equal(a.broker.listening.length, 2);
    const second = a.broker.listening[1]!;
    assert.notEqual(second.port, a.port);
    const admin = new Kafka({ brokers: [`127.0.0.1:${second.port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      assert.ok((await admin.listTopics()).includes('same-name'));
    } finally {
      await admin.disconnect();
    }
  });

  it('applies logger levels set through IncrementalAlterConfigs', async () => {
    const id = String(a.broker.nodeId);
    const log = a.broker.loggers.info('fjord.coordinator');
    log('visible at INFO');
    const [r] = await incrementalAlter(a.port, [
      { resourceType: Resource.BROKER_LOGGER, resourceName: id, configs: [{ name: 'fjord.coordinator', configOperation: 0, value: 'WARN' }] },
    ]);
    assert.equal(r!.errorCode, 0);
    log('hidden at WARN');
    const described = await describeConfigsRaw(a.port, Resource.BROKER_LOGGER, id, ['fjord.coordinator']);
    assert.equal(described.configs[0].value, 'WARN');
    await incrementalAlter(a.port, [
      { resourceType: Resource.BROKER_LOGGER, resourceName: id, configs: [{ name: 'fjord.coordinator', configOperation: 1, value: null }] },
    ]);
    log('visible again');
    const mine = linesOfA.filter((l) => l.startsWith('[fjord.coordinator]'));
    assert.equal(mine.at(-1), '[fjord.coordinator] visible again');
    assert.ok(mine.includes('[fjord.coordinator] visible at INFO'));
    assert.ok(!mine.includes('[fjord.coordinator] hidden at WARN'));
  });
});
