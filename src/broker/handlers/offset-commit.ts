import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetCommitRequest, OffsetCommitResponseInput } from '../../protocol/gen/offset-commit.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<OffsetCommitRequest, OffsetCommitResponseInput>({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    // READ on the group, then READ on each topic; denied partitions get their own error.
    const deny = (code: number, only?: (topic: string) => boolean) =>
      req.topics
        .filter((t) => !only || only(t.name))
        .map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) return { throttleTimeMs: 0, topics: deny(ErrorCode.GROUP_AUTHORIZATION_FAILED) };
    const deniedTopics = deny(ErrorCode.TOPIC_AUTHORIZATION_FAILED, (t) => !allowedOnTopic(ctx, Op.READ, t));
    if (deniedTopics.length > 0) req = { ...req, topics: req.topics.filter((t) => allowedOnTopic(ctx, Op.READ, t.name)) };
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
    return { throttleTimeMs: 0, topics: [...topics, ...deniedTopics] };
  },
});
