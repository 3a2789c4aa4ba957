import { ErrorCode } from '../../protocol/errors.js';
import type { SyncGroupRequest, SyncGroupResponseInput } from '../../protocol/gen/sync-group.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<SyncGroupRequest, SyncGroupResponseInput>({
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
    }
    const r = await ctx.broker.groups.syncGroup(
      req.groupId,
      req.memberId,
      v >= 3 ? req.groupInstanceId : null,
      req.generationId,
      v >= 5 ? req.protocolType : null,
      v >= 5 ? req.protocolName : null,
      req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
    );
    return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
  },
});
