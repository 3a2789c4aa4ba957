// How this broker reaches the others (replica fetchers, transaction markers), as Kafka does:
// the endpoint of `inter.broker.listener.name` (default: the listener named after
// `security.inter.broker.protocol`, else the first), TLS when that listener's protocol has it
// (trusting ssl.truststore.location, presenting the broker's own keystore for mTLS listeners),
// and a SASL login with `sasl.mechanism.inter.broker.protocol` using the username/password of the
// listener's JAAS config. The broker's principal needs CLUSTER_ACTION (or super.users) to fetch
// as a replica.
import { connect as netConnect, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { BrokerConfig } from '../config/config.js';
import { ApiKey } from '../protocol/gen/index.js';
import { scramClient, type ScramMechanism } from '../security/scram.js';
import type { BrokerRegistration } from './metadata-store.js';

type Protocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const PROTOCOLS: readonly string[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export interface InterBrokerSecurity {
  /** Listener whose advertised endpoint other brokers are reached on; null = the first one. */
  listenerName: string | null;
  protocol: Protocol;
  tls?: { ca?: string; key?: string; cert?: string };
  sasl?: { mechanism: 'PLAIN' | ScramMechanism; username: string; password: string };
}

/** The inter-broker settings of a broker's configuration. */
export function interBrokerSecurity(config: BrokerConfig): InterBrokerSecurity {
  const named = config.get('inter.broker.listener.name');
  const listeners = config.isSet('listeners') ? config.getList('listeners').map((l) => l.slice(0, l.indexOf('://')).toUpperCase()) : [];
  const byProtocol = config.getString('security.inter.broker.protocol') ?? 'PLAINTEXT';
  const listenerName = named ? named.toUpperCase() : listeners.includes(byProtocol) ? byProtocol : (listeners[0] ?? null);
  if (named && listeners.length > 0 && !listeners.includes(listenerName!)) {
    throw new Error(`inter.broker.listener.name ${named} is not one of the listeners (${listeners.join(', ')})`);
  }
  const mapped = listenerName ? config.listenerSecurityProtocolMap.get(listenerName) : undefined;
  const protocol = (mapped ?? (listenerName && PROTOCOLS.includes(listenerName) ? listenerName : 'PLAINTEXT')) as Protocol;
  const out: InterBrokerSecurity = { listenerName, protocol };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const truststore = config.get('ssl.truststore.location');
    const keystore = config.get('ssl.keystore.location');
    const clientAuth = listenerName ? config.forListener(listenerName, 'ssl.client.auth') : config.get('ssl.client.auth');
    const pem = keystore && clientAuth !== 'none' ? readFileSync(keystore, 'utf8') : undefined;
    out.tls = { ca: truststore ? readFileSync(truststore, 'utf8') : undefined, key: pem, cert: pem };
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const jaas = (listenerName ? config.forListener(listenerName, 'sasl.jaas.config') : config.get('sasl.jaas.config')) ?? '';
    const option = (name: string) => new RegExp(`(?:^|\\s)${name}\\s*=\\s*"([^"]*)"`).exec(jaas)?.[1];
    const username = option('username');
    const password = option('password');
    if (username === undefined || password === undefined) {
      throw new Error(`the inter-broker listener ${listenerName} uses SASL: its sasl.jaas.config needs username="..." password="..." for this broker's own login`);
    }
    out.sasl = { mechanism: (config.getString('sasl.mechanism.inter.broker.protocol') ?? 'PLAIN') as 'PLAIN', username, password };
  }
  return out;
}

/** The endpoint of `broker` on the inter-broker listener. */
export function interBrokerEndpoint(
  broker: Pick<BrokerRegistration, 'host' | 'port'> & { endpoints?: { name?: string; host: string; port: number }[] },
  security: InterBrokerSecurity | undefined,
): { host: string; port: number } {
  const name = security?.listenerName;
  const e = (name ? broker.endpoints?.find((x) => x.name === name) : undefined) ?? broker.endpoints?.[0];
  return e ?? { host: broker.host, port: broker.port };
}

/** Opens the TCP (or TLS) connection; resolves once it can carry requests. */
export function openInterBrokerSocket(host: string, port: number, security: InterBrokerSecurity | undefined): { socket: Socket; ready: string } {
  if (security?.tls) {
    // node:tls is required here, not imported at the top: a broker without TLS never compiles it.
    const { connect: tlsConnect } = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
    const socket = tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ...security.tls });
    return { socket, ready: 'secureConnect' };
  }
  return { socket: netConnect({ host, port }), ready: 'connect' };
}

interface SaslCapable {
  request<T>(apiKey: number, version: number, body: unknown, timeoutMs?: number): Promise<T>;
}

/** SaslHandshake v1 + SaslAuthenticate v2 as this broker's principal (no-op without SASL). */
export async function authenticateInterBroker(conn: SaslCapable, security: InterBrokerSecurity | undefined, timeoutMs: number): Promise<void> {
  const sasl = security?.sasl;
  if (!sasl) return;
  const hs = await conn.request<{ errorCode: number; mechanisms: string[] }>(ApiKey.SaslHandshake, 1, { mechanism: sasl.mechanism }, timeoutMs);
  if (hs.errorCode !== 0) throw new Error(`inter-broker SASL handshake refused ${sasl.mechanism} (enabled: ${hs.mechanisms.join(', ')})`);
  const step = async (authBytes: Buffer): Promise<Buffer> => {
    const r = await conn.request<{ errorCode: number; errorMessage: string | null; authBytes: Buffer }>(ApiKey.SaslAuthenticate, 2, { authBytes }, timeoutMs);
    if (r.errorCode !== 0) throw new Error(`inter-broker SASL login as ${sasl.username} failed: ${r.errorMessage ?? r.errorCode}`);
    return r.authBytes;
  };
  if (sasl.mechanism === 'PLAIN') {
    await step(Buffer.from(`\u0000${sasl.username}\u0000${sasl.password}`));
    return;
  }
  const client = scramClient(sasl.mechanism, sasl.username, sasl.password);
  const serverFirst = await step(client.first());
  const serverFinal = await step(client.final(serverFirst));
  client.verify(serverFinal);
}
