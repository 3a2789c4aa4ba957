/**
 * Leader epoch → start offset, persisted as Kafka's "leader-epoch-checkpoint":
 * "0\n<count>\n<epoch> <startOffset>\n...".
 */
export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** Told after every change of the cache (PartitionLog persists the checkpoint). */
export interface EpochCacheOwner {
  leaderEpochsChanged(): void;
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  /** Told after every change (an object rather than a closure: no per-partition function). */
  owner?: EpochCacheOwner;

  get all(): readonly EpochEntry[] {
    return this.entries;
  }
  latestEpoch(): number {
    return this.entries.length ? this.entries[this.entries.length - 1]!.epoch : -1;
  }

  /** Records that `epoch` starts at `startOffset`. Ignores epochs not newer than the latest. */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const last = this.entries[this.entries.length - 1];
    if (last && (epoch <= last.epoch || startOffset < last.startOffset)) return false;
    if (last && startOffset === last.startOffset) this.entries.pop(); // earlier epoch had no records
    this.entries.push({ epoch, startOffset });
    this.owner?.leaderEpochsChanged();
    return true;
  }

  /** Start offset of `epoch`, or undefined. */
  lookup(epoch: number): number | undefined {
    return this.entries.find((e) => e.epoch === epoch)?.startOffset;
  }

  /** Epoch of the batch holding `offset`, or -1. */
  epochForOffset(offset: number): number {
    let r = -1;
    for (const e of this.entries) {
      if (e.startOffset <= offset) r = e.epoch;
      else break;
    }
    return r;
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer: the largest epoch <= requested and the offset where the
   * next epoch starts (log end offset for the latest epoch); {-1,-1} when unknown.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (epoch < 0 || this.entries.length === 0) return { epoch: -1, endOffset: -1 };
    if (epoch === this.latestEpoch()) return { epoch, endOffset: logEndOffset };
    // first entry with a higher epoch
    const hi = this.entries.findIndex((e) => e.epoch > epoch);
    if (hi < 0) return { epoch: -1, endOffset: -1 };
    const higher = this.entries[hi]!;
    if (hi === 0) return { epoch, endOffset: higher.startOffset };
    return { epoch: this.entries[hi - 1]!.epoch, endOffset: higher.startOffset };
  }

  /** Removes entries starting at or beyond endOffset (log truncated to endOffset). */
  truncateFromEnd(endOffset: number): void {
    const n = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    if (this.entries.length !== n) this.owner?.leaderEpochsChanged();
  }

  /** Log start moved to startOffset: drop older entries, clamp the one covering startOffset. */
  truncateFromStart(startOffset: number): void {
    let changed = false;
    while (this.entries.length > 1 && this.entries[1]!.startOffset <= startOffset) {
      this.entries.shift();
      changed = true;
    }
    const first = this.entries[0];
    if (first && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    if (changed) this.owner?.leaderEpochsChanged();
  }

  clear(): void {
    this.entries = [];
  }

  format(): string {
    return `0\n${this.entries.length}\n${this.entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join('')}`;
  }

  /** Parses the checkpoint text; returns false (cache left empty) when malformed. */
  parse(text: string): boolean {
    this.entries = [];
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (lines[0] !== '0' || Number(lines[1]) !== lines.length - 2) return false;
    for (const l of lines.slice(2)) {
      const [a, b] = l.split(' ');
      const epoch = Number(a);
      const startOffset = Number(b);
      if (!Number.isInteger(epoch) || !Number.isInteger(startOffset)) {
        this.entries = [];
        return false;
      }
      this.entries.push({ epoch, startOffset });
    }
    return true;
  }
}
