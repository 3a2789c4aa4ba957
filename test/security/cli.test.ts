// `fjord user` and `fjord acl` against a secured broker, logged in through --command-config as
// Kafka's tools are: SCRAM users created from the CLI can then log in with kafkajs, and ACLs
// created from the CLI are what the authorizer enforces.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { TestBroker } from '../helpers/broker.js';
import { fjord, ok } from '../cli/run.js';
import { listenerPort, startSecureBroker } from './helpers.js';
const { Kafka, logLevel } = kafkajs;

describe('fjord user / fjord acl', () => {
  let broker: TestBroker;
  let b: string[];
  before(async () => {
    broker = await startSecureBroker({
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
    });
    const config = join(broker.dataDir, 'admin.properties');
    writeFileSync(
      config,
      'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n',
    );
    b = ['-b', `127.0.0.1:${listenerPort(broker, 'SASL_PLAINTEXT')}`, '--command-config', config];
  });
  after(async () => broker?.dispose());

  it('creates, lists and deletes SCRAM users', async () => {
    await ok(['user', 'create', 'dana', '--password', 'dana-pw', ...b]);
    const listed = JSON.parse(await ok(['user', 'list', '--json', ...b]));
    assert.deepEqual(listed, [{ user: 'dana', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 4096 }] }]);
    await ok(['user', 'delete', 'dana', '--mechanism', 'SCRAM-SHA-256', ...b]);
    const after = JSON.parse(await ok(['user', 'list', '--json', ...b]));
    assert.deepEqual(after[0].credentials.map((c: { mechanism: string }) => c.mechanism), ['SCRAM-SHA-512']);
    const bad = await fjord(['user', 'create', 'eve', ...b]);
    assert.equal(bad.code, 2, 'a missing --password is a usage error');
  });

  it('ACLs created with the CLI are enforced; list and delete show them', async () => {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${listenerPort(broker, 'SASL_PLAINTEXT')}`],
      sasl: { mechanism: 'scram-sha-512', username: 'dana', password: 'dana-pw' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const send = async () => {
      const p = kafka.producer({ allowAutoTopicCreation: false });
      await p.connect();
      try {
        await p.send({ topic: 'cli-acl', messages: [{ value: 'v' }] });
        return 'ok';
      } catch (err) {
        return (err as { type?: string }).type ?? 'error';
      } finally {
        await p.disconnect();
      }
    };
    await ok(['topic', 'create', 'cli-acl', ...b]);
    assert.notEqual(await send(), 'ok');
    await ok(['acl', 'create', '--allow-principal', 'User:dana', '--operation', 'WRITE', '--topic', 'cli-', '--resource-pattern-type', 'prefixed', ...b]);
    assert.equal(await send(), 'ok');
    const listed = JSON.parse(await ok(['acl', 'list', '--json', ...b]));
    assert.deepEqual(listed, [
      { resourceType: 'TOPIC', resourceName: 'cli-', patternType: 'PREFIXED', principal: 'User:dana', host: '*', operation: 'WRITE', permission: 'ALLOW' },
    ]);
    await ok(['acl', 'delete', '--topic', 'cli-', '--resource-pattern-type', 'prefixed', ...b]);
    assert.deepEqual(JSON.parse(await ok(['acl', 'list', '--json', ...b])), []);
    assert.notEqual(await send(), 'ok');
  });

  it('without credentials the CLI is refused with a clear error', async () => {
    const r = await fjord(['topic', 'list', '-b', `127.0.0.1:${listenerPort(broker, 'SASL_PLAINTEXT')}`], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
  });
});
