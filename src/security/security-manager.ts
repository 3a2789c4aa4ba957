// The broker's security services, built from its configs: listeners and their protocols, TLS
// contexts (PEM files, reloaded when they change), SASL credentials (JAAS users, SCRAM store,
// OAUTHBEARER validator), and the ACL authorizer with its durable store.
import { constants as cryptoConstants } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { AclAuthorizer, type AclBinding } from './acl.js';
import { OAuthBearerValidator } from './oauthbearer.js';
import { parseJaasUsers } from './plain.js';
import { mapDistinguishedName, parsePrincipalMappingRules, subjectToDn, userPrincipal } from './principal.js';
import { createExchange, SUPPORTED_MECHANISMS, type CredentialSource, type SaslExchange } from './sasl.js';
import type { ScramCredential, ScramMechanism } from './scram.js';
import type { ConnectionSession, SecurityProtocol } from './session.js';
import { SecurityStore, type SharedSecurityState } from './store.js';

/** The slice of the broker config security reads (typed getters of BrokerConfig). */
export interface SecurityConfig {
  get(name: string): string | null;
  /** `listener.name.<listener>.<name>` when set, else `name` (Kafka's per-listener overrides). */
  forListener(listenerName: string, name: string): string | null;
  getList(name: string): string[];
  getLong(name: string): number;
  getBool(name: string): boolean;
  isSet(name: string): boolean;
}

export interface ListenerSpec {
  name: string;
  protocol: SecurityProtocol;
  host: string;
  port: number;
}

const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

function protocolMap(entries: string[]): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const entry of entries) {
    const [name, proto] = entry.split(':');
    if (name && proto && (PROTOCOLS as readonly string[]).includes(proto)) map.set(name.toUpperCase(), proto as SecurityProtocol);
  }
  for (const p of PROTOCOLS) if (!map.has(p)) map.set(p, p);
  return map;
}

