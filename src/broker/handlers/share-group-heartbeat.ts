// ShareGroupHeartbeat (KIP-932): join, heartbeat, leave of share-group members.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponseInput } from '../../protocol/gen/share-group-heartbeat.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponseInput>({
  apiKey: ApiKey.ShareGroupHeartbeat,
  minVersion: 1,
  maxVersion: 1,
  async handle(req, ctx) {
    const res = await ctx.broker.groups.shareGroups.heartbeat(req, {
      clientId: ctx.clientId ?? '',
      clientHost: `/${ctx.connection.socket.remoteAddress ?? ''}`,
    });
    return { throttleTimeMs: 0, ...res };
  },
});
