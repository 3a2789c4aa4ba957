// In-memory state of one transactional id, and its mapping to Kafka's TransactionLogValue record.
import type { TransactionLogValue, TransactionLogValueInput } from '../../protocol/gen/internal/transaction-log-value.js';

/** Kafka's transaction states, with the ids stored in TransactionLogValue.transactionStatus. */
export const TxnStates = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = keyof typeof TxnStates;

const STATE_BY_ID = new Map<number, TxnState>(Object.entries(TxnStates).map(([k, v]) => [v, k as TxnState]));

function txnStateName(id: number): TxnState | undefined {
  return STATE_BY_ID.get(id);
}

/** Highest epoch a producer id may reach before the coordinator moves to a new producer id. */
export const MAX_PRODUCER_EPOCH = 32767;

export interface TxnMetadata {
  transactionalId: string;
  producerId: number;
  /** Producer id before the last rotation (epoch exhaustion), -1 when none. */
  previousProducerId: number;
  producerEpoch: number;
  /** Epoch before the last bump, for recognising a retried InitProducerId (KIP-360). */
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** topic → partitions in the ongoing (or completing) transaction. */
  partitions: Map<string, Set<number>>;
  startTimestamp: number;
  lastUpdateTimestamp: number;
  clientTransactionVersion: number;
}

export function partitionCount(m: TxnMetadata): number {
  let n = 0;
  for (const s of m.partitions.values()) n += s.size;
  return n;
}

export function hasPartition(m: TxnMetadata, topic: string, partition: number): boolean {
  return m.partitions.get(topic)?.has(partition) ?? false;
}

export function cloneMetadata(m: TxnMetadata): TxnMetadata {
  return { ...m, partitions: new Map([...m.partitions].map(([t, s]) => [t, new Set(s)])) };
}

export function toLogValue(m: TxnMetadata): TransactionLogValueInput {
  const completeOrEmpty = m.state === 'Empty' || m.state === 'CompleteCommit' || m.state === 'CompleteAbort';
  return {
    producerId: m.producerId,
    previousProducerId: m.previousProducerId,
    nextProducerId: -1,
    producerEpoch: m.producerEpoch,
    nextProducerEpoch: -1,
    transactionTimeoutMs: m.timeoutMs,
    transactionStatus: TxnStates[m.state],
    // Kafka writes no partitions for Empty / Complete* states.
    transactionPartitions: completeOrEmpty
      ? null
      : [...m.partitions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, s]) => ({ topic, partitionIds: [...s].sort((a, b) => a - b) })),
    transactionLastUpdateTimestampMs: m.lastUpdateTimestamp,
    transactionStartTimestampMs: m.startTimestamp,
    clientTransactionVersion: m.clientTransactionVersion,
  } as TransactionLogValueInput;
}

export function fromLogValue(transactionalId: string, v: TransactionLogValue): TxnMetadata {
  const partitions = new Map<string, Set<number>>();
  for (const p of v.transactionPartitions ?? []) partitions.set(p.topic, new Set(p.partitionIds));
  const raw = v as TransactionLogValue & { previousProducerId?: number; clientTransactionVersion?: number };
  return {
    transactionalId,
    producerId: v.producerId,
    previousProducerId: raw.previousProducerId ?? -1,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: -1,
    timeoutMs: v.transactionTimeoutMs,
    state: txnStateName(v.transactionStatus) ?? 'Dead',
    partitions,
    startTimestamp: Number(v.transactionStartTimestampMs),
    lastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
    clientTransactionVersion: raw.clientTransactionVersion ?? 0,
  };
}
