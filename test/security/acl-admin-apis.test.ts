// Per-resource ACL checks on the admin, share-group and cluster APIs: a principal without ACLs
// gets Kafka's *_AUTHORIZATION_FAILED code for exactly the resource it may not touch (and keeps
// its connection), and the matching ACL makes the same call succeed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { TestBroker } from '../helpers/broker.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { listenerPort, rawPlainLogin, startSecureBroker } from './helpers.js';
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes, ConfigResourceTypes } = kafkajs;

describe('ACLs on admin, share-group and cluster APIs', () => {
  let broker: TestBroker;
  let port: number;
  let admin: kafkajs.Admin;
  let bob: kafkajs.Admin;
  const users = 'user_admin="admin-secret" user_bob="bob-secret"';

  before(async () => {
    broker = await startSecureBroker({
      'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
    });
    port = listenerPort(broker, 'SASL_PLAINTEXT');
    admin = as('admin').admin();
    bob = as('bob').admin();
    await admin.connect();
    await bob.connect();
    await admin.createTopics({ topics: [{ topic: 'cfg', numPartitions: 1 }], waitForLeaders: true });
    const producer = as('admin').producer();
    await producer.connect();
    await producer.send({ topic: 'cfg', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.disconnect();
  });
  after(async () => {
    await bob?.disconnect();
    await admin?.disconnect();
    await broker?.dispose();
  });

  function as(user: string) {
    return new Kafka({
      brokers: [`127.0.0.1:${port}`],
      clientId: `acl-admin-${user}`,
      sasl: { mechanism: 'plain', username: user, password: `${user}-secret` },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
  }

  async function allow(resourceType: number, resourceName: string, operation: number): Promise<void> {
    await admin.createAcls({
      acl: [
        {
          resourceType,
          resourceName,
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: 'User:bob',
          host: '*',
          operation,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    });
  }

  async function failure(op: () => Promise<unknown>): Promise<string> {
    try {
      await op();
      return 'ok';
    } catch (err) {
      const e = err as { type?: string; errors?: { type?: string }[]; partitions?: { error?: { type?: string } }[]; message: string };
      const cause = (err as { cause?: typeof e }).cause;
      return e.type ?? e.errors?.[0]?.type ?? e.partitions?.[0]?.error?.type ?? cause?.partitions?.[0]?.error?.type ?? e.message;
    }
  }

  it('DescribeConfigs and AlterConfigs need DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, broker configs on the cluster', async () => {
    const describeTopic = () => bob.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg' }], includeSynonyms: false });
    assert.match(await failure(describeTopic), /TOPIC_AUTHORIZATION_FAILED/);
    await allow(AclResourceTypes.TOPIC, 'cfg', AclOperationTypes.DESCRIBE_CONFIGS);
    const described = await describeTopic();
    assert.equal(described.resources[0]!.errorCode, 0);
    assert.ok(described.resources[0]!.configEntries.some((c) => c.configName === 'retention.ms'));

    const describeBroker = () => bob.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: String(broker.broker.nodeId) }], includeSynonyms: false });
    assert.match(await failure(describeBroker), /CLUSTER_AUTHORIZATION_FAILED/);

    const alter = () =>
      bob.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg', configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
    assert.match(await failure(alter), /TOPIC_AUTHORIZATION_FAILED/);
    await allow(AclResourceTypes.TOPIC, 'cfg', AclOperationTypes.ALTER_CONFIGS);
    assert.equal(await failure(alter), 'ok');
    const after = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg' }], includeSynonyms: false });
    assert.equal(after.resources[0]!.configEntries.find((c) => c.configName === 'retention.ms')?.configValue, '7200000');
  });

  it('CreatePartitions needs ALTER and DeleteRecords needs DELETE on the topic', async () => {
    const grow = () => bob.createPartitions({ topicPartitions: [{ topic: 'cfg', count: 2 }] });
    assert.match(await failure(grow), /TOPIC_AUTHORIZATION_FAILED/);
    let meta = await admin.fetchTopicMetadata({ topics: ['cfg'] });
    assert.equal(meta.topics[0]!.partitions.length, 1, 'a refused CreatePartitions changes nothing');
    await allow(AclResourceTypes.TOPIC, 'cfg', AclOperationTypes.ALTER);
    assert.equal(await failure(grow), 'ok');
    meta = await admin.fetchTopicMetadata({ topics: ['cfg'] });
    assert.equal(meta.topics[0]!.partitions.length, 2);

    const trim = () => bob.deleteTopicRecords({ topic: 'cfg', partitions: [{ partition: 0, offset: '2' }] });
    assert.match(await failure(trim), /TOPIC_AUTHORIZATION_FAILED/);
    const low = async () => (await admin.fetchTopicOffsets('cfg')).find((p) => p.partition === 0)!.low;
    assert.equal(await low(), '0', 'a refused DeleteRecords deletes nothing');
    await allow(AclResourceTypes.TOPIC, 'cfg', AclOperationTypes.DELETE);
    assert.equal(await failure(trim), 'ok');
    assert.equal(await low(), '2');
  });

  it('cluster-level APIs answer CLUSTER_AUTHORIZATION_FAILED without DESCRIBE/ALTER on the cluster and keep the connection', async () => {
    const { client, errorCode } = await rawPlainLogin(port, 'bob', 'bob-secret');
    assert.equal(errorCode, 0);
    try {
      client.request(ApiKey.DescribeCluster, 0, 10, { includeClusterAuthorizedOperations: false });
      assert.equal((await client.response(ApiKey.DescribeCluster, 0))?.body.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      client.request(ApiKey.DescribeLogDirs, 4, 11, { topics: null });
      assert.equal((await client.response(ApiKey.DescribeLogDirs, 4))?.body.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      client.request(ApiKey.ElectLeaders, 2, 12, { electionType: 0, topicPartitions: null, timeoutMs: 1000 });
      assert.equal((await client.response(ApiKey.ElectLeaders, 2))?.body.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      client.request(ApiKey.DescribeClientQuotas, 1, 13, { components: [], strict: false });
      assert.equal((await client.response(ApiKey.DescribeClientQuotas, 1))?.body.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);

      await allow(AclResourceTypes.CLUSTER, 'kafka-cluster', AclOperationTypes.DESCRIBE);
      client.request(ApiKey.DescribeCluster, 0, 14, { includeClusterAuthorizedOperations: false });
      const cluster = await client.response(ApiKey.DescribeCluster, 0);
      assert.equal(cluster?.body.errorCode, 0);
      assert.equal(cluster?.body.brokers.length, 1);
    } finally {
      client.socket.destroy();
    }
  });

  it('group APIs refuse groups the principal may not touch: OffsetDelete, ConsumerGroupDescribe, share groups', async () => {
    const { client, errorCode } = await rawPlainLogin(port, 'bob', 'bob-secret');
    assert.equal(errorCode, 0);
    try {
      client.request(ApiKey.OffsetDelete, 0, 20, { groupId: 'g1', topics: [{ name: 'cfg', partitions: [{ partitionIndex: 0 }] }] });
      assert.equal((await client.response(ApiKey.OffsetDelete, 0))?.body.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      client.request(ApiKey.ConsumerGroupDescribe, 0, 21, { groupIds: ['g1'], includeAuthorizedOperations: false });
      const cg = await client.response(ApiKey.ConsumerGroupDescribe, 0);
      assert.equal(cg?.body.groups[0].groupId, 'g1');
      assert.equal(cg?.body.groups[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      client.request(ApiKey.ShareGroupDescribe, 1, 22, { groupIds: ['s1'], includeAuthorizedOperations: false });
      assert.equal((await client.response(ApiKey.ShareGroupDescribe, 1))?.body.groups[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      client.request(ApiKey.ShareGroupHeartbeat, 1, 23, {
        groupId: 's1', memberId: 'm-1', memberEpoch: 0, rackId: null, subscribedTopicNames: ['cfg'],
      });
      assert.equal((await client.response(ApiKey.ShareGroupHeartbeat, 1))?.body.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);

      // READ on the group alone is not enough to subscribe to a topic the principal may not describe.
      await allow(AclResourceTypes.GROUP, 's1', AclOperationTypes.READ);
      client.request(ApiKey.ShareGroupHeartbeat, 1, 24, {
        groupId: 's1', memberId: 'm-1', memberEpoch: 0, rackId: null, subscribedTopicNames: ['secret-topic'],
      });
      assert.equal((await client.response(ApiKey.ShareGroupHeartbeat, 1))?.body.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(client.closed, false, 'refusals are answers, not closed connections');
    } finally {
      client.socket.destroy();
    }
  });
});
