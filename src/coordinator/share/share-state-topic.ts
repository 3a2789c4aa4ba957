// Durable share-partition state in `__share_group_state` (Kafka's share coordinator topic): one
// ShareSnapshot record per (group, topic id, partition) holding the start offset and the
// in-flight state batches; compaction keeps the latest. Written before acknowledgements are
// answered; replayed at startup. Records use Kafka's share-coordinator formats:
//   key   = int16 record type (0 ShareSnapshotKey) + ShareSnapshotKey v0
//   value = int16 version 0 + ShareSnapshotValue v0 (flexible)
import { KafkaError } from '../../protocol/kafka-error.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { decodeShareSnapshotKey, encodeShareSnapshotKey as encodeShareSnapshotKeyBody } from '../../protocol/gen/internal/share-snapshot-key.js';
import {
  decodeShareSnapshotValue as decodeShareSnapshotValueBody,
  encodeShareSnapshotValue as encodeShareSnapshotValueBody,
} from '../../protocol/gen/internal/share-snapshot-value.js';
import { decodeShareUpdateKey } from '../../protocol/gen/internal/share-update-key.js';
import { SHARE_GROUP_STATE_TOPIC } from '../runtime/internal-topics.js';
import { CoordinatorRuntime, type CoordinatorRuntimeDeps, type CoordinatorShard } from '../runtime/runtime.js';
import type { StateBatch } from './share-partition.js';

const SNAPSHOT_KEY_TYPE = 0;
const UPDATE_KEY_TYPE = 1;

export interface ShareStateKey {
  groupId: string;
  topicId: string;
  partition: number;
}

export interface ShareSnapshot {
  snapshotEpoch: number;
  stateEpoch: number;
  leaderEpoch: number;
  startOffset: number;
  stateBatches: StateBatch[];
}

export function shareStateKeyString(k: ShareStateKey): string {
  return `${k.groupId}:${k.topicId}:${k.partition}`;
}

// ---------------------------------------------------------------- record codecs

export function encodeShareSnapshotKey(k: ShareStateKey): Buffer {
  const w = new Writer(64);
  w.int16(SNAPSHOT_KEY_TYPE);
  encodeShareSnapshotKeyBody(w, 0, k);
  return w.toBuffer();
}

export function encodeShareSnapshotValue(v: ShareSnapshot): Buffer {
  const w = new Writer(64 + v.stateBatches.length * 24);
  w.int16(0);
  encodeShareSnapshotValueBody(w, 0, { ...v, snapshotEpoch: v.snapshotEpoch & 0xffff });
  return w.toBuffer();
}

/** Decodes a `__share_group_state` record key; null for record types this broker ignores. */
function decodeShareStateKey(key: Buffer): { type: number; key: ShareStateKey } | null {
  const r = new Reader(key);
  const type = r.int16();
  if (type === SNAPSHOT_KEY_TYPE) return { type, key: decodeShareSnapshotKey(r, 0) };
  if (type === UPDATE_KEY_TYPE) return { type, key: decodeShareUpdateKey(r, 0) };
  return null;
}

export function decodeShareSnapshotValue(value: Buffer): ShareSnapshot {
  const r = new Reader(value);
  return decodeShareSnapshotValueBody(r, r.int16());
}

// ---------------------------------------------------------------- the share coordinator's store

/**
 * The share coordinator's state: `__share_group_state` through the coordinator runtime, which
 * places a key "group:topicId:partition" on abs(hash) % n like Kafka, appends durably and replays
 * a partition into `replay()` when this broker gains its leadership.
 */
/** Requests to another broker (the share coordinator of a key this broker does not coordinate). */
export interface InterBrokerRequester {
  request<T>(nodeId: number, apiKey: number, version: number, body: unknown): Promise<T>;
}

/** Where a key's state lives: here, or at another broker's share coordinator. */
export type StateLocation = { local: true } | { local: false; nodeId: number };

