// The `__consumer_offsets` topic: coordinator placement (Kafka's hash of the group id), lazy
// creation, durable appends of coordinator records, and the replay that rebuilds state at startup.
// Records use Kafka's own formats (key and value each start with an int16 version):
//   key v0/v1 OffsetCommitKey → OffsetCommitValue (v3 written), key v2 GroupMetadataKey →
//   GroupMetadataValue (v3 written), key v3..v8 ConsumerGroup* records (KIP-848).
import type { Broker } from '../broker/broker.js';
import { KafkaError } from '../broker/errors.js';
import { ErrorCode } from '../protocol/errors.js';
import { decodeGroupMetadataKey, encodeGroupMetadataKey } from '../protocol/gen/internal/group-metadata-key.js';
import {
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
  type GroupMetadataValue,
  type GroupMetadataValueInput,
} from '../protocol/gen/internal/group-metadata-value.js';
import { decodeOffsetCommitKey, encodeOffsetCommitKey, type OffsetCommitKey } from '../protocol/gen/internal/offset-commit-key.js';
import {
  decodeOffsetCommitValue,
  encodeOffsetCommitValue,
  type OffsetCommitValue,
  type OffsetCommitValueInput,
} from '../protocol/gen/internal/offset-commit-value.js';
import { Reader, Writer } from '../protocol/primitives.js';
import { batchPositions, buildBatch, decodeRecords, readBatchHeader, validateBatches } from '../protocol/records/batch.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode (UTF-16 code units, 32-bit wrap). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Integer.MIN_VALUE maps to 0 (x & 0x7fffffff). */
export function partitionForGroup(groupId: string, numPartitions: number): number {
  return (javaStringHashCode(groupId) & 0x7fffffff) % numPartitions;
}

// ---------------------------------------------------------------- record codecs

function withVersion(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  encode(w);
  return w.toBuffer();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return withVersion(1, (w) => encodeOffsetCommitKey(w, 1, { group, topic, partition }));
}

export function offsetCommitValue(v: OffsetCommitValueInput): Buffer {
  return withVersion(3, (w) => encodeOffsetCommitValue(w, 3, v));
}

export function groupMetadataKey(group: string): Buffer {
  return withVersion(2, (w) => encodeGroupMetadataKey(w, 2, { group }));
}

export function groupMetadataValue(v: GroupMetadataValueInput): Buffer {
  return withVersion(3, (w) => encodeGroupMetadataValue(w, 3, v));
}

export type DecodedCoordinatorRecord =
  | { kind: 'offset'; key: OffsetCommitKey; value: OffsetCommitValue | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null }
  | { kind: 'other'; keyVersion: number; key: Buffer; value: Buffer | null };

/** Decodes one `__consumer_offsets` record; throws on malformed bytes. */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): DecodedCoordinatorRecord {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = decodeOffsetCommitKey(kr, keyVersion);
    if (value === null) return { kind: 'offset', key: k, value: null };
    const vr = new Reader(value);
    const vv = vr.int16();
    return { kind: 'offset', key: k, value: decodeOffsetCommitValue(vr, vv) };
  }
  if (keyVersion === 2) {
    const k = decodeGroupMetadataKey(kr, 2);
    if (value === null) return { kind: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const vv = vr.int16();
    return { kind: 'group', group: k.group, value: decodeGroupMetadataValue(vr, vv) };
  }
  return { kind: 'other', keyVersion, key, value };
}

// ---------------------------------------------------------------- the topic

export interface CoordinatorRecord {
  key: Buffer;
  /** null = tombstone. */
  value: Buffer | null;
}

/** Access to `__consumer_offsets` for one broker. */
export class OffsetsTopic {
  private creating: Promise<void> | undefined;
  /**
   * Receives what replay() meets of transactions (offsets committed inside one are pending until
   * their marker): records of transactional batches and the markers (transaction/txn-offsets.ts).
   */
  transactionalReplay:
    | {
        record(partition: number, producerId: number, key: Buffer, value: Buffer | null): void;
        marker(partition: number, producerId: number, commit: boolean): void;
      }
    | undefined;

  constructor(private readonly broker: Broker) {}

