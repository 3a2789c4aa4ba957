import type { DeleteGroupsRequest, DeleteGroupsResponseInput } from '../../protocol/gen/delete-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const results = [];
    for (const groupId of req.groupsNames) results.push({ groupId, errorCode: await ctx.broker.groups.deleteGroup(groupId) });
    return { throttleTimeMs: 0, results };
  },
});
