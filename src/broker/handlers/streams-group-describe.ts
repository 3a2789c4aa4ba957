// StreamsGroupDescribe (KIP-1071): topology, members, epochs, current and target task assignments.
import { ErrorCode } from '../../protocol/errors.js';
import type {
  StreamsGroupDescribeRequest,
  StreamsGroupDescribeResponseInput,
} from '../../protocol/gen/streams-group-describe.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<StreamsGroupDescribeRequest, StreamsGroupDescribeResponseInput>({
  apiKey: ApiKey.StreamsGroupDescribe,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const permitted = req.groupIds.filter((id) => allowedOnGroup(ctx, Op.DESCRIBE, id));
    const denied = req.groupIds
      .filter((id) => !allowedOnGroup(ctx, Op.DESCRIBE, id))
      .map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.' }));
    const groups = await ctx.broker.groups.streamsGroups.describe(permitted);
    return { throttleTimeMs: 0, groups: [...groups, ...denied] };
  },
});
