// Durable share-partition state in `__share_group_state` (Kafka's share coordinator topic): one
// ShareSnapshot record per (group, topic id, partition) holding the start offset and the
// in-flight state batches; compaction keeps the latest. Written before acknowledgements are
// answered; replayed at startup. Records use Kafka's share-coordinator formats:
//   key   = int16 record type (0 ShareSnapshotKey) + ShareSnapshotKey v0
//   value = int16 version 0 + ShareSnapshotValue v0 (flexible)
import type { Broker } from '../../broker/broker.js';
import { KafkaError } from '../../broker/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { batchPositions, buildBatch, decodeRecords, readBatchHeader, validateBatches } from '../../protocol/records/batch.js';
import { decodeShareSnapshotKey, encodeShareSnapshotKey as encodeShareSnapshotKeyBody } from '../../protocol/gen/internal/share-snapshot-key.js';
import {
  decodeShareSnapshotValue as decodeShareSnapshotValueBody,
  encodeShareSnapshotValue as encodeShareSnapshotValueBody,
} from '../../protocol/gen/internal/share-snapshot-value.js';
import { decodeShareUpdateKey } from '../../protocol/gen/internal/share-update-key.js';
import { javaStringHashCode } from '../offsets-topic.js';
import type { StateBatch } from './share-partition.js';

export const SHARE_STATE_TOPIC = '__share_group_state';
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
export function decodeShareStateKey(key: Buffer): { type: number; key: ShareStateKey } | null {
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

// ---------------------------------------------------------------- the topic

export interface ShareStateTopicOptions {
  numPartitions: number;
  replicationFactor: number;
}

/** Access to `__share_group_state` for one broker: placement, durable writes, replay. */
export class ShareStateTopic {
  private creating: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly options: ShareStateTopicOptions,
  ) {}

  get numPartitions(): number {
    return this.broker.metadata.topic(SHARE_STATE_TOPIC)?.partitions.length ?? this.options.numPartitions;
  }

  /** Kafka's placement: abs(hash("group:topicId:partition")) % partitions. */
  partitionFor(k: ShareStateKey): number {
    return (javaStringHashCode(shareStateKeyString(k)) & 0x7fffffff) % this.numPartitions;
  }

  exists(): boolean {
    return this.broker.metadata.topic(SHARE_STATE_TOPIC) !== undefined;
  }

  ensure(): Promise<void> {
    if (this.creating) return this.creating;
    if (this.exists()) return Promise.resolve();
    this.creating ??= (async () => {
      const live = Math.max(1, this.broker.metadata.brokers().length);
      try {
        await this.broker.topics.create({
          name: SHARE_STATE_TOPIC,
          numPartitions: this.options.numPartitions,
          replicationFactor: Math.min(this.options.replicationFactor, live),
          configs: { 'cleanup.policy': 'compact', 'compression.type': 'producer', 'segment.bytes': String(100 * 1024 * 1024) },
        });
      } catch (err) {
        if (!(err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
      } finally {
        this.creating = undefined;
      }
    })();
    return this.creating;
  }

  /** Appends snapshot records (grouped by state partition), resolving once durable. */
  async write(entries: { key: ShareStateKey; snapshot: ShareSnapshot | null }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.ensure();
    const byPartition = new Map<number, { key: Buffer; value: Buffer | null }[]>();
    for (const e of entries) {
      const p = this.partitionFor(e.key);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push({ key: encodeShareSnapshotKey(e.key), value: e.snapshot ? encodeShareSnapshotValue(e.snapshot) : null });
    }
    await Promise.all(
      [...byPartition].map(async ([index, records]) => {
        const partition = this.broker.replicas.get(SHARE_STATE_TOPIC, index);
        if (!partition) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${SHARE_STATE_TOPIC}-${index} is not hosted here.`);
        if (partition.leaderId !== this.broker.nodeId) {
          throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker does not lead ${SHARE_STATE_TOPIC}-${index}.`);
        }
        const now = Date.now();
        const buf = await buildBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })) });
        const checked = validateBatches(buf, Number.MAX_SAFE_INTEGER);
        if ('error' in checked) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, checked.message);
        try {
          await partition.appendAsLeader(buf, checked.batches);
        } catch (err) {
          throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
        }
      }),
    );
  }

  /** Latest snapshot of every share-partition stored in the partitions this broker leads. */
  async replay(onError: (msg: string) => void): Promise<Map<string, { key: ShareStateKey; snapshot: ShareSnapshot }>> {
    const out = new Map<string, { key: ShareStateKey; snapshot: ShareSnapshot }>();
    if (!this.exists()) return out;
    for (let index = 0; index < this.numPartitions; index++) {
      const partition = this.broker.replicas.get(SHARE_STATE_TOPIC, index);
      if (!partition || partition.leaderId !== this.broker.nodeId) continue;
      const log = partition.log;
      let offset = log.logStartOffset;
      const end = log.highWatermark;
      while (offset < end) {
        const { chunks } = await log.read(offset, 1 << 20, end, true);
        if (chunks.length === 0) break;
        let next = offset;
        for (const chunk of chunks) {
          for (const [pos] of batchPositions(chunk)) {
            const h = readBatchHeader(chunk, pos);
            next = Math.max(next, h.baseOffset + h.lastOffsetDelta + 1);
            if ((h.attributes & 0x20) !== 0) continue;
            for (const rec of await decodeRecords(chunk, pos)) {
              if (rec.offset < offset || rec.key === null) continue;
              try {
                const k = decodeShareStateKey(rec.key);
                if (!k || k.type !== SNAPSHOT_KEY_TYPE) continue;
                const id = shareStateKeyString(k.key);
                if (rec.value === null) out.delete(id);
                else out.set(id, { key: k.key, snapshot: decodeShareSnapshotValue(rec.value) });
              } catch (err) {
                onError(`${SHARE_STATE_TOPIC}: skipping undecodable record: ${(err as Error).message}`);
              }
            }
          }
        }
        if (next <= offset) break;
        offset = next;
      }
    }
    return out;
  }
}
