// ShareGroupDescribe (KIP-932): members, epochs and assignments of share groups.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareGroupDescribeRequest, ShareGroupDescribeResponseInput } from '../../protocol/gen/share-group-describe.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, Op } from '../../security/authz.js';

export default defineHandler<ShareGroupDescribeRequest, ShareGroupDescribeResponseInput>({
  apiKey: ApiKey.ShareGroupDescribe,
  minVersion: 1,
  maxVersion: 1,
  async handle(req, ctx) {
    const permitted = req.groupIds.filter((id) => allowedOnGroup(ctx, Op.DESCRIBE, id));
    const denied = req.groupIds
      .filter((id) => !allowedOnGroup(ctx, Op.DESCRIBE, id))
      .map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null }));
    return { throttleTimeMs: 0, groups: [...(await ctx.broker.groups.shareGroups.describe(permitted)), ...denied] };
  },
});
