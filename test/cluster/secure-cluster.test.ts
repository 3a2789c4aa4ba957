// Security state shared by a cluster (issue #12 × #11): two brokers on one etcd. A SCRAM user
// created through one broker logs in on the other, and an ACL created through one broker is
// enforced by the other — ACLs and credentials live in the metadata store, not in a data dir.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startEtcd, type EtcdProcess } from '../../src/cluster/etcd-process.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { makeScramCredential } from '../../src/security/scram.js';
import { tempDir, waitFor } from '../helpers/broker.js';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

describe('ACLs and SCRAM users shared by the brokers of a cluster', () => {
  let etcd: EtcdProcess;
  const brokers: RunningBroker[] = [];

  before(async () => {
    etcd = await startEtcd();
    for (const id of [1, 2]) {
      brokers.push(
        await startBroker({
          dataDir: await tempDir(`fjord-secure-cluster-${id}-`),
          config: {
            'node.id': String(id),
            'fjord.etcd.endpoints': etcd.endpoint,
            'broker.session.timeout.ms': '3000',
            'broker.heartbeat.interval.ms': '500',
            listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
            'sasl.jaas.config':
              'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";',
            'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
            'super.users': 'User:admin',
            'connection.failed.authentication.delay.ms': '0',
            'offsets.topic.replication.factor': '1',
          },
        }),
      );
    }
    // Both registered and a controller elected (admin requests go to the controller).
    for (const b of brokers) {
      await waitFor(() => b.broker.metadata.brokers().length === 2 && b.broker.metadata.controllerId() >= 0, 15_000, 'registrations and a controller');
    }
  });
  after(async () => {
    for (const b of brokers.reverse()) await b.close().catch(() => undefined);
    await etcd?.stop();
  });

  const client = (broker: RunningBroker, sasl: kafkajs.SASLOptions) =>
    new Kafka({ brokers: [broker.bootstrap], clientId: 'secure-cluster', sasl, logLevel: logLevel.NOTHING, retry: { retries: 2 } });

  it('a SCRAM user made on broker 1 logs in on broker 2; an ACL made on broker 1 holds on broker 2', async () => {
    const [one, two] = brokers as [RunningBroker, RunningBroker];
    await one.broker.security.alterScram([{ user: 'carol', credential: makeScramCredential('SCRAM-SHA-256', 'carol-pw') }], []);
    const carolOnTwo = client(two, { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-pw' }).admin();
    await waitFor(async () => {
      try {
        await carolOnTwo.connect();
        return true;
      } catch {
        return false;
      }
    }, 10_000, 'carol to log in on broker 2');
    try {
      const admin = client(one, { mechanism: 'plain', username: 'admin', password: 'admin-secret' }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'carol-data', numPartitions: 1 }, { topic: 'payroll', numPartitions: 1 }] });
      assert.deepEqual(await carolOnTwo.listTopics(), [], 'no ACLs yet: carol sees nothing');
      await admin.createAcls({
        acl: [
          {
            resourceType: AclResourceTypes.TOPIC,
            resourceName: 'carol-data',
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: 'User:carol',
            host: '*',
            operation: AclOperationTypes.DESCRIBE,
            permissionType: AclPermissionTypes.ALLOW,
          },
        ],
      });
      await admin.disconnect();
      // Broker 2 applies the ACL written through broker 1 (etcd watch).
      await waitFor(async () => (await carolOnTwo.listTopics()).includes('carol-data'), 10_000, 'the ACL on broker 2');
      assert.deepEqual(await carolOnTwo.listTopics(), ['carol-data']);
    } finally {
      await carolOnTwo.disconnect();
    }
  });
});
