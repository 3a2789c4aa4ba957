// InitProducerId: idempotent producers get a fresh producer id; transactional producers get
// theirs from the transaction coordinator (new id, or an epoch bump that fences older instances).
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { InitProducerIdRequest, InitProducerIdResponseInput } from '../../protocol/gen/init-producer-id.js';
import { allowed, allowedOnCluster, Op, Resource } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<InitProducerIdRequest, InitProducerIdResponseInput>({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    // Transactional producers need WRITE on their transactional id; idempotent ones need
    // IDEMPOTENT_WRITE on the cluster or WRITE on some topic (Kafka 3.0+).
    const permitted =
      req.transactionalId !== null
        ? allowed(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, req.transactionalId)
        : allowedOnCluster(ctx, Op.IDEMPOTENT_WRITE) || ctx.broker.security.authorizeAny(ctx.connection.session, Op.WRITE, Resource.TOPIC);
    if (!permitted) {
      const errorCode = req.transactionalId !== null ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
    }
    const v = ctx.apiVersion;
    if (req.transactionalId !== null) {
      const r = await ctx.broker.transactions.initProducerId(
        req.transactionalId,
        req.transactionTimeoutMs,
        v >= 3 ? req.producerId : -1,
        v >= 3 ? req.producerEpoch : -1,
      );
      // PRODUCER_FENCED arrived with v4; older clients know it as INVALID_PRODUCER_EPOCH.
      const errorCode = r.errorCode === ErrorCode.PRODUCER_FENCED && v < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : r.errorCode;
      return { throttleTimeMs: 0, errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch };
    }
    // Idempotent producer (no transactional id): a fresh id each time, epoch 0. A producer that
    // re-initialises after a sequence error (KIP-360) simply gets a new id, as in Kafka.
    const producerId = await ctx.broker.producerIds.allocate();
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
});
