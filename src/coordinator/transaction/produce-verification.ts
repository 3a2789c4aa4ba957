// KIP-890 part 1 on the produce path: the first transactional batch of a producer in a partition
// (no transaction of that producer open there yet) is accepted only when the transaction
// coordinator confirms the partition was added to its ongoing transaction. Without the check a
// late or zombie write could open a transaction that no marker will ever close, stalling the
// last stable offset forever.
import type { Partition } from '../../cluster/partition.js';
import type { BrokerConfig } from '../../config/config.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AddPartitionsToTxnResponse } from '../../protocol/gen/add-partitions-to-txn.js';
import { ApiKey } from '../../protocol/gen/index.js';

/** What the check needs of the broker: its config and the transaction coordinator. */
export interface ProduceVerificationServices {
  readonly nodeId?: number;
  readonly config: Pick<BrokerConfig, 'getBool'>;
  readonly transactions: {
    verifyPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): number;
    /** Broker leading the transactional id's `__transaction_state` partition (-1 unknown). */
    readonly stateTopic?: { leaderFor(key: string): number };
  };
  readonly interBroker?: { request<T>(nodeId: number, apiKey: number, version: number, body: unknown): Promise<T> };
}

/** verifyTransactionalProduce's answer when the coordinator is another broker: ask it (verifyRemotely). */
export const VERIFY_REMOTELY = -1000;

export interface TransactionalBatch {
  producerId: number;
  producerEpoch: number;
}

/** NONE, or the error code the produce answers for this partition. */
export function verifyTransactionalProduce(
  broker: ProduceVerificationServices,
  transactionalId: string | null,
  partition: Partition,
  batch: TransactionalBatch,
): number {
  if (transactionalId === null || transactionalId === '') return ErrorCode.INVALID_RECORD;
  if (partition.log.openTransactionEpoch(batch.producerId) === batch.producerEpoch) return ErrorCode.NONE;
  if (!broker.config.getBool('transaction.partition.verification.enable')) return ErrorCode.NONE;
  // In a cluster the coordinator may live on another broker: the partition leader asks it with
  // AddPartitionsToTxn (verifyOnly), as Kafka's leader does.
  const coordinator = broker.transactions.stateTopic?.leaderFor(transactionalId) ?? -1;
  if (broker.interBroker && broker.nodeId !== undefined && coordinator >= 0 && coordinator !== broker.nodeId) return VERIFY_REMOTELY;
  const code = broker.transactions.verifyPartition(transactionalId, batch.producerId, batch.producerEpoch, partition.topic, partition.index);
  return code;
}

/** AddPartitionsToTxn v4 verifyOnly to the coordinator's broker; resolves with the partition's error code. */
export async function verifyRemotely(
  broker: ProduceVerificationServices,
  transactionalId: string,
  partition: Partition,
  batch: TransactionalBatch,
): Promise<number> {
  const coordinator = broker.transactions.stateTopic?.leaderFor(transactionalId) ?? -1;
  if (coordinator < 0 || !broker.interBroker) return ErrorCode.NOT_ENOUGH_REPLICAS; // retriable: the coordinator moves
  try {
    const resp = await broker.interBroker.request<AddPartitionsToTxnResponse>(coordinator, ApiKey.AddPartitionsToTxn, 4, {
      transactions: [
        {
          transactionalId,
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          verifyOnly: true,
          topics: [{ name: partition.topic, partitions: [partition.index] }],
        },
      ],
    });
    if (resp.errorCode !== ErrorCode.NONE) return resp.errorCode;
    const code = resp.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition[0]?.partitionErrorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    // The coordinator moved or is loading: the producer retries.
    if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    }
    return code;
  } catch {
    return ErrorCode.NOT_ENOUGH_REPLICAS;
  }
}
