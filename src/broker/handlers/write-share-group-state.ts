// WriteShareGroupState (KIP-932, Kafka's internal share-coordinator API): state batches overlaid on the stored state, start offset moved, served by the
// broker leading the key's `__share_group_state` partition. See ../../coordinator/share/state-api.ts.
import { ApiKey } from '../../protocol/gen/index.js';
import type { WriteShareGroupStateRequest, WriteShareGroupStateResponseInput } from '../../protocol/gen/write-share-group-state.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

export default defineHandler<WriteShareGroupStateRequest, WriteShareGroupStateResponseInput>({
  apiKey: ApiKey.WriteShareGroupState,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    // Inter-broker in Kafka: only principals with CLUSTER_ACTION (brokers, admins).
    if (!allowedOnCluster(ctx, Op.CLUSTER_ACTION)) {
      return {
        results: req.topics.map((t) => ({
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })),
        })),
      };
    }
    return { results: await ctx.broker.groups.shareGroups.stateApi.write(req.groupId, req.topics) };
  },
});