interface PartitionResultBody {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

export class ShareStateStore implements CoordinatorShard {
  readonly runtime: CoordinatorRuntime;
  /** Latest snapshot per share-partition key, as replayed (taken over when first used). */
  readonly stored = new Map<string, { key: ShareStateKey; snapshot: ShareSnapshot }>();
  /** State and leader epoch of the latest snapshot of every share-partition (fencing). */
  readonly epochs = new Map<string, { stateEpoch: number; leaderEpoch: number }>();

  constructor(
    private readonly deps: CoordinatorRuntimeDeps,
    options: { numPartitions: () => number; replicationFactor: () => number; interBroker?: InterBrokerRequester },
  ) {
    this.log = deps.log;
    this.interBroker = options.interBroker;
    this.runtime = new CoordinatorRuntime(
      deps,
      {
        name: SHARE_GROUP_STATE_TOPIC,
        numPartitions: options.numPartitions,
        replicationFactor: options.replicationFactor,
        configs: () => ({ 'cleanup.policy': 'compact', 'compression.type': 'producer', 'segment.bytes': String(100 * 1024 * 1024) }),
        loadBufferBytes: () => 1 << 20,
      },
      this,
    );
  }

  private readonly log: (msg: string) => void;
  private readonly interBroker: InterBrokerRequester | undefined;

  replay(_partition: number, key: Buffer, value: Buffer | null): void {
    try {
      const k = decodeShareStateKey(key);
      if (!k || k.type !== SNAPSHOT_KEY_TYPE) return;
      const id = shareStateKeyString(k.key);
      if (value === null) {
        this.stored.delete(id);
        this.epochs.delete(id);
      } else {
        const snapshot = decodeShareSnapshotValue(value);
        this.stored.set(id, { key: k.key, snapshot });
        this.epochs.set(id, { stateEpoch: snapshot.stateEpoch, leaderEpoch: snapshot.leaderEpoch });
      }
    } catch (err) {
      this.log(`${SHARE_GROUP_STATE_TOPIC}: skipping undecodable record: ${(err as Error).message}`);
    }
  }

  loaded(_partition: number): void {}

  unloaded(partition: number): void {
    for (const [id] of this.stored) if (this.runtime.partitionFor(id) === partition) this.stored.delete(id);
    for (const [id] of this.epochs) if (this.runtime.partitionFor(id) === partition) this.epochs.delete(id);
  }

  /**
   * Where the key's state is kept: here once its partition is loaded, else at the broker leading
   * its `__share_group_state` partition (a share-partition leader on another broker reads and
   * writes it there with the share-state APIs, as Kafka's persister does).
   */
  async locate(key: ShareStateKey): Promise<StateLocation> {
    const deadline = Date.now() + 10_000;
    const id = shareStateKeyString(key);
    for (;;) {
      const code = await this.runtime.status(id);
      if (code === ErrorCode.NONE) return { local: true };
      if (code === ErrorCode.NOT_COORDINATOR && this.interBroker) {
        const nodeId = this.runtime.leaderFor(id);
        if (nodeId >= 0 && nodeId !== this.deps.nodeId) return { local: false, nodeId };
      }
      if ((code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && code !== ErrorCode.NOT_COORDINATOR) || Date.now() > deadline) {
        throw new KafkaError(code, `Share state of ${id} is not available here.`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** ReadShareGroupState at another broker; startOffset -1 = never initialized. */
  async readRemote(nodeId: number, key: ShareStateKey, leaderEpoch: number): Promise<{ stateEpoch: number; startOffset: number; stateBatches: StateBatch[] }> {
    const res = await this.interBroker!.request<{ results: { partitions: (PartitionResultBody & { stateEpoch: number; startOffset: number; stateBatches: StateBatch[] })[] }[] }>(
      nodeId, ApiKey.ReadShareGroupState, 0,
      { groupId: key.groupId, topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, leaderEpoch }] }] },
    );
    const p = res.results[0]?.partitions[0];
    if (!p) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'Empty ReadShareGroupState response.');
    if (p.errorCode !== ErrorCode.NONE) throw new KafkaError(p.errorCode, p.errorMessage ?? `ReadShareGroupState failed at broker ${nodeId}.`);
    return p;
  }

