// Enforced client byte-rate quotas (Kafka's ClientQuotaManager): produce and fetch bytes are
// recorded per quota entity over `quota.window.num` samples of `quota.window.size.seconds`; when
// the observed rate exceeds the quota, the response carries throttle_time_ms and the connection
// is muted for that long (KIP-219). The quota of a (user, client-id) pair resolves in Kafka's
// order: user+client, user+default client, user, default user+client, default user+default
// client, default user, client, default client.
import type { ClientQuotaRecord } from '../cluster/metadata-store.js';

export type QuotaKind = 'producer_byte_rate' | 'consumer_byte_rate';

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

  /** Records `bytes` against the client's quota and returns how long it must be throttled (ms). */
  record(kind: QuotaKind, user: string, clientId: string, bytes: number, now = Date.now()): number {
    const q = this.resolve(kind, user, clientId);
    if (!q) return 0;
    let sensor = this.sensors.get(q.key);
    if (!sensor) this.sensors.set(q.key, (sensor = new RateSensor(this.windowMs(), this.windows())));
    const rate = sensor.record(bytes, now);
    if (rate <= q.limit) return 0;
    // Kafka: throttle = (observed - bound) / bound * window, capped at one full quota window span.
    const throttle = ((rate - q.limit) / q.limit) * sensor.elapsedWindowMs;
    return Math.min(Math.round(throttle), this.windowMs() * this.windows());
  }
}
