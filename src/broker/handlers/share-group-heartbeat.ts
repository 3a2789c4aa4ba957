// ShareGroupHeartbeat (KIP-932): join, heartbeat, leave of share-group members.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponseInput } from '../../protocol/gen/share-group-heartbeat.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';

export default defineHandler<ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponseInput>({
  apiKey: ApiKey.ShareGroupHeartbeat,
  minVersion: 1,
  maxVersion: 1,
  async handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, memberEpoch: 0, heartbeatIntervalMs: 0 };
    }
    const hidden = (req.subscribedTopicNames ?? []).filter((t) => !allowedOnTopic(ctx, Op.DESCRIBE, t));
    if (hidden.length > 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        errorMessage: `Not authorized to describe topics: ${hidden.join(', ')}`,
        memberEpoch: 0,
        heartbeatIntervalMs: 0,
      };
    }
    const res = await ctx.broker.groups.shareGroups.heartbeat(req, {
      clientId: ctx.clientId ?? '',
      clientHost: `/${ctx.connection.socket.remoteAddress ?? ''}`,
    });
    return { throttleTimeMs: 0, ...res };
  },
});
