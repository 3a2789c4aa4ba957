// Client quotas (KIP-546): AlterClientQuotas stores them in the metadata store, DescribeClientQuotas
// lists them with Kafka's entity filters; ../security/quota-manager.ts enforces byte rates,
// request_percentage and per-IP connection_creation_rate.
import type { ClientQuotaEntityComponent, ClientQuotaRecord, MetadataStore } from '../cluster/metadata-store.js';
import { ErrorCode } from '../protocol/errors.js';
import { KafkaError } from './errors.js';

const QuotaEntityType = { USER: 'user', CLIENT_ID: 'client-id', IP: 'ip' } as const;
const QuotaMatchType = { EXACT: 0, DEFAULT: 1, SPECIFIED: 2 } as const;

/** Quota keys by the entity kind they apply to; whole = the value must be an integer. */
const CLIENT_KEYS: Record<string, { whole: boolean }> = {
  producer_byte_rate: { whole: true },
  consumer_byte_rate: { whole: true },
  request_percentage: { whole: false },
  controller_mutation_rate: { whole: false },
};
const IP_KEYS: Record<string, { whole: boolean }> = {
  connection_creation_rate: { whole: true },
};

export interface QuotaOp {
  key: string;
  value: number;
  remove: boolean;
}

export interface QuotaFilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

function isIpOrHost(s: string): boolean {
  if (/^(\d{1,3})(\.\d{1,3}){3}$/.test(s)) return s.split('.').every((p) => Number(p) <= 255);
  if (s.includes(':')) return /^[0-9a-fA-F:.]+$/.test(s);
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s);
}

function sameEntity(a: ClientQuotaEntityComponent[], b: ClientQuotaEntityComponent[]): boolean {
  return a.length === b.length && a.every((c, i) => c.entityType === b[i]!.entityType && c.entityName === b[i]!.entityName);
}

export class ClientQuotas {
  constructor(private readonly metadata: MetadataStore) {}

  /** Validates an entity and returns it sorted by type; throws KafkaError(INVALID_REQUEST). */
  normalizeEntity(entity: ClientQuotaEntityComponent[]): ClientQuotaEntityComponent[] {
    if (entity.length === 0) throw invalid('Invalid empty client quota entity');
    const seen = new Set<string>();
    for (const c of entity) {
      if (c.entityType !== QuotaEntityType.USER && c.entityType !== QuotaEntityType.CLIENT_ID && c.entityType !== QuotaEntityType.IP) {
        throw invalid(`Unhandled client quota entity type: ${c.entityType}`);
      }
      if (seen.has(c.entityType)) throw invalid(`Duplicate entity type: ${c.entityType}`);
      seen.add(c.entityType);
      if (c.entityType === QuotaEntityType.IP && c.entityName !== null && !isIpOrHost(c.entityName)) {
        throw invalid(`${c.entityName} is not a valid IP or resolvable host.`);
      }
    }
    if (seen.has(QuotaEntityType.IP) && seen.size > 1) {
      throw invalid('Invalid quota entity combination, IP quota entities cannot be combined with any other entity types.');
    }
    return [...entity].map((c) => ({ entityType: c.entityType, entityName: c.entityName })).sort((a, b) => a.entityType.localeCompare(b.entityType));
  }

  private checkOps(entity: ClientQuotaEntityComponent[], ops: QuotaOp[]): void {
    const isIp = entity.some((c) => c.entityType === QuotaEntityType.IP);
    const keys = isIp ? IP_KEYS : CLIENT_KEYS;
    const seen = new Set<string>();
    for (const op of ops) {
      const spec = keys[op.key];
      if (!spec) throw invalid(`Invalid configuration key ${op.key}`);
      if (seen.has(op.key)) throw invalid(`Duplicate quota key ${op.key}`);
      seen.add(op.key);
      if (op.remove) continue;
      if (!Number.isFinite(op.value)) throw invalid(`Invalid value ${op.value} for quota ${op.key}`);
      if (spec.whole && !Number.isInteger(op.value)) throw invalid(`Configuration ${op.key} must be a Long value`);
      if (op.value <= 0) throw invalid(`Quota ${op.key} must be positive, got ${op.value}`);
    }
  }

  /** AlterClientQuotas for one entity; throws KafkaError. */
  async alter(entity: ClientQuotaEntityComponent[], ops: QuotaOp[], validateOnly: boolean): Promise<void> {
    const normalized = this.normalizeEntity(entity);
    this.checkOps(normalized, ops);
    if (validateOnly) return;
    const all = this.metadata.clientQuotas().map((q) => ({ entity: q.entity, values: { ...q.values } }));
    let record = all.find((q) => sameEntity(q.entity, normalized));
    if (!record) {
      record = { entity: normalized, values: {} };
      all.push(record);
    }
    for (const op of ops) {
      if (op.remove) delete record.values[op.key];
      else record.values[op.key] = op.value;
    }
    await this.metadata.updateClientQuotas(all);
  }

  /** DescribeClientQuotas; throws KafkaError(INVALID_REQUEST) for bad filters. */
  describe(components: QuotaFilterComponent[], strict: boolean): ClientQuotaRecord[] {
    const types = new Set<string>();
    for (const c of components) {
      if (c.entityType !== QuotaEntityType.USER && c.entityType !== QuotaEntityType.CLIENT_ID && c.entityType !== QuotaEntityType.IP) {
        throw invalid(`Custom entity type ${c.entityType} not supported`);
      }
      if (types.has(c.entityType)) throw invalid(`Duplicate ${c.entityType} filter component entity type`);
      types.add(c.entityType);
      if (c.matchType === QuotaMatchType.EXACT) {
        if (c.match === null) throw invalid(`Request must specify an entity name to match for ${c.entityType}`);
      } else if (c.matchType !== QuotaMatchType.DEFAULT && c.matchType !== QuotaMatchType.SPECIFIED) {
        throw invalid(`Unknown match type ${c.matchType}`);
      }
    }
    if (types.has(QuotaEntityType.IP) && types.size > 1) {
      throw invalid('Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.');
    }
    return this.metadata.clientQuotas().filter((q) => {
      if (Object.keys(q.values).length === 0) return false;
      for (const c of components) {
        const e = q.entity.find((x) => x.entityType === c.entityType);
        if (!e) return false;
        if (c.matchType === QuotaMatchType.EXACT && e.entityName !== c.match) return false;
        if (c.matchType === QuotaMatchType.DEFAULT && e.entityName !== null) return false;
        if (c.matchType === QuotaMatchType.SPECIFIED && e.entityName === null) return false;
      }
      if (strict && q.entity.some((e) => !types.has(e.entityType))) return false;
      // Non-strict without an ip component never mixes in ip entities (and vice versa), like Kafka.
      if (!strict && components.length > 0) {
        const wantsIp = types.has(QuotaEntityType.IP);
        if (q.entity.some((e) => e.entityType === QuotaEntityType.IP) !== wantsIp) return false;
      }
      return true;
    });
  }
}
