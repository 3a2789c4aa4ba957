// ShareAcknowledge (KIP-932): ACCEPT / RELEASE / REJECT / RENEW of acquired records.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareAcknowledgeRequest, ShareAcknowledgeResponseInput } from '../../protocol/gen/share-acknowledge.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, Op, topicsByReadPermission } from '../../security/authz.js';

export default defineHandler<ShareAcknowledgeRequest, ShareAcknowledgeResponseInput>({
  apiKey: ApiKey.ShareAcknowledge,
  minVersion: 1,
  maxVersion: 2,
  async handle(req, ctx) {
    if (req.groupId !== null && !allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const { permitted, denied } = topicsByReadPermission(ctx, req.topics);
    if (denied.length === 0) return ctx.broker.groups.shareGroups.shareAcknowledge(req, ctx.apiVersion);
    const res = await ctx.broker.groups.shareGroups.shareAcknowledge({ ...req, topics: permitted }, ctx.apiVersion);
    const refused = denied.map((t) => ({
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    }));
    return { ...res, responses: [...(res.responses ?? []), ...refused] };
  },
});
