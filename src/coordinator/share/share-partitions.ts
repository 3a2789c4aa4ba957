// The broker's share-partitions: one SharePartition per (share group, topic id, partition),
// created on first ShareFetch (from `__share_group_state`, else per share.auto.offset.reset),
// with its acquisition-lock timer, its waiters (parked ShareFetches) and its durable writes.
import type { Partition } from '../../cluster/partition.js';
import { batchPositions, readBatchHeader } from '../../protocol/records/batch.js';
import { SharePartition, type AcquiredRange, type BatchSpan, type SharePartitionSettings } from './share-partition.js';
import { parseAutoOffsetReset, type ShareAutoOffsetReset } from '../../config/group-config.js';
import { type ShareStateStore, shareStateKeyString, type ShareSnapshot, type ShareStateKey } from './share-state-topic.js';

const CONTROL_BATCH = 0x20;
const TRANSACTIONAL_BATCH = 0x10;
/** Smallest log read of a ShareFetch. */
const MIN_READ_WINDOW = 64 * 1024;

/**
 * Walks batches in log order and tells which belong to aborted transactions, from the aborted
 * list of the transaction index (producer id + first offset): a producer's transactional batches
 * from its aborted transaction's first offset up to its next control batch (the ABORT marker).
 */
class AbortedFilter {
  private readonly pending: { producerId: number; firstOffset: number }[];
  private readonly open = new Set<number>();

  constructor(aborted: { producerId: number; firstOffset: number }[]) {
    this.pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  isAborted(producerId: number, baseOffset: number, attributes: number, isControl: boolean): boolean {
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= baseOffset) this.open.add(this.pending.shift()!.producerId);
    if (isControl) {
      this.open.delete(producerId);
      return false;
    }
    return (attributes & TRANSACTIONAL_BATCH) !== 0 && this.open.has(producerId);
  }
}

export type AutoOffsetReset = ShareAutoOffsetReset;
export { parseAutoOffsetReset };

export class SharePartitionHandle {
  readonly id: string;
  timer: NodeJS.Timeout | undefined;
  timerAt = 0;
  snapshotEpoch = 0;
  /** ShareSnapshot state epoch: bumped when the state is replaced (offsets altered). */
  stateEpoch = 0;
  /** Replaced through the share-state APIs: no longer serves, never writes again. */
  retired = false;
  readonly waiters = new Set<() => void>();
  /** Log bytes per acquired record last seen: sizes the next log read. */
  recordBytes = 1024;
  /** Settles when the acquisition in progress is done: one at a time per share-partition. */
  acquiring: Promise<unknown> = Promise.resolve();

  constructor(
    readonly key: ShareStateKey,
    readonly topicName: string,
    readonly sp: SharePartition,
  ) {
    this.id = shareStateKeyString(key);
  }

  /** Wakes parked ShareFetches (records became available). */
  wake(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  snapshot(leaderEpoch: number): ShareSnapshot {
    this.snapshotEpoch = (this.snapshotEpoch + 1) & 0xffff;
    return { snapshotEpoch: this.snapshotEpoch, stateEpoch: this.stateEpoch, leaderEpoch, startOffset: this.sp.startOffset, stateBatches: this.sp.stateBatches() };
  }
}

export interface SharePartitionsOptions {
  /** Per group: share.record.lock.duration.ms is a group config. */
  settings: (groupId: string) => SharePartitionSettings;
  autoOffsetReset: (groupId: string) => AutoOffsetReset;
  /** share.isolation.level=read_committed: acquire up to the LSO, never aborted records. */
  readCommitted: (groupId: string) => boolean;
  store: ShareStateStore;
  partitions: { get(topic: string, partition: number): Partition | undefined };
  log: (msg: string) => void;
}

export interface AcquireResult {
  ranges: AcquiredRange[];
  records: Buffer[];
  bytes: number;
}

export class SharePartitions {
  private readonly handles = new Map<string, SharePartitionHandle>();
  private readonly initializing = new Map<string, Promise<SharePartitionHandle>>();
  private closed = false;

  constructor(private readonly options: SharePartitionsOptions) {}

  /** Snapshots replayed from __share_group_state, taken over when a share-partition is first used. */
  private get stored(): Map<string, { key: ShareStateKey; snapshot: ShareSnapshot }> {
    return this.options.store.stored;
  }

  close(): void {
    this.closed = true;
    for (const h of this.handles.values()) {
      if (h.timer) clearTimeout(h.timer);
      h.wake();
    }
  }

