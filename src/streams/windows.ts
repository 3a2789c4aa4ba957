// Window definitions with Kafka Streams' factory names. Durations are milliseconds (numbers);
// `Duration.ofMinutes(5)` etc. read like the Java examples.
import type { Window } from './stores.js';

export const Duration = {
  ofMillis: (n: number) => n,
  ofSeconds: (n: number) => n * 1000,
  ofMinutes: (n: number) => n * 60_000,
  ofHours: (n: number) => n * 3_600_000,
  ofDays: (n: number) => n * 86_400_000,
};

const DEFAULT_GRACE_MS = 24 * 3_600_000;

function checkMs(what: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what} must be a non-negative number of milliseconds, got ${n}`);
  return Math.floor(n);
}

/** Tumbling (advance = size) and hopping (advance < size) windows aligned to the epoch. */
export class TimeWindows {
  readonly kind = 'time' as const;
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}
  static ofSizeWithNoGrace(size: number): TimeWindows {
    return new TimeWindows(checkMs('size', size) || 1, size, 0);
  }
  static ofSizeAndGrace(size: number, grace: number): TimeWindows {
    return new TimeWindows(checkMs('size', size) || 1, size, checkMs('grace', grace));
  }
  /** Old-style factory: 24 h grace, as Kafka's deprecated TimeWindows.of. */
  static of(size: number): TimeWindows {
    return new TimeWindows(checkMs('size', size) || 1, size, Math.max(0, DEFAULT_GRACE_MS - size));
  }
  advanceBy(advance: number): TimeWindows {
    if (advance <= 0 || advance > this.sizeMs) throw new RangeError('advance must be in (0, size]');
    return new TimeWindows(this.sizeMs, advance, this.graceMs);
  }
  grace(grace: number): TimeWindows {
    return new TimeWindows(this.sizeMs, this.advanceMs, checkMs('grace', grace));
  }
  gracePeriodMs(): number {
    return this.graceMs;
  }
  size(): number {
    return this.sizeMs;
  }
  /** Windows containing ts, by start. */
  windowsFor(ts: number): Window[] {
    const out: Window[] = [];
    let start = Math.max(0, ts - this.sizeMs + this.advanceMs);
    start -= start % this.advanceMs;
    for (; start <= ts; start += this.advanceMs) {
      if (start + this.sizeMs > ts) out.push({ start, end: start + this.sizeMs });
    }
    return out;
  }
}

/** Sliding windows: every window [t - difference, t] that holds a distinct set of records. */
export class SlidingWindows {
  readonly kind = 'sliding' as const;
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}
  static ofTimeDifferenceWithNoGrace(diff: number): SlidingWindows {
    return new SlidingWindows(checkMs('time difference', diff), 0);
  }
  static ofTimeDifferenceAndGrace(diff: number, grace: number): SlidingWindows {
    return new SlidingWindows(checkMs('time difference', diff), checkMs('grace', grace));
  }
  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/** Session windows: records closer than the inactivity gap merge into one session. */
export class SessionWindows {
  readonly kind = 'session' as const;
  private constructor(
    readonly gapMs: number,
    readonly graceMs: number,
  ) {}
  static ofInactivityGapWithNoGrace(gap: number): SessionWindows {
    return new SessionWindows(checkMs('gap', gap), 0);
  }
  static ofInactivityGapAndGrace(gap: number, grace: number): SessionWindows {
    return new SessionWindows(checkMs('gap', gap), checkMs('grace', grace));
  }
  static with(gap: number): SessionWindows {
    return new SessionWindows(checkMs('gap', gap), Math.max(0, DEFAULT_GRACE_MS - gap));
  }
  gracePeriodMs(): number {
    return this.graceMs;
  }
  inactivityGap(): number {
    return this.gapMs;
  }
}

/** Stream-stream join windows: other-side records within [ts - before, ts + after] match. */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {}
  static ofTimeDifferenceWithNoGrace(diff: number): JoinWindows {
    return new JoinWindows(checkMs('time difference', diff), diff, 0);
  }
  static ofTimeDifferenceAndGrace(diff: number, grace: number): JoinWindows {
    return new JoinWindows(checkMs('time difference', diff), diff, checkMs('grace', grace));
  }
  static of(diff: number): JoinWindows {
    return new JoinWindows(checkMs('time difference', diff), diff, Math.max(0, DEFAULT_GRACE_MS - 2 * diff));
  }
  before(ms: number): JoinWindows {
    return new JoinWindows(checkMs('before', ms), this.afterMs, this.graceMs);
  }
  after(ms: number): JoinWindows {
    return new JoinWindows(this.beforeMs, checkMs('after', ms), this.graceMs);
  }
  gracePeriodMs(): number {
    return this.graceMs;
  }
}

export type GroupWindows = TimeWindows | SlidingWindows | SessionWindows;
