// Config changes with real effects: AlterConfigs / IncrementalAlterConfigs land here.
//
// Every change is validate → persist (metadata store) → apply:
//  - topic resources: validateTopicConfigs, metadata.updateTopicConfigs; the replica manager hears
//    the store's change and swaps partition.settings (produce-time checks) and calls
//    log.updateConfig (segment rolls, retention, flush, index interval).
//  - broker resources: "" is the cluster-wide default layer, "<node id>" the per-broker layer.
//    Values are persisted (compare-and-set) in the metadata store's brokerConfigs() map, keyed
//    `<name>` (cluster default) or `<nodeId>:<name>` (per broker). Every broker of the cluster
//    hears the store's 'broker-configs-changed' and applies the cluster default and its own
//    per-broker entries to BrokerConfig.setDynamic (applyStoredBrokerConfigs, also run at
//    start-up), as Kafka brokers follow /config/brokers or ConfigRecords. A broker config that is
//    the default of a topic config (log.retention.ms, compression.type, ...) is re-applied to
//    every topic.
//  - broker loggers (BROKER_LOGGER): log levels, kept in memory like Kafka's (not persisted).
import { ErrorCode } from '../protocol/errors.js';
import {
  BrokerConfig,
  ConfigError,
  brokerConfigDefs,
  parseConfigValue,
  topicConfigDefs,
  validateTopicConfigs,
} from './config.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { GroupConfigs } from './group-config.js';
import type { BrokerConfigsUpdate } from '../cluster/metadata-store.js';

export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, GROUP: 32 } as const;

/** IncrementalAlterConfigs operations. */
const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ConfigOp {
  name: string;
  op: number;
  value: string | null;
}

/** The broker's logger levels, as BROKER_LOGGER resources read and change them (see ./logging.ts). */
export interface LoggerLevels {
  levels(): { name: string; level: string; set: boolean }[];
  setLevel(name: string, level: string | null): void;
}

function invalidConfig(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_CONFIG, message);
}

function asKafkaError(err: unknown): unknown {
  if (err instanceof ConfigError) return invalidConfig(err.message);
  return err;
}

function splitList(v: string | null | undefined): string[] {
  if (v === null || v === undefined) return [];
  const s = v.trim();
  return s === '' ? [] : s.split(/\s*,\s*/);
}

type BrokerLevel = 'per-broker' | 'cluster-default';

/** Where configs are persisted: the part of the cluster metadata store that ConfigAdmin uses. */
export interface ConfigStore {
  topic(name: string): { configs: Record<string, string> } | undefined;
  updateTopicConfigs(name: string, configs: Record<string, string>): Promise<void>;
  brokers(): { nodeId: number }[];
  brokerConfigs(): Record<string, string>;
  updateBrokerConfigs(update: BrokerConfigsUpdate): Promise<void>;
  /** The store's change feed: 'broker-configs-changed' makes this broker apply the stored map. */
  onChange?(listener: (change: { kind: string }) => void): void;
}

/** Who applies topic configs to open logs (the replica manager). */
export interface TopicConfigTarget {
  /** Resolves once the store's latest change to the topic is applied locally. */
  applied(topic: string): Promise<void>;
  /** Re-resolves every topic's configs (a broker-level default changed). */
  reapplyTopicConfigs(): void;
}

