// Kafka client security keys (what kafka-*.sh take in --command-config and librdkafka / the Java
// client take as config) turned into @platformatic/kafka's `tls` and `sasl` options. Shared by the
// CLI (and the HTTP services it starts) and Fjord Streams, so every Fjord client reads the same keys.
import { readFileSync } from 'node:fs';
import type { BaseOptions } from '@platformatic/kafka';

export type ClientSecurityOptions = Pick<BaseOptions, 'tls' | 'sasl'>;

const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
const CLIENT_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

export class ClientSecurityError extends Error {}

/**
 * Reads the security keys through `get` (a properties file, a config object ...). PEM only:
 * `ssl.ca.location` / `ssl.truststore.location` name a PEM CA bundle, `ssl.certificate.location`
 * and `ssl.key.location` the client's PEM certificate and key (mutual TLS); librdkafka's
 * `ssl.*.pem` keys carry the PEM text itself. `source` names where the keys came from in errors.
 */
export function clientSecurityFrom(get: (key: string) => unknown, source: string): ClientSecurityOptions {
  const str = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ClientSecurityError(`${key} in ${source} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const protocol = (str('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ClientSecurityError(`unknown security.protocol ${protocol} in ${source} (expected ${SECURITY_PROTOCOLS.join(', ')})`);
  }
  const pem = (pemKey: string, ...fileKeys: string[]): string | undefined => {
    const inline = str(pemKey);
    if (inline !== undefined) return inline;
    for (const k of fileKeys) {
      const file = str(k);
      if (file === undefined) continue;
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new ClientSecurityError(`cannot read ${k} ${file} (from ${source}): ${(err as Error).message}`);
      }
    }
    return undefined;
  };
  const out: ClientSecurityOptions = {};
  if (protocol.endsWith('SSL')) {
    const ca = pem('ssl.ca.pem', 'ssl.ca.location', 'ssl.truststore.location');
    const cert = pem('ssl.certificate.pem', 'ssl.certificate.location');
    const key = pem('ssl.key.pem', 'ssl.key.location');
    // Kafka's ssl.endpoint.identification.algorithm: https (default) checks the host name, empty / none does not.
    const identification = (str('ssl.endpoint.identification.algorithm') ?? 'https').toLowerCase();
    out.tls = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(identification === '' || identification === 'none' ? { checkServerIdentity: () => undefined } : {}),
    };
  }
  if (protocol.startsWith('SASL')) {
    const jaas = str('sasl.jaas.config') ?? '';
    const fromJaas = (name: string) => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(jaas)?.[1];
    const mechanism = (str('sasl.mechanism') ?? str('sasl.mechanisms') ?? 'PLAIN').toUpperCase();
    if (!(CLIENT_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ClientSecurityError(`unsupported sasl.mechanism ${mechanism} in ${source} (expected ${CLIENT_SASL_MECHANISMS.join(', ')})`);
    }
    const username = str('sasl.username') ?? fromJaas('username');
    const password = str('sasl.password') ?? fromJaas('password');
    const token = str('sasl.oauthbearer.token');
    if (mechanism !== 'OAUTHBEARER' && (username === undefined || password === undefined)) {
      throw new ClientSecurityError(`security.protocol ${protocol} with ${mechanism} needs sasl.username and sasl.password (or sasl.jaas.config with username="..." password="...") in ${source}`);
    }
    out.sasl = { mechanism: mechanism as 'PLAIN', username, password, token };
  }
  return out;
}
