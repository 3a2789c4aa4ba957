// Cross-checks the generated codec against an independent implementation: kafkajs's own
// request encoders (decoded with ours) and response decoders (fed with our encoders' bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { decodeRequestHeader, requestHeaderVersion } from '../../src/protocol/gen/index.js';
import { decodeProduceRequest, encodeProduceResponse } from '../../src/protocol/gen/produce.js';
import { decodeFetchRequest, encodeFetchResponse } from '../../src/protocol/gen/fetch.js';
import { decodeMetadataRequest, encodeMetadataResponse } from '../../src/protocol/gen/metadata.js';
import { decodeListOffsetsRequest } from '../../src/protocol/gen/list-offsets.js';
import { decodeCreateTopicsRequest } from '../../src/protocol/gen/create-topics.js';
import { decodeJoinGroupRequest } from '../../src/protocol/gen/join-group.js';
import { decodeOffsetCommitRequest } from '../../src/protocol/gen/offset-commit.js';
import { decodeApiVersionsRequest, encodeApiVersionsResponse } from '../../src/protocol/gen/api-versions.js';
import { decodeFindCoordinatorRequest, encodeFindCoordinatorResponse } from '../../src/protocol/gen/find-coordinator.js';

const require = createRequire(import.meta.url);
const kjs = (p: string): any => require(`kafkajs/src/protocol/${p}`);

/** Encode a kafkajs request (with its v1 request header framing); return header + body reader. */
async function kafkajsRequest(path: string, args: any, correlationId = 42): Promise<{ header: any; r: Reader }> {
  const request = kjs(`requests/${path}/request`)(args);
  const frame: Buffer = (await kjs('request')({ correlationId, clientId: 'kjs-client', request })).buffer;
  const r = new Reader(frame);
  assert.equal(r.int32(), frame.length - 4);
  const header = decodeRequestHeader(r, requestHeaderVersion(request.apiKey, request.apiVersion));
  assert.equal(header.requestApiKey, request.apiKey);
  assert.equal(header.requestApiVersion, request.apiVersion);
  assert.equal(header.correlationId, correlationId);
  assert.equal(header.clientId, 'kjs-client');
  return { header, r };
}

async function kafkajsRecordBatch(messages: { key: string; value: string }[]): Promise<Buffer> {
  const Record = kjs('recordBatch/record/v0');
  const { RecordBatch } = kjs('recordBatch/v0');
  const now = 1_700_000_000_000;
  const records = messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: 0 }));
  const Long = kjs('../utils/long');
  const batch = await RecordBatch({
    compression: 0,
    records,
    firstTimestamp: now,
    maxTimestamp: now,
    producerId: Long.fromInt(-1),
    producerEpoch: 0,
    firstSequence: 0,
    transactional: false,
    lastOffsetDelta: records.length - 1,
  });
  return batch.buffer;
}

test('ApiVersions request v0-2 (kafkajs) decodes; our response v0-2 decodes in kafkajs', async () => {
  for (const v of [0, 1, 2]) {
    const { r } = await kafkajsRequest(`apiVersions/v${v}`, {});
    decodeApiVersionsRequest(r, v);
    assert.equal(r.remaining(), 0);

    const w = new Writer();
    encodeApiVersionsResponse(w, v, {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 7,
    });
    const decoded = await kjs(`requests/apiVersions/v${v}/response`).decode(w.toBuffer());
    assert.equal(decoded.errorCode, 0);
    assert.deepEqual(decoded.apiVersions, [
      { apiKey: 0, minVersion: 3, maxVersion: 11 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ]);
    // kafkajs reports v2+ throttle as clientSideThrottleTime (KIP-219).
    if (v >= 1) assert.equal(v >= 2 ? decoded.clientSideThrottleTime : decoded.throttleTime, 7);
  }
});

test('Metadata request v0-6 (kafkajs) decodes; our response decodes in kafkajs', async () => {
  for (let v = 0; v <= 6; v++) {
    const { r } = await kafkajsRequest(`metadata/v${v}`, { topics: ['alpha', 'beta'], allowAutoTopicCreation: false });
    const m = decodeMetadataRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.deepEqual(
      m.topics!.map((t) => t.name),
      ['alpha', 'beta'],
    );
    if (v >= 4) assert.equal(m.allowAutoTopicCreation, false);

    const w = new Writer();
    encodeMetadataResponse(w, v, {
      throttleTimeMs: 5,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: v >= 1 ? 'r1' : null }],
      clusterId: 'cluster-x',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'alpha',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
        },
      ],
    });
    const d = await kjs(`requests/metadata/v${v}/response`).decode(w.toBuffer());
    assert.equal(d.brokers[0].host, 'localhost');
    assert.equal(d.brokers[0].port, 9092);
    assert.equal(d.topicMetadata[0].topic, 'alpha');
    assert.equal(d.topicMetadata[0].partitionMetadata[0].leader, 1);
    assert.deepEqual(d.topicMetadata[0].partitionMetadata[0].isr, [1]);
    if (v >= 1) assert.equal(d.controllerId, 1);
    if (v >= 2) assert.equal(d.clusterId, 'cluster-x');
    if (v >= 3) assert.equal(v >= 6 ? d.clientSideThrottleTime : d.throttleTime, 5);
  }
});

