// Security test helpers: a broker with PLAINTEXT + SASL listeners (and TLS when asked), a CA and
// certificates made with openssl, and a raw SASL login for hand-made requests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { ApiKey } from '../../src/protocol/gen/index.js';

export function listenerPort(broker: TestBroker, name: string): number {
  const e = broker.broker.listenerEndpoints.find((l) => l.name === name);
  if (!e) throw new Error(`no listener ${name}`);
  return e.port;
}

export const ADMIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";';

export async function startSecureBroker(extra: Record<string, string> = {}): Promise<TestBroker> {
  return startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.jaas.config': ADMIN_JAAS,
    'connection.failed.authentication.delay.ms': '0',
    ...extra,
  });
}

/** Opens a raw connection and logs in with SASL/PLAIN (SaslHandshake v1 + SaslAuthenticate v2). */
export async function rawPlainLogin(port: number, user: string, password: string): Promise<{ client: RawClient; errorCode: number }> {
  const client = await RawClient.open(port);
  client.request(ApiKey.SaslHandshake, 1, 1, { mechanism: 'PLAIN' });
  const hs = await client.response(ApiKey.SaslHandshake, 1);
  if (hs?.body.errorCode !== 0) return { client, errorCode: hs?.body.errorCode ?? -1 };
  client.request(ApiKey.SaslAuthenticate, 2, 2, { authBytes: Buffer.from(`\u0000${user}\u0000${password}`) });
  const auth = await client.response(ApiKey.SaslAuthenticate, 2);
  return { client, errorCode: auth?.body.errorCode ?? -1 };
}

export interface TestPki {
  dir: string;
  caCert: string;
  /** PEM with the server's key and certificate (ssl.keystore.location). */
  serverPem: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** A client certificate signed by another CA. */
  strangerKey: string;
  strangerCert: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A throwaway CA, a server certificate for 127.0.0.1/localhost and client certificates. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-pki-'));
  const ext = join(dir, 'san.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Fjord Test CA'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=Other CA'], dir);
  const leaf = (name: string, subj: string, ca: string, extFile?: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(extFile ? ['-extfile', extFile] : [])], dir);
  };
  leaf('server', '/CN=localhost', 'ca', ext);
  leaf('client', '/CN=alice/OU=eng/O=Fjord', 'ca');
  leaf('stranger', '/CN=mallory', 'other-ca');
  const read = (f: string) => execFileSync('cat', [join(dir, f)]).toString();
  const serverPem = join(dir, 'server.pem');
  writeFileSync(serverPem, read('server.key') + read('server.crt'));
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverPem,
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.crt'),
    clientKey: join(dir, 'client.key'),
    clientCert: join(dir, 'client.crt'),
    strangerKey: join(dir, 'stranger.key'),
    strangerCert: join(dir, 'stranger.crt'),
  };
}
