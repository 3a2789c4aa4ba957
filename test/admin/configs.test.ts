// Config admin against a real broker: DescribeConfigs (sources, synonyms, docs, read-only,
// sensitive, loggers), AlterConfigs / IncrementalAlterConfigs on topics and brokers, validation
// messages, validateOnly, and dynamic broker configs surviving a restart.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { describeConfigsRaw, incrementalAlter, rawCall, Resource } from './helpers.js';
const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
// DescribeConfigs source codes
const TOPIC_CONFIG = 1;
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
const DYNAMIC_BROKER_LOGGER_CONFIG = 6;

describe('config admin', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: ReturnType<InstanceType<typeof Kafka>['admin']>;
  before(async () => {
    broker = await startTestBroker({ 'log.retention.hours': '100' });
    kafka = new Kafka({ clientId: 'admin-configs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cfg', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
  });
  after(async () => {
    await admin.disconnect();
    await broker.dispose();
  });

  it('describes topic configs with sources and synonyms (kafkajs)', async () => {
    const res = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg' }],
      includeSynonyms: true,
    });
    const entries = res.resources[0]!.configEntries;
    const retention = entries.find((e) => e.configName === 'retention.ms')!;
    assert.equal(retention.configValue, '3600000');
    assert.equal(retention.configSource, TOPIC_CONFIG);
    assert.equal(retention.isDefault, false);
    // topic override, then the static broker log.retention.hours, then its default
    const syn = retention.configSynonyms.map((s) => `${s.configName}=${s.configValue}@${s.configSource}`);
    assert.deepEqual(syn, ['retention.ms=3600000@1', 'log.retention.hours=100@4', 'log.retention.hours=168@5']);
    const segment = entries.find((e) => e.configName === 'segment.bytes')!;
    assert.equal(segment.configSource, DEFAULT_CONFIG);
    assert.equal(segment.configValue, '1073741824');
    assert.equal(segment.isDefault, true);
    const cleanup = entries.find((e) => e.configName === 'cleanup.policy')!;
    assert.equal(cleanup.configValue, 'delete');
  });

  it('describes broker configs: read-only flags, documentation, static and default sources', async () => {
    const r = await describeConfigsRaw(broker.port, Resource.BROKER, String(broker.broker.nodeId), [
      'log.retention.hours',
      'log.retention.ms',
      'node.id',
      'num.partitions',
      'message.max.bytes',
    ]);
    assert.equal(r.errorCode, 0);
    const byName = new Map<string, any>(r.configs.map((c: any) => [c.name, c]));
    assert.equal(byName.size, 5);
    assert.equal(byName.get('log.retention.hours').configSource, STATIC_BROKER_CONFIG);
    assert.equal(byName.get('log.retention.hours').value, '100');
    // synonyms of log.retention.ms cover the whole ms/minutes/hours family
    const synNames = byName.get('log.retention.ms').synonyms.map((s: any) => s.name);
    assert.ok(synNames.includes('log.retention.hours'), synNames.join(','));
    assert.equal(byName.get('node.id').readOnly, true);
    assert.equal(byName.get('message.max.bytes').readOnly, false);
    assert.equal(byName.get('num.partitions').configSource, DEFAULT_CONFIG);
    assert.match(byName.get('num.partitions').documentation, /partition/i);
    // unknown broker id
    const other = await describeConfigsRaw(broker.port, Resource.BROKER, '77');
    assert.equal(other.errorCode, 42);
  });

  it('AlterConfigs replaces the topic override set and changes the running log (kafkajs)', async () => {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{
        type: ConfigResourceTypes.TOPIC,
        name: 'cfg',
        configEntries: [{ name: 'max.message.bytes', value: '5000' }, { name: 'segment.ms', value: '60000' }],
      }],
    });
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg' }], includeSynonyms: false });
    const get = (n: string) => res.resources[0]!.configEntries.find((e) => e.configName === n)!;
    assert.equal(get('max.message.bytes').configValue, '5000');
    assert.equal(get('max.message.bytes').configSource, TOPIC_CONFIG);
    // retention.ms was not in the new set: back to the broker value (100 h)
    assert.equal(get('retention.ms').configValue, String(100 * 3_600_000));
    assert.equal(get('retention.ms').configSource, STATIC_BROKER_CONFIG);
    const p = broker.broker.replicas.get('cfg', 0)!;
    assert.equal(p.settings.maxMessageBytes, 5000);
    assert.equal(p.settings.segmentMs, 60000);
  });

  it('validateOnly does not change anything', async () => {
    await admin.alterConfigs({
      validateOnly: true,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg', configEntries: [{ name: 'max.message.bytes', value: '7777' }] }],
    });
    assert.equal(broker.broker.replicas.get('cfg', 0)!.settings.maxMessageBytes, 5000);
    const [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: SET, value: '1234' }] },
    ], true);
    assert.equal(r!.errorCode, 0);
    assert.equal(broker.broker.metadata.topic('cfg')!.configs['retention.ms'], undefined);
  });

  it('rejects invalid values and unknown names with INVALID_CONFIG and a message', async () => {
    const body = await rawCall(broker.port, ApiKey.AlterConfigs, 2, {
      resources: [
        { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'segment.bytes', value: '13' }] },
        { resourceType: Resource.TOPIC, resourceName: 'cfg2', configs: [] },
      ],
      validateOnly: false,
    });
    assert.equal(body.responses[0].errorCode, 40);
    assert.match(body.responses[0].errorMessage, /segment\.bytes.*at least 14/);
    assert.equal(body.responses[1].errorCode, 3); // unknown topic
    const [bad] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'no.such.config', configOperation: SET, value: '1' }] },
    ]);
    assert.equal(bad!.errorCode, 40);
    assert.match(bad!.errorMessage!, /no\.such\.config/);
    const [badType] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'message.timestamp.type', configOperation: SET, value: 'Sometimes' }] },
    ]);
    assert.equal(badType!.errorCode, 40);
    assert.match(badType!.errorMessage!, /CreateTime, LogAppendTime/);
    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg', configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
      }),
      (e: Error & { type?: string }) => e.type === 'INVALID_CONFIG',
    );
    // nothing changed
    assert.equal(broker.broker.replicas.get('cfg', 0)!.settings.maxMessageBytes, 5000);
  });

  it('IncrementalAlterConfigs SET / DELETE / APPEND / SUBTRACT', async () => {
    let [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [
        { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' },
        { name: 'max.message.bytes', configOperation: DELETE, value: null },
        { name: 'flush.messages', configOperation: SET, value: '10' },
      ] },
    ]);
    assert.equal(r!.errorCode, 0, r!.errorMessage ?? '');
    let configs = broker.broker.metadata.topic('cfg')!.configs;
    assert.equal(configs['cleanup.policy'], 'delete,compact');
    assert.equal(configs['max.message.bytes'], undefined);
    assert.equal(configs['segment.ms'], '60000'); // untouched
    assert.equal(broker.broker.replicas.get('cfg', 0)!.settings.cleanupPolicy, 'delete,compact');
    assert.equal(broker.broker.replicas.get('cfg', 0)!.settings.flushMessages, 10);
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }] },
    ]);
    assert.equal(r!.errorCode, 0);
    configs = broker.broker.metadata.topic('cfg')!.configs;
    assert.equal(configs['cleanup.policy'], 'compact');
    // APPEND on a non-list config
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] },
    ]);
    assert.equal(r!.errorCode, 40);
    // duplicate keys
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [
        { name: 'retention.ms', configOperation: SET, value: '5' },
        { name: 'retention.ms', configOperation: DELETE, value: null },
      ] },
    ]);
    assert.equal(r!.errorCode, 42);
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.TOPIC, resourceName: 'cfg', configs: [{ name: 'cleanup.policy', configOperation: SET, value: 'delete' }] },
    ]);
    assert.equal(r!.errorCode, 0);
  });

  it('broker configs: read-only rejected, cluster default vs per-broker, topics follow', async () => {
    const id = String(broker.broker.nodeId);
    let [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.BROKER, resourceName: id, configs: [{ name: 'log.dirs', configOperation: SET, value: '/x' }] },
    ]);
    assert.equal(r!.errorCode, 40);
    assert.match(r!.errorMessage!, /Cannot update these configs dynamically/);
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.BROKER, resourceName: '', configs: [{ name: 'message.max.bytes', configOperation: SET, value: '600000' }] },
    ]);
    assert.equal(r!.errorCode, 0, r!.errorMessage ?? '');
    const def = await describeConfigsRaw(broker.port, Resource.BROKER, '');
    assert.deepEqual(def.configs.map((c: any) => [c.name, c.value, c.configSource]), [['message.max.bytes', '600000', DYNAMIC_DEFAULT_BROKER_CONFIG]]);
    // topics without an override pick up the new default
    assert.equal(broker.broker.replicas.get('cfg', 0)!.settings.maxMessageBytes, 600000);
    // per-broker beats the cluster default
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.BROKER, resourceName: id, configs: [{ name: 'message.max.bytes', configOperation: SET, value: '700000' }] },
    ]);
    assert.equal(r!.errorCode, 0);
    const mine = await describeConfigsRaw(broker.port, Resource.BROKER, id, ['message.max.bytes']);
    assert.equal(mine.configs[0].value, '700000');
    assert.equal(mine.configs[0].configSource, DYNAMIC_BROKER_CONFIG);
    assert.deepEqual(mine.configs[0].synonyms.map((s: any) => s.source), [DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, DEFAULT_CONFIG]);
    const topic = await describeConfigsRaw(broker.port, Resource.TOPIC, 'cfg', ['max.message.bytes']);
    assert.equal(topic.configs[0].value, '700000');
    assert.equal(topic.configs[0].configSource, DYNAMIC_BROKER_CONFIG);
    // invalid broker value
    [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.BROKER, resourceName: id, configs: [{ name: 'log.cleaner.threads', configOperation: SET, value: '-4' }] },
    ]);
    assert.equal(r!.errorCode, 40);
  });

  it('broker loggers can be described and set', async () => {
    const id = String(broker.broker.nodeId);
    let loggers = await describeConfigsRaw(broker.port, Resource.BROKER_LOGGER, id);
    assert.equal(loggers.errorCode, 0);
    const root = loggers.configs.find((c: any) => c.name === 'root');
    assert.equal(root.value, 'INFO');
    const [r] = await incrementalAlter(broker.port, [
      { resourceType: Resource.BROKER_LOGGER, resourceName: id, configs: [{ name: 'fjord.storage', configOperation: SET, value: 'DEBUG' }] },
    ]);
    assert.equal(r!.errorCode, 0);
    loggers = await describeConfigsRaw(broker.port, Resource.BROKER_LOGGER, id, ['fjord.storage']);
    assert.equal(loggers.configs[0].value, 'DEBUG');
    assert.equal(loggers.configs[0].configSource, DYNAMIC_BROKER_LOGGER_CONFIG);
    const [bad] = await incrementalAlter(broker.port, [
      { resourceType: Resource.BROKER_LOGGER, resourceName: id, configs: [{ name: 'root', configOperation: SET, value: 'LOUD' }] },
    ]);
    assert.equal(bad!.errorCode, 40);
  });
});

