// SASL/PLAIN (RFC 4616): one message "authzid NUL authcid NUL password". Users come from a
// JAAS-style `sasl.jaas.config` (`user_alice="secret"` entries, as Kafka's PlainLoginModule reads
// them) and from SCRAM credentials in the credential store, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError } from './errors.js';

const MAX_PLAIN_MESSAGE = 1024;

export function parsePlainMessage(token: Buffer): { authzid: string; user: string; password: string } {
  if (token.length > MAX_PLAIN_MESSAGE) throw new SaslAuthenticationError('SASL/PLAIN message too long');
  const parts = token.toString('utf8').split('\u0000');
  if (parts.length !== 3) throw new SaslAuthenticationError('Invalid SASL/PLAIN message: expected 3 tokens');
  const [authzid, user, password] = parts as [string, string, string];
  if (!user) throw new SaslAuthenticationError('Authentication failed: username not specified');
  if (!password) throw new SaslAuthenticationError('Authentication failed: password not specified');
  if (authzid && authzid !== user) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
  return { authzid, user, password };
}

/** `user_NAME="password"` entries of a JAAS login-module config. */
export function parseJaasUsers(jaas: string | null | undefined): Map<string, string> {
  const users = new Map<string, string>();
  if (!jaas) return users;
  const re = /\buser_([^\s=]+)\s*=\s*"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(jaas); m; m = re.exec(jaas)) users.set(m[1]!, m[2]!.replace(/\\(.)/g, '$1'));
  return users;
}

/** Constant-time string equality (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
