// ReadShareGroupState (KIP-932, Kafka's internal share-coordinator API): start offset and state
// batches of share-partitions; Fjord's CLI reads in-flight counts with it.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ReadShareGroupStateRequest, ReadShareGroupStateResponseInput } from '../../protocol/gen/read-share-group-state.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

export default defineHandler<ReadShareGroupStateRequest, ReadShareGroupStateResponseInput>({
  apiKey: ApiKey.ReadShareGroupState,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    // An inter-broker API in Kafka: only principals with CLUSTER_ACTION (brokers, admins) may read state.
    if (!allowedOnCluster(ctx, Op.CLUSTER_ACTION)) {
      return {
        results: req.topics.map((t) => ({
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })),
        })),
      };
    }
    return { results: await ctx.broker.groups.shareGroups.readState(req.groupId, req.topics) };
  },
});
