// ConsumerGroupDescribe (KIP-848): members, epochs, current and target assignments of consumer groups.
import type {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponseInput,
} from '../../protocol/gen/consumer-group-describe.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponseInput>({
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    return ctx.broker.groups.consumerGroups
      .describeGroups(req.groupIds)
      .then((groups) => ({ throttleTimeMs: 0, groups }));
  },
});
