// AlterConfigs (legacy, v0-2): the sent set replaces all dynamic configs of the resource.
// Topic and broker resources ("" = cluster default, "<id>" = per broker); see ../config-admin.ts.
import { ErrorCode } from '../../protocol/errors.js';
import type { AlterConfigsRequest, AlterConfigsResponseInput } from '../../protocol/gen/alter-configs.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { ConfigResourceType } from '../../config/config-admin.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { configResourceDenial, Op } from '../../security/authz.js';
import { warnRemovedInResources } from '../removed-configs.js';

type Result = NonNullable<AlterConfigsResponseInput['responses']>[number];

export default defineHandler<AlterConfigsRequest, AlterConfigsResponseInput>({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const { broker } = ctx;
    warnRemovedInResources(broker.loggers.warn('fjord.broker'), req.resources);
    const counts = new Map<string, number>();
    for (const r of req.resources) counts.set(`${r.resourceType}:${r.resourceName}`, (counts.get(`${r.resourceType}:${r.resourceName}`) ?? 0) + 1);
    const responses: Result[] = [];
    for (const r of req.resources) {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const denial = configResourceDenial(ctx, Op.ALTER_CONFIGS, r.resourceType, r.resourceName);
      if (denial !== 0) {
        responses.push({ ...base, errorCode: denial, errorMessage: null });
        continue;
      }
      if (counts.get(`${r.resourceType}:${r.resourceName}`)! > 1) {
        responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate resource in the request.' });
        continue;
      }
      const names = new Set<string>();
      const configs: Record<string, string | null> = {};
      let duplicate: string | undefined;
      for (const c of r.configs) {
        if (names.has(c.name)) duplicate = c.name;
        names.add(c.name);
        configs[c.name] = c.value;
      }
      if (duplicate !== undefined) {
        responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Error due to duplicate config keys: ${duplicate}` });
        continue;
      }
      try {
        if (r.resourceType === ConfigResourceType.TOPIC) {
          await broker.configAdmin.replaceTopicConfigs(r.resourceName, configs, req.validateOnly);
        } else if (r.resourceType === ConfigResourceType.BROKER) {
          await broker.configAdmin.replaceBrokerConfigs(r.resourceName, configs, req.validateOnly);
        } else {
          responses.push({
            ...base,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `AlterConfigs is not supported for resource type ${r.resourceType}; use IncrementalAlterConfigs.`,
          });
          continue;
        }
        responses.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        responses.push({ ...base, errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR), errorMessage: (err as Error).message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
