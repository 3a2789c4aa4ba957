// KIP-890 part 1 on the produce path: the first transactional batch of a producer in a partition
// (no transaction of that producer open there yet) is accepted only when the transaction
// coordinator confirms the partition was added to its ongoing transaction. Without the check a
// late or zombie write could open a transaction that no marker will ever close, stalling the
// last stable offset forever.
import type { Partition } from '../../cluster/partition.js';
import type { BrokerConfig } from '../../config/config.js';
import { ErrorCode } from '../../protocol/errors.js';

/** What the check needs of the broker: its config and the transaction coordinator. */
export interface ProduceVerificationServices {
  readonly config: Pick<BrokerConfig, 'getBool'>;
  readonly transactions: {
    verifyPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): number;
  };
}

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
  const code = broker.transactions.verifyPartition(transactionalId, batch.producerId, batch.producerEpoch, partition.topic, partition.index);
  return code;
}
