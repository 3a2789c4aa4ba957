// DescribeTransactions: state, producer, timeout and partitions of transactional ids.
import type { DescribeTransactionsRequest, DescribeTransactionsResponseInput } from '../../protocol/gen/describe-transactions.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowed, Op, Resource } from '../../security/authz.js';
import { ErrorCode } from '../../protocol/errors.js';

export default defineHandler<DescribeTransactionsRequest, DescribeTransactionsResponseInput>({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const transactionStates = await Promise.all(
      req.transactionalIds.map((id) =>
        allowed(ctx, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, id)
          ? ctx.broker.transactions.describe(id)
          : { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionalId: id, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] },
      ),
    );
    return { throttleTimeMs: 0, transactionStates };
  },
});
