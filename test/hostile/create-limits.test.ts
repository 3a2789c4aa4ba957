// Partition-count limits: one CreateTopics / CreatePartitions request cannot make the broker
// allocate without bound, validate_only included; the broker answers with an error and keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

// The 84-byte CreateTopics v5 frame from issue 18: validate_only=true, num_partitions=0x7ffffffe.
const KILLER_FRAME = Buffer.from(
  '00000050001300050000074a000a666a6f72642d66757a7a00021566757a7a2d63742d76616c69646174652d3130317ffffffeffff01020d726574656e74696f6e2e6d7308333630303030300000000027100100',
  'hex',
);

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(async () => {
  await broker?.dispose();
});

async function assertAlive(): Promise<void> {
  const c = await RawClient.open(broker.port);
  try {
    const started = Date.now();
    c.request(ApiKey.ApiVersions, 3, 99, { clientSoftwareName: 'liveness', clientSoftwareVersion: '1' });
    const res = await c.response(ApiKey.ApiVersions, 3);
    assert.ok(res, 'broker answered ApiVersions');
    assert.equal(res.body.errorCode, 0);
    assert.ok(Date.now() - started < 2000, 'liveness answer within 2 s');
  } finally {
    c.close();
  }
}

test('the CreateTopics v5 frame from issue 18 gets INVALID_PARTITIONS and the broker keeps serving', async () => {
  const before = process.memoryUsage().rss;
  const c = await RawClient.open(broker.port);
  try {
    c.send(KILLER_FRAME);
    const res = await c.response(ApiKey.CreateTopics, 5);
    assert.ok(res, 'got a response');
    assert.equal(res.correlationId, 0x74a);
    const t = res.body.topics[0];
    assert.equal(t.name, 'fuzz-ct-validate-101');
    assert.equal(t.errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.match(t.errorMessage, /limit is 10000/);
  } finally {
    c.close();
  }
  await assertAlive();
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'no big allocation');
});

test('the partition limit applies to the request total; topics past it are refused', async () => {
  const c = await RawClient.open(broker.port);
  try {
    c.request(ApiKey.CreateTopics, 7, 1, {
      topics: [
        { name: 'limit-a', numPartitions: 6000, replicationFactor: -1, assignments: [], configs: [] },
        { name: 'limit-b', numPartitions: 6000, replicationFactor: -1, assignments: [], configs: [] },
      ],
      timeoutMs: 10000,
      validateOnly: true,
    });
    const res = await c.response(ApiKey.CreateTopics, 7);
    assert.ok(res);
    assert.equal(res.body.topics[0].errorCode, ErrorCode.NONE, 'first topic fits the limit');
    assert.equal(res.body.topics[1].errorCode, ErrorCode.INVALID_PARTITIONS, 'request total over 10000');
  } finally {
    c.close();
  }
  await assertAlive();
});

test('CreatePartitions to 2^31-1 partitions is refused before assigning, validate_only or not', async () => {
  await broker.broker.topics.create({ name: 'limit-a', numPartitions: 1, replicationFactor: -1 });
  const c = await RawClient.open(broker.port);
  try {
    for (const validateOnly of [true, false]) {
      c.request(ApiKey.CreatePartitions, 3, 2, {
        topics: [{ name: 'limit-a', count: 0x7fffffff, assignments: null }],
        timeoutMs: 10000,
        validateOnly,
      });
      const res = await c.response(ApiKey.CreatePartitions, 3);
      assert.ok(res);
      assert.equal(res.body.results[0].errorCode, ErrorCode.INVALID_PARTITIONS);
      assert.match(res.body.results[0].errorMessage, /fjord\.max\.partitions\.per\.request/);
    }
  } finally {
    c.close();
  }
  await assertAlive();
});

test('the per-broker partition limit answers POLICY_VIOLATION', async () => {
  const b2 = await startTestBroker({ 'fjord.max.partitions.per.broker': '20' });
  const c = await RawClient.open(b2.port);
  try {
    c.request(ApiKey.CreateTopics, 7, 3, {
      topics: [{ name: 'too-many', numPartitions: 21, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 10000,
      validateOnly: true,
    });
    const res = await c.response(ApiKey.CreateTopics, 7);
    assert.ok(res);
    assert.equal(res.body.topics[0].errorCode, ErrorCode.POLICY_VIOLATION);
    assert.match(res.body.topics[0].errorMessage, /fjord\.max\.partitions\.per\.broker/);
  } finally {
    c.close();
    await b2.dispose();
  }
});
