import { ErrorCode } from '../../protocol/errors.js';
import type { CreatePartitionsRequest, CreatePartitionsResponseInput } from '../../protocol/gen/create-partitions.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { allowedOnTopic, Op } from '../../security/authz.js';

export default defineHandler<CreatePartitionsRequest, CreatePartitionsResponseInput>({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const results = [];
    for (const t of req.topics) {
      if (!allowedOnTopic(ctx, Op.ALTER, t.name)) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
        continue;
      }
      try {
        await ctx.broker.topics.addPartitions(t.name, t.count, t.assignments, req.validateOnly);
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        results.push({
          name: t.name,
          errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR),
          errorMessage: (err as Error).message,
        });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
