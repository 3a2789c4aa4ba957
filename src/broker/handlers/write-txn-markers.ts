// WriteTxnMarkers: a transaction coordinator (or `fjord txn abort`, like kafka-transactions.sh
// --abort) asks this partition leader to append COMMIT/ABORT markers.
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponseInput } from '../../protocol/gen/write-txn-markers.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { applyTxnMarkers } from '../../coordinator/transaction/markers.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';
import { ErrorCode } from '../../protocol/errors.js';

export default defineHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponseInput>({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    // Only brokers (and operators' tools) write markers: CLUSTER_ACTION, like Kafka.
    if (!allowedOnCluster(ctx, Op.CLUSTER_ACTION)) {
      return {
        markers: req.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED })) })),
        })),
      };
    }
    const markers = await applyTxnMarkers(
      ctx.broker,
      req.markers.map((m) => ({
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        commit: m.transactionResult,
        topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })),
      })),
    );
    return { markers };
  },
});