  get(key: ShareStateKey): SharePartitionHandle | undefined {
    return this.handles.get(shareStateKeyString(key));
  }

  /** Every share-partition of a group that has state (live or stored). */
  keysOfGroup(groupId: string): ShareStateKey[] {
    const out = new Map<string, ShareStateKey>();
    for (const h of this.handles.values()) if (h.key.groupId === groupId) out.set(h.id, h.key);
    for (const [id, s] of this.stored) if (s.key.groupId === groupId) out.set(id, s.key);
    return [...out.values()];
  }

  /** Start offset and in-flight counts without creating state (describe). */
  peek(key: ShareStateKey): { startOffset: number; completeInFlight: number; inFlight: number; acquired: number } | undefined {
    const h = this.get(key);
    if (h) {
      const c = h.sp.counts();
      return { startOffset: h.sp.startOffset, completeInFlight: c.acknowledged + c.archived, inFlight: h.sp.inFlightCount, acquired: c.acquired };
    }
    const s = this.stored.get(shareStateKeyString(key));
    if (!s) return undefined;
    let complete = 0;
    let inFlight = 0;
    for (const b of s.snapshot.stateBatches) {
      const n = b.lastOffset - b.firstOffset + 1;
      inFlight += n;
      if (b.deliveryState === 2 || b.deliveryState === 4) complete += n;
    }
    return { startOffset: s.snapshot.startOffset, completeInFlight: complete, inFlight, acquired: 0 };
  }

  /** The share-partition, created (and made durable) on first use. */
  async open(key: ShareStateKey, partition: Partition): Promise<SharePartitionHandle> {
    const id = shareStateKeyString(key);
    const existing = this.handles.get(id);
    if (existing) return existing;
    let pending = this.initializing.get(id);
    if (!pending) {
      pending = this.initialize(key, partition).finally(() => this.initializing.delete(id));
      this.initializing.set(id, pending);
    }
    return pending;
  }

  private async initialize(key: ShareStateKey, partition: Partition): Promise<SharePartitionHandle> {
    const id = shareStateKeyString(key);
    const location = await this.options.store.locate(key);
    const existing = this.handles.get(id);
    if (existing) return existing;
    if (!location.local) return this.initializeRemote(key, partition, location.nodeId);
    const settings = this.options.settings(key.groupId);
    const stored = this.stored.get(id);
    let sp: SharePartition;
    if (stored) {
      sp = SharePartition.restore(stored.snapshot.startOffset, stored.snapshot.stateBatches, settings);
    } else {
      sp = new SharePartition(await this.initialOffset(key.groupId, partition), settings);
    }
    sp.truncateBelow(partition.log.logStartOffset);
    const handle = new SharePartitionHandle(key, partition.topic, sp);
    if (stored) {
      handle.snapshotEpoch = stored.snapshot.snapshotEpoch;
      handle.stateEpoch = stored.snapshot.stateEpoch;
    }
    // The starting point must be durable before records are handed out: a restart must not
    // re-resolve "latest" to a later offset and skip what was produced in between.
    if (!stored) await this.options.store.write([{ key, snapshot: handle.snapshot(partition.leaderEpoch) }]);
    this.stored.delete(id);
    this.handles.set(id, handle);
    return handle;
  }

  /**
   * The state is coordinated by another broker: read it there (ReadShareGroupState), or set the
   * starting point there first (InitializeShareGroupState) when the share-partition is new.
   */
  private async initializeRemote(key: ShareStateKey, partition: Partition, nodeId: number): Promise<SharePartitionHandle> {
    const id = shareStateKeyString(key);
    const settings = this.options.settings(key.groupId);
    const remote = await this.options.store.readRemote(nodeId, key, partition.leaderEpoch);
    let sp: SharePartition;
    if (remote.startOffset >= 0) {
      sp = SharePartition.restore(remote.startOffset, remote.stateBatches, settings);
    } else {
      sp = new SharePartition(await this.initialOffset(key.groupId, partition), settings);
      await this.options.store.initializeRemote(nodeId, key, remote.stateEpoch, sp.startOffset);
    }
    sp.truncateBelow(partition.log.logStartOffset);
    const existing = this.handles.get(id);
    if (existing) return existing;
    const handle = new SharePartitionHandle(key, partition.topic, sp);
    handle.stateEpoch = remote.stateEpoch;
    this.handles.set(id, handle);
    return handle;
  }

  private async initialOffset(groupId: string, partition: Partition): Promise<number> {
    const reset = this.options.autoOffsetReset(groupId);
    const log = partition.log;
    if (reset.kind === 'earliest') return log.logStartOffset;
    if (reset.kind === 'latest') return log.highWatermark;
    const found = await log.offsetForTimestamp(Date.now() - reset.ms);
    return found ? found.offset : log.highWatermark;
  }

