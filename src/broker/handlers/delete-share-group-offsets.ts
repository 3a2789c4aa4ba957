// DeleteShareGroupOffsets (KIP-932): forgets an empty share group's state for whole topics.
import type { DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponseInput } from '../../protocol/gen/delete-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';

export default defineHandler<DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.DeleteShareGroupOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.DELETE, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const names = req.topics.map((t) => t.topicName);
    const refused = names
      .filter((name) => !allowedOnTopic(ctx, Op.READ, name))
      .map((topicName) => ({ topicName, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null }));
    const res = await ctx.broker.groups.shareGroups.deleteOffsets(req.groupId, names.filter((name) => allowedOnTopic(ctx, Op.READ, name)));
    return { throttleTimeMs: 0, ...res, responses: [...(res.responses ?? []), ...refused] };
  },
});
