// AlterShareGroupOffsets (KIP-932): sets share-partition start offsets of an empty share group.
import type { AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponseInput } from '../../protocol/gen/alter-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';

export default defineHandler<AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.AlterShareGroupOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const permitted = req.topics.filter((t) => allowedOnTopic(ctx, Op.READ, t.topicName));
    const refused = req.topics
      .filter((t) => !allowedOnTopic(ctx, Op.READ, t.topicName))
      .map((t) => ({
        topicName: t.topicName,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null })),
      }));
    const res = await ctx.broker.groups.shareGroups.alterOffsets(req.groupId, permitted);
    return { throttleTimeMs: 0, ...res, responses: [...(res.responses ?? []), ...refused] };
  },
});
