// Durable share-partition state in `__share_group_state` (Kafka's share coordinator topic): one
// ShareSnapshot record per (group, topic id, partition) holding the start offset and the
// in-flight state batches; compaction keeps the latest. Written before acknowledgements are
// answered; replayed at startup. Records use Kafka's share-coordinator formats:
//   key   = int16 record type (0 ShareSnapshotKey) + ShareSnapshotKey v0
//   value = int16 version 0 + ShareSnapshotValue v0 (flexible)
import { KafkaError } from '../../protocol/kafka-error.js';
import { ErrorCode } from '../../protocol/errors.js';
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
export class ShareStateStore implements CoordinatorShard {
  readonly runtime: CoordinatorRuntime;
  /** Latest snapshot per share-partition key, as replayed (taken over when first used). */
  readonly stored = new Map<string, { key: ShareStateKey; snapshot: ShareSnapshot }>();
  /** State and leader epoch of the latest snapshot of every share-partition (fencing). */
  readonly epochs = new Map<string, { stateEpoch: number; leaderEpoch: number }>();

  constructor(
    deps: CoordinatorRuntimeDeps,
    options: { numPartitions: () => number; replicationFactor: () => number },
  ) {
    this.log = deps.log;
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

  private flush(): void {
    this.flushScheduled = false;
    const entries = [...this.pending.values()];
    this.pending = new Map();
    const byPartition = new Map<number, { id: string; entry: (typeof entries)[number]; snapshot: ShareSnapshot | null }[]>();
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
      const partition = this.runtime.partitionFor(id);
      let group = byPartition.get(partition);
      if (!group) byPartition.set(partition, (group = []));
      group.push({ id, entry, snapshot });
    }
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

type SnapshotMaker = () => ShareSnapshot | null | undefined;
