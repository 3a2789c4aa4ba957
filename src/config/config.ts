/**
 * Typed, validated broker and topic configuration.
 *
 * - The definitions (names, types, defaults, ranges) are in ./config-defs.ts and follow Kafka 4.x.
 * - `parseConfigValue` / `validateTopicConfigs` / `validateBrokerConfigs` check raw strings and
 *   throw `ConfigError` with Kafka-style messages (clients see them in CreateTopics/AlterConfigs).
 * - `BrokerConfig` layers defaults < static (command line) < dynamic cluster default < dynamic
 *   per-broker, and offers typed getters.
 * - Topic configs are resolved in ./topic-config.ts (the one resolver).
 *
 * Longs are returned as JS numbers: values above 2^53 (Kafka's Long.MAX_VALUE defaults meaning
 * "never") lose precision but still compare as "huge". Use `isUnbounded()` before scheduling timers.
 */
import {
  brokerConfigDefs,
  topicConfigDefs,
  LONG_MAX_STRING,
  type BrokerSynonym,
  type ConfigDef,
  type ConfigType,
  type DynamicMode,
} from './config-defs.js';

export { brokerConfigDefs, topicConfigDefs, LONG_MAX_STRING };
export type { BrokerSynonym, ConfigDef, ConfigType, DynamicMode };

export type ConfigValue = string | number | boolean | string[];

export type BrokerConfigSource =
  | 'DEFAULT_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG';
export type ConfigSource = BrokerConfigSource | 'TOPIC_CONFIG';

/** Long.MAX_VALUE as a JS number (≈ 9.223372036854776e18). */
export const LONG_MAX = Number(LONG_MAX_STRING);

/** True for Kafka's "no limit" sentinels (Long.MAX_VALUE and anything beyond safe integers). */
export function isUnbounded(n: number): boolean {
  return n >= Number.MAX_SAFE_INTEGER;
}

