// DescribeShareGroupOffsets (KIP-932): start offset and lag of each share-partition of a group.
import { shareGroupsOf } from '../../coordinator/share/index.js';
import type { DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponseInput } from '../../protocol/gen/describe-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.DescribeShareGroupOffsets,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const service = shareGroupsOf(ctx.broker);
    const groups = [];
    for (const g of req.groups) groups.push(await service.describeOffsets(g.groupId, g.topics));
    return { throttleTimeMs: 0, groups };
  },
});
