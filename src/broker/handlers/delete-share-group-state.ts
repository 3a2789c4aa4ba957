// DeleteShareGroupState (KIP-932, Kafka's internal share-coordinator API): removes share-partition state (a tombstone), served by the
// broker leading the key's `__share_group_state` partition. See ../../coordinator/share/state-api.ts.
import { ApiKey } from '../../protocol/gen/index.js';
import type { DeleteShareGroupStateRequest, DeleteShareGroupStateResponseInput } from '../../protocol/gen/delete-share-group-state.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

export default defineHandler<DeleteShareGroupStateRequest, DeleteShareGroupStateResponseInput>({
  apiKey: ApiKey.DeleteShareGroupState,
  minVersion: 0,
  maxVersion: 0,
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
    return { results: await ctx.broker.groups.shareGroups.stateApi.delete(req.groupId, req.topics) };
  },
});
