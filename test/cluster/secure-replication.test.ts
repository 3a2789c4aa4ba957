// Replication over a secured inter-broker listener (issue #12 × #11): three brokers whose
// followers reach leaders on `inter.broker.listener.name=INTERNAL` (SASL_SSL, PLAIN login as
// User:broker, a test CA), with an authorizer on. The PLAINTEXT listener's ANONYMOUS principal
// may not fetch as a replica (no CLUSTER_ACTION), so followers catching up proves they used the
// secured listener and logged in. Clients use SASL_SSL as an admin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerConnection } from '../../src/cluster/broker-client.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { FetchResponse } from '../../src/protocol/gen/fetch.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { makePki, type TestPki } from '../security/helpers.js';
import { InProcessCluster, logBytes, waitFor } from './replication-helpers.js';

const { Kafka, logLevel } = kafkajs;

describe('replication over a SASL_SSL inter-broker listener', () => {
  let pki: TestPki;
  let cluster: InProcessCluster;

  before(async () => {
    pki = makePki();
    cluster = new InProcessCluster({
      listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL',
      'inter.broker.listener.name': 'INTERNAL',
      'sasl.enabled.mechanisms': 'PLAIN',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_admin="admin-secret";',
      'ssl.keystore.location': pki.serverPem,
      'ssl.truststore.location': pki.caCert,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:broker;User:admin',
      'connection.failed.authentication.delay.ms': '0',
    });
    await cluster.start([1, 2, 3]);
  });
  after(async () => cluster?.close());

  const internal = (id: number) => cluster.running.get(id)!.broker.listenerEndpoints.find((l) => l.name === 'INTERNAL')!;
  const plaintext = (id: number) => cluster.running.get(id)!.broker.listenerEndpoints.find((l) => l.name === 'PLAINTEXT')!;

  it('followers replicate through the secured listener; the plaintext one refuses replica fetches', async () => {
    const kafka = new Kafka({
      clientId: 'secure-repl',
      brokers: [1, 2, 3].map((id) => `127.0.0.1:${internal(id).port}`),
      ssl: { ca: [readFileSync(pki.caCert, 'utf8')] },
      sasl: { mechanism: 'plain', username: 'admin', password: 'admin-secret' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'secure', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    // acks=all with min.insync.replicas=3 completes only once both followers have the records.
    await producer.send({ topic: 'secure', acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ value: `s${i}` })) });
    await producer.disconnect();

    const leader = cluster.store.partitionState('secure', 0)!.leader;
    for (const id of [1, 2, 3]) await waitFor(`replica ${id} at offset 20`, () => cluster.partition(id, 'secure').log.logEndOffset >= 20);
    const bytes = await Promise.all([1, 2, 3].map((id) => logBytes(cluster.dirs.get(id)!, 'secure')));
    assert.ok(bytes[0]!.length > 0);
    assert.ok(bytes.every((b) => b.equals(bytes[0]!)), 'identical replicas');

    // A replica fetch from the plaintext listener (ANONYMOUS, no CLUSTER_ACTION) is refused.
    const ep = plaintext(leader);
    const conn = await BrokerConnection.open(ep.host, ep.port, { clientId: 'impostor', timeoutMs: 5000 });
    try {
      const topicId = cluster.store.topic('secure')!.topicId;
      const res = await conn.request<FetchResponse>(ApiKey.Fetch, 12, {
        replicaId: 99,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'secure', topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
      const code = res.errorCode !== 0 ? res.errorCode : res.responses[0]!.partitions[0]!.errorCode;
      // Kafka answers a follower fetch without CLUSTER_ACTION with TOPIC_AUTHORIZATION_FAILED per partition.
      assert.equal(code, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      conn.close();
    }
  });
});
