// The state of one share-partition (KIP-932): which records of one topic partition a share group
// has handed out, to whom, how often, and which are done. Pure logic — no log, no timers, no I/O;
// the caller (./share-partition-manager.ts) reads batches, runs lock timers and persists state.
//
// Offsets below `startOffset` are done. Offsets in [startOffset, endOffset) are "in flight" and
// each has a state; offsets from `endOffset` on have never been acquired. Records are acquired in
// log order, a record released or timed out becomes Available again and is re-acquired before new
// ones; `startOffset` moves past the prefix of Acknowledged/Archived records.

/** Record states, numbered as Kafka persists them (ShareSnapshotValue.DeliveryState). */
export const RecordState = {
  AVAILABLE: 0,
  ACQUIRED: 1,
  ACKNOWLEDGED: 2,
  ARCHIVED: 4,
} as const;
export type RecordStateValue = (typeof RecordState)[keyof typeof RecordState];

/** Acknowledge types on the wire (ShareAcknowledge / ShareFetch AcknowledgeTypes). */
export const AckType = {
  GAP: 0,
  ACCEPT: 1,
  RELEASE: 2,
  REJECT: 3,
  RENEW: 4,
} as const;

export interface InFlightRecord {
  state: RecordStateValue;
  deliveryCount: number;
  /** Member holding the acquisition lock (ACQUIRED only). */
  memberId: string | null;
  /** When the acquisition lock expires (ms since epoch; ACQUIRED only). */
  lockDeadline: number;
}

export interface SharePartitionSettings {
  /** group.share.delivery.count.limit: a record delivered this often is archived when it comes back. */
  deliveryCountLimit: number;
  /** group.share.record.lock.duration.ms */
  lockDurationMs: number;
  /** group.share.partition.max.record.locks: bound on in-flight records (endOffset - startOffset). */
  maxInFlight: number;
}

/** One batch as the log presents it (only the header matters here). */
export interface BatchSpan {
  baseOffset: number;
  lastOffset: number;
  isControl: boolean;
}

/** A contiguous run of acquired offsets with one delivery count (ShareFetch AcquiredRecords). */
export interface AcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

/** A state batch as persisted in ShareSnapshotValue (never ACQUIRED). */
export interface StateBatch {
  firstOffset: number;
  lastOffset: number;
  deliveryState: number;
  deliveryCount: number;
}

export class AckError extends Error {
  constructor(
    readonly code: 'INVALID_RECORD_STATE' | 'INVALID_REQUEST',
    message: string,
  ) {
    super(message);
  }
}

export class SharePartition {
  startOffset: number;
  /** First offset never acquired. */
  endOffset: number;
  // The window [startOffset, endOffset) in a ring of parallel arrays (slot of startOffset at
  // `head`): one ShareFetch touches hundreds of records, and a Map of per-record objects cost a
  // lookup and an allocation per record plus the garbage collector's time.
  private capacity = 0;
  private head = 0;
  private states = new Uint8Array(0);
  private deliveryCounts = new Uint16Array(0);
  private lockDeadlines = new Float64Array(0);
  private members: (string | null)[] = [];
  /** No AVAILABLE record below this offset (a lower bound kept by every change to AVAILABLE). */
  private availableFrom: number;
  /** Bumped on every change; persistence compares it to what it wrote. */
  version = 0;
  /** Offsets in flight that are ACQUIRED (for describe and lock bounds). */
  acquiredCount = 0;

  constructor(
    startOffset: number,
    /** Replaced when the group's configs change (see SharePartitions.acquire). */
    public settings: SharePartitionSettings,
  ) {
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    this.availableFrom = startOffset;
  }

  /** Rebuilds from persisted state: anything that was ACQUIRED is AVAILABLE again. */
  static restore(startOffset: number, batches: readonly StateBatch[], settings: SharePartitionSettings): SharePartition {
    const sp = new SharePartition(startOffset, settings);
    for (const b of batches) {
      for (let o = Math.max(b.firstOffset, startOffset); o <= b.lastOffset; o++) {
        let state = b.deliveryState as RecordStateValue;
        if (state === RecordState.ACQUIRED) state = RecordState.AVAILABLE;
        if (state !== RecordState.AVAILABLE && state !== RecordState.ACKNOWLEDGED && state !== RecordState.ARCHIVED) continue;
        // Gaps inside the persisted window are offsets that were never acquired: AVAILABLE, count 0.
        if (o >= sp.endOffset) sp.extendTo(o + 1, RecordState.AVAILABLE);
        const i = sp.slot(o);
        sp.states[i] = state;
        sp.deliveryCounts[i] = b.deliveryCount;
      }
    }
    sp.advanceStart();
    return sp;
  }

