// ListTransactions: transactional ids coordinated by this broker, with state / producer id /
// duration filters.
import { ErrorCode } from '../../protocol/errors.js';
import type { ListTransactionsRequest, ListTransactionsResponseInput } from '../../protocol/gen/list-transactions.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowed, Op, Resource } from '../../security/authz.js';

export default defineHandler<ListTransactionsRequest, ListTransactionsResponseInput>({
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    const v = ctx.apiVersion;
    let pattern: RegExp | null = null;
    if (v >= 2 && req.transactionalIdPattern) {
      try {
        pattern = new RegExp(`^(?:${req.transactionalIdPattern})$`);
      } catch {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, unknownStateFilters: [], transactionStates: [] };
      }
    }
    const r = ctx.broker.transactions.list(req.stateFilters, req.producerIdFilters.map(Number), v >= 1 ? Number(req.durationFilter) : -1, pattern);
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode ?? ErrorCode.NONE,
      unknownStateFilters: r.unknownStateFilters,
      // only the ids the principal may describe, as Kafka does
      transactionStates: r.transactionStates.filter((t) => allowed(ctx, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, t.transactionalId)),
    };
  },
});
