// The `__transaction_state` topic: coordinator placement (Kafka's hash of the transactional id),
// lazy creation (compacted, internal), durable appends of transaction metadata and the replay that
// rebuilds it at startup. Records use Kafka's formats (key and value each start with an int16
// version): key v0 TransactionLogKey → TransactionLogValue (v0 written for transaction version 0/1
// clients, v1 for version 2), a null value is the tombstone of an expired transactional id.
import type { Broker } from '../../broker/broker.js';
import { KafkaError } from '../../broker/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import { decodeTransactionLogKey, encodeTransactionLogKey } from '../../protocol/gen/internal/transaction-log-key.js';
import {
  decodeTransactionLogValue,
  encodeTransactionLogValue,
  type TransactionLogValue,
  type TransactionLogValueInput,
} from '../../protocol/gen/internal/transaction-log-value.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { batchPositions, buildBatch, decodeRecords, readBatchHeader, validateBatches } from '../../protocol/records/batch.js';
import { partitionForGroup } from '../offsets-topic.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export function transactionLogKey(transactionalId: string): Buffer {
  const w = new Writer();
  w.int16(0);
  encodeTransactionLogKey(w, 0, { transactionalId });
  return w.toBuffer();
}

export function transactionLogValue(v: TransactionLogValueInput, version: 0 | 1): Buffer {
  const w = new Writer();
  w.int16(version);
  encodeTransactionLogValue(w, version, v);
  return w.toBuffer();
}

export function decodeTransactionLogRecord(key: Buffer, value: Buffer | null): { transactionalId: string; value: TransactionLogValue | null } {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  const { transactionalId } = decodeTransactionLogKey(kr, keyVersion);
  if (value === null) return { transactionalId, value: null };
  const vr = new Reader(value);
  const vv = vr.int16();
  return { transactionalId, value: decodeTransactionLogValue(vr, vv) };
}

/** Access to `__transaction_state` for one broker. */
export class TransactionStateTopic {
  private creating: Promise<void> | undefined;

  constructor(private readonly broker: Broker) {}

  get numPartitions(): number {
    return this.broker.metadata.topic(TRANSACTION_STATE_TOPIC)?.partitions.length ?? this.broker.config.getInt('transaction.state.log.num.partitions');
  }

  partitionFor(transactionalId: string): number {
    return partitionForGroup(transactionalId, this.numPartitions);
  }

  exists(): boolean {
    return this.broker.metadata.topic(TRANSACTION_STATE_TOPIC) !== undefined;
  }

  /** Creates the topic on first need (compacted, internal). */
  ensure(): Promise<void> {
    if (this.creating) return this.creating;
    if (this.exists()) return Promise.resolve();
    this.creating ??= (async () => {
      const cfg = this.broker.config;
      const live = Math.max(1, this.broker.metadata.brokers().length);
      try {
        await this.broker.topics.create({
          name: TRANSACTION_STATE_TOPIC,
          numPartitions: cfg.getInt('transaction.state.log.num.partitions'),
          replicationFactor: Math.min(cfg.getInt('transaction.state.log.replication.factor'), live),
          configs: {
            'cleanup.policy': 'compact',
            'compression.type': 'uncompressed',
            'segment.bytes': String(cfg.getInt('transaction.state.log.segment.bytes')),
            'unclean.leader.election.enable': 'false',
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

  /** Leader broker id of the id's partition, or -1 when unknown. */
  leaderFor(transactionalId: string): number {
    if (!this.exists()) return -1;
    return this.broker.metadata.partitionState(TRANSACTION_STATE_TOPIC, this.partitionFor(transactionalId))?.leader ?? -1;
  }

  /** Leader epoch of the id's partition: the coordinator epoch written into markers. */
  coordinatorEpochFor(transactionalId: string): number {
    return this.broker.replicas.get(TRANSACTION_STATE_TOPIC, this.partitionFor(transactionalId))?.leaderEpoch ?? -1;
  }

  /** Appends one record for the id; resolves when durable. */
  async append(transactionalId: string, key: Buffer, value: Buffer | null): Promise<void> {
    await this.ensure();
    const index = this.partitionFor(transactionalId);
    const partition = this.broker.replicas.get(TRANSACTION_STATE_TOPIC, index);
    if (!partition) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${TRANSACTION_STATE_TOPIC}-${index} is not hosted here.`);
    if (partition.leaderId !== this.broker.nodeId) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker does not lead ${TRANSACTION_STATE_TOPIC}-${index}.`);
    }
    const buf = await buildBatch({ records: [{ key, value, timestamp: Date.now() }] });
    const checked = validateBatches(buf, Number.MAX_SAFE_INTEGER);
    if ('error' in checked) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, checked.message);
    try {
      await partition.appendAsLeader(buf, checked.batches);
    } catch (err) {
      // Kafka answers a failed transaction-log append with a retriable coordinator error.
      throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
    }
  }

  /** Reads every record of the partitions this broker leads, in log order per partition. */
  async replay(onRecord: (partition: number, key: Buffer, value: Buffer | null) => void): Promise<void> {
    if (!this.exists()) return;
    for (let index = 0; index < this.numPartitions; index++) {
      const partition = this.broker.replicas.get(TRANSACTION_STATE_TOPIC, index);
      if (!partition || partition.leaderId !== this.broker.nodeId) continue;
      const log = partition.log;
      let offset = log.logStartOffset;
      const end = log.highWatermark;
      const maxBytes = Math.max(1, this.broker.config.getInt('transaction.state.log.load.buffer.size'));
      while (offset < end) {
        const { chunks } = await log.read(offset, maxBytes, end, true);
        if (chunks.length === 0) break;
        let next = offset;
        for (const chunk of chunks) {
          for (const [pos] of batchPositions(chunk)) {
            const h = readBatchHeader(chunk, pos);
            next = Math.max(next, h.baseOffset + h.lastOffsetDelta + 1);
            if ((h.attributes & 0x20) !== 0) continue; // control batch
            for (const rec of await decodeRecords(chunk, pos)) {
              if (rec.offset < offset || rec.key === null) continue;
              onRecord(index, rec.key, rec.value);
            }
          }
        }
        if (next <= offset) break;
        offset = next;
      }
    }
  }
}
