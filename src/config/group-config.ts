// Group configs (ConfigResource type GROUP = 32, as in Kafka 4.x): per-group overrides of the
// share-group settings, read and changed with DescribeConfigs / IncrementalAlterConfigs.
//
// Persisted in the metadata store next to the dynamic broker configs, keyed
// `group:<groupId>:<name>` (config names hold no ':'; the broker layers use `<name>` and
// `<nodeId>:<name>`, so the two never collide), which makes them cluster-wide with the etcd store
// and survive restarts with the embedded one. Defaults come from the broker configs named in
// `brokerDefault`, so a group without overrides follows the broker.
import { ErrorCode } from '../protocol/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import type { BrokerConfig } from './config.js';
import type { ConfigDef } from './config-defs.js';
import type { BrokerConfigsUpdate } from '../cluster/metadata-store.js';

const STORE_PREFIX = 'group:';

export type ShareAutoOffsetReset = { kind: 'latest' } | { kind: 'earliest' } | { kind: 'by_duration'; ms: number };

/** share.auto.offset.reset: latest | earliest | by_duration:<ISO-8601 duration> (PnDTnHnMn.nS). */
export function parseAutoOffsetReset(value: string): ShareAutoOffsetReset | null {
  const v = value.trim().toLowerCase();
  if (v === 'latest') return { kind: 'latest' };
  if (v === 'earliest') return { kind: 'earliest' };
  const m = /^by_duration:p(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?)?$/.exec(v);
  if (!m || v.endsWith('p') || v.endsWith('t')) return null;
  const ms = ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000 + Number(m[4] ?? 0) * 1000;
  return { kind: 'by_duration', ms };
}

export interface GroupConfigDef {
  name: string;
  type: 'int' | 'string';
  doc: string;
  /** Broker config whose value is the default (and the synonym DescribeConfigs shows). */
  brokerDefault?: string;
  /** Default when there is no broker config behind it. */
  default?: string;
  /** Bounds as broker config names (min / max allowed values), checked at alter time. */
  minFrom?: string;
  maxFrom?: string;
  validValues?: string[];
  check?: (value: string) => string | undefined;
}

const groupConfigDefs: ReadonlyMap<string, GroupConfigDef> = new Map(
  (
    [
      {
        name: 'share.auto.offset.reset',
        type: 'string',
        default: 'latest',
        doc: 'Where a share group starts on a partition it has no state for: latest, earliest, or by_duration:<ISO-8601 duration> (records no older than that).',
        check: (v) => (parseAutoOffsetReset(v) ? undefined : 'expected latest, earliest or by_duration:<ISO-8601 duration>, e.g. by_duration:PT1H'),
      },
      {
        name: 'share.isolation.level',
        type: 'string',
        default: 'read_uncommitted',
        validValues: ['read_uncommitted', 'read_committed'],
        doc: 'read_committed: share consumers acquire records only up to the last stable offset and never records of aborted transactions.',
      },
      {
        name: 'share.record.lock.duration.ms',
        type: 'int',
        brokerDefault: 'group.share.record.lock.duration.ms',
        minFrom: 'group.share.min.record.lock.duration.ms',
        maxFrom: 'group.share.max.record.lock.duration.ms',
        doc: 'How long a record acquired by a share consumer stays locked to it.',
      },
      {
        name: 'share.session.timeout.ms',
        type: 'int',
        brokerDefault: 'group.share.session.timeout.ms',
        minFrom: 'group.share.min.session.timeout.ms',
        maxFrom: 'group.share.max.session.timeout.ms',
        doc: 'Session timeout of the share group members.',
      },
      {
        name: 'share.heartbeat.interval.ms',
        type: 'int',
        brokerDefault: 'group.share.heartbeat.interval.ms',
        minFrom: 'group.share.min.heartbeat.interval.ms',
        maxFrom: 'group.share.max.heartbeat.interval.ms',
        doc: 'Heartbeat interval given to the share group members.',
      },
      {
        name: 'streams.session.timeout.ms',
        type: 'int',
        brokerDefault: 'group.streams.session.timeout.ms',
        minFrom: 'group.streams.min.session.timeout.ms',
        maxFrom: 'group.streams.max.session.timeout.ms',
        doc: 'Session timeout of the streams group members.',
      },
      {
        name: 'streams.heartbeat.interval.ms',
        type: 'int',
        brokerDefault: 'group.streams.heartbeat.interval.ms',
        minFrom: 'group.streams.min.heartbeat.interval.ms',
        maxFrom: 'group.streams.max.heartbeat.interval.ms',
        doc: 'Heartbeat interval given to the streams group members.',
      },
      {
        name: 'streams.num.standby.replicas',
        type: 'int',
        brokerDefault: 'group.streams.num.standby.replicas',
        maxFrom: 'group.streams.max.standby.replicas',
        check: (v) => (Number(v) < 0 ? 'must be at least 0' : undefined),
        doc: 'Standby replicas of each task of the streams group.',
      },
    ] satisfies GroupConfigDef[]
  ).map((d) => [d.name, d]),
);