export class ConfigError extends Error {
  /** The offending config name, when there is one. */
  readonly configName: string | undefined;
  constructor(message: string, configName?: string) {
    super(message);
    this.name = 'ConfigError';
    this.configName = configName;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

const INT_RE = /^[+-]?\d+$/;
const DOUBLE_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const TYPE_LABEL: Record<ConfigType, string> = {
  boolean: 'BOOLEAN', string: 'STRING', int: 'INT', short: 'SHORT', long: 'LONG', double: 'DOUBLE',
  list: 'LIST', class: 'CLASS', password: 'PASSWORD',
};

function invalid(def: ConfigDef, raw: string, why: string): ConfigError {
  const shown = def.sensitive ? '[hidden]' : raw;
  return new ConfigError(`Invalid value ${shown} for configuration ${def.name}: ${why}`, def.name);
}

function parseInteger(def: ConfigDef, raw: string, lo: bigint, hi: bigint): number {
  if (!INT_RE.test(raw)) throw invalid(def, raw, `Not a number of type ${TYPE_LABEL[def.type]}`);
  const n = BigInt(raw);
  if (n < lo || n > hi) throw invalid(def, raw, `Not a number of type ${TYPE_LABEL[def.type]}`);
  return Number(n);
}

function splitList(raw: string): string[] {
  const s = raw.trim();
  if (s === '') return [];
  return s.split(/\s*,\s*/);
}

/**
 * Parse and validate one raw value against its definition. Accepts Kafka's formats: trimmed
 * strings, case-insensitive booleans, signed integers, comma-separated lists.
 */
export function parseConfigValue(def: ConfigDef, raw: string): ConfigValue {
  const v = raw.trim();
  let value: ConfigValue;
  switch (def.type) {
    case 'boolean': {
      const l = v.toLowerCase();
      if (l === 'true') value = true;
      else if (l === 'false') value = false;
      else throw invalid(def, raw, 'Expected value to be either true or false');
      break;
    }
    case 'short':
      value = parseInteger(def, v, -32768n, 32767n);
      break;
    case 'int':
      value = parseInteger(def, v, -2147483648n, 2147483647n);
      break;
    case 'long':
      value = parseInteger(def, v, INT64_MIN, INT64_MAX);
      break;
    case 'double': {
      if (!DOUBLE_RE.test(v)) throw invalid(def, raw, 'Not a number of type DOUBLE');
      const d = Number(v);
      if (!Number.isFinite(d)) throw invalid(def, raw, 'Not a number of type DOUBLE');
      value = d;
      break;
    }
    case 'list':
      value = splitList(v);
      break;
    case 'class':
      if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(v)) throw invalid(def, raw, 'Class not found');
      value = v;
      break;
    case 'string':
    case 'password':
      value = v;
      break;
  }

  if (typeof value === 'number') {
    if (def.min !== undefined && value < def.min) {
      throw invalid(def, raw, def.max !== undefined
        ? `Value must be in the range [${def.min}, ${def.max}]` : `Value must be at least ${def.min}`);
    }
    if (def.max !== undefined && value > def.max) {
      throw invalid(def, raw, def.min !== undefined
        ? `Value must be in the range [${def.min}, ${def.max}]` : `Value must be no more than ${def.max}`);
    }
  }
  if (def.validValues) {
    const items = Array.isArray(value) ? value : [String(value)];
    for (const item of items) {
      if (!def.validValues.includes(item)) {
        throw invalid(def, raw, `String must be one of: ${def.validValues.join(', ')}`);
      }
    }
  }
  if (def.validator) {
    const why = def.validator(value, v);
    if (why) throw invalid(def, raw, why);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Whole-map validation

/**
 * Validate topic configs as sent in CreateTopics / AlterConfigs. Returns the trimmed values;
 * null values (meaning "use the default") are dropped. Throws ConfigError on unknown names,
 * bad values and inconsistent combinations.
 */
export function validateTopicConfigs(configs: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  const parsed = new Map<string, ConfigValue>();
  for (const [name, raw] of Object.entries(configs)) {
    const def = topicConfigDefs.get(name);
    if (!def) throw new ConfigError(`Unknown topic config name: ${name}`, name);
    if (raw === null || raw === undefined) continue;
    parsed.set(name, parseConfigValue(def, raw));
    out[name] = raw.trim();
  }
  const minLag = parsed.get('min.compaction.lag.ms');
  const maxLag = parsed.get('max.compaction.lag.ms');
  if (typeof minLag === 'number' && typeof maxLag === 'number' && minLag > maxLag) {
    throw new ConfigError(
      `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`,
      'min.compaction.lag.ms');
  }
  return out;
}

const LISTENER_PREFIXED = /^listener\.name\.[a-z0-9_-]+\.((?:ssl|sasl)\..+)$/;

/**
 * The definition of a broker config name, including Kafka's listener-prefixed form
 * (`listener.name.<listener>.ssl.client.auth`), which takes the definition of the unprefixed
 * ssl.* / sasl.* config it overrides for one listener.
 */
function brokerDef(name: string): ConfigDef | undefined {
  const def = brokerConfigDefs.get(name);
  if (def) return def;
  const m = LISTENER_PREFIXED.exec(name);
  return m ? brokerConfigDefs.get(m[1]!) : undefined;
}

/** Validate broker configs (one layer: e.g. the command line). Returns the trimmed values. */
export function validateBrokerConfigs(configs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(configs)) {
    const def = brokerDef(name);
    if (!def) throw new ConfigError(`Unknown broker config name: ${name}`, name);
    if (raw === null || raw === undefined) continue;
    parseConfigValue(def, String(raw));
    out[name] = String(raw).trim();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Broker config

export interface BrokerConfigEntry {
  def: ConfigDef;
  value: string | null;
  source: BrokerConfigSource;
}

/** Per-layer values of one broker config, highest priority first (only layers that hold a value). */
export interface ConfigLayerValue {
  name: string;
  value: string | null;
  source: BrokerConfigSource;
}

function unknownBroker(name: string): ConfigError {
  return new ConfigError(`Unknown broker config name: ${name}`, name);
}

export function unitFactor(unit: BrokerSynonym['unit']): number {
  return unit === 'hours' ? 3_600_000 : unit === 'minutes' ? 60_000 : 1;
}

/**
 * Broker configuration: defaults, overridden by static configs (command line), overridden by
 * dynamic cluster-wide defaults, overridden by dynamic per-broker configs.
 */
export class BrokerConfig {
  private readonly staticValues: Map<string, string>;
  private readonly dynamicDefault = new Map<string, string>();
  private readonly dynamicBroker = new Map<string, string>();
  private readonly cache = new Map<string, ConfigValue | null>();

  constructor(overrides: Record<string, string> = {}) {
    this.staticValues = new Map(Object.entries(validateBrokerConfigs(overrides)));
    this.checkConsistency();
  }

  // --- raw access --------------------------------------------------------------------------------

  private def(name: string): ConfigDef {
    const def = brokerDef(name);
    if (!def) throw unknownBroker(name);
    return def;
  }

  /** A config as seen by one listener: `listener.name.<listener>.<name>` when set, else `name`. */
  forListener(listenerName: string, name: string): string | null {
    const prefixed = `listener.name.${listenerName.toLowerCase()}.${name}`;
    return this.isSet(prefixed) ? this.get(prefixed) : this.get(name);
  }

  /** Effective raw value and its source. */
  lookup(name: string): { value: string | null; source: BrokerConfigSource } {
    const def = this.def(name);
    const db = this.dynamicBroker.get(name);
    if (db !== undefined) return { value: db, source: 'DYNAMIC_BROKER_CONFIG' };
    const dd = this.dynamicDefault.get(name);
    if (dd !== undefined) return { value: dd, source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' };
    const st = this.staticValues.get(name);
    if (st !== undefined) return { value: st, source: 'STATIC_BROKER_CONFIG' };
    return { value: def.default, source: 'DEFAULT_CONFIG' };
  }

  /** Every layer that holds a value for `name`, highest priority first (default last if non-null). */
  layers(name: string): ConfigLayerValue[] {
    const def = this.def(name);
    const out: ConfigLayerValue[] = [];
    const db = this.dynamicBroker.get(name);
    if (db !== undefined) out.push({ name, value: db, source: 'DYNAMIC_BROKER_CONFIG' });
    const dd = this.dynamicDefault.get(name);
    if (dd !== undefined) out.push({ name, value: dd, source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' });
    const st = this.staticValues.get(name);
    if (st !== undefined) out.push({ name, value: st, source: 'STATIC_BROKER_CONFIG' });
    if (def.default !== null) out.push({ name, value: def.default, source: 'DEFAULT_CONFIG' });
    return out;
  }

  /** True when some layer other than the default sets `name`. */
  isSet(name: string): boolean {
    this.def(name);
    return this.dynamicBroker.has(name) || this.dynamicDefault.has(name) || this.staticValues.has(name);
  }

  get(name: string): string | null {
    return this.lookup(name).value;
  }

  /** Parsed effective value (null when the config has no value). */
  getParsed(name: string): ConfigValue | null {
    if (this.cache.has(name)) return this.cache.get(name)!;
    const def = this.def(name);
    const raw = this.lookup(name).value;
    const v = raw === null ? null : parseConfigValue(def, raw);
    this.cache.set(name, v);
    return v;
  }

  private typed(name: string, kinds: ConfigType[]): ConfigValue | null {
    const def = this.def(name);
    if (!kinds.includes(def.type)) {
      throw new ConfigError(`Configuration ${name} is of type ${TYPE_LABEL[def.type]}`, name);
    }
    return this.getParsed(name);
  }

  private required<T>(name: string, v: T | null): T {
    if (v === null) throw new ConfigError(`Missing required configuration "${name}" which has no default value.`, name);
    return v;
  }

  getInt(name: string): number {
    return this.required(name, this.typed(name, ['int', 'short']) as number | null);
  }
  getLong(name: string): number {
    return this.required(name, this.typed(name, ['long', 'int', 'short']) as number | null);
  }
  /** Like getLong/getInt but returns null when the config has no value (e.g. log.retention.ms). */
  getNumberOrNull(name: string): number | null {
    return this.typed(name, ['long', 'int', 'short', 'double']) as number | null;
  }
  getDouble(name: string): number {
    return this.required(name, this.typed(name, ['double']) as number | null);
  }
  getBool(name: string): boolean {
    return this.required(name, this.typed(name, ['boolean']) as boolean | null);
  }
  getString(name: string): string | null {
    const v = this.typed(name, ['string', 'class', 'password']);
    return v as string | null;
  }
  getList(name: string): string[] {
    return (this.typed(name, ['list']) as string[] | null) ?? [];
  }

  // --- dynamic configs ---------------------------------------------------------------------------

  /**
   * Set (or with null, remove) a dynamic config. `level` 'per-broker' is the broker resource with
   * this broker's id; 'cluster-default' is the broker resource with an empty name.
   * Throws ConfigError for unknown names, read-only configs, bad values.
   */
  setDynamic(name: string, value: string | null, level: 'per-broker' | 'cluster-default'): void {
    const def = this.def(name);
    if (def.dynamic === 'read-only') {
      throw new ConfigError(`Cannot update these configs dynamically: [${name}]`, name);
    }
    if (level === 'cluster-default' && def.dynamic === 'per-broker') {
      throw new ConfigError(`Cannot update these configs at default cluster level, broker id must be specified: [${name}]`, name);
    }
    const layer = level === 'per-broker' ? this.dynamicBroker : this.dynamicDefault;
    const before = layer.get(name);
    if (value === null) layer.delete(name);
    else {
      parseConfigValue(def, value);
      layer.set(name, value.trim());
    }
    this.cache.clear();
    try {
      this.checkConsistency();
    } catch (e) {
      if (before === undefined) layer.delete(name);
      else layer.set(name, before);
      this.cache.clear();
      throw e;
    }
  }

  /** The values set in one dynamic layer (name → value), as setDynamic stored them. */
  dynamicLayer(level: 'per-broker' | 'cluster-default'): ReadonlyMap<string, string> {
    return level === 'per-broker' ? this.dynamicBroker : this.dynamicDefault;
  }

  // --- listing -----------------------------------------------------------------------------------

  /** Every known broker config with its effective value and source, sorted by name. */
  *entries(): Iterable<BrokerConfigEntry> {
    for (const def of brokerConfigDefs.values()) {
      const { value, source } = this.lookup(def.name);
      yield { def, value, source };
    }
  }

  /** Only the configs set on the command line (or wherever the constructor's overrides came from). */
  staticOverrides(): Record<string, string> {
    return Object.fromEntries(this.staticValues);
  }

  // --- consistency -------------------------------------------------------------------------------

  private checkConsistency(): void {
    const nodeId = this.getInt('node.id');
    const brokerId = this.getInt('broker.id');
    if (nodeId >= 0 && brokerId >= 0 && nodeId !== brokerId) {
      throw new ConfigError(`broker.id (${brokerId}) must match node.id (${nodeId}) when both are set`, 'broker.id');
    }
    const range = (what: string, minName: string, maxName: string, valueName?: string) => {
      const lo = this.getInt(minName);
      const hi = this.getInt(maxName);
      if (lo > hi) throw new ConfigError(`${minName} (${lo}) must not be greater than ${maxName} (${hi})`, minName);
      if (valueName) {
        const v = this.getInt(valueName);
        if (v < lo || v > hi) {
          throw new ConfigError(`${valueName} (${v}) must be between ${minName} (${lo}) and ${maxName} (${hi}) for ${what}`, valueName);
        }
      }
    };
    range('classic groups', 'group.min.session.timeout.ms', 'group.max.session.timeout.ms');
    for (const kind of ['consumer', 'share'] as const) {
      const p = `group.${kind}.`;
      range(`${kind} groups`, `${p}min.session.timeout.ms`, `${p}max.session.timeout.ms`, `${p}session.timeout.ms`);
      range(`${kind} groups`, `${p}min.heartbeat.interval.ms`, `${p}max.heartbeat.interval.ms`, `${p}heartbeat.interval.ms`);
      const hb = this.getInt(`${p}heartbeat.interval.ms`);
      const st = this.getInt(`${p}session.timeout.ms`);
      if (hb >= st) {
        throw new ConfigError(`${p}heartbeat.interval.ms (${hb}) must be less than ${p}session.timeout.ms (${st})`, `${p}heartbeat.interval.ms`);
      }
    }
    if (this.getInt('broker.heartbeat.interval.ms') >= this.getInt('broker.session.timeout.ms')) {
      throw new ConfigError('broker.heartbeat.interval.ms must be less than broker.session.timeout.ms', 'broker.heartbeat.interval.ms');
    }
  }

  // --- typed accessors ---------------------------------------------------------------------------

  /** node.id, else broker.id, else 0 (Fjord's single-node default). */
  get nodeId(): number {
    const n = this.getInt('node.id');
    if (n >= 0) return n;
    const b = this.getInt('broker.id');
    return Math.max(b, 0); // single node: node 0, as `fjord broker` documents
  }
  get listeners(): string[] { return this.getList('listeners'); }
  /** advertised.listeners, falling back to listeners. */
  get advertisedListeners(): string[] {
    return this.get('advertised.listeners') === null ? this.listeners : this.getList('advertised.listeners');
  }
  get listenerSecurityProtocolMap(): Map<string, string> {
    const m = new Map<string, string>();
    for (const e of this.getList('listener.security.protocol.map')) {
      const i = e.indexOf(':');
      m.set(e.slice(0, i).toUpperCase(), e.slice(i + 1));
    }
    return m;
  }
  get brokerRack(): string | null { return this.getString('broker.rack'); }
  /** log.dirs if set, else [log.dir]. */
  get logDirs(): string[] {
    return this.get('log.dirs') !== null ? this.getList('log.dirs') : [this.getString('log.dir')!];
  }
  get numPartitions(): number { return this.getInt('num.partitions'); }
  get defaultReplicationFactor(): number { return this.getInt('default.replication.factor'); }
  get autoCreateTopicsEnable(): boolean { return this.getBool('auto.create.topics.enable'); }
  get deleteTopicEnable(): boolean { return this.getBool('delete.topic.enable'); }
  get messageMaxBytes(): number { return this.getInt('message.max.bytes'); }
  get socketRequestMaxBytes(): number { return this.getInt('socket.request.max.bytes'); }
  get fetchMaxBytes(): number { return this.getInt('fetch.max.bytes'); }
  get queuedMaxRequests(): number { return this.getInt('queued.max.requests'); }
  get connectionsMaxIdleMs(): number { return this.getLong('connections.max.idle.ms'); }
  get compressionType(): string { return this.getString('compression.type')!; }
  get minInsyncReplicas(): number { return this.getInt('min.insync.replicas'); }
  get uncleanLeaderElectionEnable(): boolean { return this.getBool('unclean.leader.election.enable'); }

  /** log.retention.ms > log.retention.minutes > log.retention.hours; negative means -1 (no limit). */
  get logRetentionMs(): number {
    const v = this.millisFromSynonyms(topicConfigDefs.get('retention.ms')!.brokerSynonyms!);
    return v < 0 ? -1 : v;
  }
  get logRetentionBytes(): number { return this.getLong('log.retention.bytes'); }
  get logSegmentBytes(): number { return this.getInt('log.segment.bytes'); }
  /** log.roll.ms > log.roll.hours. */
  get logRollMs(): number { return this.millisFromSynonyms(topicConfigDefs.get('segment.ms')!.brokerSynonyms!); }
  /** log.roll.jitter.ms > log.roll.jitter.hours. */
  get logRollJitterMs(): number { return this.millisFromSynonyms(topicConfigDefs.get('segment.jitter.ms')!.brokerSynonyms!); }
  get logFlushIntervalMessages(): number { return this.getLong('log.flush.interval.messages'); }
  /** log.flush.interval.ms, else log.flush.scheduler.interval.ms; null when unbounded (no time-based flush). */
  get logFlushIntervalMs(): number | null {
    const v = this.getNumberOrNull('log.flush.interval.ms') ?? this.getLong('log.flush.scheduler.interval.ms');
    return isUnbounded(v) ? null : v;
  }
  get logFlushSchedulerIntervalMs(): number { return this.getLong('log.flush.scheduler.interval.ms'); }
  get logRetentionCheckIntervalMs(): number { return this.getLong('log.retention.check.interval.ms'); }
  get logCleanupPolicy(): string { return this.getList('log.cleanup.policy').join(','); }
  get logCleanerEnable(): boolean { return this.getBool('log.cleaner.enable'); }
  get logCleanerBackoffMs(): number { return this.getLong('log.cleaner.backoff.ms'); }
  get logIndexIntervalBytes(): number { return this.getInt('log.index.interval.bytes'); }
  get logIndexSizeMaxBytes(): number { return this.getInt('log.index.size.max.bytes'); }
  get logMessageTimestampType(): string { return this.getString('log.message.timestamp.type')!; }
  get logFlushOffsetCheckpointIntervalMs(): number { return this.getInt('log.flush.offset.checkpoint.interval.ms'); }

  get replicaLagTimeMaxMs(): number { return this.getLong('replica.lag.time.max.ms'); }
  get replicaFetchMaxBytes(): number { return this.getInt('replica.fetch.max.bytes'); }
  get replicaFetchResponseMaxBytes(): number { return this.getInt('replica.fetch.response.max.bytes'); }
  get replicaFetchWaitMaxMs(): number { return this.getInt('replica.fetch.wait.max.ms'); }
  get replicaFetchMinBytes(): number { return this.getInt('replica.fetch.min.bytes'); }
  get replicaFetchBackoffMs(): number { return this.getInt('replica.fetch.backoff.ms'); }
  get brokerSessionTimeoutMs(): number { return this.getInt('broker.session.timeout.ms'); }
  get brokerHeartbeatIntervalMs(): number { return this.getInt('broker.heartbeat.interval.ms'); }

  get offsetsTopicNumPartitions(): number { return this.getInt('offsets.topic.num.partitions'); }
  get offsetsTopicReplicationFactor(): number { return this.getInt('offsets.topic.replication.factor'); }
  get offsetsTopicSegmentBytes(): number { return this.getInt('offsets.topic.segment.bytes'); }
  get offsetsRetentionMinutes(): number { return this.getInt('offsets.retention.minutes'); }
  get offsetsRetentionMs(): number { return this.offsetsRetentionMinutes * 60_000; }
  get offsetsRetentionCheckIntervalMs(): number { return this.getLong('offsets.retention.check.interval.ms'); }
  get offsetMetadataMaxBytes(): number { return this.getInt('offset.metadata.max.bytes'); }
  get groupInitialRebalanceDelayMs(): number { return this.getInt('group.initial.rebalance.delay.ms'); }
  get groupMinSessionTimeoutMs(): number { return this.getInt('group.min.session.timeout.ms'); }
  get groupMaxSessionTimeoutMs(): number { return this.getInt('group.max.session.timeout.ms'); }
  get groupMaxSize(): number { return this.getInt('group.max.size'); }
  get groupCoordinatorRebalanceProtocols(): string[] { return this.getList('group.coordinator.rebalance.protocols'); }
  get groupConsumerSessionTimeoutMs(): number { return this.getInt('group.consumer.session.timeout.ms'); }
  get groupConsumerMinSessionTimeoutMs(): number { return this.getInt('group.consumer.min.session.timeout.ms'); }
  get groupConsumerMaxSessionTimeoutMs(): number { return this.getInt('group.consumer.max.session.timeout.ms'); }
  get groupConsumerHeartbeatIntervalMs(): number { return this.getInt('group.consumer.heartbeat.interval.ms'); }
  get groupConsumerMinHeartbeatIntervalMs(): number { return this.getInt('group.consumer.min.heartbeat.interval.ms'); }
  get groupConsumerMaxHeartbeatIntervalMs(): number { return this.getInt('group.consumer.max.heartbeat.interval.ms'); }
  get groupConsumerMaxSize(): number { return this.getInt('group.consumer.max.size'); }
  get groupConsumerAssignors(): string[] { return this.getList('group.consumer.assignors'); }
  get groupConsumerMigrationPolicy(): string { return this.getString('group.consumer.migration.policy')!; }

  get transactionStateLogNumPartitions(): number { return this.getInt('transaction.state.log.num.partitions'); }
  get transactionStateLogReplicationFactor(): number { return this.getInt('transaction.state.log.replication.factor'); }
  get transactionStateLogSegmentBytes(): number { return this.getInt('transaction.state.log.segment.bytes'); }
  get transactionStateLogMinIsr(): number { return this.getInt('transaction.state.log.min.isr'); }
  get transactionMaxTimeoutMs(): number { return this.getInt('transaction.max.timeout.ms'); }
  get transactionalIdExpirationMs(): number { return this.getInt('transactional.id.expiration.ms'); }
  get transactionAbortTimedOutTransactionCleanupIntervalMs(): number {
    return this.getInt('transaction.abort.timed.out.transaction.cleanup.interval.ms');
  }
  get transactionRemoveExpiredTransactionCleanupIntervalMs(): number {
    return this.getInt('transaction.remove.expired.transaction.cleanup.interval.ms');
  }
  get transactionPartitionVerificationEnable(): boolean { return this.getBool('transaction.partition.verification.enable'); }
  get producerIdExpirationMs(): number { return this.getInt('producer.id.expiration.ms'); }

  get fjordFlushMode(): 'group-commit' | 'kafka' { return this.getString('fjord.flush.mode') as 'group-commit' | 'kafka'; }
  get fjordGroupCommitMs(): number { return this.getInt('fjord.group.commit.ms'); }
  get fjordEtcdEndpoints(): string[] { return this.getList('fjord.etcd.endpoints'); }
  get fjordEtcdPrefix(): string { return this.getString('fjord.etcd.prefix')!; }

  /** Value in ms of the first synonym that has a value (in any layer), converted from its unit. */
  private millisFromSynonyms(syns: readonly BrokerSynonym[]): number {
    for (const s of syns) {
      const v = this.getNumberOrNull(s.name);
      if (v !== null) return v * unitFactor(s.unit);
    }
    throw new ConfigError(`No value for ${syns[0]!.name}`, syns[0]!.name);
  }
}

/**
 * Parse `key=value` strings (command line `--config`, server.properties lines). Blank lines and
 * `#`/`!` comments are skipped. Does not validate names or values.
 */
export function parseKeyValues(lines: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const s = line.trim();
    if (s === '' || s.startsWith('#') || s.startsWith('!')) continue;
    const i = s.search(/[=:]/);
    if (i <= 0) throw new ConfigError(`Expected key=value, got: ${s}`);
    out[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return out;
}
