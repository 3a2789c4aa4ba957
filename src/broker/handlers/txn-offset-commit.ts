// TxnOffsetCommit: offsets committed inside a transaction, applied to the group only when the
// transaction commits (coordinator/transaction/txn-offsets.ts).
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponseInput } from '../../protocol/gen/txn-offset-commit.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowed, allowedOnGroup, allowedOnTopic, Op, Resource } from '../../security/authz.js';
import { ErrorCode } from '../../protocol/errors.js';

/** The field is `generationId` in older specs and `generationIdOrMemberEpoch` in newer ones. */
function generationOf(req: TxnOffsetCommitRequest): number {
  const r = req as unknown as { generationIdOrMemberEpoch?: number; generationId?: number };
  return r.generationIdOrMemberEpoch ?? r.generationId ?? -1;
}

export default defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponseInput>({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const denied = !allowed(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, req.transactionalId)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !allowedOnGroup(ctx, Op.READ, req.groupId)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : 0;
    const deniedTopics = req.topics.filter((t) => !allowedOnTopic(ctx, Op.READ, t.name));
    if (denied !== 0 || deniedTopics.length > 0) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: denied !== 0 ? denied : deniedTopics.includes(t) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED,
          })),
        })),
      };
    }
    const topics = await ctx.broker.txnOffsets.commit(
      {
        transactionalId: req.transactionalId,
        groupId: req.groupId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        generationId: v >= 3 ? generationOf(req) : -1,
        memberId: v >= 3 ? req.memberId : '',
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            committedOffset: p.committedOffset,
            committedLeaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1,
            committedMetadata: p.committedMetadata,
          })),
        })),
      },
      v,
    );
    return { throttleTimeMs: 0, topics };
  },
});