test('Produce request v3-7 (kafkajs, real record batches) decodes with records as a slice', async () => {
  for (let v = 3; v <= 7; v++) {
    const Long = kjs('../utils/long');
    const { r } = await kafkajsRequest(`produce/v${v}`, {
      acks: -1,
      timeout: 30000,
      transactionalId: null,
      producerId: Long.fromInt(-1),
      producerEpoch: 0,
      compression: 0,
      topicData: [
        {
          topic: 'events',
          partitions: [{ partition: 2, firstSequence: 0, messages: [{ key: 'k1', value: 'v1' }, { key: 'k2', value: 'v2' }] }],
        },
      ],
    });
    const frame = r.buf;
    const m = decodeProduceRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.equal(m.acks, -1);
    assert.equal(m.timeoutMs, 30000);
    assert.equal(m.transactionalId, null);
    assert.equal(m.topicData[0]!.name, 'events');
    const pd = m.topicData[0]!.partitionData[0]!;
    assert.equal(pd.index, 2);
    const rec = pd.records!;
    assert.equal(rec.buffer, frame.buffer, 'records must be a slice of the request buffer');
    assert.equal(rec.readInt32BE(8) + 12, rec.length, 'batchLength');
    assert.equal(rec.readInt8(16), 2, 'magic');
    assert.equal(rec.readInt32BE(57), 2, 'record count');

    // Our produce response decodes in kafkajs.
    const w = new Writer();
    encodeProduceResponse(w, v, {
      responses: [{ name: 'events', partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 12345, logAppendTimeMs: -1, logStartOffset: 0 }] }],
      throttleTimeMs: 0,
    });
    const d = await kjs(`requests/produce/v${v}/response`).decode(w.toBuffer());
    assert.equal(d.topics[0].topicName, 'events');
    assert.equal(d.topics[0].partitions[0].partition, 2);
    assert.equal(d.topics[0].partitions[0].baseOffset, '12345');
  }
});

test('Fetch request v4-11 (kafkajs) decodes; our fetch response with chunked records decodes in kafkajs', async () => {
  const batch = await kafkajsRecordBatch([
    { key: 'a', value: 'one' },
    { key: 'b', value: 'two' },
    { key: 'c', value: 'three' },
  ]);
  for (let v = 4; v <= 11; v++) {
    const { r } = await kafkajsRequest(`fetch/v${v}`, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      rackId: 'rack-a',
      topics: [
        {
          topic: 'events',
          partitions: [{ partition: 0, currentLeaderEpoch: 3, fetchOffset: '1234567890123', logStartOffset: '7', maxBytes: 65536 }],
        },
      ],
      forgottenTopics: [{ topic: 'old', partitions: [4, 5] }],
    });
    const m = decodeFetchRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.equal(m.replicaId, -1);
    assert.equal(m.maxWaitMs, 500);
    assert.equal(m.minBytes, 1);
    assert.equal(m.maxBytes, 1048576);
    assert.equal(m.isolationLevel, 1);
    const p = m.topics[0]!.partitions[0]!;
    assert.equal(m.topics[0]!.topic, 'events');
    assert.equal(p.partition, 0);
    assert.equal(p.fetchOffset, 1234567890123);
    assert.equal(p.partitionMaxBytes, 65536);
    if (v >= 5) assert.equal(p.logStartOffset, 7);
    if (v >= 9) assert.equal(p.currentLeaderEpoch, 3);
    if (v >= 7) {
      assert.equal(m.sessionEpoch, -1);
      assert.deepEqual(m.forgottenTopicsData, [{ topic: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [4, 5] }]);
    }
    if (v >= 11) assert.equal(m.rackId, 'rack-a');

    const w = new Writer();
    encodeFetchResponse(w, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'events',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 3,
              lastStableOffset: 3,
              logStartOffset: 0,
              abortedTransactions: [],
              preferredReadReplica: -1,
              records: [batch.subarray(0, 20), batch.subarray(20)],
            },
          ],
        },
      ],
    });
    const d = await kjs(`requests/fetch/v${v}/response`).decode(w.toBuffer());
    const part = d.responses[0].partitions[0];
    assert.equal(d.responses[0].topicName, 'events');
    assert.equal(part.highWatermark, '3');
    assert.deepEqual(
      part.messages.map((x: any) => [x.key.toString(), x.value.toString(), x.offset]),
      [
        ['a', 'one', '0'],
        ['b', 'two', '1'],
        ['c', 'three', '2'],
      ],
    );
  }
});

