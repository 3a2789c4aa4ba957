// ShareGroupDescribe (KIP-932): members, epochs and assignments of share groups.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareGroupDescribeRequest, ShareGroupDescribeResponseInput } from '../../protocol/gen/share-group-describe.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ShareGroupDescribeRequest, ShareGroupDescribeResponseInput>({
  apiKey: ApiKey.ShareGroupDescribe,
  minVersion: 1,
  maxVersion: 1,
  async handle(req, ctx) {
    return { throttleTimeMs: 0, groups: await ctx.broker.groups.shareGroups.describe(req.groupIds) };
  },
});
