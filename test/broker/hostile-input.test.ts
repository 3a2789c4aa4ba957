// Bad input must never take the broker down or corrupt a log: malformed frames close only the
// offending connection; bad batches get Kafka's error codes; other clients keep being served.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeApiVersionsResponse } from '../../src/protocol/gen/api-versions.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { Reader } from '../../src/protocol/primitives.js';
import { RawClient } from '../helpers/raw-client.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

async function apiVersionsWorks(port: number): Promise<boolean> {
  const c = await RawClient.open(port);
  c.request(ApiKey.ApiVersions, 3, 7, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
  const res = await c.response(ApiKey.ApiVersions, 3);
  c.close();
  return res !== null && res.correlationId === 7 && res.body.errorCode === 0;
}

function produceBody(topic: string, records: Buffer, acks = 1) {
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] };
}

describe('hostile input', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ 'message.max.bytes': '10000' });
    await broker.broker.topics.create({ name: 'victim', numPartitions: 1, replicationFactor: -1 });
  });
  after(async () => broker.dispose());

  it('closes the connection on garbage, negative and absurd frame sizes, and keeps serving', async () => {
    for (const bytes of [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3]),
      Buffer.from([0x7f, 0xff, 0xff, 0xff]),
      Buffer.from([0, 0, 0, 0]),
    ]) {
      const c = await RawClient.open(broker.port);
      c.send(bytes);
      assert.equal(await c.waitClosed(), true, `connection closed after ${bytes.toString('hex')}`);
    }
    assert.equal(await apiVersionsWorks(broker.port), true);
  });

  it('closes on unknown API keys, unknown versions and truncated bodies', async () => {
    const unknownKey = Buffer.alloc(4 + 10);
    unknownKey.writeInt32BE(10, 0);
    unknownKey.writeInt16BE(9999, 4);
    unknownKey.writeInt16BE(0, 6);
    unknownKey.writeInt32BE(1, 8);
    unknownKey.writeInt16BE(-1, 12);
    const badVersion = Buffer.from(unknownKey);
    badVersion.writeInt16BE(ApiKey.Metadata, 4);
    badVersion.writeInt16BE(999, 6);
    // A Metadata v1 header followed by a topic array claiming 1000 entries but holding none.
    const truncated = Buffer.alloc(4 + 10 + 4);
    truncated.writeInt32BE(14, 0);
    truncated.writeInt16BE(ApiKey.Metadata, 4);
    truncated.writeInt16BE(1, 6);
    truncated.writeInt32BE(3, 8);
    truncated.writeInt16BE(-1, 12);
    truncated.writeInt32BE(1000, 14);
    for (const bytes of [unknownKey, badVersion, truncated]) {
      const c = await RawClient.open(broker.port);
      c.send(bytes);
      assert.equal(await c.waitClosed(), true);
    }
    assert.equal(await apiVersionsWorks(broker.port), true);
  });

  it('answers an unknown ApiVersions version with UNSUPPORTED_VERSION and the supported ranges', async () => {
    const c = await RawClient.open(broker.port);
    const frame = Buffer.alloc(4 + 10);
    frame.writeInt32BE(10, 0);
    frame.writeInt16BE(ApiKey.ApiVersions, 4);
    frame.writeInt16BE(99, 6);
    frame.writeInt32BE(42, 8);
    frame.writeInt16BE(-1, 12);
    c.send(frame);
    const f = await c.frame();
    assert.ok(f);
    const r = new Reader(f);
    assert.equal(r.int32(), 42);
    const body = decodeApiVersionsResponse(r, 0);
    assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.ok(body.apiKeys.some((k) => k.apiKey === ApiKey.Produce && k.minVersion === 0)); // v0-2 served (message formats v0/v1)
    c.close();
  });

  it('rejects a corrupt CRC with CORRUPT_MESSAGE and an oversize batch with MESSAGE_TOO_LARGE, losing nothing', async () => {
    const c = await RawClient.open(broker.port);
    const good = await buildBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('good') }] });
    c.request(ApiKey.Produce, 9, 1, produceBody('victim', good));
    const ok = await c.response(ApiKey.Produce, 9);
    assert.equal(ok!.body.responses[0].partitionResponses[0].errorCode, 0);

    const corrupt = await buildBatch({ records: [{ key: null, value: Buffer.from('evil') }] });
    corrupt[corrupt.length - 1]! ^= 0xff;
    c.request(ApiKey.Produce, 9, 2, produceBody('victim', corrupt));
    const bad = await c.response(ApiKey.Produce, 9);
    assert.equal(bad!.body.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);

    const big = await buildBatch({ records: [{ key: null, value: Buffer.alloc(20_000, 1) }] });
    c.request(ApiKey.Produce, 9, 3, produceBody('victim', big));
    const tooBig = await c.response(ApiKey.Produce, 9);
    assert.equal(tooBig!.body.responses[0].partitionResponses[0].errorCode, ErrorCode.MESSAGE_TOO_LARGE);

    c.request(ApiKey.Produce, 9, 4, produceBody('nope-no-topic', good));
    const unknown = await c.response(ApiKey.Produce, 9);
    assert.equal(unknown!.body.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    // Clients may not write into the coordinators' internal topics.
    await broker.broker.groups.offsetsTopic.ensure();
    c.request(ApiKey.Produce, 9, 5, produceBody('__consumer_offsets', good));
    const internal = await c.response(ApiKey.Produce, 9);
    assert.equal(internal!.body.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);

    // The log holds exactly the one good batch.
    const log = broker.broker.replicas.get('victim', 0)!.log;
    assert.equal(log.logEndOffset, 1);
    c.close();
  });

  it('answers requests in order and sends nothing for acks=0', async () => {
    const c = await RawClient.open(broker.port);
    const batch = await buildBatch({ records: [{ key: null, value: Buffer.from('x') }] });
    c.request(ApiKey.Produce, 9, 10, produceBody('victim', batch, 0));
    c.request(ApiKey.Metadata, 9, 11, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    c.request(ApiKey.ApiVersions, 3, 12, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    const first = await c.response(ApiKey.Metadata, 9);
    assert.equal(first!.correlationId, 11);
    const second = await c.response(ApiKey.ApiVersions, 3);
    assert.equal(second!.correlationId, 12);
    c.close();
  });

  it('survives hundreds of half-open connections', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 300; i++) {
      const s = connect({ host: '127.0.0.1', port: broker.port });
      s.on('error', () => {});
      // Half a frame: a size prefix promising 100 bytes, then silence.
      s.write(Buffer.from([0, 0, 0, 100, 0, 3]));
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await apiVersionsWorks(broker.port), true);
    for (const s of sockets) s.destroy();
  });

  it('stops reading from a connection that piles up requests, and answers them all in order later', async () => {
    // 150 long polls on one connection: past the in-flight limit (64) the broker stops reading
    // that socket instead of buffering without bound; other clients are unaffected.
    const greedy = await RawClient.open(broker.port);
    const end = broker.broker.replicas.get('victim', 0)!.log.logEndOffset;
    const body = {
      replicaId: -1,
      maxWaitMs: 1500,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'victim', partitions: [{ partition: 0, fetchOffset: end, partitionMaxBytes: 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    };
    for (let i = 0; i < 150; i++) greedy.request(ApiKey.Fetch, 12, 1000 + i, body);
    const server = (broker.broker as unknown as { server: { connections: Set<{ remote: string; isPaused: boolean; inFlightCount: number }> } }).server;
    const find = () => [...server.connections].find((c) => c.remote.endsWith(`:${greedy.socket.localPort}`));
    // Paused once 64 long polls are parked (checked within their 1.5 s wait, however slow the box).
    const deadline = Date.now() + 1400;
    while (!find()?.isPaused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const conn = find()!;
    assert.ok(conn, 'the greedy connection is known to the server');
    assert.equal(conn.isPaused, true, 'reading is paused');
    assert.ok(conn.inFlightCount <= 64, `in flight: ${conn.inFlightCount}`);
    assert.equal(await apiVersionsWorks(broker.port), true, 'other clients are served meanwhile');
    for (let i = 0; i < 150; i++) {
      const res = await greedy.response(ApiKey.Fetch, 12);
      assert.equal(res!.correlationId, 1000 + i);
    }
    greedy.close();
  });
});
