// The one topic-config resolver: a topic's overrides on top of the broker-level synonyms
// (dynamic per-broker, dynamic cluster default, static) on top of Kafka's defaults.
// `resolveTopicConfig` keeps sources and synonyms (DescribeConfigs, CreateTopics responses);
// `topicLogConfig` is the same resolution parsed into typed values (the replica manager builds
// each partition's settings from it, the produce path reads compression levels from it).
import type { BrokerSynonym, ConfigDef } from './config-defs.js';
import { parseConfigValue, topicConfigDefs, unitFactor, type BrokerConfig, type ConfigSource, type ConfigValue } from './config.js';

export interface ConfigSynonymEntry {
  name: string;
  value: string | null;
  source: ConfigSource;
}

export interface ResolvedTopicConfig {
  value: string | null;
  source: ConfigSource;
  def: ConfigDef;
  /** As in DescribeConfigs: the topic override (if any), then broker synonyms by priority and layer. */
  synonyms: ConfigSynonymEntry[];
}

function convertToTopicValue(def: ConfigDef, syn: BrokerSynonym, raw: string): string {
  const factor = unitFactor(syn.unit);
  // Kafka treats any negative broker retention (ms, minutes or hours) as -1 = unlimited.
  if (def.name === 'retention.ms' && raw.trim().startsWith('-')) return '-1';
  if (factor === 1) return raw.trim();
  return (BigInt(raw.trim()) * BigInt(factor)).toString();
}

/**
 * Effective configs of a topic: topic overrides on top of broker-level synonyms on top of
 * defaults, each with its source and synonyms (for DescribeConfigs). Unknown override names are
 * ignored (they cannot be stored, as validateTopicConfigs rejects them).
 */
export function resolveTopicConfig(broker: BrokerConfig, overrides: Record<string, string>): Map<string, ResolvedTopicConfig> {
  const out = new Map<string, ResolvedTopicConfig>();
  for (const def of topicConfigDefs.values()) {
    const synonyms: ConfigSynonymEntry[] = [];
    let value: string | null = null;
    let source: ConfigSource | null = null;
    const own = Object.hasOwn(overrides, def.name) ? overrides[def.name] : undefined;
    if (own !== undefined && own !== null) {
      value = String(own).trim();
      source = 'TOPIC_CONFIG';
      synonyms.push({ name: def.name, value, source });
    }
    for (const syn of def.brokerSynonyms ?? []) {
      for (const layer of broker.layers(syn.name)) {
        synonyms.push(layer);
        if (source === null && layer.value !== null) {
          value = convertToTopicValue(def, syn, layer.value);
          source = layer.source;
        }
      }
    }
    if (source === null) {
      value = def.default;
      source = 'DEFAULT_CONFIG';
    }
    out.set(def.name, { value, source, def, synonyms });
  }
  return out;
}

/** Typed effective topic config, as storage and the produce path use it. */
export interface TopicConfigValues {
  cleanupPolicy: string[];
  compact: boolean;
  delete: boolean;
  compressionType: string;
  compressionGzipLevel: number;
  compressionLz4Level: number;
  compressionZstdLevel: number;
  deleteRetentionMs: number;
  fileDeleteDelayMs: number;
  flushMessages: number;
  flushMs: number;
  indexIntervalBytes: number;
  maxCompactionLagMs: number;
  maxMessageBytes: number;
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  messageTimestampBeforeMaxMs: number;
  messageTimestampAfterMaxMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  minInsyncReplicas: number;
  preallocate: boolean;
  retentionBytes: number;
  retentionMs: number;
  segmentBytes: number;
  segmentIndexBytes: number;
  segmentJitterMs: number;
  segmentMs: number;
  uncleanLeaderElectionEnable: boolean;
  keySchemaValidation: boolean;
  valueSchemaValidation: boolean;
  keySubjectNameStrategy: string;
  valueSubjectNameStrategy: string;
}

/** Resolve and parse a topic's effective configs into a typed TopicConfigValues. */
export function topicLogConfig(broker: BrokerConfig, overrides: Record<string, string>): TopicConfigValues {
  const resolved = resolveTopicConfig(broker, overrides);
  const p = (name: string): ConfigValue => {
    const r = resolved.get(name)!;
    return parseConfigValue(r.def, r.value ?? '');
  };
  const n = (name: string) => p(name) as number;
  const cleanupPolicy = p('cleanup.policy') as string[];
  return {
    cleanupPolicy,
    compact: cleanupPolicy.includes('compact'),
    delete: cleanupPolicy.includes('delete'),
    compressionType: p('compression.type') as string,
    compressionGzipLevel: n('compression.gzip.level'),
    compressionLz4Level: n('compression.lz4.level'),
    compressionZstdLevel: n('compression.zstd.level'),
    deleteRetentionMs: n('delete.retention.ms'),
    fileDeleteDelayMs: n('file.delete.delay.ms'),
    flushMessages: n('flush.messages'),
    flushMs: n('flush.ms'),
    indexIntervalBytes: n('index.interval.bytes'),
    maxCompactionLagMs: n('max.compaction.lag.ms'),
    maxMessageBytes: n('max.message.bytes'),
    messageTimestampType: p('message.timestamp.type') as 'CreateTime' | 'LogAppendTime',
    messageTimestampBeforeMaxMs: n('message.timestamp.before.max.ms'),
    messageTimestampAfterMaxMs: n('message.timestamp.after.max.ms'),
    minCleanableDirtyRatio: n('min.cleanable.dirty.ratio'),
    minCompactionLagMs: n('min.compaction.lag.ms'),
    minInsyncReplicas: n('min.insync.replicas'),
    preallocate: p('preallocate') as boolean,
    retentionBytes: n('retention.bytes'),
    retentionMs: n('retention.ms'),
    segmentBytes: n('segment.bytes'),
    segmentIndexBytes: n('segment.index.bytes'),
    segmentJitterMs: n('segment.jitter.ms'),
    segmentMs: n('segment.ms'),
    uncleanLeaderElectionEnable: p('unclean.leader.election.enable') as boolean,
    keySchemaValidation: p('confluent.key.schema.validation') as boolean,
    valueSchemaValidation: p('confluent.value.schema.validation') as boolean,
    keySubjectNameStrategy: p('confluent.key.subject.name.strategy') as string,
    valueSubjectNameStrategy: p('confluent.value.subject.name.strategy') as string,
  };
}
