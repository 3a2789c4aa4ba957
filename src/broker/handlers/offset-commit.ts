import type { OffsetCommitRequest, OffsetCommitResponseInput } from '../../protocol/gen/offset-commit.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<OffsetCommitRequest, OffsetCommitResponseInput>({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const topics = await ctx.broker.groups.commitOffsets(
      req.groupId,
      v >= 1 ? req.memberId : '',
      v >= 1 ? req.generationIdOrMemberEpoch : -1,
      v >= 7 ? req.groupInstanceId : null,
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
      v,
    );
    return { throttleTimeMs: 0, topics };
  },
});
