import type { DeleteGroupsRequest, DeleteGroupsResponseInput } from '../../protocol/gen/delete-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';
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
    for (const groupId of req.groupsNames) {
      const errorCode = allowedOnGroup(ctx, Op.DELETE, groupId) ? await ctx.broker.groups.deleteGroup(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED;
      // v3 adds a per-group ErrorMessage: the error's text, as Kafka fills it from the exception.
      results.push({ groupId, errorCode, errorMessage: errorCode === ErrorCode.NONE ? null : deleteGroupsMessage(groupId, errorCode) });
    }
    return { throttleTimeMs: 0, results };
  },
});