/** The metadata-store part group configs live in (shared with the dynamic broker configs). */
export interface GroupConfigStore {
  brokerConfigs(): Record<string, string>;
  updateBrokerConfigs(update: BrokerConfigsUpdate): Promise<void>;
}

export interface DescribedGroupConfig {
  def: ConfigDef;
  value: string | null;
  source: 'GROUP_CONFIG' | 'DEFAULT_CONFIG';
  synonyms: { name: string; value: string | null; source: string }[];
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_CONFIG, message);
}

/**
 * Effective group configs (override, else broker default) for every group, cached per store
 * snapshot: the stores replace their broker-config object on every change, so an identity check
 * keeps the lookups on the fetch path a map read.
 */
export class GroupConfigs {
  private snapshot: Record<string, string> | undefined;
  private byGroup = new Map<string, Map<string, string>>();

  constructor(
    private readonly config: BrokerConfig,
    private readonly store: GroupConfigStore,
  ) {}

  /** The overrides set for a group (name → value). */
  overrides(groupId: string): ReadonlyMap<string, string> {
    const current = this.store.brokerConfigs();
    if (current !== this.snapshot) {
      this.snapshot = current;
      this.byGroup = new Map();
      for (const [k, v] of Object.entries(current)) {
        if (!k.startsWith(STORE_PREFIX)) continue;
        const sep = k.lastIndexOf(':');
        const group = k.slice(STORE_PREFIX.length, sep);
        let m = this.byGroup.get(group);
        if (!m) this.byGroup.set(group, (m = new Map()));
        m.set(k.slice(sep + 1), v);
      }
    }
    return this.byGroup.get(groupId) ?? EMPTY;
  }

  private brokerDefault(def: GroupConfigDef): string {
    return def.brokerDefault ? (this.config.get(def.brokerDefault) ?? '') : (def.default ?? '');
  }

  get(groupId: string, name: string): string {
    const def = groupConfigDefs.get(name);
    if (!def) throw new Error(`unknown group config ${name}`);
    return this.overrides(groupId).get(name) ?? this.brokerDefault(def);
  }

  getInt(groupId: string, name: string): number {
    return Number(this.get(groupId, name));
  }

  autoOffsetReset(groupId: string): ShareAutoOffsetReset {
    return parseAutoOffsetReset(this.get(groupId, 'share.auto.offset.reset')) ?? { kind: 'latest' };
  }

  readCommitted(groupId: string): boolean {
    return this.get(groupId, 'share.isolation.level') === 'read_committed';
  }

  describe(groupId: string): DescribedGroupConfig[] {
    checkGroupName(groupId);
    const set = this.overrides(groupId);
    return [...groupConfigDefs.values()].map((d) => {
      const def: ConfigDef = {
        name: d.name,
        type: d.type,
        default: d.default ?? null,
        doc: d.doc,
        scope: 'broker',
        dynamic: 'cluster-wide',
        supported: true,
      };
      const fallback = this.brokerDefault(d);
      const brokerSynonym = d.brokerDefault ? [{ name: d.brokerDefault, value: fallback, source: this.config.lookup(d.brokerDefault).source as string }] : [];
      const override = set.get(d.name);
      if (override !== undefined) {
        return { def, value: override, source: 'GROUP_CONFIG', synonyms: [{ name: d.name, value: override, source: 'GROUP_CONFIG' }, ...brokerSynonym] };
      }
      return { def, value: fallback, source: 'DEFAULT_CONFIG', synonyms: brokerSynonym.length ? brokerSynonym : [{ name: d.name, value: fallback, source: 'DEFAULT_CONFIG' }] };
    });
  }

