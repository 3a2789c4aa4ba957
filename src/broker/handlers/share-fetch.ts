// ShareFetch (KIP-932): acquires records for a share-group member (share sessions, piggy-backed
// acknowledgements, record limits and acquire modes, long poll).
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareFetchRequest, ShareFetchResponseInput } from '../../protocol/gen/share-fetch.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/errors.js';
import { allowedOnGroup, Op, topicsByReadPermission } from '../../security/authz.js';

export default defineHandler<ShareFetchRequest, ShareFetchResponseInput>({
  apiKey: ApiKey.ShareFetch,
  minVersion: 1,
  maxVersion: 2,
  async handle(req, ctx) {
    if (req.groupId !== null && !allowedOnGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const { permitted, denied } = topicsByReadPermission(ctx, req.topics);
    // Log bytes are read into the connection's pooled buffers, given back once this response is
    // written (as Fetch does): no fresh read buffers for the GC per ShareFetch.
    const lease = ctx.connection.readBuffers?.lease();
    if (lease) ctx.onResponseWritten = lease.release;
    if (denied.length === 0) return ctx.broker.groups.shareGroups.shareFetch(req, ctx.apiVersion, lease?.alloc);
    const res = await ctx.broker.groups.shareGroups.shareFetch({ ...req, topics: permitted }, ctx.apiVersion, lease?.alloc);
    const refused = denied.map((t) => ({
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        acknowledgeErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      })),
    }));
    return { ...res, responses: [...(res.responses ?? []), ...refused] };
  },
});
