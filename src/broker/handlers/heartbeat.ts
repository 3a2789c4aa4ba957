import { ErrorCode } from '../../protocol/errors.js';
import type { HeartbeatRequest, HeartbeatResponseInput } from '../../protocol/gen/heartbeat.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<HeartbeatRequest, HeartbeatResponseInput>({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = await ctx.broker.groups.heartbeat(
      req.groupId,
      req.memberId,
      ctx.apiVersion >= 3 ? req.groupInstanceId : null,
      req.generationId,
    );
    return { throttleTimeMs: 0, errorCode };
  },
});
