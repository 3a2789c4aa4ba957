// ACLs enforced on a real broker: an authorizer with a super user, principals that may do
// nothing until ACLs allow it, prefixed and literal patterns, DENY over ALLOW, host ACLs, and
// the admin ACL APIs through kafkajs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { TestBroker } from '../helpers/broker.js';
import { listenerPort, startSecureBroker } from './helpers.js';
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

describe('ACL authorization', () => {
  let broker: TestBroker;
  let port: number;
  const users = 'user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret"';

  before(async () => {
    broker = await startSecureBroker({
      'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
    });
    port = listenerPort(broker, 'SASL_PLAINTEXT');
    const admin = as('admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: ['alice-orders', 'alice-audit', 'secret'].map((topic) => ({ topic, numPartitions: 1 })) });
    await admin.disconnect();
  });
  after(async () => broker?.dispose());

  function as(user: string) {
    return new Kafka({
      brokers: [`127.0.0.1:${port}`],
      clientId: `acl-${user}`,
      sasl: { mechanism: 'plain', username: user, password: `${user}-secret` },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
  }

  const acl = (o: Partial<kafkajs.AclEntry> & { resourceName: string }): kafkajs.AclEntry => ({
    resourceType: AclResourceTypes.TOPIC,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: AclOperationTypes.WRITE,
    permissionType: AclPermissionTypes.ALLOW,
    ...o,
  });

  async function send(user: string, topic: string): Promise<string> {
    const producer = as(user).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: 'x' }] });
      return 'ok';
    } catch (err) {
      return (err as { type?: string; cause?: { type?: string } }).type ?? (err as Error).message;
    } finally {
      await producer.disconnect();
    }
  }

  it('a principal with no ACLs can do nothing and sees no topics', async () => {
    const admin = as('alice').admin();
    await admin.connect();
    assert.deepEqual(await admin.listTopics(), []);
    await admin.disconnect();
    assert.match(await send('alice', 'alice-orders'), /TOPIC_AUTHORIZATION_FAILED|authoriz/i);
  });

  it('a prefixed ALLOW lets alice write and describe her topics only; DENY wins over ALLOW', async () => {
    const admin = as('admin').admin();
    await admin.connect();
    await admin.createAcls({
      acl: [
        acl({ resourceName: 'alice-', resourcePatternType: ResourcePatternTypes.PREFIXED }),
        acl({ resourceName: 'alice-audit', permissionType: AclPermissionTypes.DENY }),
      ],
    });
    await admin.disconnect();
    assert.equal(await send('alice', 'alice-orders'), 'ok');
    assert.match(await send('alice', 'alice-audit'), /TOPIC_AUTHORIZATION_FAILED|authoriz/i);
    assert.match(await send('alice', 'secret'), /TOPIC_AUTHORIZATION_FAILED|authoriz/i);
    assert.match(await send('bob', 'alice-orders'), /TOPIC_AUTHORIZATION_FAILED|authoriz/i);
    const alice = as('alice').admin();
    await alice.connect();
    // WRITE implies DESCRIBE (a DENY of WRITE does not deny DESCRIBE, as in Kafka): the listing
    // shows exactly the topics alice may describe.
    assert.deepEqual((await alice.listTopics()).sort(), ['alice-audit', 'alice-orders']);
    // Cluster operations need cluster ACLs.
    await assert.rejects(alice.createTopics({ topics: [{ topic: 'alice-new' }] }));
    await alice.disconnect();
  });

  it('consumers need READ on the topic and the group; host ACLs match the client address', async () => {
    const admin = as('admin').admin();
    await admin.connect();
    await admin.createAcls({
      acl: [
        acl({ principal: 'User:bob', resourceName: 'alice-orders', operation: AclOperationTypes.READ }),
        acl({ principal: 'User:bob', resourceType: AclResourceTypes.GROUP, resourceName: 'bob-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.READ, host: '127.0.0.1' }),
        acl({ principal: 'User:bob', resourceType: AclResourceTypes.GROUP, resourceName: 'elsewhere', operation: AclOperationTypes.READ, host: '10.1.2.3' }),
      ],
    });
    await admin.disconnect();
    const consume = async (groupId: string) => {
      const consumer = as('bob').consumer({ groupId, retry: { retries: 0 } });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: 'alice-orders', fromBeginning: true });
        const got = new Promise<string>((resolve, reject) => {
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
          consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
        });
        return await Promise.race([got, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('timeout')), 15_000))]);
      } finally {
        await consumer.disconnect();
      }
    };
    assert.equal(await consume('bob-workers'), 'x');
    // FindCoordinator answers GROUP_AUTHORIZATION_FAILED; kafkajs reports it as "Failed to find group coordinator".
    await assert.rejects(consume('elsewhere'), /authoriz|group coordinator/i);
  });

  it('a transactional producer with WRITE on its transactional id and topic commits', async () => {
    const admin = as('admin').admin();
    await admin.connect();
    await admin.createAcls({
      acl: [
        acl({ principal: 'User:bob', resourceType: AclResourceTypes.TRANSACTIONAL_ID, resourceName: 'bob-tx', operation: AclOperationTypes.WRITE }),
        acl({ principal: 'User:bob', resourceName: 'bob-out', operation: AclOperationTypes.WRITE }),
      ],
    });
    await admin.createTopics({ topics: [{ topic: 'bob-out', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = as('bob').producer({ transactionalId: 'bob-tx', idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'bob-out', messages: [{ value: 'in a transaction' }] });
    await txn.commit();
    await producer.disconnect();
    // Another transactional id is refused.
    const other = as('bob').producer({ transactionalId: 'not-bobs', idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } });
    // FindCoordinator answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED; kafkajs reports a coordinator it cannot find.
    await assert.rejects(other.connect().then(() => other.transaction()), /authoriz|coordinator/i);
    await other.disconnect().catch(() => {});
  });

  it('DescribeAcls filters and DeleteAcls removes, through kafkajs admin', async () => {
    const admin = as('admin').admin();
    await admin.connect();
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.TOPIC,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal: 'User:alice',
      host: '*',
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const names = described.resources.map((r) => `${r.resourceName}/${r.acls.map((a) => a.permissionType).join(',')}`).sort();
    assert.deepEqual(names, [`alice-/${AclPermissionTypes.ALLOW}`, `alice-audit/${AclPermissionTypes.DENY}`]);
    const deleted = await admin.deleteAcls({
      filters: [{ resourceType: AclResourceTypes.TOPIC, resourceName: 'alice-audit', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.DENY }],
    });
    assert.equal(deleted.filterResponses[0]!.matchingAcls.length, 1);
    await admin.disconnect();
    assert.equal(await send('alice', 'alice-audit'), 'ok', 'with the DENY gone, the prefixed ALLOW applies');
  });

  it('ACLs survive a restart', async () => {
    await broker.close();
    const { startTestBroker } = await import('../helpers/broker.js');
    broker = await startTestBroker(
      {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin',
      },
      broker.dataDir,
    );
    port = listenerPort(broker, 'SASL_PLAINTEXT');
    assert.equal(await send('alice', 'alice-orders'), 'ok');
    assert.match(await send('alice', 'secret'), /TOPIC_AUTHORIZATION_FAILED|authoriz/i);
  });
});
