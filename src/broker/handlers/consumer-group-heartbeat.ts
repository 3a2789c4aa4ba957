import { ErrorCode } from '../../protocol/errors.js';
// ConsumerGroupHeartbeat (KIP-848): join, heartbeat, leave of consumer-protocol group members.
import type {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponseInput,
} from '../../protocol/gen/consumer-group-heartbeat.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponseInput>({
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.', memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
    }
    return ctx.broker.groups.consumerGroups.heartbeat(req, {
      apiVersion: ctx.apiVersion,
      clientId: ctx.clientId ?? '',
      clientHost: `/${ctx.connection.socket.remoteAddress ?? ''}`,
    });
  },
});
