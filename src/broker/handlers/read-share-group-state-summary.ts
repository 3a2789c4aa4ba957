// ReadShareGroupStateSummary (KIP-932, Kafka's internal share-coordinator API): start offset, epochs and completed count per share-partition, served by the
// broker leading the key's `__share_group_state` partition. See ../../coordinator/share/state-api.ts.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ReadShareGroupStateSummaryRequest, ReadShareGroupStateSummaryResponseInput } from '../../protocol/gen/read-share-group-state-summary.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

export default defineHandler<ReadShareGroupStateSummaryRequest, ReadShareGroupStateSummaryResponseInput>({
  apiKey: ApiKey.ReadShareGroupStateSummary,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    // Inter-broker in Kafka: only principals with CLUSTER_ACTION (brokers, admins).
    if (!allowedOnCluster(ctx, Op.CLUSTER_ACTION)) {
      return {
        results: req.topics.map((t) => ({
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1 })),
        })),
      };
    }
    return { results: await ctx.broker.groups.shareGroups.stateApi.summary(req.groupId, req.topics) };
  },
});
