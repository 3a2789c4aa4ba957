// The share coordinator's state APIs (KIP-932, Kafka's internal "persister" protocol):
// Initialize / Read / Write / Delete ShareGroupState and ReadShareGroupStateSummary, served from
// `__share_group_state` by the broker that leads the key's state partition. Checks follow Kafka's
// share coordinator: INVALID_REQUEST for a negative partition or a write to a share-partition
// never initialized, UNKNOWN_TOPIC_OR_PARTITION for a topic or partition the cluster does not
// have, FENCED_STATE_EPOCH / FENCED_LEADER_EPOCH when the request's epoch is older than the
// stored one (-1 = not given), NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS by placement.
//
// In Fjord the share-partition leader is the same broker and keeps its live state in memory; a
// state written, initialized or deleted through these APIs replaces it (the live share-partition
// is retired and reopens from the stored snapshot at the next ShareFetch).
import { errorCodeOf } from '../../protocol/kafka-error.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { StateBatch } from './share-partition.js';
import type { SharePartitions } from './share-partitions.js';
import { shareStateKeyString, type ShareSnapshot, type ShareStateKey, type ShareStateStore } from './share-state-topic.js';

/** Delivery states a persisted batch may have (ACQUIRED is never persisted). */
const PERSISTABLE_STATES = new Set([0, 2, 4]);

export interface PartitionResult {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

interface Current {
  stateEpoch: number;
  leaderEpoch: number;
  startOffset: number;
  stateBatches: StateBatch[];
  snapshotEpoch: number;
}

class StateError extends Error {
  constructor(
    readonly code: number,
    message: string | null,
  ) {
    super(message ?? '');
  }
}

/**
 * Overlays `updates` on `base` (later batches win offset by offset) and drops what lies below
 * `startOffset`; adjacent runs with equal state and count are merged. This is how a write that
 * carries only the changed batches becomes the new full state (Kafka's batch combiner).
 */
function combineStateBatches(base: readonly StateBatch[], updates: readonly StateBatch[], startOffset: number): StateBatch[] {
  let out: StateBatch[] = base.map((b) => ({ ...b }));
  for (const u of updates) {
    const next: StateBatch[] = [];
    for (const b of out) {
      if (b.lastOffset < u.firstOffset || b.firstOffset > u.lastOffset) {
        next.push(b);
        continue;
      }
      if (b.firstOffset < u.firstOffset) next.push({ ...b, lastOffset: u.firstOffset - 1 });
      if (b.lastOffset > u.lastOffset) next.push({ ...b, firstOffset: u.lastOffset + 1 });
    }
    next.push({ ...u });
    out = next;
  }
  out.sort((a, b) => a.firstOffset - b.firstOffset);
  const merged: StateBatch[] = [];
  for (const b of out) {
    if (b.lastOffset < startOffset) continue;
    const piece = b.firstOffset < startOffset ? { ...b, firstOffset: startOffset } : b;
    const last = merged[merged.length - 1];
    if (last && last.lastOffset + 1 === piece.firstOffset && last.deliveryState === piece.deliveryState && last.deliveryCount === piece.deliveryCount) {
      last.lastOffset = piece.lastOffset;
    } else {
      merged.push(piece);
    }
  }
  return merged;
}

export interface ShareStateApiDeps {
  store: ShareStateStore;
  partitions: SharePartitions;
  /** Partition count of a topic by id, undefined when the topic does not exist. */
  partitionCount(topicId: string): number | undefined;
}

export class ShareStateApi {
  constructor(private readonly deps: ShareStateApiDeps) {}

  private async check(groupId: string, topicId: string, partition: number): Promise<ShareStateKey> {
    if (groupId === '') throw new StateError(ErrorCode.INVALID_REQUEST, 'Group id must be non-empty.');
    if (partition < 0) throw new StateError(ErrorCode.INVALID_REQUEST, 'Partition id must be non-negative.');
    const key = { groupId, topicId, partition };
    await this.deps.store.ready(key);
    const count = this.deps.partitionCount(topicId);
    if (count === undefined || partition >= count) throw new StateError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'Topic or partition not found.');
    return key;
  }