  get inFlightCount(): number {
    return this.endOffset - this.startOffset;
  }

  stateOf(offset: number): InFlightRecord | undefined {
    if (offset < this.startOffset || offset >= this.endOffset) return undefined;
    const i = this.slot(offset);
    return { state: this.states[i] as RecordStateValue, deliveryCount: this.deliveryCounts[i]!, memberId: this.members[i] ?? null, lockDeadline: this.lockDeadlines[i]! };
  }

  /** The offset to read the log from: the first re-deliverable record, else endOffset. */
  nextFetchOffset(): number {
    let o = Math.max(this.availableFrom, this.startOffset);
    while (o < this.endOffset && this.states[this.slot(o)] !== RecordState.AVAILABLE) o++;
    this.availableFrom = o;
    return o;
  }

  /** True when a fetch could acquire something given the high watermark. */
  canAcquire(highWatermark: number): boolean {
    if (this.nextFetchOffset() < this.endOffset) return true;
    return this.endOffset < highWatermark && this.inFlightCount < this.settings.maxInFlight;
  }

  /**
   * Acquires records for `memberId` from batches read at nextFetchOffset(), in log order, up to
   * `maxRecords` (whole batches in batch-optimized mode, exact in record-limit mode) and below
   * `highWatermark`. Control batches are archived and never handed out.
   */
  acquire(memberId: string, batches: readonly BatchSpan[], maxRecords: number, highWatermark: number, now: number, strictLimit = false): AcquiredRange[] {
    const ranges: AcquiredRange[] = [];
    let acquired = 0;
    const deadline = now + this.settings.lockDurationMs;
    let windowFull = false;
    for (const b of batches) {
      // A full in-flight window ends the acquisition: the next batch must not look like a gap.
      if (acquired >= maxRecords || windowFull) break;
      if (b.lastOffset < this.startOffset) continue;
      if (b.baseOffset >= highWatermark) break;
      const last = Math.min(b.lastOffset, highWatermark - 1);
      for (let o = Math.max(b.baseOffset, this.startOffset); o <= last; o++) {
        let count: number;
        if (o < this.endOffset) {
          const i = this.slot(o);
          if (this.states[i] !== RecordState.AVAILABLE) continue;
          if (b.isControl) {
            this.states[i] = RecordState.ARCHIVED;
            this.version++;
            continue;
          }
          if (strictLimit && acquired >= maxRecords) break;
          count = ++this.deliveryCounts[i]!;
          this.states[i] = RecordState.ACQUIRED;
          this.members[i] = memberId;
          this.lockDeadlines[i] = deadline;
        } else {
          // Offsets the log does not have (compacted away, aborted): nothing to deliver.
          if (o !== this.endOffset) this.extendTo(o, RecordState.ARCHIVED);
          if (this.inFlightCount >= this.settings.maxInFlight) {
            windowFull = true;
            break;
          }
          if (b.isControl) {
            this.extendTo(o + 1, RecordState.ARCHIVED);
            this.version++;
            continue;
          }
          if (strictLimit && acquired >= maxRecords) break;
          this.extendTo(o + 1, RecordState.ACQUIRED);
          const i = this.slot(o);
          this.deliveryCounts[i] = count = 1;
          this.members[i] = memberId;
          this.lockDeadlines[i] = deadline;
        }
        this.acquiredCount++;
        this.version++;
        acquired++;
        const prev = ranges[ranges.length - 1];
        if (prev && prev.lastOffset === o - 1 && prev.deliveryCount === count) prev.lastOffset = o;
        else ranges.push({ firstOffset: o, lastOffset: o, deliveryCount: count });
      }
    }
    this.advanceStart();
    return ranges;
  }

