// StreamsGroupHeartbeat (KIP-1071): join with a topology, heartbeat, leave of Kafka Streams members.
import { ErrorCode } from '../../protocol/errors.js';
import type {
  StreamsGroupHeartbeatRequest,
  StreamsGroupHeartbeatResponseInput,
} from '../../protocol/gen/streams-group-heartbeat.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnCluster, allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';
import { errorResponse } from '../../coordinator/group/streams-protocol/service.js';

export default defineHandler<StreamsGroupHeartbeatRequest, StreamsGroupHeartbeatResponseInput>({
  apiKey: ApiKey.StreamsGroupHeartbeat,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) return errorResponse(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
    if (!ctx.broker.config.groupCoordinatorRebalanceProtocols.includes('streams')) {
      return errorResponse(ErrorCode.UNSUPPORTED_VERSION, 'The streams rebalance protocol is not enabled (group.coordinator.rebalance.protocols).');
    }
    // Internal topics are created like Kafka's broker does for streams groups: in the background,
    // while the member hears MISSING_INTERNAL_TOPICS.
    const topics = ctx.broker.topics;
    return ctx.broker.groups.streamsGroups.heartbeat(
      req,
      { clientId: ctx.clientId ?? '', clientHost: `/${ctx.connection.socket.remoteAddress ?? ''}` },
      async (t) => {
        if (ctx.broker.metadata.topic(t.name)) return;
        // Like Kafka: the member's principal needs CREATE on the cluster or on the topic.
        if (!allowedOnCluster(ctx, Op.CREATE) && !allowedOnTopic(ctx, Op.CREATE, t.name)) {
          throw new Error(`not authorized to CREATE topic ${t.name}`);
        }
        await topics.create({ name: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor, configs: t.configs });
      },
    );
  },
});
