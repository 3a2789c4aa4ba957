// ShareFetch (KIP-932): acquires records for a share-group member (share sessions, piggy-backed
// acknowledgements, record limits and acquire modes, long poll).
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareFetchRequest, ShareFetchResponseInput } from '../../protocol/gen/share-fetch.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ShareFetchRequest, ShareFetchResponseInput>({
  apiKey: ApiKey.ShareFetch,
  minVersion: 1,
  maxVersion: 2,
  handle(req, ctx) {
    return ctx.broker.groups.shareGroups.shareFetch(req, ctx.apiVersion);
  },
});
