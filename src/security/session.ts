// What a connection knows about who is on the other end: the listener it arrived on, the SASL
// exchange in progress, and the authenticated principal. Owned by the connection, read by the
// dispatcher (what may be served before authentication) and by handlers (authorization).
import { ANONYMOUS } from './principal.js';
import type { SaslExchange } from './sasl.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export interface ListenerInfo {
  /** Listener name as configured (PLAINTEXT, SASL_SSL, EXTERNAL, ...). */
  name: string;
  protocol: SecurityProtocol;
}

export const PLAINTEXT_LISTENER: ListenerInfo = { name: 'PLAINTEXT', protocol: 'PLAINTEXT' };

export class ConnectionSession {
  principal = ANONYMOUS;
  /** False on SASL listeners until SaslAuthenticate (or the raw v0 exchange) succeeds. */
  authenticated: boolean;
  /** Mechanism chosen by SaslHandshake; null before it. */
  mechanism: string | null = null;
  /** SaslHandshake v0: the following frames are raw SASL tokens without Kafka headers. */
  rawTokens = false;
  exchange: SaslExchange | null = null;
  /** When the SASL session ends (KIP-368); a request after it closes the connection. */
  expiresAtMs = Number.POSITIVE_INFINITY;

  constructor(
    readonly listener: ListenerInfo,
    readonly clientHost: string,
  ) {
    this.authenticated = !requiresSasl(listener.protocol);
  }
}

export function requiresSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}
