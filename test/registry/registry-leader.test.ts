// Several Schema Registry instances on one cluster: a leader elected through the Kafka group
// `schema-registry` allocates every id; a follower forwards writes to it, so both instances agree
// on ids; when the leader stops, the follower takes over.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSchemaRegistry, type RunningService } from '../../src/index.js';
import type { RegistryElection } from '../../src/registry/leader.js';
import { startTestBroker, waitFor, type TestBroker } from '../helpers/broker.js';

type Registry = RunningService & { election?: RegistryElection };

const schema = (name: string) => JSON.stringify({ type: 'record', name, fields: [{ name: 'id', type: 'long' }] });

async function register(base: string, subject: string, s: string): Promise<{ status: number; body: { id?: number; error_code?: number } }> {
  const res = await fetch(`${base}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: s }),
  });
  return { status: res.status, body: (await res.json()) as { id?: number; error_code?: number } };
}

describe('several registry instances', () => {
  let broker: TestBroker;
  const registries: Registry[] = [];

  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '1' });
  });

  after(async () => {
    for (const r of registries) await r.close().catch(() => {});
    await broker?.dispose();
  });

  it('elect one leader; a follower forwards writes and both agree on ids; the follower takes over', async () => {
    const start = () => startSchemaRegistry({ bootstrap: broker.bootstrap, port: 0, leaderElection: { sessionTimeoutMs: 6000 } });
    const a = await start();
    registries.push(a);
    const b = await start();
    registries.push(b);
    // Exactly one leads once the group has rebalanced with both members.
    await waitFor(() => a.election!.isLeader() !== b.election!.isLeader(), 20_000, 'one leader among two');
    const [leader, follower] = a.election!.isLeader() ? [a, b] : [b, a];

    // Written through the follower: forwarded, the leader allocates the id.
    const viaFollower = await register(follower.url, 'orders-value', schema('Order'));
    assert.equal(viaFollower.status, 200, JSON.stringify(viaFollower.body));
    const viaLeader = await register(leader.url, 'orders-value', schema('Order'));
    assert.deepEqual(viaLeader.body, viaFollower.body, 'the same schema has one id on both');
    const other = await register(leader.url, 'users-value', schema('User'));
    const other2 = await register(follower.url, 'items-value', schema('Item'));
    const ids = [viaFollower.body.id!, other.body.id!, other2.body.id!];
    assert.equal(new Set(ids).size, 3, `distinct ids: ${ids}`);
    // Both instances serve every id (the follower reads `_schemas` too).
    for (const r of [leader, follower]) {
      for (const id of ids) {
        await waitFor(async () => (await fetch(`${r.url}/schemas/ids/${id}`)).status === 200, 10_000, `id ${id} on ${r.url}`);
      }
    }
    // Reads never forward: a lookup on the follower answers from its own state.
    const lookup = await fetch(`${follower.url}/subjects/orders-value`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ schema: schema('Order') }) });
    assert.equal(((await lookup.json()) as { id: number }).id, viaFollower.body.id);

    // The leader stops: the follower is elected and writes go on, with new ids.
    await leader.close();
    registries.splice(registries.indexOf(leader), 1);
    await waitFor(() => follower.election!.isLeader(), 20_000, 'follower elected');
    const after = await register(follower.url, 'later-value', schema('Later'));
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.ok(!ids.includes(after.body.id!), 'a new id, never one already given');
  });

  it('a follower that cannot reach the leader answers 50003 and writes nothing itself', async () => {
    const groupId = 'sr-unreachable';
    // The first instance advertises an address nobody listens on.
    const c = await startSchemaRegistry({ bootstrap: broker.bootstrap, port: 0, leaderElection: { groupId, url: 'http://127.0.0.1:9', sessionTimeoutMs: 6000 } });
    registries.push(c);
    await waitFor(() => c.election!.isLeader(), 20_000, 'first instance leads');
    const d = await startSchemaRegistry({ bootstrap: broker.bootstrap, port: 0, leaderElection: { groupId, sessionTimeoutMs: 6000 } });
    registries.push(d);
    await waitFor(() => c.election!.isLeader() !== d.election!.isLeader(), 20_000, 'one leader among two');
    if (c.election!.isLeader()) {
      const res = await register(d.url, 'lost-value', schema('Lost'));
      assert.equal(res.status, 500);
      assert.equal(res.body.error_code, 50003);
      assert.equal((await fetch(`${d.url}/subjects/lost-value/versions`)).status, 404, 'the follower did not write it');
    } else {
      // The group chose the other member: the instance with the bad address forwards to it.
      const res = await register(c.url, 'found-value', schema('Found'));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });
});
