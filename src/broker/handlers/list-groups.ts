import { ErrorCode } from '../../protocol/errors.js';
import type { ListGroupsRequest, ListGroupsResponseInput } from '../../protocol/gen/list-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnCluster, allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ListGroupsRequest, ListGroupsResponseInput>({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    const v = ctx.apiVersion;
    // Without DESCRIBE on the cluster, only the groups the principal may describe are listed.
    const all = ctx.broker.groups.listGroups(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
    const groups = allowedOnCluster(ctx, Op.DESCRIBE) ? all : all.filter((g) => allowedOnGroup(ctx, Op.DESCRIBE, g.groupId));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
});
