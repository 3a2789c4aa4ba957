// ShareAcknowledge (KIP-932): ACCEPT / RELEASE / REJECT / RENEW of acquired records.
import { shareGroupsOf } from '../../coordinator/share/index.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareAcknowledgeRequest, ShareAcknowledgeResponseInput } from '../../protocol/gen/share-acknowledge.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ShareAcknowledgeRequest, ShareAcknowledgeResponseInput>({
  apiKey: ApiKey.ShareAcknowledge,
  minVersion: 1,
  maxVersion: 2,
  handle(req, ctx) {
    return shareGroupsOf(ctx.broker).shareAcknowledge(req, ctx.apiVersion);
  },
});
