// AlterShareGroupOffsets (KIP-932): sets share-partition start offsets of an empty share group.
import type { AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponseInput } from '../../protocol/gen/alter-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.AlterShareGroupOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    return { throttleTimeMs: 0, ...(await ctx.broker.groups.shareGroups.alterOffsets(req.groupId, req.topics)) };
  },
});