  get numPartitions(): number {
    return this.broker.metadata.topic(OFFSETS_TOPIC)?.partitions.length ?? this.broker.config.offsetsTopicNumPartitions;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.numPartitions);
  }

  exists(): boolean {
    return this.broker.metadata.topic(OFFSETS_TOPIC) !== undefined;
  }

  /** Creates the topic on first need (compacted, internal). */
  ensure(): Promise<void> {
    // While a creation runs, the topic is in the metadata before its replicas are open: wait for it.
    if (this.creating) return this.creating;
    if (this.exists()) return Promise.resolve();
    this.creating ??= (async () => {
      const cfg = this.broker.config;
      const live = Math.max(1, this.broker.metadata.brokers().length);
      try {
        await this.broker.topics.create({
          name: OFFSETS_TOPIC,
          numPartitions: cfg.offsetsTopicNumPartitions,
          replicationFactor: Math.min(cfg.offsetsTopicReplicationFactor, live),
          configs: {
            'cleanup.policy': 'compact',
            'compression.type': 'producer',
            'segment.bytes': String(cfg.offsetsTopicSegmentBytes),
          },
        });
      } catch (err) {
        if (!(err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
      } finally {
        this.creating = undefined;
      }
    })();
    return this.creating;
  }

  /** Leader broker id of the group's partition, or -1 when unknown. */
  leaderFor(groupId: string): number {
    if (!this.exists()) return -1;
    return this.broker.metadata.partitionState(OFFSETS_TOPIC, this.partitionFor(groupId))?.leader ?? -1;
  }

  /** Appends records to the group's partition as one batch; resolves when durable. */
  async append(groupId: string, records: CoordinatorRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensure();
    const index = this.partitionFor(groupId);
    const partition = this.broker.replicas.get(OFFSETS_TOPIC, index);
    if (!partition) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${index} is not hosted here.`);
    if (partition.leaderId !== this.broker.nodeId) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker does not lead ${OFFSETS_TOPIC}-${index}.`);
    }
    const now = Date.now();
    const buf = await buildBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })) });
    const checked = validateBatches(buf, Number.MAX_SAFE_INTEGER);
    if ('error' in checked) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, checked.message);
    try {
      await partition.appendAsLeader(buf, checked.batches);
    } catch (err) {
      // Kafka maps log append failures of the coordinator to retriable coordinator errors.
      throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
    }
  }

  /**
   * Reads every record of the partitions this broker leads, in log order per partition.
   * `onRecord` receives the raw key/value; records without a key are skipped.
   */
  async replay(onRecord: (partition: number, key: Buffer, value: Buffer | null) => void): Promise<void> {
    if (!this.exists()) return;
    for (let index = 0; index < this.numPartitions; index++) {
      const partition = this.broker.replicas.get(OFFSETS_TOPIC, index);
      if (!partition || partition.leaderId !== this.broker.nodeId) continue;
      const log = partition.log;
      let offset = log.logStartOffset;
      const end = log.highWatermark;
      const maxBytes = Math.max(1, this.broker.config.getInt('offsets.load.buffer.size'));
      while (offset < end) {
        const { chunks } = await log.read(offset, maxBytes, end, true);
        if (chunks.length === 0) break;
        let next = offset;
        for (const chunk of chunks) {
          for (const [pos] of batchPositions(chunk)) {
            const h = readBatchHeader(chunk, pos);
            next = Math.max(next, h.baseOffset + h.lastOffsetDelta + 1);
            const txn = this.transactionalReplay;
            if ((h.attributes & 0x20) !== 0) {
              // control batch: a transaction marker (key: version int16, type int16; 1 = commit)
              const marker = txn ? (await decodeRecords(chunk, pos))[0] : undefined;
              if (txn && marker?.key && marker.key.length >= 4) txn.marker(index, h.producerId, marker.key.readInt16BE(2) === 1);
              continue;
            }
            const transactional = (h.attributes & 0x10) !== 0;
            for (const rec of await decodeRecords(chunk, pos)) {
              if (rec.offset < offset || rec.key === null) continue;
              if (transactional) txn?.record(index, h.producerId, rec.key, rec.value);
              else onRecord(index, rec.key, rec.value);
            }
          }
        }
        if (next <= offset) break;
        offset = next;
      }
    }
  }
}
