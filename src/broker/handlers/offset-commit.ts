import type { OffsetCommitRequest, OffsetCommitResponseInput } from '../../protocol/gen/offset-commit.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';
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
    const every = (t: (typeof named)[number], errorCode: number) => t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode }));
    // READ on the group, then READ on each topic; denied topics get their own error.
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, topics: named.map((t) => ({ name: t.name ?? '', topicId: t.topicId, partitions: every(t, ErrorCode.GROUP_AUTHORIZATION_FAILED) })) };
    }
    const readable = (t: (typeof named)[number]) => t.name !== null && allowedOnTopic(ctx, Op.READ, t.name);
    const known = named.filter((t): t is typeof t & { name: string } => readable(t));
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
        ? { name: '', topicId: t.topicId, partitions: every(t, ErrorCode.UNKNOWN_TOPIC_ID) }
        : !readable(t)
          ? { name: t.name, topicId: t.topicId, partitions: every(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED) }
          : { ...committed[next++]!, topicId: t.topicId },
    );
    return { throttleTimeMs: 0, topics };
  },
});