  /**
   * Applies one acknowledgement batch of `memberId`. `types` has one entry for the whole range or
   * one per offset. Every offset must be ACQUIRED by this member (GAP offsets excepted), else
   * nothing is applied and INVALID_RECORD_STATE is thrown. Returns true when state changed.
   */
  acknowledge(memberId: string, firstOffset: number, lastOffset: number, types: readonly number[], now: number): boolean {
    if (lastOffset < firstOffset || types.length === 0 || (types.length !== 1 && types.length !== lastOffset - firstOffset + 1)) {
      throw new AckError('INVALID_REQUEST', `Bad acknowledgement batch ${firstOffset}-${lastOffset} with ${types.length} types.`);
    }
    if (lastOffset - firstOffset + 1 > this.settings.maxInFlight + 1 && types.length === 1 && (firstOffset < this.startOffset || lastOffset >= this.endOffset)) {
      throw new AckError('INVALID_RECORD_STATE', `Offsets ${firstOffset}-${lastOffset} are not acquired.`);
    }
    const typeAt = (o: number) => (types.length === 1 ? types[0]! : types[o - firstOffset]!);
    for (let o = firstOffset; o <= lastOffset; o++) {
      const t = typeAt(o);
      if (t < AckType.GAP || t > AckType.RENEW) throw new AckError('INVALID_REQUEST', `Unknown acknowledge type ${t}.`);
      const inWindow = o >= this.startOffset && o < this.endOffset;
      const i = inWindow ? this.slot(o) : -1;
      const state = inWindow ? this.states[i] : -1;
      if (t === AckType.GAP) {
        if (o < this.startOffset) continue;
        if (state === RecordState.ACQUIRED && this.members[i] === memberId) continue;
        if (state === RecordState.ARCHIVED || state === RecordState.ACKNOWLEDGED) continue;
        throw new AckError('INVALID_RECORD_STATE', `Offset ${o} is not acquired by member ${memberId}.`);
      }
      if (state !== RecordState.ACQUIRED || this.members[i] !== memberId) {
        throw new AckError('INVALID_RECORD_STATE', `Offset ${o} is not acquired by member ${memberId}.`);
      }
    }
    let changed = false;
    for (let o = Math.max(firstOffset, this.startOffset); o <= lastOffset && o < this.endOffset; o++) {
      const i = this.slot(o);
      if (this.states[i] !== RecordState.ACQUIRED) continue;
      const t = typeAt(o);
      if (t === AckType.RENEW) {
        this.lockDeadlines[i] = now + this.settings.lockDurationMs;
        continue;
      }
      if (t === AckType.RELEASE) this.releaseAt(o, i);
      else this.finishAt(i, t === AckType.ACCEPT ? RecordState.ACKNOWLEDGED : RecordState.ARCHIVED); // REJECT, GAP archive
      changed = true;
    }
    if (changed) {
      this.version++;
      this.advanceStart();
    }
    return changed;
  }

