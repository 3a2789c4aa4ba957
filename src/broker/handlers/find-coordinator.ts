import { ErrorCode } from '../../protocol/errors.js';
import type { FindCoordinatorRequest, FindCoordinatorResponseInput } from '../../protocol/gen/find-coordinator.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

export interface CoordinatorAnswer {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

/** FindCoordinator key types (KIP-98: 1 = transaction; KIP-932: 2 = share). */
export const CoordinatorKeyType = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const;

/**
 * Resolvers per key type. The group coordinator answers type 0; the transaction coordinator
 * registers type 1 here (`coordinatorResolvers.set(CoordinatorKeyType.TRANSACTION, ...)`).
 */
export const coordinatorResolvers = new Map<number, (broker: Broker, key: string) => Promise<CoordinatorAnswer>>([
  [CoordinatorKeyType.GROUP, (broker, key) => broker.groups.findGroupCoordinator(key)],
  [CoordinatorKeyType.TRANSACTION, (broker, key) => broker.transactions.findCoordinator(key)],
]);

async function resolve(broker: Broker, keyType: number, key: string): Promise<CoordinatorAnswer> {
  const fail = (errorCode: number, errorMessage: string | null): CoordinatorAnswer => ({ errorCode, errorMessage, nodeId: -1, host: '', port: -1 });
  const resolver = coordinatorResolvers.get(keyType);
  if (resolver) return resolver(broker, key);
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
