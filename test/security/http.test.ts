// The HTTP side behind the same security as the broker: the REST proxy and the schema registry
// over HTTPS (a test CA), HTTP Basic credentials checked by logging in to a SASL broker with
// them, and REST requests reaching Kafka as the HTTP user, so the broker's ACLs decide.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startRestProxy, startSchemaRegistry, type RunningService } from '../../src/http/index.js';
import type { TestBroker } from '../helpers/broker.js';
import { listenerPort, makePki, startSecureBroker, type TestPki } from './helpers.js';
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('HTTPS and authentication on the REST proxy and the schema registry', () => {
  let pki: TestPki;
  let broker: TestBroker;
  let rest: RunningService;
  let registry: RunningService;
  let cluster: string;
  const users = 'user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret"';

  before(async () => {
    pki = makePki();
    broker = await startSecureBroker({
      'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
    });
    const bootstrap = `127.0.0.1:${listenerPort(broker, 'SASL_PLAINTEXT')}`;
    const admin = new Kafka({ brokers: [bootstrap], sasl: { mechanism: 'plain', username: 'admin', password: 'admin-secret' }, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'alice-orders', numPartitions: 1 }, { topic: 'payroll', numPartitions: 1 }] });
    await admin.createAcls({
      acl: [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((operation) => ({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'alice-',
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        principal: 'User:alice',
        host: '*',
        operation,
        permissionType: AclPermissionTypes.ALLOW,
      })),
    });
    await admin.disconnect();
    const service = { sasl: { mechanism: 'PLAIN' as const, username: 'admin', password: 'admin-secret' } };
    const security = { tlsKeystore: pki.serverPem, authentication: 'basic' as const };
    rest = await startRestProxy({ bootstrap, port: 0, security, kafkaSecurity: service });
    registry = await startSchemaRegistry({ bootstrap, port: 0, security, kafkaSecurity: service });
  });
  after(async () => {
    await rest?.close();
    await registry?.close();
    await broker?.dispose();
  });

  function call(base: string, method: string, path: string, user?: string, body?: unknown): Promise<Reply> {
    const url = new URL(base + path);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user) headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    return new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, ca: readFileSync(pki.caCert) },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  it('serves HTTPS only, with a certificate clients verify against the CA', async () => {
    assert.match(rest.url, /^https:\/\//);
    assert.match(registry.url, /^https:\/\//);
    const clusters = await call(rest.url, 'GET', '/v3/clusters', 'alice:alice-secret');
    assert.equal(clusters.status, 200);
    cluster = clusters.body.data[0].cluster_id;
    assert.ok(cluster);
  });

  it('refuses requests without credentials or with a wrong password (401 + WWW-Authenticate)', async () => {
    const none = await call(rest.url, 'GET', '/v3/clusters');
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic realm=/);
    assert.equal(none.body.error_code, 401);
    assert.equal((await call(rest.url, 'GET', '/v3/clusters', 'alice:wrong')).status, 401);
    assert.equal((await call(rest.url, 'GET', '/v3/clusters', 'mallory:x')).status, 401);
    assert.equal((await call(registry.url, 'GET', '/subjects')).status, 401);
    assert.equal((await call(registry.url, 'GET', '/subjects', 'bob:wrong')).status, 401);
  });

  it('REST produce reaches Kafka as the HTTP user: ACLs allow alice her topics and refuse the rest', async () => {
    const ok = await call(rest.url, 'POST', `/v3/clusters/${cluster}/topics/alice-orders/records`, 'alice:alice-secret', { value: { type: 'JSON', data: { n: 1 } } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.offset, 0);
    const denied = await call(rest.url, 'POST', `/v3/clusters/${cluster}/topics/payroll/records`, 'alice:alice-secret', { value: { type: 'JSON', data: { n: 2 } } });
    assert.equal(denied.status, 403, `alice may not write payroll: ${JSON.stringify(denied.body)}`);
    assert.equal(denied.body.error_code, 40301);
    // bob has no ACLs at all: he does not even see alice's topic.
    const bob = await call(rest.url, 'POST', `/v3/clusters/${cluster}/topics/alice-orders/records`, 'bob:bob-secret', { value: { type: 'JSON', data: { n: 3 } } });
    assert.equal(bob.status, 403, `bob may not write: ${JSON.stringify(bob.body)}`);
    // What alice may describe is what she lists.
    const topics = await call(rest.url, 'GET', `/v3/clusters/${cluster}/topics`, 'alice:alice-secret');
    assert.deepEqual(topics.body.data.map((t: { topic_name: string }) => t.topic_name), ['alice-orders']);
  });

  it('the registry serves authenticated users', async () => {
    const reg = await call(registry.url, 'POST', '/subjects/alice-orders-value/versions', 'alice:alice-secret', {
      schema: JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'n', type: 'int' }] }),
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const subjects = await call(registry.url, 'GET', '/subjects', 'bob:bob-secret');
    assert.deepEqual(subjects.body, ['alice-orders-value']);
  });
});
