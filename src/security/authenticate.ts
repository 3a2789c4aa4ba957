// One SASL step on a connection, shared by SaslAuthenticate and the raw (SaslHandshake v0)
// token path: runs the exchange, sets the principal on success (a re-authentication must keep
// the same principal, as KIP-368 requires), and on failure waits
// `connection.failed.authentication.delay.ms` and closes the connection after the answer.
import type { Connection } from '../net/connection.js';
import { SaslAuthenticationError } from './errors.js';
import { userPrincipal } from './principal.js';
import type { SecurityManager } from './security-manager.js';

export type AuthenticateOutcome =
  | { ok: true; response: Buffer; sessionLifetimeMs: number; done: boolean }
  | { ok: false; message: string };

export async function authenticateStep(security: SecurityManager, connection: Connection, token: Buffer): Promise<AuthenticateOutcome> {
  const session = connection.session;
  const exchange = session.exchange;
  if (exchange === null) return { ok: false, message: 'No SASL exchange in progress' };
  try {
    const step = await exchange.step(token);
    if (step.user === undefined) return { ok: true, response: step.response, sessionLifetimeMs: 0, done: false };
    const principal = userPrincipal(step.user);
    if (session.authenticated && session.principal !== principal && session.expiresAtMs !== Number.POSITIVE_INFINITY) {
      throw new SaslAuthenticationError('Cannot change principals during re-authentication');
    }
    if (session.authenticated) security.reauthentications++;
    session.principal = principal;
    session.authenticated = true;
    session.exchange = null;
    session.rawTokens = false;
    const now = Date.now();
    let lifetime = security.reauthMs;
    if (lifetime > 0 && step.expiresAtMs !== undefined) lifetime = Math.max(0, Math.min(lifetime, step.expiresAtMs - now));
    session.expiresAtMs = lifetime > 0 ? now + lifetime : Number.POSITIVE_INFINITY;
    return { ok: true, response: step.response, sessionLifetimeMs: lifetime, done: true };
  } catch (err) {
    session.exchange = null;
    session.authenticated = false;
    const message = err instanceof SaslAuthenticationError ? err.message : `Authentication failed: ${(err as Error).message}`;
    const delay = security.failedAuthenticationDelayMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    // Let the answer go out, then end the connection (Kafka closes it after a failed exchange).
    setTimeout(() => connection.socket.end(), 0);
    return { ok: false, message };
  }
}
