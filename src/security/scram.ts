// SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer speaks it:
// client-first → server-first → client-final → server-final. Credentials are stored salted
// (storedKey, serverKey), never the password.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError } from './errors.js';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's ScramMechanism ids in DescribeUserScramCredentials / AlterUserScramCredentials. */
export const SCRAM_MECHANISM_IDS: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
export function scramMechanismById(id: number): ScramMechanism | undefined {
  return id === 1 ? 'SCRAM-SHA-256' : id === 2 ? 'SCRAM-SHA-512' : undefined;
}

/** Kafka's minimum and maximum iteration counts for SCRAM credentials. */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

export interface ScramCredential {
  mechanism: ScramMechanism;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

function digestOf(mechanism: ScramMechanism): { hash: 'sha256' | 'sha512'; length: number } {
  return mechanism === 'SCRAM-SHA-256' ? { hash: 'sha256', length: 32 } : { hash: 'sha512', length: 64 };
}

const hmac = (hash: string, key: Buffer, data: string | Buffer): Buffer => createHmac(hash, key).update(data).digest();

export function saltedPassword(mechanism: ScramMechanism, password: Buffer | string, salt: Buffer, iterations: number): Buffer {
  const { hash, length } = digestOf(mechanism);
  return pbkdf2Sync(password, salt, iterations, length, hash);
}

/** Derives a credential from a salted password (AlterUserScramCredentials sends exactly this). */
export function credentialFromSaltedPassword(mechanism: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const { hash } = digestOf(mechanism);
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    mechanism,
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: hmac(hash, salted, 'Server Key'),
  };
}

export function makeScramCredential(mechanism: ScramMechanism, password: string, iterations = SCRAM_MIN_ITERATIONS, salt: Buffer = randomBytes(32)): ScramCredential {
  return credentialFromSaltedPassword(mechanism, saltedPassword(mechanism, password, salt, iterations), salt, iterations);
}

/** Constant-time check of a plain password against a stored SCRAM credential (used by PLAIN). */
export function passwordMatches(cred: ScramCredential, password: string): boolean {
  const candidate = makeScramCredential(cred.mechanism, password, cred.iterations, cred.salt);
  return timingSafeEqual(candidate.storedKey, cred.storedKey);
}

/** RFC 5802 saslname: '=2C' is ',' and '=3D' is '='; any other '=' is malformed. */
function decodeSaslName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new SaslAuthenticationError('Invalid SCRAM username encoding');
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw new SaslAuthenticationError('Invalid SCRAM message');
    attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

const MAX_SCRAM_MESSAGE = 4096;

/**
 * One server-side SCRAM exchange. Unknown users get a fake but stable-looking challenge and fail
 * at the proof, so the exchange does not reveal which user names exist.
 */
