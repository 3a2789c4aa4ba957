import type { OffsetDeleteRequest, OffsetDeleteResponseInput } from '../../protocol/gen/offset-delete.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, allowedOnTopic, Op } from '../../security/authz.js';

export default defineHandler<OffsetDeleteRequest, OffsetDeleteResponseInput>({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    if (!allowedOnGroup(ctx, Op.DELETE, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
    }
    // Kafka: topics the principal may not read are answered per partition and not deleted.
    const denied = req.topics.filter((t) => !allowedOnTopic(ctx, Op.READ, t.name));
    const permitted = req.topics.filter((t) => allowedOnTopic(ctx, Op.READ, t.name));
    const r = await ctx.broker.groups.deleteOffsets(
      req.groupId,
      permitted.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
    );
    const deniedOut = denied.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    }));
    return { throttleTimeMs: 0, errorCode: r.errorCode, topics: [...r.topics, ...deniedOut] };
  },
});
