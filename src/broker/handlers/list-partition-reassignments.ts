// ListPartitionReassignments (v0): reassignments complete synchronously in Fjord (or are
// refused), so none is ever ongoing; the answer lists nothing.
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type {
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponseInput,
} from '../../protocol/gen/list-partition-reassignments.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

export default defineHandler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponseInput>({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle(_req, ctx) {
    if (!allowedOnCluster(ctx, Op.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics: [] };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
  },
});
