// DeleteShareGroupOffsets (KIP-932): forgets an empty share group's state for whole topics.
import type { DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponseInput } from '../../protocol/gen/delete-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.DeleteShareGroupOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const res = await ctx.broker.groups.shareGroups.deleteOffsets(req.groupId, req.topics.map((t) => t.topicName));
    return { throttleTimeMs: 0, ...res };
  },
});