  /** Sets a start offset (AlterShareGroupOffsets), creating the state when there is none. */
  async setStartOffset(key: ShareStateKey, topicName: string, startOffset: number, leaderEpoch: number): Promise<void> {
    const id = shareStateKeyString(key);
    const location = await this.options.store.locate(key);
    let h = this.handles.get(id);
    // A new state epoch: the state is replaced, as Kafka does when offsets are altered.
    const stateEpoch = (h?.stateEpoch ?? this.options.store.epochs.get(id)?.stateEpoch ?? 0) + 1;
    if (!h) {
      h = new SharePartitionHandle(key, topicName, new SharePartition(startOffset, this.options.settings(key.groupId)));
      this.stored.delete(id);
      this.handles.set(id, h);
    } else {
      h.sp.reset(startOffset);
    }
    h.stateEpoch = stateEpoch;
    // At another coordinator the state is replaced with Initialize (a write would merge batches).
    if (!location.local) await this.options.store.initializeRemote(location.nodeId, key, stateEpoch, startOffset);
    else await this.persist(h, leaderEpoch);
  }

  /** Forgets a share-partition's state durably (DeleteShareGroupOffsets, DeleteGroups). */
  async delete(keys: ShareStateKey[]): Promise<void> {
    // Retired first: a lock timer or release during the write must not write the state back.
    for (const key of keys) this.retire(key);
    await this.options.store.write(keys.map((key) => ({ key, snapshot: null })));
    for (const key of keys) this.stored.delete(shareStateKeyString(key));
  }

  /** Resolves once a snapshot of the handle's state as of now (or later) is durable. */
  persist(h: SharePartitionHandle, leaderEpoch: number): Promise<void> {
    return this.options.store.persist(h.key, () => (h.retired ? undefined : h.snapshot(leaderEpoch)));
  }

  /**
   * Forgets the live share-partition (its state was replaced through the share-state APIs): the
   * next ShareFetch opens it again from the stored snapshot; records acquired from it are gone.
   */
  retire(key: ShareStateKey): void {
    const id = shareStateKeyString(key);
    const h = this.handles.get(id);
    if (!h) return;
    h.retired = true;
    if (h.timer) clearTimeout(h.timer);
    h.timer = undefined;
    this.handles.delete(id);
    h.wake();
  }

  /**
   * Acquires up to maxRecords for memberId from the log (re-deliverable records first), at most
   * about maxBytes, and returns the batches that hold them (the client keeps only acquired offsets).
   */
  acquire(h: SharePartitionHandle, partition: Partition, memberId: string, maxRecords: number, maxBytes: number, strict: boolean, alloc?: (size: number) => Buffer): Promise<AcquireResult> {
    // One acquisition at a time per share-partition, as Kafka's share-partition fetch lock does:
    // concurrent members would read the same window of log from the same next offset, and all but
    // the first would find its records already acquired and read again (measured: 3 log reads
    // per ShareFetch with 4 members on a partition, 4.6x the bytes delivered).
    const run = h.acquiring.then(() => this.acquireNow(h, partition, memberId, maxRecords, maxBytes, strict, alloc));
    h.acquiring = run.catch(() => {});
    return run;
  }

