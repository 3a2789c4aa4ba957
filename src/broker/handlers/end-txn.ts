// EndTxn: commit or abort the producer's ongoing transaction (markers to every partition in it).
import { ErrorCode } from '../../protocol/errors.js';
import type { EndTxnRequest, EndTxnResponseInput } from '../../protocol/gen/end-txn.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowed, Op, Resource } from '../../security/authz.js';

export default defineHandler<EndTxnRequest, EndTxnResponseInput>({
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  // v5 is transaction version 2 (KIP-890 part 2: an epoch bump per transaction), not served yet.
  maxVersion: 4,
  async handle(req, ctx) {
    if (!allowed(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, req.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    let errorCode = await ctx.broker.transactions.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
    if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
  },
});
