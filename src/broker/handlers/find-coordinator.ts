import { ErrorCode } from '../../protocol/errors.js';
import type { FindCoordinatorRequest, FindCoordinatorResponseInput } from '../../protocol/gen/find-coordinator.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { CoordinatorKeyType, type CoordinatorLocation } from '../../coordinator/runtime/runtime.js';
import { defineHandler, type BrokerServices } from '../handler.js';

/** The broker's own resolver for the key type (broker.coordinators); none = not served yet. */
async function resolve(broker: BrokerServices, keyType: number, key: string): Promise<CoordinatorLocation> {
  const fail = (errorCode: number, errorMessage: string | null): CoordinatorLocation => ({ errorCode, errorMessage, nodeId: -1, host: '', port: -1 });
  const locator = broker.coordinators.get(keyType);
  if (locator) return locator.locate(key);
  if (keyType === CoordinatorKeyType.TRANSACTION || keyType === CoordinatorKeyType.SHARE) {
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'This broker has no coordinator of this type yet.');
  }
  return fail(ErrorCode.INVALID_REQUEST, `Unknown coordinator key type ${keyType}.`);
}

export default defineHandler<FindCoordinatorRequest, FindCoordinatorResponseInput>({
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const { broker } = ctx;
    if (ctx.apiVersion >= 4) {
      const coordinators = await Promise.all(
        req.coordinatorKeys.map(async (key) => ({ key, ...(await resolve(broker, req.keyType, key)) })),
      );
      return { throttleTimeMs: 0, coordinators };
    }
    const a = await resolve(broker, req.keyType, req.key);
    return { throttleTimeMs: 0, ...a };
  },
});
