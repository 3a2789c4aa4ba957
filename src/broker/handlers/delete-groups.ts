import type { DeleteGroupsRequest, DeleteGroupsResponseInput } from '../../protocol/gen/delete-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const results = [];
    const groups = ctx.broker.groups;
    for (const groupId of req.groupsNames) {
      const isShare = groups.getGroup(groupId)?.type === 'share';
      let errorCode = await groups.deleteGroup(groupId);
      // A share group's share-partition state (in __share_group_state) goes with it.
      if (isShare && errorCode === 0) {
        errorCode = await groups.shareGroups.deleteGroupState(groupId).then(
          () => 0,
          (err: { code?: number }) => err.code ?? -1,
        );
      }
      results.push({ groupId, errorCode });
    }
    return { throttleTimeMs: 0, results };
  },
});
