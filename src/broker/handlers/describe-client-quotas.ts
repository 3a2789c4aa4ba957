// DescribeClientQuotas (v0-1): lists stored client quotas matching the filter (see ../quotas.ts).
import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeClientQuotasRequest, DescribeClientQuotasResponseInput } from '../../protocol/gen/describe-client-quotas.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

export default defineHandler<DescribeClientQuotasRequest, DescribeClientQuotasResponseInput>({
  apiKey: ApiKey.DescribeClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    if (!allowedOnCluster(ctx, Op.DESCRIBE_CONFIGS)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null };
    }
    try {
      const found = ctx.broker.quotas.describe(req.components, req.strict);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        entries: found.map((q) => ({
          entity: q.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName })),
          values: Object.entries(q.values).map(([key, value]) => ({ key, value })),
        })),
      };
    } catch (err) {
      return {
        throttleTimeMs: 0,
        errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR),
        errorMessage: (err as Error).message,
        entries: null,
      };
    }
  },
});
