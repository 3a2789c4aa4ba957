// ShareAcknowledge (KIP-932): ACCEPT / RELEASE / REJECT / RENEW of acquired records.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareAcknowledgeRequest, ShareAcknowledgeResponseInput } from '../../protocol/gen/share-acknowledge.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ShareAcknowledgeRequest, ShareAcknowledgeResponseInput>({
  apiKey: ApiKey.ShareAcknowledge,
  minVersion: 1,
  maxVersion: 2,
  handle(req, ctx) {
    return ctx.broker.groups.shareGroups.shareAcknowledge(req, ctx.apiVersion);
  },
});