export class ConfigAdmin {
  /** GROUP resources (share-group settings per group). */
  readonly groups: GroupConfigs;
  private log: (msg: string) => void = () => {};
  /** Stored entries already reported as not applicable here (reported once, not on every change). */
  private readonly reportedFailures = new Set<string>();

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: ConfigStore,
    private readonly replicas: TopicConfigTarget,
    private readonly loggerLevels: LoggerLevels,
    private readonly levelNames: readonly string[],
    private readonly loggerNames: readonly string[],
  ) {
    this.groups = new GroupConfigs(config, metadata);
    // Alters through any broker of the cluster (this one included) reach every broker this way.
    metadata.onChange?.((change) => {
      if (change.kind === 'broker-configs-changed') this.applyStoredBrokerConfigs();
    });
  }

  // ------------------------------------------------------------------------------- persistence

  private static storeKey(level: BrokerLevel, nodeId: number, name: string): string {
    return level === 'cluster-default' ? name : `${nodeId}:${name}`;
  }

  /** One dynamic layer (and node) of a stored broker-config map, as name → value. */
  private static layerOf(stored: Readonly<Record<string, string>>, level: BrokerLevel, nodeId: number): Map<string, string> {
    const out = new Map<string, string>();
    const prefix = `${nodeId}:`;
    for (const [k, v] of Object.entries(stored)) {
      // Cluster defaults have no colon; per-broker keys are `<nodeId>:<name>`, group keys `group:<id>:<name>`.
      if (level === 'cluster-default' ? !k.includes(':') : k.startsWith(prefix)) out.set(level === 'cluster-default' ? k : k.slice(prefix.length), v);
    }
    return out;
  }

  /** The persisted dynamic layer for a level (and node), as name → value. */
  private storedLayer(level: BrokerLevel, nodeId: number): Map<string, string> {
    return ConfigAdmin.layerOf(this.metadata.brokerConfigs(), level, nodeId);
  }

  /** Start-up: applies the persisted dynamic broker configs (see applyStoredBrokerConfigs). */
  loadDynamicBrokerConfigs(log: (msg: string) => void = () => {}): void {
    this.log = log;
    this.applyStoredBrokerConfigs();
  }

  /**
   * The one way dynamic broker configs take effect, at start-up, after an alter through this
   * broker, and when another broker's alter reaches this broker through the metadata store's
   * 'broker-configs-changed': makes BrokerConfig's two dynamic layers equal the stored cluster
   * default and this broker's per-broker entries (other nodes' entries are theirs), then
   * re-resolves topic configs when a topic default changed. An entry that does not validate here
   * keeps the previous value and is reported once.
   */
  applyStoredBrokerConfigs(): void {
    const pending: { name: string; value: string | null; level: BrokerLevel }[] = [];
    for (const level of ['cluster-default', 'per-broker'] as const) {
      const wanted = this.storedLayer(level, this.nodeId);
      const applied = this.config.dynamicLayer(level);
      for (const [name, value] of wanted) if (applied.get(name) !== value.trim()) pending.push({ name, value, level });
      for (const name of applied.keys()) if (!wanted.has(name)) pending.push({ name, value: null, level });
    }
    if (pending.length === 0) return;
    const changed: string[] = [];
    // Consistency checks (min <= max, ...) may fail in intermediate states: retry in passes
    // while some entry still gets applied.
    let failures = new Map<string, string>();
    for (let progress = true; pending.length > 0 && progress; ) {
      progress = false;
      failures = new Map();
      for (let i = 0; i < pending.length; ) {
        const p = pending[i]!;
        try {
          this.config.setDynamic(p.name, p.value, p.level);
          changed.push(p.name);
          pending.splice(i, 1);
          progress = true;
        } catch (e) {
          failures.set(`${p.level}:${p.name}=${p.value ?? '(removed)'}`, (e as Error).message);
          i++;
        }
      }
    }
    for (const [entry, reason] of failures) {
      if (this.reportedFailures.has(entry)) continue;
      this.reportedFailures.add(entry);
      this.log(`ignoring stored dynamic broker config ${entry}: ${reason}`);
    }
    if (changed.some((n) => brokerConfigDefs.get(n)?.topicName !== undefined || isTopicSynonym(n))) {
      this.replicas.reapplyTopicConfigs();
    }
  }

  // ------------------------------------------------------------------------------- topics

  private requireTopic(name: string) {
    const topic = this.metadata.topic(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    return topic;
  }

  /** AlterConfigs on a topic: the new set replaces every override. */
  async replaceTopicConfigs(name: string, configs: Record<string, string | null>, validateOnly: boolean): Promise<void> {
    this.requireTopic(name);
    let validated: Record<string, string>;
    try {
      validated = validateTopicConfigs(configs);
    } catch (e) {
      throw asKafkaError(e);
    }
    if (validateOnly) return;
    await this.commitTopic(name, validated);
  }

  /** IncrementalAlterConfigs on a topic. */
  async alterTopicConfigs(name: string, ops: ConfigOp[], validateOnly: boolean): Promise<void> {
    const topic = this.requireTopic(name);
    const next: Record<string, string | null> = { ...topic.configs };
    for (const o of ops) {
      const def = topicConfigDefs.get(o.name);
      if (!def) throw invalidConfig(`Unknown topic config name: ${o.name}`);
      next[o.name] = this.applyOp(o, def.type === 'list', topic.configs[o.name] ?? def.default);
      if (next[o.name] === null) delete next[o.name];
    }
    let validated: Record<string, string>;
    try {
      validated = validateTopicConfigs(next);
    } catch (e) {
      throw asKafkaError(e);
    }
    if (validateOnly) return;
    await this.commitTopic(name, validated);
  }

  private async commitTopic(name: string, configs: Record<string, string>): Promise<void> {
    await this.metadata.updateTopicConfigs(name, configs);
    // The replica manager hears the change from the store; wait until the logs use it.
    await this.replicas.applied(name);
  }

  /** Applies one incremental op to a current value; returns the new value (null = remove). */
  private applyOp(o: ConfigOp, isList: boolean, current: string | null): string | null {
    switch (o.op) {
      case AlterConfigOp.SET:
        if (o.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${o.name}`);
        return o.value;
      case AlterConfigOp.DELETE:
        return null;
      case AlterConfigOp.APPEND:
      case AlterConfigOp.SUBTRACT: {
        if (!isList) {
          const verb = o.op === AlterConfigOp.APPEND ? 'append' : 'subtract';
          throw invalidConfig(`Config value ${verb} is not allowed for config key: ${o.name}`);
        }
        if (o.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${o.name}`);
        const items = splitList(current);
        const delta = splitList(o.value);
        if (o.op === AlterConfigOp.APPEND) {
          for (const d of delta) if (!items.includes(d)) items.push(d);
          return items.join(',');
        }
        return items.filter((i) => !delta.includes(i)).join(',');
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${o.op} for ${o.name}`);
    }
  }

  // ------------------------------------------------------------------------------- brokers

  /** Resolves a broker resource name: "" = cluster default, else a node id. */
  brokerTarget(resourceName: string): { level: BrokerLevel; nodeId: number } {
    if (resourceName === '') return { level: 'cluster-default', nodeId: this.nodeId };
    if (!/^\d+$/.test(resourceName)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid broker name ${resourceName}`);
    }
    const id = Number(resourceName);
    const known = new Set([this.nodeId, ...this.metadata.brokers().map((b) => b.nodeId)]);
    if (!known.has(id)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${[...known].join(' or ')} or empty string, but received ${resourceName}`);
    }
    return { level: 'per-broker', nodeId: id };
  }

  /** AlterConfigs on a broker resource: the new set replaces that layer. */
  async replaceBrokerConfigs(resourceName: string, configs: Record<string, string | null>, validateOnly: boolean): Promise<void> {
    const target = this.brokerTarget(resourceName);
    const next = new Map<string, string>();
    for (const [k, v] of Object.entries(configs)) if (v !== null) next.set(k, v);
    await this.commitBroker(target, () => new Map(next), validateOnly);
  }

  /** IncrementalAlterConfigs on a broker resource: the ops apply to the layer as stored when written. */
  async alterBrokerConfigs(resourceName: string, ops: ConfigOp[], validateOnly: boolean): Promise<void> {
    const target = this.brokerTarget(resourceName);
    for (const o of ops) if (!brokerConfigDefs.has(o.name)) throw invalidConfig(`Unknown broker config name: ${o.name}`);
    await this.commitBroker(
      target,
      (current) => {
        const next = new Map(current);
        for (const o of ops) {
          const def = brokerConfigDefs.get(o.name)!;
          const v = this.applyOp(o, def.type === 'list', current.get(o.name) ?? this.config.get(o.name));
          if (v === null) next.delete(o.name);
          else next.set(o.name, v);
        }
        return next;
      },
      validateOnly,
    );
  }

  /**
   * Validates the layer `nextLayer` makes of the stored one and writes it by compare-and-set
   * (re-run on the fresh map when another broker wrote in between); every broker, this one
   * included, applies it from the store (applyStoredBrokerConfigs).
   */
  private async commitBroker(
    target: { level: BrokerLevel; nodeId: number },
    nextLayer: (current: ReadonlyMap<string, string>) => Map<string, string>,
    validateOnly: boolean,
  ): Promise<void> {
    const { level, nodeId } = target;
    const plan = (stored: Readonly<Record<string, string>>): Record<string, string> => {
      const current = ConfigAdmin.layerOf(stored, level, nodeId);
      const next = nextLayer(current);
      this.validateBrokerLayer(level, nodeId, current, next, stored);
      const out: Record<string, string> = { ...stored };
      for (const name of current.keys()) delete out[ConfigAdmin.storeKey(level, nodeId, name)];
      for (const [k, v] of next) out[ConfigAdmin.storeKey(level, nodeId, k)] = v;
      return out;
    };
    if (validateOnly) {
      plan(this.metadata.brokerConfigs());
      return;
    }
    await this.metadata.updateBrokerConfigs(plan);
    // The store's change event has applied it already; this covers stores without one.
    this.applyStoredBrokerConfigs();
  }

  /** Throws INVALID_CONFIG when `next` (replacing `current` in `stored`) is not a valid layer. */
  private validateBrokerLayer(
    level: BrokerLevel,
    nodeId: number,
    current: ReadonlyMap<string, string>,
    next: ReadonlyMap<string, string>,
    stored: Readonly<Record<string, string>>,
  ): void {
    const changed = new Set<string>();
    for (const [k, v] of next) if (current.get(k) !== v) changed.add(k);
    for (const k of current.keys()) if (!next.has(k)) changed.add(k);

    const readOnly: string[] = [];
    for (const name of changed) {
      const def = brokerConfigDefs.get(name);
      if (!def) throw invalidConfig(`Unknown broker config name: ${name}`);
      if (def.dynamic === 'read-only') readOnly.push(name);
    }
    if (readOnly.length) throw invalidConfig(`Cannot update these configs dynamically: [${readOnly.join(', ')}]`);
    for (const [name, value] of next) {
      const def = brokerConfigDefs.get(name)!;
      if (def.dynamic === 'read-only') continue; // stored earlier, unchanged now
      try {
        parseConfigValue(def, value);
      } catch (e) {
        throw asKafkaError(e);
      }
    }
    // This broker's resulting layers together on a scratch config (another node's static
    // configs are unknown here; that broker reports what it cannot apply).
    if (nodeId !== this.nodeId || changed.size === 0) return;
    const scratch = new BrokerConfig(this.config.staticOverrides());
    try {
      const other = ConfigAdmin.layerOf(stored, level === 'cluster-default' ? 'per-broker' : 'cluster-default', this.nodeId);
      const layers: [BrokerLevel, ReadonlyMap<string, string>][] =
        level === 'cluster-default' ? [['cluster-default', next], ['per-broker', other]] : [['cluster-default', other], ['per-broker', next]];
      for (const [lv, layer] of layers) for (const [k, v] of layer) setLenient(scratch, k, v, lv);
      for (const [lv, layer] of layers) for (const [k, v] of layer) scratch.setDynamic(k, v, lv);
    } catch (e) {
      throw asKafkaError(e);
    }
  }

  // ------------------------------------------------------------------------------- loggers

  private checkLoggerTarget(resourceName: string): void {
    if (resourceName !== String(this.nodeId)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${this.nodeId}, but received ${resourceName}`);
    }
  }

  /** Current level of every logger, and whether it was set explicitly. */
  loggers(resourceName: string): { name: string; level: string; set: boolean }[] {
    this.checkLoggerTarget(resourceName);
    return this.loggerLevels.levels();
  }

  alterLoggers(resourceName: string, ops: ConfigOp[], validateOnly: boolean): void {
    this.checkLoggerTarget(resourceName);
    for (const o of ops) {
      if (!this.loggerNames.includes(o.name)) throw invalidConfig(`Logger ${o.name} does not exist!`);
      if (o.op === AlterConfigOp.SET) {
        const level = (o.value ?? '').toUpperCase();
        if (!this.levelNames.includes(level)) {
          throw invalidConfig(`Cannot set the log level of ${o.name} to ${o.value} as it is not a supported log level. Valid log levels are ${this.levelNames.join(', ')}`);
        }
      } else if (o.op === AlterConfigOp.DELETE) {
        if (o.name === 'root') throw invalidConfig(`Removing the log level of the root logger is not allowed`);
      } else {
        throw invalidConfig(`${o.op === AlterConfigOp.APPEND ? 'APPEND' : 'SUBTRACT'} operation is not allowed for the BROKER_LOGGER resource`);
      }
    }
    if (validateOnly) return;
    // Applied to the live pino loggers: a level set here changes what the broker writes.
    for (const o of ops) this.loggerLevels.setLevel(o.name, o.op === AlterConfigOp.SET ? o.value!.toUpperCase() : null);
  }
}

const topicSynonymNames = new Set<string>();
for (const def of topicConfigDefs.values()) for (const s of def.brokerSynonyms ?? []) topicSynonymNames.add(s.name);

function isTopicSynonym(name: string): boolean {
  return topicSynonymNames.has(name);
}

/** First pass on a scratch config: ignore consistency failures that later entries may fix. */
function setLenient(cfg: BrokerConfig, name: string, value: string, level: BrokerLevel): void {
  try {
    cfg.setDynamic(name, value, level);
  } catch {
    // the strict second pass reports what is still wrong
  }
}
