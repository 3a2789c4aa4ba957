import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { SaslAuthenticateRequest, SaslAuthenticateResponseInput } from '../../protocol/gen/sasl-authenticate.js';
import { authenticateStep } from '../../security/authenticate.js';
import { defineHandler } from '../handler.js';

export default defineHandler<SaslAuthenticateRequest, SaslAuthenticateResponseInput>({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const session = ctx.connection.session;
    if (session.exchange === null || session.rawTokens) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate before SaslHandshake', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
    }
    const r = await authenticateStep(ctx.broker.security, ctx.connection, req.authBytes);
    if (!r.ok) {
      return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: r.message, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: r.response, sessionLifetimeMs: r.sessionLifetimeMs };
  },
});
