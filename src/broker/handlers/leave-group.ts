import { ErrorCode } from '../../protocol/errors.js';
import type { LeaveGroupRequest, LeaveGroupResponseInput } from '../../protocol/gen/leave-group.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<LeaveGroupRequest, LeaveGroupResponseInput>({
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const batched = ctx.apiVersion >= 3;
    const members = batched
      ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: req.memberId, groupInstanceId: null }];
    if (!allowedOnGroup(ctx, Op.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const r = await ctx.broker.groups.leaveGroup(req.groupId, members);
    if (!batched) {
      return { throttleTimeMs: 0, errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : r.members[0]!, members: [] };
    }
    if (r.errorCode !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: r.errorCode, members: [] };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      members: members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: r.members[i]! })),
    };
  },
});
