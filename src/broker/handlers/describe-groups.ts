import type { DescribeGroupsRequest, DescribeGroupsResponseInput } from '../../protocol/gen/describe-groups.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { allowedOnGroup, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';

/** "Not provided" for authorizedOperations (Kafka's Integer.MIN_VALUE) when the client did not ask. */
const OPERATIONS_NOT_REQUESTED = -2147483648;
/** READ, DESCRIBE, DELETE on a group (AclOperation bit set); no ACLs in Fjord yet. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 8) | (1 << 6);

export default defineHandler<DescribeGroupsRequest, DescribeGroupsResponseInput>({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const groups = await Promise.all(
      req.groups.map(async (id) => {
        if (!allowedOnGroup(ctx, Op.DESCRIBE, id)) {
          const empty = await ctx.broker.groups.describeGroup('');
          return { ...empty, groupId: id, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, authorizedOperations: OPERATIONS_NOT_REQUESTED };
        }
        const group = await ctx.broker.groups.describeGroup(id);
        // v6 (KIP-1043): a group that does not exist (or is not a classic group) is an error, not
        // an empty Dead group.
        const notFound = ctx.apiVersion >= 6 && group.errorCode === ErrorCode.NONE && group.groupState === 'Dead';
        return {
          ...group,
          ...(notFound ? { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${id} not found.` } : {}),
          authorizedOperations: req.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED,
        };
      }),
    );
    return { throttleTimeMs: 0, groups };
  },
});
