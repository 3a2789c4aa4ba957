import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetFetchRequest, OffsetFetchResponseInput } from '../../protocol/gen/offset-fetch.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { BrokerServices } from '../handler.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

type FetchedTopics = { name: string; partitions: { partitionIndex: number; committedOffset: number; errorCode: number }[] }[];

/** require_stable (v7+): offsets still pending in a transaction answer UNSTABLE_OFFSET_COMMIT. */
function markUnstable<T extends FetchedTopics>(broker: BrokerServices, groupId: string, topics: T): T {
  if (!broker.txnOffsets.hasAnyPending(groupId)) return topics;
  for (const t of topics) {
    for (const p of t.partitions) {
      if (broker.txnOffsets.hasPending(groupId, t.name, p.partitionIndex)) {
        p.errorCode = ErrorCode.UNSTABLE_OFFSET_COMMIT;
        p.committedOffset = -1;
      }
    }
  }
  return topics;
}

export default defineHandler<OffsetFetchRequest, OffsetFetchResponseInput>({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 10,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const { groups } = ctx.broker;
    if (v >= 8) {
      const out = await Promise.all(
        req.groups.map(async (g) => {
          if (!allowedOnGroup(ctx, Op.DESCRIBE, g.groupId)) return { groupId: g.groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
          if (v < 10) {
            const r = await groups.fetchOffsets(g.groupId, g.topics, v >= 9 ? g.memberId : null, v >= 9 ? g.memberEpoch : -1);
            return { groupId: g.groupId, errorCode: r.errorCode, topics: req.requireStable ? markUnstable(ctx.broker, g.groupId, r.topics) : r.topics };
          }
          // v10 (KIP-848) names topics by id: unknown ids get UNKNOWN_TOPIC_ID on their partitions;
          // with "all topics", offsets of topics that no longer exist are left out.
          const { metadata } = ctx.broker;
          const requested = g.topics?.map((t) => ({ ...t, name: metadata.topicById(t.topicId)?.name ?? null })) ?? null;
          const known = requested?.filter((t): t is typeof t & { name: string } => t.name !== null) ?? null;
          const r = await groups.fetchOffsets(g.groupId, known, g.memberId, g.memberEpoch);
          let topics;
          if (requested === null) {
            topics = r.topics.flatMap((t) => {
              const topicId = metadata.topic(t.name)?.topicId;
              return topicId === undefined ? [] : [{ ...t, topicId }];
            });
          } else {
            let next = 0;
            topics =
              r.errorCode !== ErrorCode.NONE
                ? []
                : requested.map((t) =>
                    t.name === null
                      ? {
                          name: '',
                          topicId: t.topicId,
                          partitions: t.partitionIndexes.map((partitionIndex) => ({
                            partitionIndex,
                            committedOffset: -1,
                            committedLeaderEpoch: -1,
                            metadata: '',
                            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
                          })),
                        }
                      : { ...r.topics[next++]!, topicId: t.topicId },
                  );
          }
          return { groupId: g.groupId, errorCode: r.errorCode, topics: req.requireStable ? markUnstable(ctx.broker, g.groupId, topics) : topics };
        }),
      );
      return { throttleTimeMs: 0, groups: out };
    }
    // v0-1 have no "all topics" form and no top-level error: errors go on every partition.
    const topics = v >= 2 ? req.topics : (req.topics ?? []);
    const r = allowedOnGroup(ctx, Op.DESCRIBE, req.groupId)
      ? await groups.fetchOffsets(req.groupId, topics, null, -1)
      : { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
    if (r.errorCode !== ErrorCode.NONE && v < 2) {
      return {
        throttleTimeMs: 0,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: r.errorCode,
          })),
        })),
      };
    }
    const stable = v >= 7 && req.requireStable ? markUnstable(ctx.broker, req.groupId, r.topics) : r.topics;
    return { throttleTimeMs: 0, errorCode: r.errorCode, topics: stable };
  },
});
