import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { SaslHandshakeRequest, SaslHandshakeResponseInput } from '../../protocol/gen/sasl-handshake.js';
import { requiresSasl } from '../../security/session.js';
import { defineHandler } from '../handler.js';

// v0: the SASL tokens that follow travel as raw size-prefixed frames; v1: inside SaslAuthenticate.
export default defineHandler<SaslHandshakeRequest, SaslHandshakeResponseInput>({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const { security } = ctx.broker;
    const session = ctx.connection.session;
    const mechanisms = [...security.mechanisms];
    if (!requiresSasl(session.listener.protocol) || session.exchange !== null) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    if (!mechanisms.includes(req.mechanism)) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    // Re-authentication (KIP-368) needs SaslAuthenticate, which v0 clients do not use.
    if (session.authenticated && ctx.apiVersion === 0) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    session.mechanism = req.mechanism;
    session.exchange = security.newExchange(req.mechanism);
    session.rawTokens = ctx.apiVersion === 0;
    return { errorCode: ErrorCode.NONE, mechanisms };
  },
});
