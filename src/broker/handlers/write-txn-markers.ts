// WriteTxnMarkers: a transaction coordinator (or `fjord txn abort`, like kafka-transactions.sh
// --abort) asks this partition leader to append COMMIT/ABORT markers.
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponseInput } from '../../protocol/gen/write-txn-markers.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { applyTxnMarkers } from '../../coordinator/transaction/markers.js';
import { defineHandler } from '../handler.js';

export default defineHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponseInput>({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
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