  /**
   * IncrementalAlterConfigs on a group: SET / DELETE (APPEND / SUBTRACT are for list configs,
   * which groups have none of). Validates the resulting set, then persists it.
   */
  async alter(groupId: string, ops: { name: string; op: number; value: string | null }[], validateOnly: boolean): Promise<void> {
    checkGroupName(groupId);
    const applyOps = (current: ReadonlyMap<string, string>): Map<string, string> => {
      const next = new Map(current);
      for (const o of ops) {
        const def = groupConfigDefs.get(o.name);
        if (!def) throw invalid(`Unknown group config name: ${o.name}`);
        if (o.op === 0) {
          if (o.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${o.name}`);
          next.set(o.name, o.value.trim());
        } else if (o.op === 1) {
          next.delete(o.name);
        } else if (o.op === 2 || o.op === 3) {
          throw invalid(`Config value ${o.op === 2 ? 'append' : 'subtract'} is not allowed for config key: ${o.name}`);
        } else {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${o.op} for ${o.name}`);
        }
      }
      this.check(next);
      return next;
    };
    if (validateOnly) {
      applyOps(this.overrides(groupId));
      return;
    }
    // Compare-and-set on the shared map: the ops re-apply to the group's overrides as stored.
    const prefix = `${STORE_PREFIX}${groupId}:`;
    await this.store.updateBrokerConfigs((current) => {
      const stored: Record<string, string> = {};
      const mine = new Map<string, string>();
      for (const [k, v] of Object.entries(current)) {
        // Only this group's keys: another group's id may extend this one's ("a" vs "a:b").
        if (k.startsWith(prefix) && !k.slice(prefix.length).includes(':')) mine.set(k.slice(prefix.length), v);
        else stored[k] = v;
      }
      for (const [k, v] of applyOps(mine)) stored[`${prefix}${k}`] = v;
      return stored;
    });
  }

  /** Throws INVALID_CONFIG unless `next` is a valid set of overrides for one group. */
  private check(next: ReadonlyMap<string, string>): void {
    for (const [name, value] of next) this.validate(name, value);
    const effective = (name: string) => next.get(name) ?? this.brokerDefault(groupConfigDefs.get(name)!);
    if (Number(effective('share.heartbeat.interval.ms')) >= Number(effective('share.session.timeout.ms'))) {
      throw invalid('share.heartbeat.interval.ms must be less than share.session.timeout.ms');
    }
    if (Number(effective('streams.heartbeat.interval.ms')) >= Number(effective('streams.session.timeout.ms'))) {
      throw invalid('streams.heartbeat.interval.ms must be less than streams.session.timeout.ms');
    }
  }

  private validate(name: string, value: string): void {
    const def = groupConfigDefs.get(name)!;
    if (def.type === 'int') {
      if (!/^-?\d+$/.test(value)) throw invalid(`Invalid value ${value} for configuration ${name}: Not a number of type INT`);
      const n = Number(value);
      const min = def.minFrom ? this.config.getInt(def.minFrom) : undefined;
      const max = def.maxFrom ? this.config.getInt(def.maxFrom) : undefined;
      if (min !== undefined && n < min) throw invalid(`${name} must be greater than or equal to ${def.minFrom} (${min})`);
      if (max !== undefined && n > max) throw invalid(`${name} must be less than or equal to ${def.maxFrom} (${max})`);
    }
    if (def.validValues && !def.validValues.includes(value)) {
      throw invalid(`Invalid value ${value} for configuration ${name}: String must be one of: ${def.validValues.join(', ')}`);
    }
    const reason = def.check?.(value);
    if (reason) throw invalid(`Invalid value ${value} for configuration ${name}: ${reason}`);
  }
}

const EMPTY: ReadonlyMap<string, string> = new Map();

function checkGroupName(groupId: string): void {
  if (groupId === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Group name must not be empty');
}