  /** InitializeShareGroupState at another broker: a fresh state (start offset, no batches). */
  async initializeRemote(nodeId: number, key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<void> {
    const res = await this.interBroker!.request<{ results: { partitions: PartitionResultBody[] }[] }>(nodeId, ApiKey.InitializeShareGroupState, 0, {
      groupId: key.groupId,
      topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, stateEpoch, startOffset }] }],
    });
    const p = res.results[0]?.partitions[0];
    if (!p || p.errorCode !== ErrorCode.NONE) throw new KafkaError(p?.errorCode ?? ErrorCode.COORDINATOR_NOT_AVAILABLE, p?.errorMessage ?? `InitializeShareGroupState failed at broker ${nodeId}.`);
  }

  /** Waits until the key's state partition is loaded here; throws KafkaError otherwise. */
  async ready(key: ShareStateKey): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const code = await this.runtime.status(shareStateKeyString(key));
      if (code === ErrorCode.NONE) return;
      if (code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || Date.now() > deadline) {
        throw new KafkaError(code, `Share state of ${shareStateKeyString(key)} is not available here.`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Appends snapshot records (null = tombstone) to their partitions; resolves once durable.
   * Goes through the same group commit as persist(), so writes of one key stay in call order.
   */
  async write(entries: { key: ShareStateKey; snapshot: ShareSnapshot | null }[]): Promise<void> {
    await Promise.all(entries.map((e) => this.persist(e.key, () => e.snapshot)));
  }

  // ---------------------------------------------------------------- group commit

  /** Keys with a write requested since the last flush (latest snapshot maker wins). */
  private pending = new Map<string, { key: ShareStateKey; make: SnapshotMaker; waiters: { resolve: () => void; reject: (err: unknown) => void }[] }>();
  private flushScheduled = false;
  /** Per state partition: the last write's offset assignment (writes are issued in order). */
  private readonly partitionTail = new Map<number, Promise<unknown>>();

  /**
   * Requests a durable write of a share-partition's state; resolves once a snapshot taken after
   * this call is durable. Every request of one event-loop round is coalesced: each key's latest
   * snapshot once, one batch (one append, one fsync) per `__share_group_state` partition, issued
   * without waiting for the previous round's fsync (log order keeps the newest snapshot last).
   * `make` returns the snapshot (null = tombstone), or undefined when there is nothing to write.
   */
  persist(key: ShareStateKey, make: SnapshotMaker): Promise<void> {
    const id = shareStateKeyString(key);
    return new Promise<void>((resolve, reject) => {
      let entry = this.pending.get(id);
      if (entry) entry.make = make;
      else this.pending.set(id, (entry = { key, make, waiters: [] }));
      entry.waiters.push({ resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Per coordinator: the last remote write (sent one at a time, so they apply in order). */
  private readonly remoteTail = new Map<number, Promise<void>>();

  private writeRemote(nodeId: number, groupId: string, items: Parameters<typeof writeRemoteImpl>[3]): void {
    const previous = this.remoteTail.get(nodeId) ?? Promise.resolve();
    const next = previous.then(() => writeRemoteImpl(this.interBroker!, nodeId, groupId, items));
    this.remoteTail.set(nodeId, next);
  }

  private flush(): void {
    this.flushScheduled = false;
    const entries = [...this.pending.values()];
    this.pending = new Map();
    type Item = { id: string; entry: (typeof entries)[number]; snapshot: ShareSnapshot | null };
    const byPartition = new Map<number, Item[]>();
    const remote = new Map<string, { nodeId: number; groupId: string; items: Item[] }>();
    for (const entry of entries) {
      let snapshot: ShareSnapshot | null | undefined;
      try {
        snapshot = entry.make();
      } catch (err) {
        for (const w of entry.waiters) w.reject(err);
        continue;
      }
      if (snapshot === undefined) {
        for (const w of entry.waiters) w.resolve();
        continue;
      }
      const id = shareStateKeyString(entry.key);
      const leader = this.runtime.leaderFor(id);
      if (this.interBroker && leader >= 0 && leader !== this.deps.nodeId) {
        const k = `${leader}\u0000${entry.key.groupId}`;
        let group = remote.get(k);
        if (!group) remote.set(k, (group = { nodeId: leader, groupId: entry.key.groupId, items: [] }));
        group.items.push({ id, entry, snapshot });
        continue;
      }
      const partition = this.runtime.partitionFor(id);
      let group = byPartition.get(partition);
      if (!group) byPartition.set(partition, (group = []));
      group.push({ id, entry, snapshot });
    }
    for (const group of remote.values()) this.writeRemote(group.nodeId, group.groupId, group.items);
    for (const [partition, group] of byPartition) {
      const records = group.map((g) => ({ key: encodeShareSnapshotKey(g.entry.key), value: g.snapshot ? encodeShareSnapshotValue(g.snapshot) : null }));
      const previous = this.partitionTail.get(partition) ?? Promise.resolve();
      const issued = previous.then(() => this.runtime.write(group[0]!.id, records));
      this.partitionTail.set(partition, issued.catch(() => undefined));
      issued
        .then((written) => written?.durable)
        .then(
          () => {
            for (const g of group) {
              if (g.snapshot) this.epochs.set(g.id, { stateEpoch: g.snapshot.stateEpoch, leaderEpoch: g.snapshot.leaderEpoch });
              else this.epochs.delete(g.id);
              for (const w of g.entry.waiters) w.resolve();
            }
          },
          (err) => {
            for (const g of group) for (const w of g.entry.waiters) w.reject(err);
          },
        );
    }
  }
}

/** One WriteShareGroupState (snapshots) and one DeleteShareGroupState (tombstones) per coordinator and group. */
function writeRemoteImpl(
  interBroker: InterBrokerRequester,
  nodeId: number,
  groupId: string,
  items: { id: string; entry: { key: ShareStateKey; waiters: { resolve: () => void; reject: (err: unknown) => void }[] }; snapshot: ShareSnapshot | null }[],
): Promise<void> {
  const byTopic = (list: typeof items) => {
    const topics = new Map<string, typeof items>();
    for (const i of list) {
      let t = topics.get(i.entry.key.topicId);
      if (!t) topics.set(i.entry.key.topicId, (t = []));
      t.push(i);
    }
    return topics;
  };
  const settle = async (list: typeof items, send: () => Promise<{ results: { topicId: string; partitions: PartitionResultBody[] }[] }>) => {
    if (list.length === 0) return;
    try {
      const res = await send();
      const codes = new Map<string, PartitionResultBody>();
      for (const t of res.results) for (const p of t.partitions) codes.set(`${t.topicId}:${p.partition}`, p);
      for (const i of list) {
        const p = codes.get(`${i.entry.key.topicId}:${i.entry.key.partition}`);
        const err = !p ? new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'Missing share-state result.') : p.errorCode !== ErrorCode.NONE ? new KafkaError(p.errorCode, p.errorMessage ?? 'Share-state write refused.') : null;
        for (const w of i.entry.waiters) (err ? w.reject(err) : w.resolve());
      }
    } catch (err) {
      for (const i of list) for (const w of i.entry.waiters) w.reject(new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message));
    }
  };
  const writes = items.filter((i) => i.snapshot !== null);
  const deletes = items.filter((i) => i.snapshot === null);
  const written = settle(writes, () =>
    interBroker.request(nodeId, ApiKey.WriteShareGroupState, 0, {
      groupId,
      topics: [...byTopic(writes)].map(([topicId, list]) => ({
        topicId,
        partitions: list.map((i) => ({
          partition: i.entry.key.partition,
          stateEpoch: i.snapshot!.stateEpoch,
          leaderEpoch: i.snapshot!.leaderEpoch,
          startOffset: i.snapshot!.startOffset,
          stateBatches: i.snapshot!.stateBatches,
        })),
      })),
    }),
  );
  const deleted = settle(deletes, () =>
    interBroker.request(nodeId, ApiKey.DeleteShareGroupState, 0, {
      groupId,
      topics: [...byTopic(deletes)].map(([topicId, list]) => ({ topicId, partitions: list.map((i) => ({ partition: i.entry.key.partition })) })),
    }),
  );
  return Promise.all([written, deleted]).then(() => undefined);
}

type SnapshotMaker = () => ShareSnapshot | null | undefined;
