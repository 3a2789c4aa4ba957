// Transaction markers: the control batches (COMMIT / ABORT) that end a transaction in each of its
// partitions. The coordinator hands markers to a TxnMarkerChannel addressed by the partition
// leader's broker id; the channel of a single process applies them directly, a cluster's channel
// sends WriteTxnMarkers to that broker. Both end in applyTxnMarkers() on the leader, which the
// WriteTxnMarkers handler calls too.
import type { Partition } from '../../cluster/partition.js';
import type { InterBrokerClients } from '../../cluster/broker-client.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { WriteTxnMarkersResponse } from '../../protocol/gen/write-txn-markers.js';

/** What the partition leader's side of markers uses. */
export interface MarkerTarget {
  readonly nodeId: number;
  /** In a cluster: requests to the other brokers (markers for the partitions they lead). */
  readonly interBroker?: Pick<InterBrokerClients, 'request'>;
  readonly replicas: { get(topic: string, partition: number): Partition | undefined };
  readonly txnOffsets: { complete(partition: number, producerId: number, commit: boolean): void };
}
import { errorCodeOf } from '../../protocol/kafka-error.js';
import { ErrorCode } from '../../protocol/errors.js';
import { buildControlBatch } from '../../protocol/records/batch.js';
import { MAX_TIMESTAMP as MAX_TIMESTAMP_POS } from '../../protocol/records/layout.js';
import { CONSUMER_OFFSETS_TOPIC as OFFSETS_TOPIC } from '../runtime/internal-topics.js';

export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** true = COMMIT, false = ABORT. */
  commit: boolean;
  topics: { name: string; partitions: number[] }[];
}

export interface TxnMarkerResult {
  producerId: number;
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

/** Delivers markers to the broker leading their partitions (one call per broker). */
export interface TxnMarkerChannel {
  send(leaderId: number, markers: TxnMarker[]): Promise<TxnMarkerResult[]>;
}

/**
 * Markers for this broker's partitions are applied in place; markers for partitions another
 * broker leads go to it as WriteTxnMarkers over the inter-broker client.
 */
export class LocalTxnMarkerChannel implements TxnMarkerChannel {
  constructor(private readonly broker: MarkerTarget) {}

  async send(leaderId: number, markers: TxnMarker[]): Promise<TxnMarkerResult[]> {
    if (leaderId === this.broker.nodeId) return applyTxnMarkers(this.broker, markers);
    const failAll = (errorCode: number): TxnMarkerResult[] =>
      markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((partitionIndex) => ({ partitionIndex, errorCode })) })),
      }));
    const clients = this.broker.interBroker;
    if (!clients) return failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    try {
      const resp = await clients.request<WriteTxnMarkersResponse>(leaderId, ApiKey.WriteTxnMarkers, 1, {
        markers: markers.map((m) => ({
          producerId: m.producerId,
          producerEpoch: m.producerEpoch,
          transactionResult: m.commit,
          topics: m.topics.map((t) => ({ name: t.name, partitionIndexes: t.partitions })),
          coordinatorEpoch: m.coordinatorEpoch,
        })),
      });
      return resp.markers.map((r) => ({
        producerId: r.producerId,
        topics: r.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: p.errorCode })) })),
      }));
    } catch {
      return failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER); // retried by the coordinator
    }
  }
}

/** Errors after which a marker is retried (the partition may come back or move). */
export function isRetriableMarkerError(code: number): boolean {
  return (
    code === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
    code === ErrorCode.KAFKA_STORAGE_ERROR ||
    code === ErrorCode.NOT_ENOUGH_REPLICAS ||
    code === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND ||
    code === ErrorCode.REQUEST_TIMED_OUT ||
    code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
    code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
    code === ErrorCode.UNKNOWN_SERVER_ERROR
  );
}

/** Appends one marker to one partition this broker leads; resolves with a Kafka error code. */
async function appendMarker(broker: MarkerTarget, m: TxnMarker, topic: string, index: number): Promise<number> {
  const partition = broker.replicas.get(topic, index);
  if (!partition) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (partition.leaderId !== broker.nodeId) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  const buf = buildControlBatch({
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    commit: m.commit,
    coordinatorEpoch: m.coordinatorEpoch,
  });
  // Built here, so its header is known; validateBatches is the client path and refuses control batches.
  const batch = {
    position: 0,
    size: buf.length,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: -1,
    recordCount: 1,
    lastOffsetDelta: 0,
    maxTimestamp: buf.readBigInt64BE(MAX_TIMESTAMP_POS) > 0n ? Number(buf.readBigInt64BE(MAX_TIMESTAMP_POS)) : Date.now(),
    isTransactional: true,
    isControl: true,
  };
  try {
    await partition.appendAsLeader(buf, [batch] as unknown as Parameters<typeof partition.appendAsLeader>[1]);
  } catch (err) {
    return errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR);
  }
  // Offsets committed inside the transaction become visible (or are dropped) with the marker.
  if (topic === OFFSETS_TOPIC) broker.txnOffsets.complete(index, m.producerId, m.commit);
  return ErrorCode.NONE;
}

/** The partition leader's side of WriteTxnMarkers. */
export async function applyTxnMarkers(broker: MarkerTarget, markers: readonly TxnMarker[]): Promise<TxnMarkerResult[]> {
  return Promise.all(
    markers.map(async (m) => ({
      producerId: m.producerId,
      topics: await Promise.all(
        m.topics.map(async (t) => ({
          name: t.name,
          partitions: await Promise.all(
            t.partitions.map(async (partitionIndex) => ({ partitionIndex, errorCode: await appendMarker(broker, m, t.name, partitionIndex) })),
          ),
        })),
      ),
    })),
  );
}