export class ScramServerExchange {
  private state: 'first' | 'final' | 'done' = 'first';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';
  private user = '';
  private credential: ScramCredential | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
  ) {}

  get username(): string {
    return this.user;
  }

  /** Returns the server's answer; `done` with the principal name once the client is proven. */
  step(token: Buffer): { response: Buffer; authenticatedUser?: string } {
    if (token.length > MAX_SCRAM_MESSAGE) throw new SaslAuthenticationError('SCRAM message too long');
    const message = token.toString('utf8');
    if (this.state === 'first') return this.first(message);
    if (this.state === 'final') return this.final(message);
    throw new SaslAuthenticationError('SCRAM exchange already complete');
  }

  private first(message: string): { response: Buffer } {
    // gs2-header: ("n" | "y" | "p=...") "," [authzid] ","
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(message);
    if (!m) throw new SaslAuthenticationError('Invalid SCRAM client-first message');
    if (m[1]!.startsWith('p=')) throw new SaslAuthenticationError('SCRAM channel binding is not supported');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3]!;
    const attrs = parseAttributes(this.clientFirstBare);
    const name = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (name === undefined || !clientNonce) throw new SaslAuthenticationError('SCRAM client-first message lacks n= or r=');
    this.user = decodeSaslName(name);
    const authzid = m[2] ? decodeSaslName(m[2].slice(2)) : '';
    if (authzid && authzid !== this.user) throw new SaslAuthenticationError('SCRAM authorization id differs from the user name');
    this.credential = this.lookup(this.user);
    const salt = this.credential?.salt ?? randomBytes(32);
    const iterations = this.credential?.iterations ?? SCRAM_MIN_ITERATIONS;
    this.nonce = clientNonce + randomBytes(18).toString('base64url');
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.state = 'final';
    return { response: Buffer.from(this.serverFirst) };
  }

  private final(message: string): { response: Buffer; authenticatedUser: string } {
    this.state = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new SaslAuthenticationError('SCRAM client-final message lacks a proof');
    const withoutProof = message.slice(0, proofAt);
    const attrs = parseAttributes(message);
    // Kafka accepts a final nonce that ends with the server's (librdkafka up to 2.x prefixes the
    // client nonce twice); the proof still binds the whole exchange.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) throw new SaslAuthenticationError('Invalid client nonce in the final client message.');
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) throw new SaslAuthenticationError('Invalid SCRAM channel binding');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const cred = this.credential;
    const { hash, length } = digestOf(this.mechanism);
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = cred?.storedKey ?? Buffer.alloc(length);
    const signature = hmac(hash, storedKey, authMessage);
    const ok =
      cred !== undefined &&
      proof.length === length &&
      timingSafeEqual(createHash(hash).update(xor(proof, signature)).digest(), cred.storedKey);
    if (!ok) {
      throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`);
    }
    const serverSignature = hmac(hash, cred.serverKey, authMessage);
    return { response: Buffer.from(`v=${serverSignature.toString('base64')}`), authenticatedUser: this.user };
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * The client side of a SCRAM exchange (what a broker uses to log in to another broker):
 * `first()` is the client-first message, `final(serverFirst)` the client-final message, and
 * `verify(serverFinal)` checks the server's signature.
 */
export function scramClient(mechanism: ScramMechanism, username: string, password: string) {
  const { hash } = digestOf(mechanism);
  const nonce = randomBytes(24).toString('base64');
  const bare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  let serverSignature: Buffer | undefined;
  return {
    first: (): Buffer => Buffer.from(`n,,${bare}`),
    final(serverFirst: Buffer): Buffer {
      const text = serverFirst.toString('utf8');
      const attrs = new Map(text.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as [string, string]));
      const serverNonce = attrs.get('r') ?? '';
      const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
      const iterations = Number(attrs.get('i'));
      if (!serverNonce.startsWith(nonce) || !Number.isInteger(iterations) || iterations < 1) {
        throw new SaslAuthenticationError('Invalid SCRAM server-first message');
      }
      const withoutProof = `c=biws,r=${serverNonce}`;
      const authMessage = `${bare},${text},${withoutProof}`;
      const salted = saltedPassword(mechanism, password, salt, iterations);
      const clientKey = hmac(hash, salted, 'Client Key');
      const storedKey = createHash(hash).update(clientKey).digest();
      const clientSignature = hmac(hash, storedKey, authMessage);
      const proof = Buffer.from(clientKey.map((b, i) => b ^ clientSignature[i]!));
      serverSignature = hmac(hash, hmac(hash, salted, 'Server Key'), authMessage);
      return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
    },
    verify(serverFinal: Buffer): void {
      const m = /(?:^|,)v=([^,]+)/.exec(serverFinal.toString('utf8'));
      const given = m ? Buffer.from(m[1]!, 'base64') : Buffer.alloc(0);
      if (!serverSignature || given.length !== serverSignature.length || !timingSafeEqual(given, serverSignature)) {
        throw new SaslAuthenticationError('SCRAM server signature does not verify');
      }
    },
  };
}
