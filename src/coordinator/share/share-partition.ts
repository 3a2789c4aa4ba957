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
  /** offset → state, for offsets in [startOffset, endOffset) that are not plain done gaps. */
  private readonly records = new Map<number, InFlightRecord>();
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
  }

  /** Rebuilds from persisted state: anything that was ACQUIRED is AVAILABLE again. */
  static restore(startOffset: number, batches: readonly StateBatch[], settings: SharePartitionSettings): SharePartition {
    const sp = new SharePartition(startOffset, settings);
    for (const b of batches) {
      for (let o = Math.max(b.firstOffset, startOffset); o <= b.lastOffset; o++) {
        let state = b.deliveryState as RecordStateValue;
        if (state === RecordState.ACQUIRED) state = RecordState.AVAILABLE;
        if (state !== RecordState.AVAILABLE && state !== RecordState.ACKNOWLEDGED && state !== RecordState.ARCHIVED) continue;
        sp.records.set(o, { state, deliveryCount: b.deliveryCount, memberId: null, lockDeadline: 0 });
        if (o + 1 > sp.endOffset) sp.endOffset = o + 1;
      }
    }
    // Gaps inside the persisted window are offsets that were never acquired: AVAILABLE, count 0.
    for (let o = sp.startOffset; o < sp.endOffset; o++) {
      if (!sp.records.has(o)) sp.records.set(o, { state: RecordState.AVAILABLE, deliveryCount: 0, memberId: null, lockDeadline: 0 });
    }
    sp.advanceStart();
    return sp;
  }

  get inFlightCount(): number {
    return this.endOffset - this.startOffset;
  }

  stateOf(offset: number): InFlightRecord | undefined {
    return this.records.get(offset);
  }

  /** The offset to read the log from: the first re-deliverable record, else endOffset. */
  nextFetchOffset(): number {
    for (let o = this.startOffset; o < this.endOffset; o++) {
      if (this.records.get(o)?.state === RecordState.AVAILABLE) return o;
    }
    return this.endOffset;
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
    const push = (offset: number, count: number) => {
      const last = ranges[ranges.length - 1];
      if (last && last.lastOffset === offset - 1 && last.deliveryCount === count) last.lastOffset = offset;
      else ranges.push({ firstOffset: offset, lastOffset: offset, deliveryCount: count });
      acquired++;
    };
    let windowFull = false;
    for (const b of batches) {
      // A full in-flight window ends the acquisition: the next batch must not look like a gap.
      if (acquired >= maxRecords || windowFull) break;
      if (b.lastOffset < this.startOffset) continue;
      if (b.baseOffset >= highWatermark) break;
      const last = Math.min(b.lastOffset, highWatermark - 1);
      for (let o = Math.max(b.baseOffset, this.startOffset); o <= last; o++) {
        if (o < this.endOffset) {
          const r = this.records.get(o);
          if (!r || r.state !== RecordState.AVAILABLE) continue;
          if (b.isControl) {
            r.state = RecordState.ARCHIVED;
            this.version++;
            continue;
          }
          if (strictLimit && acquired >= maxRecords) break;
          r.state = RecordState.ACQUIRED;
          r.deliveryCount++;
          r.memberId = memberId;
          r.lockDeadline = deadline;
          this.acquiredCount++;
          this.version++;
          push(o, r.deliveryCount);
        } else {
          if (o !== this.endOffset) {
            // Offsets the log does not have (compacted away, aborted): nothing to deliver.
            for (let g = this.endOffset; g < o; g++) this.records.set(g, { state: RecordState.ARCHIVED, deliveryCount: 0, memberId: null, lockDeadline: 0 });
            this.endOffset = o;
          }
          if (this.inFlightCount >= this.settings.maxInFlight) {
            windowFull = true;
            break;
          }
          if (b.isControl) {
            this.records.set(o, { state: RecordState.ARCHIVED, deliveryCount: 0, memberId: null, lockDeadline: 0 });
            this.endOffset = o + 1;
            this.version++;
            continue;
          }
          if (strictLimit && acquired >= maxRecords) break;
          this.records.set(o, { state: RecordState.ACQUIRED, deliveryCount: 1, memberId, lockDeadline: deadline });
          this.endOffset = o + 1;
          this.acquiredCount++;
          this.version++;
          push(o, 1);
        }
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
      const r = this.records.get(o);
      if (t === AckType.GAP) {
        if (o < this.startOffset) continue;
        if (r && r.state === RecordState.ACQUIRED && r.memberId === memberId) continue;
        if (r && (r.state === RecordState.ARCHIVED || r.state === RecordState.ACKNOWLEDGED)) continue;
        throw new AckError('INVALID_RECORD_STATE', `Offset ${o} is not acquired by member ${memberId}.`);
      }
      if (!r || r.state !== RecordState.ACQUIRED || r.memberId !== memberId) {
        throw new AckError('INVALID_RECORD_STATE', `Offset ${o} is not acquired by member ${memberId}.`);
      }
    }
    let changed = false;
    for (let o = firstOffset; o <= lastOffset; o++) {
      const r = this.records.get(o);
      if (!r || r.state !== RecordState.ACQUIRED) continue;
      const t = typeAt(o);
      if (t === AckType.RENEW) {
        r.lockDeadline = now + this.settings.lockDurationMs;
        continue;
      }
      this.acquiredCount--;
      r.memberId = null;
      r.lockDeadline = 0;
      if (t === AckType.ACCEPT) r.state = RecordState.ACKNOWLEDGED;
      else if (t === AckType.RELEASE) r.state = r.deliveryCount >= this.settings.deliveryCountLimit ? RecordState.ARCHIVED : RecordState.AVAILABLE;
      else r.state = RecordState.ARCHIVED; // REJECT, GAP
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
      const r = this.records.get(o);
      if (r && r.state === RecordState.ACQUIRED && r.lockDeadline <= now) {
        this.releaseOne(r);
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
      const r = this.records.get(o);
      if (r && r.state === RecordState.ACQUIRED && r.memberId === memberId) {
        this.acquiredCount--;
        r.memberId = null;
        r.lockDeadline = 0;
        r.state = RecordState.AVAILABLE;
        r.deliveryCount = Math.max(0, r.deliveryCount - 1);
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
      const r = this.records.get(o);
      if (r && r.state === RecordState.ACQUIRED && (min === undefined || r.lockDeadline < min)) min = r.lockDeadline;
    }
    return min;
  }

  /** Moves the start offset (AlterShareGroupOffsets, log start moved past it): forgets everything. */
  reset(startOffset: number): void {
    this.records.clear();
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    this.acquiredCount = 0;
    this.version++;
  }

  /** Records below the log start offset no longer exist: skip them. */
  truncateBelow(logStartOffset: number): void {
    if (logStartOffset <= this.startOffset) return;
    for (let o = this.startOffset; o < Math.min(logStartOffset, this.endOffset); o++) {
      const r = this.records.get(o);
      if (r?.state === RecordState.ACQUIRED) this.acquiredCount--;
      this.records.delete(o);
    }
    this.startOffset = logStartOffset;
    if (this.endOffset < logStartOffset) this.endOffset = logStartOffset;
    this.version++;
    this.advanceStart();
  }

  /** The persisted form: in-flight records as runs of equal state, ACQUIRED written as AVAILABLE
   * (unless `live`, for describing). */
  stateBatches(live = false): StateBatch[] {
    const out: StateBatch[] = [];
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const r = this.records.get(o);
      if (!r) continue;
      const state = r.state === RecordState.ACQUIRED && !live ? RecordState.AVAILABLE : r.state;
      const last = out[out.length - 1];
      if (last && last.lastOffset === o - 1 && last.deliveryState === state && last.deliveryCount === r.deliveryCount) last.lastOffset = o;
      else out.push({ firstOffset: o, lastOffset: o, deliveryState: state, deliveryCount: r.deliveryCount });
    }
    return out;
  }

  /** Counts per state in the window (describe, CLI). */
  counts(): { available: number; acquired: number; acknowledged: number; archived: number } {
    const c = { available: 0, acquired: 0, acknowledged: 0, archived: 0 };
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const s = this.records.get(o)?.state;
      if (s === RecordState.AVAILABLE) c.available++;
      else if (s === RecordState.ACQUIRED) c.acquired++;
      else if (s === RecordState.ACKNOWLEDGED) c.acknowledged++;
      else if (s === RecordState.ARCHIVED) c.archived++;
    }
    return c;
  }

  private releaseOne(r: InFlightRecord): void {
    this.acquiredCount--;
    r.memberId = null;
    r.lockDeadline = 0;
    r.state = r.deliveryCount >= this.settings.deliveryCountLimit ? RecordState.ARCHIVED : RecordState.AVAILABLE;
  }

  private advanceStart(): void {
    while (this.startOffset < this.endOffset) {
      const r = this.records.get(this.startOffset);
      if (r && r.state !== RecordState.ACKNOWLEDGED && r.state !== RecordState.ARCHIVED) break;
      this.records.delete(this.startOffset);
      this.startOffset++;
    }
  }
}
