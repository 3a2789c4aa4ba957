import { ErrorCode } from '../../protocol/errors.js';
import type { DeleteGroupsRequest, DeleteGroupsResponseInput } from '../../protocol/gen/delete-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const results = [];
    for (const groupId of req.groupsNames) {
      const errorCode = allowedOnGroup(ctx, Op.DELETE, groupId) ? await ctx.broker.groups.deleteGroup(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED;
      results.push({ groupId, errorCode });
    }
    return { throttleTimeMs: 0, results };
  },
});
