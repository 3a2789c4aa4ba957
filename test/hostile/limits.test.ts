// Resource limits with Kafka's names, each crossed while the broker keeps serving others:
// socket.request.max.bytes, max.connections, max.connections.per.ip, connections.max.idle.ms and
// queued.max.request.bytes.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const brokers: TestBroker[] = [];
async function broker(config: Record<string, string>): Promise<TestBroker> {
  const b = await startTestBroker(config);
  brokers.push(b);
  return b;
}
after(async () => {
  for (const b of brokers) await b.dispose();
});

async function openFrom(port: number, localAddress: string): Promise<RawClient> {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  await new Promise<void>((res, rej) => {
    s.once('connect', () => res());
    s.once('error', rej);
  });
  return new RawClient(s);
}

let cid = 1;
async function serves(c: RawClient): Promise<boolean> {
  if (c.closed) return false;
  c.request(ApiKey.ApiVersions, 3, cid++, { clientSoftwareName: 'limits', clientSoftwareVersion: '1' });
  const r = await c.response(ApiKey.ApiVersions, 3).catch(() => null);
  return r !== null && r.body.errorCode === 0;
}

describe('resource limits', () => {
  it('socket.request.max.bytes: a bigger frame closes only its connection, before the body is read', async () => {
    const b = await broker({ 'socket.request.max.bytes': '2000' });
    const other = await RawClient.open(b.port);
    const c = await RawClient.open(b.port);
    const head = Buffer.alloc(4);
    head.writeInt32BE(2001);
    c.send(head); // no body sent: the size alone is refused
    assert.equal(await c.waitClosed(), true);
    assert.equal(await serves(other), true);
    other.close();
  });

  it('max.connections: connections past the limit are closed, the others keep working', async () => {
    const b = await broker({ 'max.connections': '3' });
    const open = [await RawClient.open(b.port), await RawClient.open(b.port), await RawClient.open(b.port)];
    for (const c of open) assert.equal(await serves(c), true);
    const extra = await RawClient.open(b.port);
    assert.equal(await extra.waitClosed(), true, 'the 4th connection is closed');
    for (const c of open) assert.equal(await serves(c), true);
    open.pop()!.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await RawClient.open(b.port);
    assert.equal(await serves(again), true, 'room again after one closed');
    for (const c of [...open, again]) c.close();
  });

  it('max.connections.per.ip: one address is capped, another is not', async () => {
    const b = await broker({ 'max.connections.per.ip': '2' });
    const a1 = await openFrom(b.port, '127.0.0.1');
    const a2 = await openFrom(b.port, '127.0.0.1');
    const a3 = await openFrom(b.port, '127.0.0.1');
    assert.equal(await a3.waitClosed(), true, 'third from 127.0.0.1 closed');
    const other = await openFrom(b.port, '127.0.0.2');
    assert.equal(await serves(other), true, '127.0.0.2 is served');
    assert.equal(await serves(a1), true);
    assert.equal(await serves(a2), true);
    for (const c of [a1, a2, other]) c.close();
  });

  it('connections.max.idle.ms: idle connections are closed, busy ones stay', async () => {
    const b = await broker({ 'connections.max.idle.ms': '400' });
    const idle = await RawClient.open(b.port);
    const busy = await RawClient.open(b.port);
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      assert.equal(await serves(busy), true, 'busy connection served');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await idle.waitClosed(2000), true, 'idle connection closed');
    assert.equal(busy.closed, false);
    busy.close();
  });

  it('queued.max.request.bytes: reading pauses while queued requests hold the limit, then resumes', async () => {
    const b = await broker({ 'queued.max.request.bytes': '600' });
    await b.broker.topics.create({ name: 'parked', numPartitions: 1, replicationFactor: -1 });
    const a = await RawClient.open(b.port);
    // Fetches that park for 1.5 s on an empty partition hold their request bytes meanwhile.
    const n = 12;
    for (let i = 0; i < n; i++) {
      a.request(ApiKey.Fetch, 11, 1000 + i, {
        replicaId: -1, maxWaitMs: 1500, minBytes: 1_000_000, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 'parked', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 16, logStartOffset: -1, currentLeaderEpoch: -1 }] }],
        forgottenTopicsData: [], rackId: '',
      });
    }
    const quotas = b.broker.connectionQuotas;
    const deadline = Date.now() + 3000;
    while (!quotas.queueFull && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(quotas.queueFull, true, 'queue reached the limit');
    assert.ok(quotas.queuedRequestBytes < 600 + 200, `held ${quotas.queuedRequestBytes} bytes, about the limit`);
    // Another client is served once the parked requests drain.
    const other = await RawClient.open(b.port);
    assert.equal(await serves(other), true);
    for (let i = 0; i < n; i++) {
      const r = await a.response(ApiKey.Fetch, 11);
      assert.equal(r!.correlationId, 1000 + i);
    }
    assert.equal(quotas.queuedRequestBytes, 0);
    a.close();
    other.close();
  });
});
