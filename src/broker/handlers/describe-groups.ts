import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeGroupsRequest, DescribeGroupsResponseInput } from '../../protocol/gen/describe-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

/** "Not provided" for authorizedOperations (Kafka's Integer.MIN_VALUE) when the client did not ask. */
const OPERATIONS_NOT_REQUESTED = -2147483648;
/** READ, DESCRIBE, DELETE on a group (AclOperation bit set); no ACLs in Fjord yet. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 8) | (1 << 6);

export default defineHandler<DescribeGroupsRequest, DescribeGroupsResponseInput>({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const groups = await Promise.all(
      req.groups.map(async (id) => ({
        ...(allowedOnGroup(ctx, Op.DESCRIBE, id)
          ? await ctx.broker.groups.describeGroup(id)
          : { ...(await ctx.broker.groups.describeGroup('')), groupId: id, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }),
        authorizedOperations: req.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED,
      })),
    );
    return { throttleTimeMs: 0, groups };
  },
});