  /** The latest state of a share-partition: live, else stored; undefined when uninitialized. */
  private current(key: ShareStateKey): Current | undefined {
    const id = shareStateKeyString(key);
    const epochs = this.deps.store.epochs.get(id);
    const h = this.deps.partitions.get(key);
    if (h) {
      return { stateEpoch: h.stateEpoch, leaderEpoch: epochs?.leaderEpoch ?? -1, startOffset: h.sp.startOffset, stateBatches: h.sp.stateBatches(), snapshotEpoch: h.snapshotEpoch };
    }
    const stored = this.deps.store.stored.get(id);
    if (stored) return { ...stored.snapshot, stateBatches: [...stored.snapshot.stateBatches] };
    if (epochs) return { ...epochs, startOffset: -1, stateBatches: [], snapshotEpoch: 0 };
    return undefined;
  }

  /** Replaces the state durably; the live share-partition (if any) reopens from it. */
  private async replace(key: ShareStateKey, snapshot: ShareSnapshot | null): Promise<void> {
    this.deps.partitions.retire(key);
    await this.deps.store.write([{ key, snapshot }]);
    const id = shareStateKeyString(key);
    if (snapshot) this.deps.store.stored.set(id, { key, snapshot });
    else this.deps.store.stored.delete(id);
  }

