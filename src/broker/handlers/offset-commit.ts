import type { OffsetCommitRequest, OffsetCommitResponseInput } from '../../protocol/gen/offset-commit.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';

export default defineHandler<OffsetCommitRequest, OffsetCommitResponseInput>({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 10,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    // v10 (KIP-848) names topics by id; an unknown id fails its partitions with UNKNOWN_TOPIC_ID.
    const named = req.topics.map((t) => ({ ...t, name: v >= 10 ? (ctx.broker.metadata.topicById(t.topicId)?.name ?? null) : t.name }));
    const known = named.filter((t): t is typeof t & { name: string } => t.name !== null);
    const committed = await ctx.broker.groups.commitOffsets(
      req.groupId,
      v >= 1 ? req.memberId : '',
      v >= 1 ? req.generationIdOrMemberEpoch : -1,
      v >= 7 ? req.groupInstanceId : null,
      known.map((t) => ({
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
    let next = 0;
    const topics = named.map((t) =>
      t.name === null
        ? { name: '', topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_ID })) }
        : { ...committed[next++]!, topicId: t.topicId },
    );
    return { throttleTimeMs: 0, topics };
  },
});
