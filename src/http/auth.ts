// Security of Fjord's HTTP side (Schema Registry, REST Proxy): HTTPS from a PEM key + certificate,
// and HTTP Basic or Bearer authentication checked by the Kafka cluster itself — the credentials
// are tried as a SASL login (PLAIN / SCRAM for a user and password, OAUTHBEARER for a token), so
// HTTP users are exactly the broker's users, with the same principals. The REST proxy then talks
// to Kafka *as* that user, so the broker's ACLs apply to every HTTP request unchanged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Admin } from '@platformatic/kafka';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { baseOptions, type KafkaAccess } from './kafka.js';

export type HttpAuthentication = 'none' | 'basic' | 'bearer';
type UserMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface HttpSecurityOptions {
  /** HTTPS: a PEM file holding the private key and certificate chain (like ssl.keystore.location). */
  tlsKeystore?: string;
  /** Who may call: 'basic' (user:password) or 'bearer' (an OAUTHBEARER JWT); default 'none'. */
  authentication?: HttpAuthentication;
  /** SASL mechanism used to check Basic credentials against the cluster (default PLAIN). */
  userMechanism?: UserMechanism;
}

/** The Kafka identity of an authenticated HTTP request. */
export interface HttpIdentity {
  /** `User:name` as the broker names it. */
  principal: string;
  /** How to reach Kafka as this user (the service's bootstrap and TLS, the user's SASL). */
  access: KafkaAccess;
  /** Stable key of the credentials (a hash), for per-identity caches. */
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    kafkaIdentity: HttpIdentity | null;
  }
}

/** fastify's `https` option from the keystore PEM, or undefined for plain HTTP. */
export function httpsOptions(security: HttpSecurityOptions | undefined): { key: string; cert: string } | undefined {
  if (!security?.tlsKeystore) return undefined;
  const pem = readFileSync(security.tlsKeystore, 'utf8');
  return { key: pem, cert: pem };
}

const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 1000;

class HttpAuthError extends Error {}

/**
 * Checks credentials by logging in to the cluster with them; remembers successes (by a hash of
 * the credentials, never the credentials themselves as keys) for a few minutes so a busy client
 * costs one SASL exchange, not one per request.
 */
export class CredentialVerifier {
  private readonly verified = new Map<string, { identity: HttpIdentity; until: number }>();

  constructor(
    private readonly service: KafkaAccess,
    private readonly mode: Exclude<HttpAuthentication, 'none'>,
    private readonly userMechanism: UserMechanism = 'PLAIN',
  ) {}

  async verify(header: string | undefined): Promise<HttpIdentity> {
    const { access, principal } = this.parse(header);
    const key = createHash('sha256').update(JSON.stringify(access.security?.sasl ?? {})).digest('hex');
    const cached = this.verified.get(key);
    if (cached && cached.until > Date.now()) return cached.identity;
    const admin = new Admin({ ...baseOptions(access), retries: 0 });
    try {
      await admin.metadata({ topics: [] });
    } catch (err) {
      const text = String((err as { message?: string }).message ?? err) + JSON.stringify((err as { errors?: unknown }).errors ?? '');
      if (/SASL|auth/i.test(text)) throw new HttpAuthError('Authentication failed');
      throw err;
    } finally {
      await Promise.resolve(admin.close()).catch(() => {});
    }
    const identity: HttpIdentity = { principal: principal ?? 'User:unknown', access, key };
    if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, { identity, until: Date.now() + CACHE_MS });
    return identity;
  }

  private parse(header: string | undefined): { access: KafkaAccess; principal: string | null } {
    if (this.mode === 'basic') {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
      if (!m) throw new HttpAuthError('Basic credentials required');
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new HttpAuthError('Malformed Basic credentials');
      const username = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      return {
        access: { ...this.service, security: { ...this.service.security, sasl: { mechanism: this.userMechanism, username, password } } },
        principal: `User:${username}`,
      };
    }
    const m = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header ?? '');
    if (!m) throw new HttpAuthError('Bearer token required');
    const token = m[1]!;
    return {
      access: { ...this.service, security: { ...this.service.security, sasl: { mechanism: 'OAUTHBEARER', token } } },
      principal: jwtSubject(token),
    };
  }
}

/** `User:<sub>` of a JWT, read without verification (the broker verifies it at login). */
function jwtSubject(token: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof payload.sub === 'string' ? `User:${payload.sub}` : null;
  } catch {
    return null;
  }
}

/**
 * Requires authentication on every request of `app` (401 with WWW-Authenticate otherwise) and
 * sets `request.kafkaIdentity`; with authentication 'none' the identity is null (the service's).
 */
export function installAuthentication(app: FastifyInstance, service: KafkaAccess, security: HttpSecurityOptions | undefined, realm: string): void {
  app.decorateRequest('kafkaIdentity', null);
  const mode = security?.authentication ?? 'none';
  if (mode === 'none') return;
  const verifier = new CredentialVerifier(service, mode, security?.userMechanism);
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    try {
      req.kafkaIdentity = await verifier.verify(req.headers.authorization);
    } catch (err) {
      if (!(err instanceof HttpAuthError)) throw err;
      const scheme = mode === 'basic' ? 'Basic' : 'Bearer';
      return reply
        .status(401)
        .header('www-authenticate', `${scheme} realm="${realm}"`)
        .send({ error_code: 401, message: err.message });
    }
  });
}