  private async each<P extends { partition: number }, R extends PartitionResult>(
    groupId: string,
    topics: readonly { topicId: string; partitions: readonly P[] }[],
    run: (key: ShareStateKey, p: P) => Promise<Omit<R, keyof PartitionResult>>,
    failed: Omit<R, keyof PartitionResult>,
  ): Promise<{ topicId: string; partitions: R[] }[]> {
    const out: { topicId: string; partitions: R[] }[] = [];
    for (const t of topics) {
      const partitions: R[] = [];
      for (const p of t.partitions) {
        try {
          const key = await this.check(groupId, t.topicId, p.partition);
          partitions.push({ partition: p.partition, errorCode: ErrorCode.NONE, errorMessage: null, ...(await run(key, p)) } as R);
        } catch (err) {
          const code = err instanceof StateError ? err.code : errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE);
          partitions.push({ partition: p.partition, errorCode: code, errorMessage: (err as Error).message || null, ...failed } as R);
        }
      }
      out.push({ topicId: t.topicId, partitions });
    }
    return out;
  }

  /** InitializeShareGroupState: a fresh state (start offset, no batches) at a state epoch. */
  initialize(groupId: string, topics: readonly { topicId: string; partitions: readonly { partition: number; stateEpoch: number; startOffset: number }[] }[]) {
    return this.each<{ partition: number; stateEpoch: number; startOffset: number }, PartitionResult>(groupId, topics, async (key, p) => {
      const cur = this.current(key);
      if (cur && cur.stateEpoch > p.stateEpoch) throw new StateError(ErrorCode.FENCED_STATE_EPOCH, `State epoch ${p.stateEpoch} is older than the stored ${cur.stateEpoch}.`);
      if (p.startOffset < 0) throw new StateError(ErrorCode.INVALID_REQUEST, `Start offset ${p.startOffset} is invalid.`);
      await this.replace(key, { snapshotEpoch: ((cur?.snapshotEpoch ?? -1) + 1) & 0xffff, stateEpoch: p.stateEpoch, leaderEpoch: -1, startOffset: p.startOffset, stateBatches: [] });
      return {};
    }, {});
  }

  /** WriteShareGroupState: batches overlaid on the stored state, start offset moved. */
  write(
    groupId: string,
    topics: readonly {
      topicId: string;
      partitions: readonly { partition: number; stateEpoch: number; leaderEpoch: number; startOffset: number; stateBatches: readonly StateBatch[] }[];
    }[],
  ) {
    type P = (typeof topics)[number]['partitions'][number];
    return this.each<P, PartitionResult>(groupId, topics, async (key, p) => {
      const cur = this.current(key);
      if (!cur) throw new StateError(ErrorCode.INVALID_REQUEST, 'The share-partition is not initialized.');
      if (p.leaderEpoch !== -1 && cur.leaderEpoch > p.leaderEpoch) throw new StateError(ErrorCode.FENCED_LEADER_EPOCH, `Leader epoch ${p.leaderEpoch} is older than the stored ${cur.leaderEpoch}.`);
      if (p.stateEpoch !== -1 && cur.stateEpoch > p.stateEpoch) throw new StateError(ErrorCode.FENCED_STATE_EPOCH, `State epoch ${p.stateEpoch} is older than the stored ${cur.stateEpoch}.`);
      for (const b of p.stateBatches) {
        if (b.lastOffset < b.firstOffset || b.firstOffset < 0 || !PERSISTABLE_STATES.has(b.deliveryState) || b.deliveryCount < 0) {
          throw new StateError(ErrorCode.INVALID_REQUEST, `State batch ${b.firstOffset}-${b.lastOffset} (state ${b.deliveryState}) is invalid.`);
        }
      }
      const startOffset = p.startOffset === -1 ? cur.startOffset : p.startOffset;
      if (startOffset < 0) throw new StateError(ErrorCode.INVALID_REQUEST, 'The share-partition has no start offset.');
      await this.replace(key, {
        snapshotEpoch: (cur.snapshotEpoch + 1) & 0xffff,
        stateEpoch: p.stateEpoch === -1 ? cur.stateEpoch : p.stateEpoch,
        leaderEpoch: p.leaderEpoch === -1 ? cur.leaderEpoch : p.leaderEpoch,
        startOffset,
        stateBatches: combineStateBatches(cur.stateBatches, p.stateBatches, startOffset),
      });
      return {};
    }, {});
  }

  /** DeleteShareGroupState: a tombstone; deleting what does not exist succeeds. */
  delete(groupId: string, topics: readonly { topicId: string; partitions: readonly { partition: number }[] }[]) {
    return this.each<{ partition: number }, PartitionResult>(groupId, topics, async (key) => {
      if (this.current(key)) await this.replace(key, null);
      return {};
    }, {});
  }

  /** ReadShareGroupState: start offset and batches (live ones show ACQUIRED records as such). */
  read(groupId: string, topics: readonly { topicId: string; partitions: readonly { partition: number; leaderEpoch?: number }[] }[]) {
    type R = PartitionResult & { stateEpoch: number; startOffset: number; stateBatches: StateBatch[] };
    return this.each<{ partition: number; leaderEpoch?: number }, R>(groupId, topics, async (key, p) => {
      const cur = this.current(key);
      const leaderEpoch = p.leaderEpoch ?? -1;
      if (cur && leaderEpoch !== -1 && cur.leaderEpoch > leaderEpoch) throw new StateError(ErrorCode.FENCED_LEADER_EPOCH, `Leader epoch ${leaderEpoch} is older than the stored ${cur.leaderEpoch}.`);
      if (!cur) return { stateEpoch: 0, startOffset: -1, stateBatches: [] };
      const h = this.deps.partitions.get(key);
      return { stateEpoch: cur.stateEpoch, startOffset: cur.startOffset, stateBatches: h ? h.sp.stateBatches(true) : cur.stateBatches };
    }, { stateEpoch: 0, startOffset: -1, stateBatches: [] });
  }

  /** ReadShareGroupStateSummary: start offset, epochs and how many offsets are done past it. */
  summary(groupId: string, topics: readonly { topicId: string; partitions: readonly { partition: number; leaderEpoch: number }[] }[]) {
    type R = PartitionResult & { stateEpoch: number; leaderEpoch: number; startOffset: number; deliveryCompleteCount: number };
    const none = { stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1 };
    return this.each<{ partition: number; leaderEpoch: number }, R>(groupId, topics, async (key) => {
      const cur = this.current(key);
      if (!cur) return none;
      let done = 0;
      for (const b of cur.stateBatches) if (b.deliveryState === 2 || b.deliveryState === 4) done += b.lastOffset - b.firstOffset + 1;
      return { stateEpoch: cur.stateEpoch, leaderEpoch: cur.leaderEpoch, startOffset: cur.startOffset, deliveryCompleteCount: done };
    }, none);
  }
}
