// One SASL exchange per mechanism, behind a common step() interface. PLAIN and OAUTHBEARER
// finish in one step; SCRAM takes two.
import { type OAuthBearerValidator, parseOAuthBearerMessage } from './oauthbearer.js';
import { parsePlainMessage, safeEqual } from './plain.js';
import { SaslAuthenticationError } from './errors.js';
import { passwordMatches, SCRAM_MECHANISMS, ScramServerExchange, type ScramCredential, type ScramMechanism } from './scram.js';

export interface SaslStepResult {
  response: Buffer;
  /** Set once the client is authenticated: the user name (principal "User:<name>"). */
  user?: string;
  /** Credential lifetime end (OAUTHBEARER token expiry), for KIP-368 session lifetimes. */
  expiresAtMs?: number;
}

export interface SaslExchange {
  readonly mechanism: string;
  step(token: Buffer): Promise<SaslStepResult> | SaslStepResult;
}

export interface CredentialSource {
  plainUsers: ReadonlyMap<string, string>;
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined;
  scramCredentials(user: string): ScramCredential[];
  oauth: OAuthBearerValidator;
}

export const SUPPORTED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

export function createExchange(mechanism: string, creds: CredentialSource): SaslExchange {
  if (mechanism === 'PLAIN') {
    return {
      mechanism,
      step(token) {
        const { user, password } = parsePlainMessage(token);
        const configured = creds.plainUsers.get(user);
        const ok =
          configured !== undefined
            ? safeEqual(configured, password)
            : creds.scramCredentials(user).some((c) => passwordMatches(c, password));
        if (!ok) throw new SaslAuthenticationError('Authentication failed: Invalid username or password');
        return { response: Buffer.alloc(0), user };
      },
    };
  }
  if ((SCRAM_MECHANISMS as readonly string[]).includes(mechanism)) {
    const m = mechanism as ScramMechanism;
    const scram = new ScramServerExchange(m, (user) => creds.scramCredential(user, m));
    return {
      mechanism,
      step(token) {
        const r = scram.step(token);
        return r.authenticatedUser === undefined ? { response: r.response } : { response: r.response, user: r.authenticatedUser };
      },
    };
  }
  if (mechanism === 'OAUTHBEARER') {
    return {
      mechanism,
      async step(token) {
        const { jwt } = parseOAuthBearerMessage(token);
        const v = await creds.oauth.validate(jwt);
        return { response: Buffer.alloc(0), user: v.principal, expiresAtMs: v.expiresAtMs };
      },
    };
  }
  throw new SaslAuthenticationError(`Unsupported SASL mechanism ${mechanism}`);
}
