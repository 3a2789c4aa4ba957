import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  BrokerConfig,
  ConfigError,
  LONG_MAX,
  brokerConfigDefs,
  isUnbounded,
  parseConfigValue,
  parseKeyValues,
  topicConfigDefs,
  validateBrokerConfigs,
  validateTopicConfigs,
} from '../../src/config/config.js';
import { resolveTopicConfig, topicLogConfig } from '../../src/config/topic-config.js';

const tdef = (n: string) => topicConfigDefs.get(n)!;
const bdef = (n: string) => brokerConfigDefs.get(n)!;

describe('definitions', () => {
  test('all Kafka 4.x topic configs are present', () => {
    const expected = [
      'cleanup.policy', 'compression.gzip.level', 'compression.lz4.level', 'compression.type', 'compression.zstd.level',
      'delete.retention.ms', 'file.delete.delay.ms', 'flush.messages', 'flush.ms', 'follower.replication.throttled.replicas',
      'index.interval.bytes', 'leader.replication.throttled.replicas', 'local.retention.bytes', 'local.retention.ms',
      'max.compaction.lag.ms', 'max.message.bytes', 'message.downconversion.enable', 'message.timestamp.after.max.ms',
      'message.timestamp.before.max.ms', 'message.timestamp.type', 'min.cleanable.dirty.ratio', 'min.compaction.lag.ms',
      'min.insync.replicas', 'preallocate', 'remote.log.copy.disable', 'remote.log.delete.on.disable', 'remote.storage.enable',
      'retention.bytes', 'retention.ms', 'segment.bytes', 'segment.index.bytes', 'segment.jitter.ms', 'segment.ms',
      'unclean.leader.election.enable',
      // removed by Kafka 4.0, accepted and ignored for older tools
      'message.format.version', 'message.timestamp.difference.max.ms',
      // Confluent Server's broker-side schema validation
      'confluent.key.schema.validation', 'confluent.key.subject.name.strategy',
      'confluent.value.schema.validation', 'confluent.value.subject.name.strategy',
    ];
    assert.deepEqual([...topicConfigDefs.keys()].sort(), expected.sort());
  });

  test('topic defaults match Kafka', () => {
    assert.equal(tdef('cleanup.policy').default, 'delete');
    assert.equal(tdef('retention.ms').default, '604800000');
    assert.equal(tdef('segment.bytes').default, '1073741824');
    assert.equal(tdef('segment.bytes').min, 14);
    assert.equal(tdef('max.message.bytes').default, '1048588');
    assert.equal(tdef('message.timestamp.after.max.ms').default, '3600000');
    assert.equal(tdef('flush.messages').default, '9223372036854775807');
    assert.equal(tdef('compression.type').default, 'producer');
    assert.equal(tdef('min.cleanable.dirty.ratio').type, 'double');
  });

  test('broker synonyms of topic configs exist as broker configs pointing back', () => {
    for (const def of topicConfigDefs.values()) {
      for (const s of def.brokerSynonyms ?? []) {
        const b = brokerConfigDefs.get(s.name);
        assert.ok(b, `${def.name}: broker synonym ${s.name} missing`);
        assert.equal(b.topicName, def.name);
      }
      if (def.brokerSynonyms) assert.equal(def.brokerSynonym, def.brokerSynonyms[0]!.name);
    }
    assert.deepEqual(tdef('retention.ms').brokerSynonyms!.map((s) => s.name),
      ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']);
    assert.equal(tdef('max.message.bytes').brokerSynonym, 'message.max.bytes');
  });

  test('every default is valid for its own definition', () => {
    for (const def of [...brokerConfigDefs.values(), ...topicConfigDefs.values()]) {
      if (def.default !== null) assert.doesNotThrow(() => parseConfigValue(def, def.default!), def.name);
    }
  });

  test('broker defaults', () => {
    const c = new BrokerConfig();
    assert.equal(c.numPartitions, 1);
    assert.equal(c.autoCreateTopicsEnable, true);
    assert.equal(c.deleteTopicEnable, true);
    assert.equal(c.defaultReplicationFactor, 1);
    assert.equal(c.messageMaxBytes, 1048588);
    assert.equal(c.socketRequestMaxBytes, 104857600);
    assert.equal(c.offsetsTopicNumPartitions, 50);
    assert.equal(c.offsetsRetentionMinutes, 10080);
    assert.equal(c.groupInitialRebalanceDelayMs, 3000);
    assert.equal(c.groupMinSessionTimeoutMs, 6000);
    assert.equal(c.groupMaxSessionTimeoutMs, 1800000);
    assert.equal(c.transactionStateLogNumPartitions, 50);
    assert.equal(c.transactionalIdExpirationMs, 604800000);
    assert.equal(c.logRetentionMs, 604800000);
    assert.equal(c.logRetentionBytes, -1);
    assert.equal(c.logSegmentBytes, 1073741824);
    assert.equal(c.logRollMs, 604800000);
    assert.equal(c.logRetentionCheckIntervalMs, 300000);
    assert.equal(c.logCleanupPolicy, 'delete');
    assert.equal(c.logFlushIntervalMs, null);
    assert.ok(isUnbounded(c.logFlushIntervalMessages));
    assert.equal(c.logFlushIntervalMessages, LONG_MAX);
    assert.equal(c.fjordFlushMode, 'group-commit');
    assert.equal(c.fjordGroupCommitMs, 0);
    assert.deepEqual(c.fjordEtcdEndpoints, []);
    assert.deepEqual(c.listeners, ['PLAINTEXT://:9092']);
    assert.deepEqual(c.advertisedListeners, ['PLAINTEXT://:9092']);
    assert.equal(c.nodeId, 0);
    assert.equal(c.groupConsumerHeartbeatIntervalMs, 5000);
    assert.deepEqual(c.groupConsumerAssignors, ['uniform', 'range']);
  });
});

describe('parseConfigValue', () => {
  test('types', () => {
    assert.equal(parseConfigValue(tdef('preallocate'), 'TRUE'), true);
    assert.equal(parseConfigValue(tdef('preallocate'), ' false '), false);
    assert.equal(parseConfigValue(tdef('retention.ms'), '-1'), -1);
    assert.equal(parseConfigValue(tdef('retention.ms'), '+1000'), 1000);
    assert.equal(parseConfigValue(tdef('retention.bytes'), '-5'), -5);
    assert.equal(parseConfigValue(tdef('min.cleanable.dirty.ratio'), '0.25'), 0.25);
    assert.equal(parseConfigValue(tdef('min.cleanable.dirty.ratio'), '1'), 1);
    assert.equal(parseConfigValue(bdef('offsets.topic.replication.factor'), '2'), 2);
    assert.equal(parseConfigValue(tdef('message.timestamp.type'), 'LogAppendTime'), 'LogAppendTime');
  });

  test('lists', () => {
    assert.deepEqual(parseConfigValue(tdef('cleanup.policy'), 'compact, delete'), ['compact', 'delete']);
    assert.deepEqual(parseConfigValue(tdef('cleanup.policy'), 'compact'), ['compact']);
    assert.deepEqual(parseConfigValue(tdef('leader.replication.throttled.replicas'), ''), []);
    assert.deepEqual(parseConfigValue(tdef('leader.replication.throttled.replicas'), '*'), ['*']);
    assert.deepEqual(parseConfigValue(tdef('leader.replication.throttled.replicas'), '0:1, 1:2'), ['0:1', '1:2']);
    assert.throws(() => parseConfigValue(tdef('leader.replication.throttled.replicas'), '0-1'), ConfigError);
    assert.throws(() => parseConfigValue(tdef('cleanup.policy'), 'compact,forever'),
      /Invalid value compact,forever for configuration cleanup.policy: String must be one of: compact, delete/);
    assert.deepEqual(parseConfigValue(bdef('listeners'), 'PLAINTEXT://:9092,INTERNAL://127.0.0.1:9093'),
      ['PLAINTEXT://:9092', 'INTERNAL://127.0.0.1:9093']);
    assert.throws(() => parseConfigValue(bdef('listeners'), 'localhost:9092'), ConfigError);
    assert.throws(() => parseConfigValue(bdef('listeners'), 'A://:1,A://:2'), /repeated/);
  });

  test('bad numbers', () => {
    assert.throws(() => parseConfigValue(tdef('retention.ms'), 'abc'),
      (e: unknown) => e instanceof ConfigError
        && e.message === 'Invalid value abc for configuration retention.ms: Not a number of type LONG'
        && e.configName === 'retention.ms');
    assert.throws(() => parseConfigValue(tdef('segment.bytes'), '1.5'), /Not a number of type INT/);
    assert.throws(() => parseConfigValue(tdef('segment.bytes'), '2147483648'), /Not a number of type INT/);
    assert.throws(() => parseConfigValue(tdef('retention.ms'), '9223372036854775808'), /Not a number of type LONG/);
    assert.doesNotThrow(() => parseConfigValue(tdef('retention.ms'), '9223372036854775807'));
    assert.throws(() => parseConfigValue(bdef('offsets.topic.replication.factor'), '40000'), /SHORT/);
    assert.throws(() => parseConfigValue(tdef('min.cleanable.dirty.ratio'), 'half'), /DOUBLE/);
    assert.throws(() => parseConfigValue(tdef('preallocate'), 'yes'), /either true or false/);
  });

  test('ranges and valid values', () => {
    assert.throws(() => parseConfigValue(tdef('retention.ms'), '-2'), /Value must be at least -1/);
    assert.throws(() => parseConfigValue(tdef('segment.bytes'), '13'), /at least 14/); // 3.x's minimum (Kafka 4: 1 MiB)
    assert.equal(parseConfigValue(tdef('segment.bytes'), '14'), 14);
    assert.throws(() => parseConfigValue(tdef('segment.ms'), '0'), /at least 1/);
    assert.throws(() => parseConfigValue(tdef('min.insync.replicas'), '0'), ConfigError);
    assert.throws(() => parseConfigValue(tdef('min.cleanable.dirty.ratio'), '1.5'), /range \[0, 1\]/);
    assert.throws(() => parseConfigValue(tdef('compression.type'), 'brotli'), /String must be one of/);
    assert.throws(() => parseConfigValue(tdef('message.timestamp.type'), 'createtime'), ConfigError);
    assert.equal(parseConfigValue(tdef('compression.gzip.level'), '-1'), -1);
    assert.equal(parseConfigValue(tdef('compression.gzip.level'), '9'), 9);
    assert.throws(() => parseConfigValue(tdef('compression.gzip.level'), '0'), ConfigError);
    assert.throws(() => parseConfigValue(tdef('compression.zstd.level'), '23'), ConfigError);
    assert.equal(parseConfigValue(tdef('local.retention.ms'), '-2'), -2);
    assert.throws(() => parseConfigValue(bdef('fjord.flush.mode'), 'never'), ConfigError);
  });

  test('sensitive values are not echoed', () => {
    const def = { ...bdef('fjord.group.commit.ms'), sensitive: true };
    assert.throws(() => parseConfigValue(def, 'secret'), (e: unknown) => e instanceof Error && !e.message.includes('secret'));
  });
});

describe('validateTopicConfigs', () => {
  test('accepts and trims, drops nulls', () => {
    assert.deepEqual(validateTopicConfigs({ 'retention.ms': ' 1000 ', 'cleanup.policy': 'compact', 'segment.ms': null }),
      { 'retention.ms': '1000', 'cleanup.policy': 'compact' });
  });
  test('unknown name', () => {
    assert.throws(() => validateTopicConfigs({ 'foo.bar': '1' }),
      (e: unknown) => e instanceof ConfigError && /Unknown topic config name: foo\.bar/.test(e.message));
    // broker-only names are not topic configs
    assert.throws(() => validateTopicConfigs({ 'log.retention.ms': '1' }), ConfigError);
  });
  test('bad value', () => {
    assert.throws(() => validateTopicConfigs({ 'retention.ms': 'abc' }), /retention\.ms/);
  });
  test('compaction lag consistency', () => {
    assert.throws(() => validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }), ConfigError);
    assert.doesNotThrow(() => validateTopicConfigs({ 'min.compaction.lag.ms': '5', 'max.compaction.lag.ms': '10' }));
  });
});

