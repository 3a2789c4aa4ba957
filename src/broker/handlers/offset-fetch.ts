import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetFetchRequest, OffsetFetchResponseInput } from '../../protocol/gen/offset-fetch.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

type FetchedTopics = { name: string; partitions: { partitionIndex: number; committedOffset: number; errorCode: number }[] }[];

/** require_stable (v7+): offsets still pending in a transaction answer UNSTABLE_OFFSET_COMMIT. */
function markUnstable<T extends FetchedTopics>(broker: Broker, groupId: string, topics: T): T {
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
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const { groups } = ctx.broker;
    if (v >= 8) {
      const out = await Promise.all(
        req.groups.map(async (g) => {
          const r = await groups.fetchOffsets(g.groupId, g.topics, v >= 9 ? g.memberId : null, v >= 9 ? g.memberEpoch : -1);
          const topics = req.requireStable ? markUnstable(ctx.broker, g.groupId, r.topics) : r.topics;
          return { groupId: g.groupId, errorCode: r.errorCode, topics };
        }),
      );
      return { throttleTimeMs: 0, groups: out };
    }
    // v0-1 have no "all topics" form and no top-level error: errors go on every partition.
    const topics = v >= 2 ? req.topics : (req.topics ?? []);
    const r = await groups.fetchOffsets(req.groupId, topics, null, -1);
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
