// DescribeShareGroupOffsets (KIP-932): start offset and lag of each share-partition of a group.
import type { DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponseInput } from '../../protocol/gen/describe-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.DescribeShareGroupOffsets,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const service = ctx.broker.groups.shareGroups;
    const groups = [];
    for (const g of req.groups) groups.push(await service.describeOffsets(g.groupId, g.topics));
    return { throttleTimeMs: 0, groups };
  },
});