function parseListeners(listeners: string[], protocolMapEntries: string[]): ListenerSpec[] {
  const map = protocolMap(protocolMapEntries);
  return listeners.map((l) => {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(l.trim());
    if (!m) throw new Error(`Invalid listener ${l} (expected NAME://host:port)`);
    const name = m[1]!.toUpperCase();
    const protocol = map.get(name);
    if (!protocol) throw new Error(`Listener ${name} has no entry in listener.security.protocol.map`);
    return { name, protocol, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  });
}

/** Default TLS suite order: AES-128-GCM first (TLS 1.3 and 1.2), then Node's defaults. */
const PREFERRED_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', cryptoConstants.defaultCipherList].join(':');

export class SecurityManager {
  readonly store: SecurityStore;
  readonly authorizer: AclAuthorizer | null;
  private readonly credentials: CredentialSource;
  private readonly enabledMechanisms: string[];
  private tlsCache: { key: string; options: SecureContextOptions } | undefined;

  constructor(
    private readonly config: SecurityConfig,
    dataDir: string,
    shared?: SharedSecurityState,
  ) {
    this.store = new SecurityStore(dataDir, shared);
    const authorizerClass = config.get('authorizer.class.name') ?? '';
    this.authorizer =
      authorizerClass === ''
        ? null
        : new AclAuthorizer({
            superUsers: new Set((config.get('super.users') ?? '').split(';').map((s) => s.trim()).filter(Boolean)),
            allowEveryoneIfNoAclFound: config.getBool('allow.everyone.if.no.acl.found'),
          });
    this.enabledMechanisms = config.getList('sasl.enabled.mechanisms').filter((m) => (SUPPORTED_MECHANISMS as readonly string[]).includes(m));
    const plainUsers = parseJaasUsers(config.get('sasl.jaas.config'));
    const audience = config.getList('sasl.oauthbearer.expected.audience');
    this.credentials = {
      plainUsers,
      scramCredential: (user, mechanism) => this.store.credential(user, mechanism),
      scramCredentials: (user) => this.store.credentials(user),
      oauth: new OAuthBearerValidator({
        jwksEndpoint: config.get('sasl.oauthbearer.jwks.endpoint.url'),
        expectedIssuer: config.get('sasl.oauthbearer.expected.issuer'),
        expectedAudience: audience,
        clockSkewSeconds: config.getLong('sasl.oauthbearer.clock.skew.seconds'),
        subClaim: config.get('sasl.oauthbearer.sub.claim.name') ?? 'sub',
        allowUnsecured: config.getBool('fjord.sasl.oauthbearer.unsecured.enable'),
        jwksRefreshMs: config.getLong('sasl.oauthbearer.jwks.endpoint.refresh.ms'),
      }),
    };
  }

  /** Another broker changed the cluster's ACLs or SCRAM credentials. */
  refreshShared(): void {
    this.store.refresh();
    this.authorizer?.replaceAll(this.store.acls());
  }

  async load(): Promise<void> {
    await this.store.load();
    this.authorizer?.replaceAll(this.store.acls());
  }

  /**
   * Listeners to open: the ones given in code (startBroker({ listeners })), else the `listeners`
   * config, else one PLAINTEXT listener on host:port. Protocols come from
   * listener.security.protocol.map (a listener named after a protocol uses it).
   */
  listeners(given: readonly { name: string; host: string; port: number; protocol?: SecurityProtocol }[] | undefined, defaultHost: string, defaultPort: number): ListenerSpec[] {
    const map = this.config.getList('listener.security.protocol.map');
    if (given) {
      // In code a listener may name its protocol; otherwise the map decides, and PLAINTEXT is the
      // default for names it does not know.
      const protocols = protocolMap(map);
      return given.map((l) => ({
        name: l.name.toUpperCase(),
        protocol: l.protocol ?? protocols.get(l.name.toUpperCase()) ?? 'PLAINTEXT',
        host: l.host,
        port: l.port,
      }));
    }
    if (!this.config.isSet('listeners')) return [{ name: 'PLAINTEXT', protocol: 'PLAINTEXT', host: defaultHost, port: defaultPort }];
    return parseListeners(this.config.getList('listeners'), map).map((l) => ({ ...l, host: l.host === '' ? '0.0.0.0' : l.host }));
  }

  get mechanisms(): readonly string[] {
    return this.enabledMechanisms;
  }

  newExchange(mechanism: string): SaslExchange {
    return createExchange(mechanism, this.credentials);
  }

  /** Successful KIP-368 re-authentications on live connections (observability, tests). */
  reauthentications = 0;

  get reauthMs(): number {
    return this.config.getLong('connections.max.reauth.ms');
  }

  get failedAuthenticationDelayMs(): number {
    return this.config.getLong('connection.failed.authentication.delay.ms');
  }

  /**
   * TLS options from PEM files: `ssl.keystore.location` (key + certificate chain in one PEM),
   * `ssl.key.password` for an encrypted key, `ssl.truststore.location` (CA certificates).
   * Re-read when a file changes, so certificates rotate without a restart.
   */
  tlsOptions(listenerName?: string): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    const keystore = this.config.get('ssl.keystore.location');
    if (!keystore) throw new Error('A TLS listener needs ssl.keystore.location (a PEM file with the key and certificate chain)');
    const truststore = this.config.get('ssl.truststore.location');
    const files = [keystore, truststore].filter((f): f is string => !!f);
    const stamp = files.map((f) => `${f}@${statSync(f).mtimeMs}`).join('|');
    if (this.tlsCache?.key !== stamp) {
      const pem = readFileSync(keystore, 'utf8');
      const options: SecureContextOptions = {
        cert: pem,
        key: pem,
        passphrase: this.config.get('ssl.key.password') ?? undefined,
        minVersion: this.config.getList('ssl.enabled.protocols').includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3',
        // The server picks: AES-128-GCM (hardware-accelerated, cheaper than AES-256) unless configured.
        ciphers: this.config.getList('ssl.cipher.suites').join(':') || PREFERRED_CIPHERS,
        honorCipherOrder: true,
      };
      if (truststore) options.ca = readFileSync(truststore, 'utf8');
      this.tlsCache = { key: stamp, options };
    }
    const clientAuth = (listenerName ? this.config.forListener(listenerName, 'ssl.client.auth') : this.config.get('ssl.client.auth')) ?? 'none';
    return { ...this.tlsCache.options, requestCert: clientAuth !== 'none', rejectUnauthorized: clientAuth === 'required' };
  }

  /** Principal of a TLS client certificate's subject, through ssl.principal.mapping.rules. */
  principalFromCertificate(subject: Record<string, string | string[]> | undefined): string | null {
    if (!subject || Object.keys(subject).length === 0) return null;
    const rules = parsePrincipalMappingRules(this.config.get('ssl.principal.mapping.rules'));
    return userPrincipal(mapDistinguishedName(subjectToDn(subject), rules));
  }

  get authorizationEnabled(): boolean {
    return this.authorizer !== null;
  }

  /** Kafka's check for one (operation, resource); always true without an authorizer. */
  authorize(session: ConnectionSession, operation: number, resourceType: number, resourceName: string): boolean {
    if (!this.authorizer) return true;
    return this.authorizer.authorize(session.principal, session.clientHost, operation, resourceType, resourceName);
  }

  authorizeAny(session: ConnectionSession, operation: number, resourceType: number): boolean {
    if (!this.authorizer) return true;
    return this.authorizer.authorizeAny(session.principal, session.clientHost, operation, resourceType);
  }

  async replaceAcls(acls: AclBinding[]): Promise<void> {
    await this.store.replaceAcls(acls);
    this.authorizer?.replaceAll(acls);
  }

  async alterScram(upserts: { user: string; credential: ScramCredential }[], deletions: { user: string; mechanism: ScramMechanism }[]): Promise<void> {
    await this.store.alterCredentials(upserts, deletions);
  }
}
