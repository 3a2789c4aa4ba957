// SASL on a real broker with real clients: PLAIN from a JAAS config, SCRAM-SHA-256/512 with
// credentials created over the wire (AlterUserScramCredentials), kafkajs and kcat logging in,
// and everything a client that fails or skips authentication must NOT get.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { ApiKey } from '../../src/protocol/gen/index.js';
import type { TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { describeChild, runChild } from '../e2e/run-child.js';
import { listenerPort, rawPlainLogin, startSecureBroker } from './helpers.js';
const { Kafka, logLevel } = kafkajs;

const SASL = 'SASL_PLAINTEXT';

/** Creates SCRAM credentials through AlterUserScramCredentials, logged in as admin over SASL/PLAIN. */
async function createScramUser(port: number, user: string, password: string): Promise<number[]> {
  const { client, errorCode } = await rawPlainLogin(port, 'admin', 'admin-secret');
  assert.equal(errorCode, 0);
  const upsertions = [
    { mechanism: 1, hash: 'sha256', len: 32 },
    { mechanism: 2, hash: 'sha512', len: 64 },
  ].map(({ mechanism, hash, len }) => {
    const salt = randomBytes(16);
    return { name: user, mechanism, iterations: 4096, salt, saltedPassword: pbkdf2Sync(password, salt, 4096, len, hash) };
  });
  client.request(ApiKey.AlterUserScramCredentials, 0, 3, { deletions: [], upsertions });
  const r = await client.response(ApiKey.AlterUserScramCredentials, 0);
  client.close();
  return r!.body.results.map((x: { errorCode: number }) => x.errorCode);
}

describe('SASL authentication', () => {
  let broker: TestBroker;
  let saslPort: number;

  before(async () => {
    broker = await startSecureBroker();
    saslPort = listenerPort(broker, SASL);
  });
  after(async () => broker?.dispose());

  const kafkaAs = (sasl: kafkajs.SASLOptions) =>
    new Kafka({ brokers: [`127.0.0.1:${saslPort}`], clientId: 'sec-test', sasl, logLevel: logLevel.NOTHING, retry: { retries: 0 } });

  it('PLAIN: a JAAS user produces and consumes through kafkajs; Metadata advertises the SASL port', async () => {
    const kafka = kafkaAs({ mechanism: 'plain', username: 'admin', password: 'admin-secret' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'sasl-plain', numPartitions: 1 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ['sasl-plain'] });
    assert.equal(meta.topics[0]!.partitions.length, 1);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'sasl-plain', messages: [{ key: 'k', value: 'over sasl' }] });
    await producer.disconnect();
    // The broker list a SASL client gets must point at the SASL listener, not the plaintext one.
    const raw = await rawPlainLogin(saslPort, 'admin', 'admin-secret');
    raw.client.request(ApiKey.Metadata, 12, 5, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const md = await raw.client.response(ApiKey.Metadata, 12);
    raw.client.close();
    assert.deepEqual(md!.body.brokers.map((b: { port: number }) => b.port), [saslPort]);
  });

  it('a wrong password gets SASL_AUTHENTICATION_FAILED and the connection is closed', async () => {
    const { client, errorCode } = await rawPlainLogin(saslPort, 'admin', 'nope');
    assert.equal(errorCode, 58);
    assert.ok(await client.waitClosed(3000), 'connection closed after a failed authentication');
    await assert.rejects(kafkaAs({ mechanism: 'plain', username: 'admin', password: 'nope' }).admin().connect());
  });

  it('a client that skips SASL gets ApiVersions and nothing else', async () => {
    const client = await RawClient.open(saslPort);
    client.request(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    const versions = await client.response(ApiKey.ApiVersions, 3);
    assert.equal(versions!.body.errorCode, 0);
    client.request(ApiKey.Metadata, 12, 2, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.equal(await client.frame(3000), null, 'no Metadata before authentication');
    assert.ok(client.closed);
  });

  it('an unknown mechanism is refused with the enabled list', async () => {
    const client = await RawClient.open(saslPort);
    client.request(ApiKey.SaslHandshake, 1, 1, { mechanism: 'GSSAPI' });
    const r = await client.response(ApiKey.SaslHandshake, 1);
    client.close();
    assert.equal(r!.body.errorCode, 33);
    assert.deepEqual(r!.body.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);
  });

  it('SCRAM-SHA-256 and SCRAM-SHA-512 users created over the wire log in with kafkajs; bad proofs fail', async () => {
    assert.deepEqual(await createScramUser(saslPort, 'alice', 'alice-pw'), [0]);
    for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
      const producer = kafkaAs({ mechanism, username: 'alice', password: 'alice-pw' }).producer();
      await producer.connect();
      const [res] = await producer.send({ topic: 'sasl-plain', messages: [{ value: mechanism }] });
      assert.equal(res!.errorCode, 0);
      await producer.disconnect();
      await assert.rejects(kafkaAs({ mechanism, username: 'alice', password: 'wrong' }).producer().connect());
      await assert.rejects(kafkaAs({ mechanism, username: 'nobody', password: 'alice-pw' }).producer().connect());
    }
    // PLAIN also accepts SCRAM users (their salted password is checked).
    const p = kafkaAs({ mechanism: 'plain', username: 'alice', password: 'alice-pw' }).producer();
    await p.connect();
    await p.disconnect();
    // DescribeUserScramCredentials lists the user's mechanisms and iterations, never the secrets.
    const { client } = await rawPlainLogin(saslPort, 'admin', 'admin-secret');
    client.request(ApiKey.DescribeUserScramCredentials, 0, 9, { users: [{ name: 'alice' }, { name: 'ghost' }] });
    const d = await client.response(ApiKey.DescribeUserScramCredentials, 0);
    client.close();
    const [alice, ghost] = d!.body.results;
    assert.deepEqual(alice.credentialInfos.map((c: { mechanism: number; iterations: number }) => [c.mechanism, c.iterations]).sort(), [[1, 4096], [2, 4096]]);
    assert.equal(ghost.errorCode, 91); // RESOURCE_NOT_FOUND
  });

  it('credentials survive a restart', async () => {
    await broker.close();
    const { startTestBroker } = await import('../helpers/broker.js');
    const again = await startTestBroker(
      { listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', 'connection.failed.authentication.delay.ms': '0' },
      broker.dataDir,
    );
    broker = again;
    saslPort = listenerPort(again, SASL);
    const producer = kafkaAs({ mechanism: 'scram-sha-512', username: 'alice', password: 'alice-pw' }).producer();
    await producer.connect();
    await producer.disconnect();
  });

  it('kcat (librdkafka) produces and consumes with SCRAM-SHA-512', async () => {
    const common = ['-b', `127.0.0.1:${saslPort}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-pw'];
    const p = await runChild('kcat', [...common, '-P', '-t', 'kcat-scram', '-K', ':'], { input: 'a:1\nb:2\n', timeoutMs: 20_000 });
    assert.equal(p.code, 0, describeChild(p));
    const c = await runChild('kcat', [...common, '-C', '-t', 'kcat-scram', '-e', '-o', 'beginning', '-q', '-f', '%k=%s\n'], { timeoutMs: 20_000 });
    assert.equal(c.code, 0, describeChild(c));
    assert.deepEqual(c.stdout.trim().split('\n'), ['a=1', 'b=2']);
    const bad = await runChild('kcat', [...common.slice(0, -1), 'wrong', '-L', '-m', '3'], { timeoutMs: 20_000 });
    assert.notEqual(bad.code, 0, 'a wrong SCRAM password must not list metadata');
  });

  it('1,000 garbage SASL exchanges leave the broker serving others', async () => {
    const garbage = [Buffer.from('n,,n=x'), Buffer.from(''), randomBytes(64), Buffer.alloc(5000, 0x61), Buffer.from('\u0000\u0000\u0000')];
    let sent = 0;
    const deadline = Date.now() + 30_000;
    while (sent < 1000 && Date.now() < deadline) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const c = await RawClient.open(saslPort);
          const mech = ['PLAIN', 'SCRAM-SHA-256', 'OAUTHBEARER', 'SCRAM-SHA-512'][i % 4]!;
          c.request(ApiKey.SaslHandshake, 1, 1, { mechanism: mech });
          await c.response(ApiKey.SaslHandshake, 1);
          c.request(ApiKey.SaslAuthenticate, 2, 2, { authBytes: garbage[(sent + i) % garbage.length]! });
          const r = await c.response(ApiKey.SaslAuthenticate, 2);
          if (r && r.body.errorCode === 0 && mech.startsWith('SCRAM')) {
            // A syntactically valid first message: the final one is garbage.
            c.request(ApiKey.SaslAuthenticate, 2, 3, { authBytes: randomBytes(40) });
            await c.response(ApiKey.SaslAuthenticate, 2);
          }
          c.close();
        }),
      );
      sent += 20;
    }
    assert.ok(sent >= 1000, `sent ${sent} exchanges in 30 s`);
    const producer = kafkaAs({ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-pw' }).producer();
    await producer.connect();
    const [res] = await producer.send({ topic: 'sasl-plain', messages: [{ value: 'still serving' }] });
    assert.equal(res!.errorCode, 0);
    await producer.disconnect();
  });
});