describe('BrokerConfig', () => {
  test('unknown and invalid broker configs', () => {
    assert.throws(() => new BrokerConfig({ 'foo.bar': '1' }), /Unknown broker config name: foo\.bar/);
    assert.throws(() => validateBrokerConfigs({ 'num.partitions': '0' }), /num\.partitions/);
    assert.throws(() => new BrokerConfig({ 'auto.create.topics.enable': 'maybe' }), ConfigError);
    assert.throws(() => new BrokerConfig().get('nope'), ConfigError);
  });

  test('static overrides and sources', () => {
    const c = new BrokerConfig({ 'num.partitions': '3', 'auto.create.topics.enable': 'FALSE', 'node.id': '7' });
    assert.equal(c.numPartitions, 3);
    assert.equal(c.autoCreateTopicsEnable, false);
    assert.equal(c.nodeId, 7);
    assert.equal(c.get('num.partitions'), '3');
    const entries = new Map([...c.entries()].map((e) => [e.def.name, e]));
    assert.equal(entries.get('num.partitions')!.source, 'STATIC_BROKER_CONFIG');
    assert.equal(entries.get('message.max.bytes')!.source, 'DEFAULT_CONFIG');
    assert.equal(entries.get('message.max.bytes')!.value, '1048588');
    assert.equal(entries.get('log.retention.ms')!.value, null);
    assert.equal(entries.size, brokerConfigDefs.size);
  });

  test('node.id / broker.id', () => {
    assert.equal(new BrokerConfig({ 'broker.id': '4' }).nodeId, 4);
    assert.equal(new BrokerConfig({ 'broker.id': '4', 'node.id': '4' }).nodeId, 4);
    assert.throws(() => new BrokerConfig({ 'broker.id': '4', 'node.id': '5' }), ConfigError);
  });

  test('retention precedence: ms > minutes > hours', () => {
    assert.equal(new BrokerConfig({ 'log.retention.hours': '1' }).logRetentionMs, 3_600_000);
    assert.equal(new BrokerConfig({ 'log.retention.hours': '1', 'log.retention.minutes': '2' }).logRetentionMs, 120_000);
    assert.equal(new BrokerConfig({ 'log.retention.hours': '1', 'log.retention.minutes': '2', 'log.retention.ms': '5' }).logRetentionMs, 5);
    assert.equal(new BrokerConfig({ 'log.retention.ms': '-1' }).logRetentionMs, -1);
    assert.equal(new BrokerConfig({ 'log.retention.hours': '-1' }).logRetentionMs, -1);
    assert.equal(new BrokerConfig({ 'log.retention.ms': '-7' }).logRetentionMs, -1);
  });

  test('roll and flush precedence', () => {
    assert.equal(new BrokerConfig({ 'log.roll.hours': '2' }).logRollMs, 7_200_000);
    assert.equal(new BrokerConfig({ 'log.roll.hours': '2', 'log.roll.ms': '60000' }).logRollMs, 60_000);
    assert.equal(new BrokerConfig({ 'log.flush.interval.ms': '1000' }).logFlushIntervalMs, 1000);
    assert.equal(new BrokerConfig({ 'log.flush.scheduler.interval.ms': '3000' }).logFlushIntervalMs, 3000);
    assert.equal(new BrokerConfig({ 'log.flush.interval.messages': '1' }).logFlushIntervalMessages, 1);
  });

  test('lists and log dirs', () => {
    const c = new BrokerConfig({ 'log.dirs': '/a, /b', 'fjord.etcd.endpoints': 'http://127.0.0.1:2379,http://127.0.0.1:22379' });
    assert.deepEqual(c.logDirs, ['/a', '/b']);
    assert.deepEqual(c.getList('fjord.etcd.endpoints'), ['http://127.0.0.1:2379', 'http://127.0.0.1:22379']);
    assert.deepEqual(new BrokerConfig({ 'log.dir': '/x' }).logDirs, ['/x']);
    assert.throws(() => new BrokerConfig({ 'log.dirs': '/a,/a' }), ConfigError);
    const adv = new BrokerConfig({ listeners: 'PLAINTEXT://0.0.0.0:9092', 'advertised.listeners': 'PLAINTEXT://host1:9092' });
    assert.deepEqual(adv.advertisedListeners, ['PLAINTEXT://host1:9092']);
    assert.equal(adv.listenerSecurityProtocolMap.get('PLAINTEXT'), 'PLAINTEXT');
  });

  test('typed getters check types', () => {
    const c = new BrokerConfig();
    assert.equal(c.getInt('num.partitions'), 1);
    assert.equal(c.getLong('log.retention.bytes'), -1);
    assert.equal(c.getBool('delete.topic.enable'), true);
    assert.throws(() => c.getBool('num.partitions'), ConfigError);
    assert.throws(() => c.getLong('log.retention.ms'), /no default/);
    assert.equal(c.getNumberOrNull('log.retention.ms'), null);
  });

  test('cross-field group checks', () => {
    assert.throws(() => new BrokerConfig({ 'group.min.session.timeout.ms': '10', 'group.max.session.timeout.ms': '5' }), ConfigError);
    assert.throws(() => new BrokerConfig({ 'group.consumer.heartbeat.interval.ms': '20000' }), ConfigError);
    assert.doesNotThrow(() => new BrokerConfig({
      'group.consumer.min.session.timeout.ms': '6000', 'group.consumer.session.timeout.ms': '10000',
      'group.consumer.min.heartbeat.interval.ms': '500', 'group.consumer.heartbeat.interval.ms': '1000',
    }));
  });

  test('dynamic layers', () => {
    const c = new BrokerConfig({ 'message.max.bytes': '2000000' });
    assert.equal(c.messageMaxBytes, 2000000);
    c.setDynamic('message.max.bytes', '3000000', 'cluster-default');
    assert.equal(c.messageMaxBytes, 3000000);
    assert.equal(c.lookup('message.max.bytes').source, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    c.setDynamic('message.max.bytes', '4000000', 'per-broker');
    assert.equal(c.messageMaxBytes, 4000000);
    assert.deepEqual(c.layers('message.max.bytes').map((l) => l.source),
      ['DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG']);
    c.setDynamic('message.max.bytes', null, 'per-broker');
    assert.equal(c.messageMaxBytes, 3000000);
    assert.throws(() => c.setDynamic('node.id', '3', 'per-broker'), /Cannot update/);
    assert.throws(() => c.setDynamic('message.max.bytes', 'x', 'per-broker'), ConfigError);
    assert.throws(() => c.setDynamic('listeners', 'PLAINTEXT://:1', 'cluster-default'), /broker id/);
    assert.equal(c.messageMaxBytes, 3000000);
  });
});

describe('resolveTopicConfig', () => {
  test('defaults through broker synonyms', () => {
    const r = resolveTopicConfig(new BrokerConfig(), {});
    assert.equal(r.size, topicConfigDefs.size);
    const ret = r.get('retention.ms')!;
    assert.equal(ret.value, '604800000');
    assert.equal(ret.source, 'DEFAULT_CONFIG');
    assert.deepEqual(ret.synonyms, [{ name: 'log.retention.hours', value: '168', source: 'DEFAULT_CONFIG' }]);
    const rs = r.get('remote.storage.enable')!;
    assert.equal(rs.value, 'false');
    assert.equal(rs.source, 'DEFAULT_CONFIG');
    assert.deepEqual(rs.synonyms, []);
    assert.equal(r.get('max.message.bytes')!.value, '1048588');
    assert.equal(r.get('flush.ms')!.value, '9223372036854775807');
    assert.equal(r.get('flush.ms')!.synonyms[0]!.name, 'log.flush.scheduler.interval.ms');
  });

  test('static broker config and topic override', () => {
    const broker = new BrokerConfig({ 'log.retention.minutes': '10', 'log.retention.hours': '2', 'message.max.bytes': '500000' });
    const r = resolveTopicConfig(broker, { 'retention.ms': '1234' });
    const ret = r.get('retention.ms')!;
    assert.equal(ret.value, '1234');
    assert.equal(ret.source, 'TOPIC_CONFIG');
    assert.deepEqual(ret.synonyms, [
      { name: 'retention.ms', value: '1234', source: 'TOPIC_CONFIG' },
      { name: 'log.retention.minutes', value: '10', source: 'STATIC_BROKER_CONFIG' },
      { name: 'log.retention.hours', value: '2', source: 'STATIC_BROKER_CONFIG' },
      { name: 'log.retention.hours', value: '168', source: 'DEFAULT_CONFIG' },
    ]);
    const mmb = r.get('max.message.bytes')!;
    assert.equal(mmb.value, '500000');
    assert.equal(mmb.source, 'STATIC_BROKER_CONFIG');
    assert.equal(mmb.synonyms[0]!.name, 'message.max.bytes');

    const r2 = resolveTopicConfig(broker, {});
    assert.equal(r2.get('retention.ms')!.value, String(10 * 60_000));
    assert.equal(r2.get('retention.ms')!.source, 'STATIC_BROKER_CONFIG');
  });

  test('same-name configs and dynamic sources', () => {
    const broker = new BrokerConfig({ 'compression.type': 'zstd' });
    broker.setDynamic('log.cleanup.policy', 'compact', 'cluster-default');
    const r = resolveTopicConfig(broker, {});
    assert.equal(r.get('compression.type')!.value, 'zstd');
    assert.equal(r.get('compression.type')!.source, 'STATIC_BROKER_CONFIG');
    assert.equal(r.get('cleanup.policy')!.value, 'compact');
    assert.equal(r.get('cleanup.policy')!.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
  });

  test('typed log config', () => {
    const broker = new BrokerConfig({ 'log.segment.bytes': '2097152', 'log.roll.hours': '1' });
    const lc = topicLogConfig(broker, { 'cleanup.policy': 'compact,delete', 'retention.bytes': '1000' });
    assert.equal(lc.segmentBytes, 2097152);
    assert.equal(lc.segmentMs, 3_600_000);
    assert.equal(lc.retentionBytes, 1000);
    assert.equal(lc.retentionMs, 604800000);
    assert.equal(lc.compact, true);
    assert.equal(lc.delete, true);
    assert.equal(lc.messageTimestampType, 'CreateTime');
    assert.equal(lc.minCleanableDirtyRatio, 0.5);
    assert.ok(isUnbounded(lc.flushMessages));
  });

  test('negative broker retention becomes -1 at topic level', () => {
    for (const k of ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']) {
      const broker = new BrokerConfig({ [k]: '-5' });
      assert.equal(resolveTopicConfig(broker, {}).get('retention.ms')!.value, '-1', k);
      assert.equal(topicLogConfig(broker, {}).retentionMs, -1, k);
    }
  });
});

test('parseKeyValues', () => {
  assert.deepEqual(parseKeyValues(['# comment', '', 'a=b', ' c = d=e ', 'x:y']), { a: 'b', c: 'd=e', x: 'y' });
  assert.throws(() => parseKeyValues(['novalue']), ConfigError);
});
