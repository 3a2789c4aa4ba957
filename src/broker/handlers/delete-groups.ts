import type { DeleteGroupsRequest, DeleteGroupsResponseInput } from '../../protocol/gen/delete-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';
import { ErrorCode, errorName } from '../../protocol/errors.js';

function deleteGroupsMessage(groupId: string, code: number): string {
  switch (code) {
    case ErrorCode.GROUP_ID_NOT_FOUND:
      return `Group ${groupId} not found.`;
    case ErrorCode.NON_EMPTY_GROUP:
      return `Group ${groupId} is not empty.`;
    case ErrorCode.INVALID_GROUP_ID:
      return 'The group id is invalid.';
    default:
      return errorName(code);
  }
}

export default defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const results = [];
    const groups = ctx.broker.groups;
    for (const groupId of req.groupsNames) {
      if (!allowedOnGroup(ctx, Op.DELETE, groupId)) {
        results.push({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: deleteGroupsMessage(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED) });
        continue;
      }
      const isShare = groups.getGroup(groupId)?.type === 'share';
      let errorCode = await groups.deleteGroup(groupId);
      // A share group's share-partition state (in __share_group_state) goes with it.
      if (isShare && errorCode === 0) {
        errorCode = await groups.shareGroups.deleteGroupState(groupId).then(
          () => 0,
          (err: { code?: number }) => err.code ?? -1,
        );
      }
      // v3 adds a per-group ErrorMessage: the error's text, as Kafka fills it from the exception.
      results.push({ groupId, errorCode, errorMessage: errorCode === ErrorCode.NONE ? null : deleteGroupsMessage(groupId, errorCode) });
    }
    return { throttleTimeMs: 0, results };
  },
});
