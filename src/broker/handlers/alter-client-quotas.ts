// AlterClientQuotas (v0-1): sets or removes quota values per entity; stored in the metadata
// store (see ../quotas.ts). validateOnly checks without storing.
import { ErrorCode } from '../../protocol/errors.js';
import type { AlterClientQuotasRequest, AlterClientQuotasResponseInput } from '../../protocol/gen/alter-client-quotas.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type EntryOut = NonNullable<AlterClientQuotasResponseInput['entries']>[number];

export default defineHandler<AlterClientQuotasRequest, AlterClientQuotasResponseInput>({
  apiKey: ApiKey.AlterClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const entries: EntryOut[] = [];
    for (const e of req.entries) {
      const entity = e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName }));
      if (!allowedOnCluster(ctx, Op.ALTER_CONFIGS)) {
        entries.push({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entity });
        continue;
      }
      try {
        await ctx.broker.quotas.alter(entity, e.ops, req.validateOnly);
        entries.push({ errorCode: ErrorCode.NONE, errorMessage: null, entity });
      } catch (err) {
        entries.push({ errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR), errorMessage: (err as Error).message, entity });
      }
    }
    return { throttleTimeMs: 0, entries };
  },
});