  /** Releases every record whose lock expired; true when something changed. */
  expireLocks(now: number): boolean {
    let changed = false;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      if (this.states[i] === RecordState.ACQUIRED && this.lockDeadlines[i]! <= now) {
        this.releaseAt(o, i);
        changed = true;
      }
    }
    if (changed) {
      this.version++;
      this.advanceStart();
    }
    return changed;
  }

  /**
   * Releases every record a member holds (it left the group or closed its share session). Like
   * Kafka, these were fetched but not (known to be) delivered: the delivery count goes back down
   * and the records become available again, never archived for it.
   */
  releaseMember(memberId: string): boolean {
    let changed = false;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      if (this.states[i] === RecordState.ACQUIRED && this.members[i] === memberId) {
        this.finishAt(i, RecordState.AVAILABLE);
        if (this.deliveryCounts[i]! > 0) this.deliveryCounts[i]!--;
        if (o < this.availableFrom) this.availableFrom = o;
        changed = true;
      }
    }
    if (changed) {
      this.version++;
      this.advanceStart();
    }
    return changed;
  }

  /** Earliest lock deadline among acquired records, or undefined. */
  nextLockDeadline(): number | undefined {
    if (this.acquiredCount === 0) return undefined;
    let min: number | undefined;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      if (this.states[i] === RecordState.ACQUIRED && (min === undefined || this.lockDeadlines[i]! < min)) min = this.lockDeadlines[i]!;
    }
    return min;
  }

  /** Moves the start offset (AlterShareGroupOffsets, log start moved past it): forgets everything. */
  reset(startOffset: number): void {
    this.members.fill(null);
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    this.availableFrom = startOffset;
    this.head = 0;
    this.acquiredCount = 0;
    this.version++;
  }

  /** Records below the log start offset no longer exist: skip them. */
  truncateBelow(logStartOffset: number): void {
    if (logStartOffset <= this.startOffset) return;
    const end = Math.min(logStartOffset, this.endOffset);
    for (let o = this.startOffset; o < end; o++) {
      const i = this.slot(o);
      if (this.states[i] === RecordState.ACQUIRED) this.acquiredCount--;
      this.members[i] = null;
    }
    if (this.endOffset <= logStartOffset) {
      this.head = 0;
      this.endOffset = logStartOffset;
    } else {
      this.head = this.slot(logStartOffset);
    }
    this.startOffset = logStartOffset;
    this.version++;
    this.advanceStart();
  }

  /** The persisted form: in-flight records as runs of equal state, ACQUIRED written as AVAILABLE
   * (unless `live`, for describing). */
  stateBatches(live = false): StateBatch[] {
    const out: StateBatch[] = [];
    let last: StateBatch | undefined;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      const s = this.states[i]!;
      const state = s === RecordState.ACQUIRED && !live ? RecordState.AVAILABLE : s;
      const count = this.deliveryCounts[i]!;
      if (last && last.deliveryState === state && last.deliveryCount === count) last.lastOffset = o;
      else out.push((last = { firstOffset: o, lastOffset: o, deliveryState: state, deliveryCount: count }));
    }
    return out;
  }

  /** Counts per state in the window (describe, CLI). */
  counts(): { available: number; acquired: number; acknowledged: number; archived: number } {
    const c = { available: 0, acquired: 0, acknowledged: 0, archived: 0 };
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const s = this.states[this.slot(o)];
      if (s === RecordState.AVAILABLE) c.available++;
      else if (s === RecordState.ACQUIRED) c.acquired++;
      else if (s === RecordState.ACKNOWLEDGED) c.acknowledged++;
      else if (s === RecordState.ARCHIVED) c.archived++;
    }
    return c;
  }

  /** Ring slot of an offset inside the window. */
  private slot(offset: number): number {
    return (this.head + (offset - this.startOffset)) & (this.capacity - 1);
  }

  /** Ends an acquisition at slot i in `state` (the lock holder and deadline are cleared). */
  private finishAt(i: number, state: RecordStateValue): void {
    this.acquiredCount--;
    this.members[i] = null;
    this.lockDeadlines[i] = 0;
    this.states[i] = state;
  }

  /** A released or expired acquisition: available again, or archived at the delivery limit. */
  private releaseAt(o: number, i: number): void {
    const archive = this.deliveryCounts[i]! >= this.settings.deliveryCountLimit;
    this.finishAt(i, archive ? RecordState.ARCHIVED : RecordState.AVAILABLE);
    if (!archive && o < this.availableFrom) this.availableFrom = o;
  }

  /** Grows the window to end at `end`, new offsets in `state` with delivery count 0. */
  private extendTo(end: number, state: RecordStateValue): void {
    const size = end - this.startOffset;
    if (size > this.capacity) this.grow(size);
    for (let o = this.endOffset; o < end; o++) {
      const i = (this.head + (o - this.startOffset)) & (this.capacity - 1);
      this.states[i] = state;
      this.deliveryCounts[i] = 0;
      this.lockDeadlines[i] = 0;
      this.members[i] = null;
    }
    if (state === RecordState.AVAILABLE && this.endOffset < this.availableFrom) this.availableFrom = this.endOffset;
    this.endOffset = end;
  }

  /** Reallocates the ring (a power of two holding `size`), the window copied to slot 0 on. */
  private grow(size: number): void {
    let capacity = Math.max(64, this.capacity);
    while (capacity < size) capacity *= 2;
    const states = new Uint8Array(capacity);
    const counts = new Uint16Array(capacity);
    const deadlines = new Float64Array(capacity);
    const members: (string | null)[] = new Array(capacity).fill(null);
    const n = this.endOffset - this.startOffset;
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & (this.capacity - 1);
      states[k] = this.states[i]!;
      counts[k] = this.deliveryCounts[i]!;
      deadlines[k] = this.lockDeadlines[i]!;
      members[k] = this.members[i] ?? null;
    }
    this.states = states;
    this.deliveryCounts = counts;
    this.lockDeadlines = deadlines;
    this.members = members;
    this.capacity = capacity;
    this.head = 0;
  }

  private advanceStart(): void {
    while (this.startOffset < this.endOffset) {
      const s = this.states[this.head];
      if (s !== RecordState.ACKNOWLEDGED && s !== RecordState.ARCHIVED) break;
      this.head = (this.head + 1) & (this.capacity - 1);
      this.startOffset++;
    }
    if (this.startOffset === this.endOffset) this.head = 0;
  }
}
