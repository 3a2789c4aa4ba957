// DescribeShareGroupOffsets (KIP-932): start offset and lag of each share-partition of a group.
import type { DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponseInput } from '../../protocol/gen/describe-share-group-offsets.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';

export default defineHandler<DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponseInput>({
  apiKey: ApiKey.DescribeShareGroupOffsets,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const service = ctx.broker.groups.shareGroups;
    const groups = [];
    for (const g of req.groups) {
      if (!allowedOnGroup(ctx, Op.DESCRIBE, g.groupId)) {
        groups.push({ groupId: g.groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, topics: [] });
        continue;
      }
      // Topics the principal may not describe are left out, as Kafka does.
      const topics = g.topics === null ? null : g.topics.filter((t) => allowedOnTopic(ctx, Op.DESCRIBE, t.topicName));
      const described = await service.describeOffsets(g.groupId, topics);
      if (g.topics === null && described.topics) {
        described.topics = described.topics.filter((t: { topicName: string }) => allowedOnTopic(ctx, Op.DESCRIBE, t.topicName));
      }
      groups.push(described);
    }
    return { throttleTimeMs: 0, groups };
  },
});
