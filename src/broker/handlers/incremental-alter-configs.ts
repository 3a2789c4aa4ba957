// IncrementalAlterConfigs (v0-1): SET / DELETE / APPEND / SUBTRACT per config, on topics,
// brokers ("" = cluster default, "<id>" = per broker), broker loggers and groups (share.* configs). See ../config-admin.ts.
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponseInput,
} from '../../protocol/gen/incremental-alter-configs.js';
import { ConfigResourceType, type ConfigOp } from '../../config/config-admin.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { configResourceDenial, Op } from '../../security/authz.js';
import { warnRemovedInResources } from '../removed-configs.js';

type Result = NonNullable<IncrementalAlterConfigsResponseInput['responses']>[number];

export default defineHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponseInput>({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const { broker } = ctx;
    warnRemovedInResources(broker.loggers.warn('fjord.broker'), req.resources);
    const key = (r: { resourceType: number; resourceName: string }) => `${r.resourceType}:${r.resourceName}`;
    const counts = new Map<string, number>();
    for (const r of req.resources) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
    const responses: Result[] = [];
    for (const r of req.resources) {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const denial = configResourceDenial(ctx, Op.ALTER_CONFIGS, r.resourceType, r.resourceName);
      if (denial !== 0) {
        responses.push({ ...base, errorCode: denial, errorMessage: null });
        continue;
      }
      if (counts.get(key(r))! > 1) {
        responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate resource in the request.' });
        continue;
      }
      const names = new Set<string>();
      let duplicate: string | undefined;
      const ops: ConfigOp[] = r.configs.map((c) => {
        if (names.has(c.name)) duplicate = c.name;
        names.add(c.name);
        return { name: c.name, op: c.configOperation, value: c.value };
      });
      if (duplicate !== undefined) {
        responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Error due to duplicate config keys: ${duplicate}` });
        continue;
      }
      try {
        if (r.resourceType === ConfigResourceType.TOPIC) {
          await broker.configAdmin.alterTopicConfigs(r.resourceName, ops, req.validateOnly);
        } else if (r.resourceType === ConfigResourceType.BROKER) {
          await broker.configAdmin.alterBrokerConfigs(r.resourceName, ops, req.validateOnly);
        } else if (r.resourceType === ConfigResourceType.BROKER_LOGGER) {
          broker.configAdmin.alterLoggers(r.resourceName, ops, req.validateOnly);
        } else if (r.resourceType === ConfigResourceType.GROUP) {
          await broker.configAdmin.groups.alter(r.resourceName, ops, req.validateOnly);
        } else {
          responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}` });
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
