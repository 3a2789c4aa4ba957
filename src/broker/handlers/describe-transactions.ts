// DescribeTransactions: state, producer, timeout and partitions of transactional ids.
import type { DescribeTransactionsRequest, DescribeTransactionsResponseInput } from '../../protocol/gen/describe-transactions.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DescribeTransactionsRequest, DescribeTransactionsResponseInput>({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const transactionStates = await Promise.all(req.transactionalIds.map((id) => ctx.broker.transactions.describe(id)));
    return { throttleTimeMs: 0, transactionStates };
  },
});
