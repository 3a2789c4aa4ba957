// ListTransactions: transactional ids coordinated by this broker, with state / producer id /
// duration filters.
import { ErrorCode } from '../../protocol/errors.js';
import type { ListTransactionsRequest, ListTransactionsResponseInput } from '../../protocol/gen/list-transactions.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ListTransactionsRequest, ListTransactionsResponseInput>({
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const r = ctx.broker.transactions.list(req.stateFilters, req.producerIdFilters.map(Number), ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1, null);
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode ?? ErrorCode.NONE,
      unknownStateFilters: r.unknownStateFilters,
      transactionStates: r.transactionStates,
    };
  },
});