test('ListOffsets request v0-3 (kafkajs) decodes', async () => {
  for (let v = 0; v <= 3; v++) {
    const { r } = await kafkajsRequest(`listOffsets/v${v}`, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'events', partitions: [{ partition: 3, timestamp: -2 }] }],
    });
    const m = decodeListOffsetsRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.equal(m.replicaId, -1);
    assert.equal(m.topics[0]!.name, 'events');
    assert.equal(m.topics[0]!.partitions[0]!.partitionIndex, 3);
    assert.equal(m.topics[0]!.partitions[0]!.timestamp, -2);
    if (v >= 2) assert.equal(m.isolationLevel, 1);
  }
});

test('CreateTopics request v0-3 (kafkajs) decodes', async () => {
  for (let v = 0; v <= 3; v++) {
    const { r } = await kafkajsRequest(`createTopics/v${v}`, {
      topics: [
        {
          topic: 'new-topic',
          numPartitions: 6,
          replicationFactor: 3,
          replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }],
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      validateOnly: true,
      timeout: 1234,
    });
    const m = decodeCreateTopicsRequest(r, v);
    assert.equal(r.remaining(), 0);
    const t = m.topics[0]!;
    assert.equal(t.name, 'new-topic');
    assert.equal(t.numPartitions, 6);
    assert.equal(t.replicationFactor, 3);
    assert.deepEqual(t.assignments, [{ partitionIndex: 0, brokerIds: [1, 2, 3] }]);
    assert.deepEqual(t.configs, [{ name: 'cleanup.policy', value: 'compact' }]);
    assert.equal(m.timeoutMs, 1234);
    if (v >= 1) assert.equal(m.validateOnly, true);
  }
});

test('JoinGroup v0-5 and OffsetCommit v0-5 requests (kafkajs) decode', async () => {
  for (let v = 0; v <= 5; v++) {
    const { r } = await kafkajsRequest(`joinGroup/v${v}`, {
      groupId: 'g1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2, 3]) }],
    });
    const m = decodeJoinGroupRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.equal(m.groupId, 'g1');
    assert.equal(m.sessionTimeoutMs, 30000);
    if (v >= 1) assert.equal(m.rebalanceTimeoutMs, 60000);
    assert.equal(m.protocolType, 'consumer');
    assert.equal(m.protocols[0]!.name, 'RoundRobinAssigner');
    assert.deepEqual([...m.protocols[0]!.metadata], [0, 1, 2, 3]);
  }
  for (let v = 0; v <= 5; v++) {
    const { r } = await kafkajsRequest(`offsetCommit/v${v}`, {
      groupId: 'g1',
      groupGenerationId: 4,
      memberId: 'member-1',
      retentionTime: -1,
      topics: [{ topic: 'events', partitions: [{ partition: 1, offset: '99', metadata: null }] }],
    });
    const m = decodeOffsetCommitRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.equal(m.groupId, 'g1');
    if (v >= 1) {
      assert.equal(m.generationIdOrMemberEpoch, 4);
      assert.equal(m.memberId, 'member-1');
    }
    const p = m.topics[0]!.partitions[0]!;
    assert.equal(m.topics[0]!.name, 'events');
    assert.equal(p.partitionIndex, 1);
    assert.equal(p.committedOffset, 99);
  }
});

test('FindCoordinator request v0-2 (kafkajs) decodes; our response decodes in kafkajs', async () => {
  for (let v = 0; v <= 2; v++) {
    const { r } = await kafkajsRequest(`findCoordinator/v${v}`, { groupId: 'g1', coordinatorKey: 'g1', coordinatorType: 0 });
    const m = decodeFindCoordinatorRequest(r, v);
    assert.equal(r.remaining(), 0);
    assert.equal(m.key, 'g1');
    assert.equal(m.keyType, 0);

    const w = new Writer();
    encodeFindCoordinatorResponse(w, v, { errorCode: 0, errorMessage: null, nodeId: 1, host: 'h1', port: 9093, throttleTimeMs: 0 });
    const d = await kjs(`requests/findCoordinator/v${v}/response`).decode(w.toBuffer());
    assert.equal(d.coordinator.host, 'h1');
    assert.equal(d.coordinator.port, 9093);
    assert.equal(d.coordinator.nodeId, 1);
  }
});
