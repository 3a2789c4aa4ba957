import { ErrorCode } from '../../protocol/errors.js';
import type { FindCoordinatorRequest, FindCoordinatorResponseInput } from '../../protocol/gen/find-coordinator.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { CoordinatorKeyType, type CoordinatorLocation } from '../../coordinator/runtime/runtime.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { brokerEndpoints } from '../endpoints.js';
import { allowed, Op, Resource } from '../../security/authz.js';

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
    // DESCRIBE on the group / transactional id, then the coordinator's endpoint on the listener
    // this client came in on.
    const answer = async (key: string): Promise<CoordinatorLocation> => {
      const resource = req.keyType === CoordinatorKeyType.TRANSACTION ? Resource.TRANSACTIONAL_ID : Resource.GROUP;
      if (!allowed(ctx, Op.DESCRIBE, resource, key)) {
        const errorCode = resource === Resource.GROUP ? ErrorCode.GROUP_AUTHORIZATION_FAILED : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return { errorCode, errorMessage: 'Authorization failed.', nodeId: -1, host: '', port: -1 };
      }
      const a = await resolve(broker, req.keyType, key);
      if (a.nodeId < 0) return a;
      const e = brokerEndpoints(broker.metadata, ctx.connection.session.listener.name).find((b) => b.nodeId === a.nodeId);
      return e ? { ...a, host: e.host, port: e.port } : a;
    };
    if (ctx.apiVersion >= 4) {
      const coordinators = await Promise.all(req.coordinatorKeys.map(async (key) => ({ key, ...(await answer(key)) })));
      return { throttleTimeMs: 0, coordinators };
    }
    return { throttleTimeMs: 0, ...(await answer(req.key)) };
  },
});
