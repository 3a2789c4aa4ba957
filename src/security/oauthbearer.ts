// SASL/OAUTHBEARER (RFC 7628, KIP-255/KIP-768): the client's first message carries
// "n,,\x01auth=Bearer <JWT>\x01\x01". The broker validates the JWT's signature against a JWKS
// (file or URL), and its issuer, audience and time claims with a clock skew; the principal is
// the `sub` claim (or `sasl.oauthbearer.sub.claim.name`). Unsigned tokens (alg "none") are
// accepted only when explicitly enabled for development, as Kafka's unsecured handler does.
import { createPublicKey, verify as cryptoVerify, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SaslAuthenticationError } from './errors.js';

export interface OAuthBearerSettings {
  /** File path or http(s) URL of a JWKS document; null = no signed tokens accepted. */
  jwksEndpoint: string | null;
  expectedIssuer: string | null;
  expectedAudience: string[];
  clockSkewSeconds: number;
  subClaim: string;
  allowUnsecured: boolean;
  /** How long a fetched JWKS is trusted before it is fetched again. */
  jwksRefreshMs: number;
}

interface Jwk {
  kid?: string;
  kty: string;
  alg?: string;
  [k: string]: unknown;
}

const MAX_TOKEN_MESSAGE = 16 * 1024;

export function parseOAuthBearerMessage(token: Buffer): { jwt: string; extensions: Record<string, string> } {
  if (token.length > MAX_TOKEN_MESSAGE) throw new SaslAuthenticationError('OAUTHBEARER message too long');
  const text = token.toString('utf8');
  const m = /^([ny]|p=[^,]*),(a=[^,]*)?,\x01(.*)\x01\x01$/s.exec(text);
  if (!m) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message');
  const extensions: Record<string, string> = {};
  let auth: string | undefined;
  for (const kv of m[3]!.split('\x01')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new SaslAuthenticationError('Invalid OAUTHBEARER key/value pair');
    const key = kv.slice(0, eq);
    const value = kv.slice(eq + 1);
    if (key === 'auth') auth = value;
    else extensions[key] = value;
  }
  const bearer = auth === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(auth);
  if (!bearer) throw new SaslAuthenticationError('OAUTHBEARER message lacks "auth=Bearer <token>"');
  return { jwt: bearer[1]!, extensions };
}

function b64json(part: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new SaslAuthenticationError('Malformed JWT');
  }
}

export interface ValidatedToken {
  principal: string;
  /** Expiry in ms since the epoch (session lifetime for re-authentication). */
  expiresAtMs: number;
}

export class OAuthBearerValidator {
  private jwks: { keys: Jwk[]; fetchedAt: number } | undefined;

  constructor(private readonly settings: OAuthBearerSettings) {}

  async validate(jwt: string, nowMs = Date.now()): Promise<ValidatedToken> {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new SaslAuthenticationError('Malformed JWT: expected three parts');
    const [h, p, s] = parts as [string, string, string];
    const header = b64json(h);
    const claims = b64json(p);
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (alg === 'none') {
      if (!this.settings.allowUnsecured) throw new SaslAuthenticationError('Unsecured JWT (alg "none") rejected');
    } else {
      await this.verifySignature(alg, typeof header.kid === 'string' ? header.kid : undefined, `${h}.${p}`, Buffer.from(s, 'base64url'));
    }
    const skew = this.settings.clockSkewSeconds * 1000;
    const exp = claims.exp;
    if (typeof exp !== 'number') throw new SaslAuthenticationError('JWT has no exp claim');
    if (exp * 1000 + skew < nowMs) throw new SaslAuthenticationError('JWT expired');
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 - skew > nowMs) throw new SaslAuthenticationError('JWT not yet valid (nbf)');
    if (typeof claims.iat === 'number' && claims.iat * 1000 - skew > nowMs) throw new SaslAuthenticationError('JWT issued in the future (iat)');
    if (this.settings.expectedIssuer !== null && claims.iss !== this.settings.expectedIssuer) {
      throw new SaslAuthenticationError('JWT issuer not accepted');
    }
    if (this.settings.expectedAudience.length > 0) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => typeof a === 'string' && this.settings.expectedAudience.includes(a))) {
        throw new SaslAuthenticationError('JWT audience not accepted');
      }
    }
    const sub = claims[this.settings.subClaim];
    if (typeof sub !== 'string' || sub === '') throw new SaslAuthenticationError(`JWT has no ${this.settings.subClaim} claim`);
    return { principal: sub, expiresAtMs: exp * 1000 };
  }

  private async verifySignature(alg: string, kid: string | undefined, signed: string, signature: Buffer): Promise<void> {
    const keys = await this.keys();
    const candidates = keys.filter((k) => (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg));
    if (candidates.length === 0) throw new SaslAuthenticationError('No JWKS key matches the token');
    for (const jwk of candidates) {
      if (verifyWith(alg, jwk, signed, signature)) return;
    }
    throw new SaslAuthenticationError('JWT signature invalid');
  }

  private async keys(): Promise<Jwk[]> {
    const endpoint = this.settings.jwksEndpoint;
    if (endpoint === null) throw new SaslAuthenticationError('Signed JWTs are not accepted: no JWKS configured');
    if (this.jwks && Date.now() - this.jwks.fetchedAt < this.settings.jwksRefreshMs) return this.jwks.keys;
    let text: string;
    if (/^https?:\/\//.test(endpoint)) {
      const res = await fetch(endpoint, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new SaslAuthenticationError(`JWKS endpoint answered ${res.status}`);
      text = await res.text();
    } else {
      text = await readFile(endpoint.replace(/^file:\/\//, ''), 'utf8');
    }
    const doc = JSON.parse(text) as { keys?: Jwk[] };
    this.jwks = { keys: Array.isArray(doc.keys) ? doc.keys : [], fetchedAt: Date.now() };
    return this.jwks.keys;
  }
}

function verifyWith(alg: string, jwk: Jwk, signed: string, signature: Buffer): boolean {
  try {
    if (alg.startsWith('HS')) {
      if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') return false;
      const expected = createHmac(`sha${alg.slice(2)}`, Buffer.from(jwk.k, 'base64url')).update(signed).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    const key: KeyObject = createPublicKey({ key: jwk as never, format: 'jwk' });
    const bits = alg.slice(2);
    if (alg.startsWith('RS')) return cryptoVerify(`sha${bits}`, Buffer.from(signed), key, signature);
    if (alg.startsWith('PS')) return cryptoVerify(`sha${bits}`, Buffer.from(signed), { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(bits) / 8 }, signature);
    if (alg.startsWith('ES')) return cryptoVerify(`sha${bits}`, Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' }, signature);
    return false;
  } catch {
    return false;
  }
}
