// Enforced client byte-rate quotas (Kafka's ClientQuotaManager): produce and fetch bytes are
// recorded per quota entity over `quota.window.num` samples of `quota.window.size.seconds`; when
// the observed rate exceeds the quota, the response carries throttle_time_ms and the connection
// is muted for that long (KIP-219). The quota of a (user, client-id) pair resolves in Kafka's
// order: user+client, user+default client, user, default user+client, default user+default
// client, default user, client, default client.
// request_percentage (Kafka's request quota) is measured as milliseconds of the event loop spent
// in the client's requests per second: n% of one thread = 10·n ms/s. connection_creation_rate
// (KIP-612) is a per-IP rate of accepted connections; a connection over it is closed on accept.
import type { ClientQuotaRecord } from '../cluster/metadata-store.js';

export type QuotaKind = 'producer_byte_rate' | 'consumer_byte_rate' | 'request_percentage';

interface Sample {
  start: number;
  bytes: number;
}

class RateSensor {
  private readonly samples: Sample[] = [];
  constructor(
    private readonly windowMs: number,
    private readonly windows: number,
  ) {}

  /** Adds bytes and returns the rate (bytes/s) over the retained samples. */
  record(bytes: number, now: number): number {
    let current = this.samples[this.samples.length - 1];
    if (!current || now - current.start >= this.windowMs) {
      current = { start: now, bytes: 0 };
      this.samples.push(current);
    }
    current.bytes += bytes;
    const horizon = now - this.windowMs * this.windows;
    while (this.samples.length > 0 && this.samples[0]!.start + this.windowMs <= horizon) this.samples.shift();
    let total = 0;
    for (const s of this.samples) total += s.bytes;
    // Kafka's Rate: elapsed time is at least (windows - 1) full windows, so a burst in the first
    // second is not measured as an enormous rate.
    const first = this.samples[0]!.start;
    const elapsed = Math.max(now - first, this.windowMs * (this.windows - 1));
    return (total * 1000) / Math.max(1, elapsed);
  }

  get elapsedWindowMs(): number {
    return this.windowMs * (this.windows - 1);
  }
}

export class QuotaManager {
  private readonly sensors = new Map<string, RateSensor>();
  /** Whether any quota record sets request_percentage, cached per quota list (the hot path asks per request). */
  private requestQuotaCache: { records: ClientQuotaRecord[]; present: boolean } | undefined;

  constructor(
    private readonly quotas: () => ClientQuotaRecord[],
    private readonly windowMs: () => number,
    private readonly windows: () => number,
  ) {}

  /** The quota that applies to this user and client id, with the entity it came from. */
  resolve(kind: QuotaKind, user: string, clientId: string): { key: string; limit: number } | null {
    const records = this.quotas();
    if (records.length === 0) return null;
    const find = (u: string | null | undefined, c: string | null | undefined) =>
      records.find((r) => {
        const ue = r.entity.find((e) => e.entityType === 'user');
        const ce = r.entity.find((e) => e.entityType === 'client-id');
        if (u === undefined ? ue !== undefined : ue === undefined || ue.entityName !== u) return false;
        if (c === undefined ? ce !== undefined : ce === undefined || ce.entityName !== c) return false;
        return r.values[kind] !== undefined;
      });
    const order: [string | null | undefined, string | null | undefined][] = [
      [user, clientId],
      [user, null],
      [user, undefined],
      [null, clientId],
      [null, null],
      [null, undefined],
      [undefined, clientId],
      [undefined, null],
    ];
    for (const [u, c] of order) {
      const r = find(u, c);
      if (r) {
        // Default entities share one sensor per actual user/client, as Kafka's metric tags do.
        const tagUser = u === undefined ? '' : user;
        const tagClient = c === undefined ? '' : clientId;
        return { key: `${kind}|${tagUser}|${tagClient}`, limit: r.values[kind]! };
      }
    }
    return null;
  }

  /** True when some entity has a request_percentage quota (otherwise requests need not be timed). */
  get requestQuotasPresent(): boolean {
    const records = this.quotas();
    if (this.requestQuotaCache?.records !== records) {
      this.requestQuotaCache = { records, present: records.some((r) => r.values.request_percentage !== undefined) };
    }
    return this.requestQuotaCache.present;
  }

  /** Records `ms` of request handling time; returns the throttle time when over request_percentage. */
  recordRequestTime(user: string, clientId: string, ms: number, now = Date.now()): number {
    return this.record('request_percentage', user, clientId, ms, now);
  }

  /**
   * Counts a new connection from `ip` against its connection_creation_rate quota (the IP's own,
   * else the default IP entity); returns a refusal message when the rate is exceeded.
   */
  recordConnection(ip: string, now = Date.now()): string | null {
    const records = this.quotas();
    if (records.length === 0) return null;
    const ipQuota = (name: string | null) =>
      records.find((r) => r.entity.length === 1 && r.entity[0]!.entityType === 'ip' && r.entity[0]!.entityName === name && r.values.connection_creation_rate !== undefined);
    const found = ipQuota(ip) ?? ipQuota(null);
    if (!found) return null;
    const limit = found.values.connection_creation_rate!;
    const key = `connection_creation_rate|${ip}`;
    let sensor = this.sensors.get(key);
    if (!sensor) this.sensors.set(key, (sensor = new RateSensor(this.windowMs(), this.windows())));
    const rate = sensor.record(1, now);
    return rate > limit ? `connection_creation_rate ${limit}/s exceeded for ${ip} (${rate.toFixed(1)}/s)` : null;
  }

  /** Records `bytes` against the client's quota and returns how long it must be throttled (ms). */
  record(kind: QuotaKind, user: string, clientId: string, bytes: number, now = Date.now()): number {
    const q = this.resolve(kind, user, clientId);
    if (!q) return 0;
    let sensor = this.sensors.get(q.key);
    if (!sensor) this.sensors.set(q.key, (sensor = new RateSensor(this.windowMs(), this.windows())));
    const rate = sensor.record(bytes, now);
    // request_percentage n means 10·n ms of handling time per second.
    const limit = kind === 'request_percentage' ? q.limit * 10 : q.limit;
    if (rate <= limit) return 0;
    // Kafka: throttle = (observed - bound) / bound * window, capped at one full quota window span.
    const throttle = ((rate - limit) / limit) * sensor.elapsedWindowMs;
    return Math.min(Math.round(throttle), this.windowMs() * this.windows());
  }
}