  private async acquireNow(h: SharePartitionHandle, partition: Partition, memberId: string, maxRecords: number, maxBytes: number, strict: boolean, alloc?: (size: number) => Buffer): Promise<AcquireResult> {
    const log = partition.log;
    h.sp.truncateBelow(log.logStartOffset);
    h.sp.settings = this.options.settings(h.key.groupId);
    const readCommitted = this.options.readCommitted(h.key.groupId);
    // read_committed: nothing at or past the last stable offset (an open transaction's records).
    const hw = readCommitted ? Math.min(log.lastStableOffset, log.highWatermark) : log.highWatermark;
    if (maxRecords <= 0 || !h.sp.canAcquire(hw)) return { ranges: [], records: [], bytes: 0 };
    const ranges: AcquiredRange[] = [];
    const records: Buffer[] = [];
    let bytes = 0;
    let acquired = 0;
    let lastBatch = -1;
    let from = h.sp.nextFetchOffset();
    // The log is read in windows sized for the records still wanted (from the bytes per record
    // seen so far), not up to maxBytes at once: a ShareFetch acquires at most maxRecords and the
    // in-flight limit, so reading (and allocating) fetch.max.bytes of log each time is waste.
    for (let round = 0; round < 64 && from < hw && acquired < maxRecords && bytes < maxBytes; round++) {
      const window = Math.min(maxBytes - bytes, Math.max(MIN_READ_WINDOW, Math.ceil((maxRecords - acquired) * h.recordBytes * 1.25)));
      const { chunks } = await log.read(from, Math.max(1, window), hw, bytes === 0, alloc);
      const spans: (BatchSpan & { chunk: Buffer; pos: number; size: number })[] = [];
      const aborted = readCommitted ? new AbortedFilter(log.abortedTransactions(from, hw)) : undefined;
      for (const chunk of chunks) {
        for (const [pos, size] of batchPositions(chunk)) {
          const header = readBatchHeader(chunk, pos);
          const isControl = (header.attributes & CONTROL_BATCH) !== 0;
          // Called for control batches too: an ABORT marker ends its producer's aborted run.
          const inAborted = aborted?.isAborted(header.producerId, header.baseOffset, header.attributes, isControl) ?? false;
          spans.push({
            baseOffset: header.baseOffset,
            lastOffset: header.baseOffset + header.lastOffsetDelta,
            // Records of aborted transactions are archived like control records: never delivered.
            isControl: isControl || inAborted,
            chunk,
            pos,
            size,
          });
        }
      }
      if (spans.length === 0) break;
      const got = h.sp.acquire(memberId, spans, maxRecords - acquired, hw, Date.now(), strict);
      let gotRecords = 0;
      let gotBytes = 0;
      let r = 0;
      for (const s of spans) {
        if (s.isControl) continue;
        while (r < got.length && got[r]!.lastOffset < s.baseOffset) r++;
        if (r >= got.length) break;
        if (got[r]!.firstOffset > s.lastOffset) continue;
        if (s.baseOffset <= lastBatch) continue; // already in the response from an earlier window
        lastBatch = s.baseOffset;
        records.push(s.chunk.subarray(s.pos, s.pos + s.size));
        gotBytes += s.size;
      }
      for (const g of got) {
        gotRecords += g.lastOffset - g.firstOffset + 1;
        const last = ranges[ranges.length - 1];
        if (last && last.lastOffset === g.firstOffset - 1 && last.deliveryCount === g.deliveryCount) last.lastOffset = g.lastOffset;
        else ranges.push(g);
      }
      if (gotRecords > 0) h.recordBytes = Math.max(1, gotBytes / gotRecords);
      acquired += gotRecords;
      bytes += gotBytes;
      // Nothing more to hand out (window full, limit reached) or no progress: done.
      if (!h.sp.canAcquire(hw)) break;
      const next = h.sp.nextFetchOffset();
      if (next <= from) break;
      from = next;
    }
    if (ranges.length > 0) this.scheduleLockTimer(h, partition);
    return { ranges, records, bytes };
  }

  /** Arms the handle's timer for its earliest lock deadline. */
  scheduleLockTimer(h: SharePartitionHandle, partition: Partition): void {
    if (this.closed) return;
    const deadline = h.sp.nextLockDeadline();
    if (deadline === undefined) return;
    if (h.timer && h.timerAt <= deadline) return;
    if (h.timer) clearTimeout(h.timer);
    h.timerAt = deadline;
    h.timer = setTimeout(() => {
      h.timer = undefined;
      if (this.closed) return;
      if (h.sp.expireLocks(Date.now())) {
        h.wake();
        this.persist(h, partition.leaderEpoch).catch((err) => this.options.log(`share state write failed: ${(err as Error).message}`));
      }
      this.scheduleLockTimer(h, partition);
    }, Math.max(0, deadline - Date.now()) + 1);
    h.timer.unref?.();
  }

  /** Releases what a member holds in a group's share-partitions (it left or closed its session). */
  releaseMember(groupId: string, memberId: string, only?: Set<string>): void {
    for (const h of this.handles.values()) {
      if (h.key.groupId !== groupId) continue;
      if (only && !only.has(`${h.key.topicId}:${h.key.partition}`)) continue;
      if (h.sp.releaseMember(memberId)) {
        h.wake();
        const partition = this.options.partitions.get(h.topicName, h.key.partition);
        this.persist(h, partition?.leaderEpoch ?? 0).catch((err) => this.options.log(`share state write failed: ${(err as Error).message}`));
      }
    }
  }

  handlesOfGroup(groupId: string): SharePartitionHandle[] {
    return [...this.handles.values()].filter((h) => h.key.groupId === groupId);
  }
}
