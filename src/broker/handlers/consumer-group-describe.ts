// ConsumerGroupDescribe (KIP-848): members, epochs, current and target assignments of consumer groups.
import type {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponseInput,
} from '../../protocol/gen/consumer-group-describe.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, Op } from '../../security/authz.js';

/** ConsumerGroupDescribe MemberType: -1 unknown, 0 classic, 1 consumer. */
const MEMBER_TYPE_CONSUMER = 1;

export default defineHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponseInput>({
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const permitted = req.groupIds.filter((id) => allowedOnGroup(ctx, Op.DESCRIBE, id));
    const denied = req.groupIds
      .filter((id) => !allowedOnGroup(ctx, Op.DESCRIBE, id))
      .map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null }));
    return ctx.broker.groups.consumerGroups
      .describeGroups(permitted)
      // v1 (KIP-1099) tells the member type: every member here joined with the consumer protocol.
      .then((groups) => ({
        throttleTimeMs: 0,
        groups: [
          ...groups.map((g) => ({ ...g, members: g.members?.map((m) => ({ ...m, memberType: MEMBER_TYPE_CONSUMER })) })),
          ...denied,
        ],
      }));
  },
});
