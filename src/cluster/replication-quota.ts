// Replication throttling (KIP-73), as Kafka's ReplicationQuotaManager does it: one byte-rate quota
// for leader-side and one for follower-side replication of the partitions named in a topic's
// leader./follower.replication.throttled.replicas. The rate is measured over
// replication.quota.window.num windows of replication.quota.window.size.seconds, with Kafka's
// rule that the measured span is never shorter than (windows - 1) full windows, so a quiet start
// allows a burst instead of throttling the first bytes.

/** Above this, the rate means "unlimited" (the default is Long.MAX_VALUE). */
const UNLIMITED = 2 ** 53;

/** Partitions of one topic throttled on this broker: every one ('*') or those listed for it. */
export interface ThrottledReplicas {
  all: boolean;
  partitions: ReadonlySet<number>;
}

const NOT_THROTTLED: ThrottledReplicas = { all: false, partitions: new Set() };

/** Parses `[partition]:[broker],...` or `*`, keeping the partitions listed with this broker's id. */
export function parseThrottledReplicas(value: string | undefined, nodeId: number): ThrottledReplicas {
  const v = (value ?? '').trim();
  if (v === '') return NOT_THROTTLED;
  if (v === '*') return { all: true, partitions: new Set() };
  const partitions = new Set<number>();
  for (const entry of v.split(',')) {
    const [p, b] = entry.trim().split(':');
    if (Number(b) === nodeId && p !== undefined && p !== '') partitions.add(Number(p));
  }
  return partitions.size === 0 ? NOT_THROTTLED : { all: false, partitions };
}

export function isThrottled(t: ThrottledReplicas | undefined, partition: number): boolean {
  return t !== undefined && (t.all || t.partitions.has(partition));
}

export interface QuotaSettings {
  /** Bytes per second. */
  rate: () => number;
  windows: () => number;
  windowMs: () => number;
}

export class ReplicationQuota {
  /** Start time and bytes of each window, oldest first. */
  private readonly samples: { start: number; bytes: number }[] = [];

  constructor(private readonly s: QuotaSettings) {}

  /** Whether any rate below "unlimited" is set. */
  get limited(): boolean {
    return this.s.rate() < UNLIMITED;
  }

  record(bytes: number, now = Date.now()): void {
    if (bytes <= 0) return;
    this.purge(now);
    const last = this.samples[this.samples.length - 1];
    if (last && now - last.start < this.s.windowMs()) last.bytes += bytes;
    else this.samples.push({ start: now, bytes });
  }

  /** Measured bytes/s over the kept windows. */
  measuredRate(now = Date.now()): number {
    this.purge(now);
    if (this.samples.length === 0) return 0;
    const windowMs = this.s.windowMs();
    let elapsed = now - this.samples[0]!.start;
    const fullWindows = Math.floor(elapsed / windowMs);
    const minFullWindows = this.s.windows() - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * windowMs;
    let total = 0;
    for (const w of this.samples) total += w.bytes;
    return (total * 1000) / Math.max(1, elapsed);
  }

  /** Whether throttled replication must wait (the measured rate is above the quota). */
  exceeded(now = Date.now()): boolean {
    const rate = this.s.rate();
    return rate < UNLIMITED && this.measuredRate(now) > rate;
  }

  private purge(now: number): void {
    const keepFrom = now - this.s.windows() * this.s.windowMs();
    while (this.samples.length > 0 && this.samples[0]!.start + this.s.windowMs() <= keepFrom) this.samples.shift();
  }
}
