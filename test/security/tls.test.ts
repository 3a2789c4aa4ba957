// TLS listeners with a CA the test makes with openssl: SSL with kafkajs, mutual TLS with the
// principal taken from the certificate through ssl.principal.mapping.rules (and ACLs on it),
// strangers refused, SASL_SSL + SCRAM with kcat, and certificates rotated without a restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { describeChild, runChild } from '../e2e/run-child.js';
import { listenerPort, makePki, type TestPki, ADMIN_JAAS } from './helpers.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

describe('TLS listeners', () => {
  let pki: TestPki;
  let broker: TestBroker;

  before(async () => {
    pki = makePki();
    broker = await startTestBroker({
      listeners: 'SSL://127.0.0.1:0,MTLS://127.0.0.1:0,SASL_SSL://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'SSL:SSL,MTLS:SSL,SASL_SSL:SASL_SSL,INTERNAL:SASL_PLAINTEXT',
      'ssl.keystore.location': pki.serverPem,
      'ssl.truststore.location': pki.caCert,
      'ssl.client.auth': 'requested',
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=eng,.*$/$1/L,DEFAULT',
      'sasl.jaas.config': ADMIN_JAAS,
      'connection.failed.authentication.delay.ms': '0',
    });
  });
  after(async () => broker?.dispose());

  const ca = () => readFileSync(pki.caCert, 'utf8');

  it('SSL: kafkajs with the CA produces and consumes; a client that does not trust the CA fails', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${listenerPort(broker, 'SSL')}`], ssl: { ca: [ca()] }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'tls-topic', messages: [{ value: 'encrypted' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'tls-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'tls-topic', fromBeginning: true });
    const value = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }));
    await consumer.disconnect();
    assert.equal(value, 'encrypted');
    const untrusting = new Kafka({ brokers: [`127.0.0.1:${listenerPort(broker, 'SSL')}`], ssl: true, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    await assert.rejects(untrusting.admin().connect());
  });

  it('mTLS: the principal comes from the client certificate through the mapping rules', async () => {
    // Turn on the authorizer view of things by checking what principal a describe returns: the
    // mapped principal is what ACLs match on. Use an ACL-enabled broker on the same PKI.
    const acled = await startTestBroker({
      listeners: 'MTLS://127.0.0.1:0',
      'listener.security.protocol.map': 'MTLS:SSL',
      'ssl.keystore.location': pki.serverPem,
      'ssl.truststore.location': pki.caCert,
      'ssl.client.auth': 'required',
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=eng,.*$/$1/L,DEFAULT',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:alice',
    });
    try {
      const port = listenerPort(acled, 'MTLS');
      const alice = new Kafka({
        brokers: [`127.0.0.1:${port}`],
        ssl: { ca: [ca()], cert: readFileSync(pki.clientCert, 'utf8'), key: readFileSync(pki.clientKey, 'utf8') },
        logLevel: logLevel.NOTHING,
      });
      const admin = alice.admin();
      await admin.connect();
      // Only a super user may create ACLs: this succeeds only if the principal is User:alice.
      await admin.createAcls({
        acl: [{ resourceType: AclResourceTypes.TOPIC, resourceName: 'x', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:bob', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW }],
      });
      await admin.createTopics({ topics: [{ topic: 'mtls-topic' }] });
      await admin.disconnect();
      const noCert = new Kafka({ brokers: [`127.0.0.1:${port}`], ssl: { ca: [ca()] }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      await assert.rejects(noCert.admin().connect(), 'required client auth refuses a client without a certificate');
      const stranger = new Kafka({
        brokers: [`127.0.0.1:${port}`],
        ssl: { ca: [ca()], cert: readFileSync(pki.strangerCert, 'utf8'), key: readFileSync(pki.strangerKey, 'utf8') },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      await assert.rejects(stranger.admin().connect(), 'a certificate from another CA is refused');
    } finally {
      await acled.dispose();
    }
  });

  it('SASL_SSL with SCRAM-SHA-256 through kcat (librdkafka)', async () => {
    // Create the SCRAM user through the plaintext SASL listener with kcat? kcat has no admin API:
    // use the broker's own AlterUserScramCredentials path via the security service seam.
    const { makeScramCredential } = await import('../../src/security/scram.js');
    await broker.broker.security.alterScram([{ user: 'carol', credential: makeScramCredential('SCRAM-SHA-256', 'carol-pw') }], []);
    const common = [
      '-b', `127.0.0.1:${listenerPort(broker, 'SASL_SSL')}`,
      '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${pki.caCert}`,
      '-X', 'sasl.mechanisms=SCRAM-SHA-256', '-X', 'sasl.username=carol', '-X', 'sasl.password=carol-pw',
    ];
    const p = await runChild('kcat', [...common, '-P', '-t', 'sasl-ssl', '-K', ':'], { input: 'k:v\n', timeoutMs: 20_000 });
    assert.equal(p.code, 0, describeChild(p));
    const c = await runChild('kcat', [...common, '-C', '-t', 'sasl-ssl', '-e', '-o', 'beginning', '-q', '-f', '%k=%s\n'], { timeoutMs: 20_000 });
    assert.equal(c.code, 0, describeChild(c));
    assert.equal(c.stdout.trim(), 'k=v');
  });

  it('certificates are reloaded without a restart', async () => {
    const port = listenerPort(broker, 'SSL');
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port, ca: [ca()], servername: 'localhost' }, () => {
          const sn = s.getPeerCertificate().serialNumber;
          s.end();
          resolve(sn);
        });
        s.on('error', reject);
      });
    const before = await serial();
    // Re-issue the server certificate with the same CA and overwrite the keystore file.
    execFileSync('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server2.crt', '-days', '2', '-extfile', 'san.ext'], { cwd: pki.dir, stdio: 'pipe' });
    writeFileSync(pki.serverPem, readFileSync(join(pki.dir, 'server.key'), 'utf8') + readFileSync(join(pki.dir, 'server2.crt'), 'utf8'));
    const deadline = Date.now() + 15_000;
    let after = before;
    while (after === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      after = await serial();
    }
    assert.notEqual(after, before, 'new handshakes present the new certificate');
  });
});
