// ConsumerGroupDescribe (KIP-848): members, epochs, current and target assignments of consumer groups.
import type {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponseInput,
} from '../../protocol/gen/consumer-group-describe.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

/** ConsumerGroupDescribe MemberType: -1 unknown, 0 classic, 1 consumer. */
const MEMBER_TYPE_CONSUMER = 1;

export default defineHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponseInput>({
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    return ctx.broker.groups.consumerGroups
      .describeGroups(req.groupIds)
      // v1 (KIP-1099) tells the member type: every member here joined with the consumer protocol.
      .then((groups) => ({
        throttleTimeMs: 0,
        groups: groups.map((g) => ({ ...g, members: g.members?.map((m) => ({ ...m, memberType: MEMBER_TYPE_CONSUMER })) })),
      }));
  },
});