describe('dynamic broker configs persist', () => {
  it('survive a broker restart (and AlterConfigs replaces the layer)', async () => {
    const dir = await tempDir();
    try {
      let broker = await startTestBroker({}, dir);
      const id = String(broker.broker.nodeId);
      const body = await rawCall(broker.port, ApiKey.AlterConfigs, 1, {
        resources: [
          { resourceType: Resource.BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: '123456' }, { name: 'compression.type', value: 'gzip' }] },
          { resourceType: Resource.BROKER, resourceName: id, configs: [{ name: 'num.replica.fetchers', value: '3' }] },
        ],
        validateOnly: false,
      });
      assert.deepEqual(body.responses.map((r: any) => r.errorCode), [0, 0]);
      await broker.close();
      broker = await startTestBroker({}, dir);
      try {
        assert.equal(broker.broker.config.get('log.retention.ms'), '123456');
        assert.equal(broker.broker.config.lookup('log.retention.ms').source, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
        assert.equal(broker.broker.config.lookup('num.replica.fetchers').source, 'DYNAMIC_BROKER_CONFIG');
        const d = await describeConfigsRaw(broker.port, Resource.BROKER, '');
        assert.deepEqual(d.configs.map((c: any) => c.name).sort(), ['compression.type', 'log.retention.ms']);
        // replace the default layer: compression.type goes away
        const again = await rawCall(broker.port, ApiKey.AlterConfigs, 0, {
          resources: [{ resourceType: Resource.BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: '654321' }] }],
          validateOnly: false,
        });
        assert.equal(again.responses[0].errorCode, 0);
        assert.equal(broker.broker.config.get('compression.type'), 'producer');
        assert.equal(broker.broker.config.get('log.retention.ms'), '654321');
      } finally {
        await broker.close();
      }
      broker = await startTestBroker({}, dir);
      try {
        assert.equal(broker.broker.config.get('log.retention.ms'), '654321');
        assert.equal(broker.broker.config.get('compression.type'), 'producer');
      } finally {
        await broker.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
