// Scale-out and failure: two instances share tasks; a closed or killed instance's tasks move to
// the survivor, which restores their stores from the changelog; wiping local state restores too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { Consumed, KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();
const KEYS = 20;

function topology(input: string, output: string, store: string) {
  const b = new StreamsBuilder();
  b.stream<string, string>(input).groupByKey().count(Materialized.as(store)).toStream().to(output, Produced.with(S, L));
  return b.build();
}

function batch(n: number, round: number) {
  return Array.from({ length: n }, (_, i) => ({ key: `key-${i % KEYS}`, value: `r${round}-${i}` }));
}

async function latestCounts(bootstrap: string, topic: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const r of await readTopic(bootstrap, topic, L)) m.set(r.key!, r.value!);
  return m;
}

async function waitForCounts(bootstrap: string, topic: string, perKey: number): Promise<Map<string, number>> {
  let last = new Map<string, number>();
  const ok = await waitFor(async () => {
    last = await latestCounts(bootstrap, topic);
    return last.size === KEYS && [...last.values()].every((v) => v === perKey);
  }, 30_000, 200);
  assert.ok(ok, `expected ${KEYS} keys with count ${perKey}, got ${JSON.stringify([...last])}`);
  return last;
}

for (const protocol of ['streams', 'classic'] as const) {
  describe(`streams: failover between instances (group.protocol=${protocol})`, () => {
    let broker: TestBroker;
    const dirs: string[] = [];
    const running: KafkaStreams[] = [];

    before(async () => {
      broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000', ...FAST_STREAMS_GROUPS });
      await createTopics(broker.bootstrap, { 'fo-in': 4, 'fo-out': 1 });
    });
    after(async () => {
      for (const s of running) await s.close().catch(() => {});
      await broker?.dispose();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    async function instance(name: string): Promise<KafkaStreams> {
      const dir = await tempDir(`fjord-streams-${name}-`);
      dirs.push(dir);
      const s = new KafkaStreams(topology('fo-in', 'fo-out', 'fo-counts'), {
        'application.id': 'failover-app',
        'bootstrap.servers': broker.bootstrap,
        'state.dir': dir,
        'commit.interval.ms': 100,
        'session.timeout.ms': 2000,
        'heartbeat.interval.ms': 300,
        'group.protocol': protocol,
      });
      running.push(s);
      return s;
    }

    it('two instances share the tasks; the survivor takes over a closed and then a killed instance', async () => {
      const a = await instance('a');
      const restores: Array<{ taskId: string; records: number }> = [];
      a.on('restore', (r) => restores.push(r));
      await a.start();
      assert.equal(a.groupProtocol(), protocol);
      const b = await instance('b');
      await b.start();
      // Both hold tasks once the group settles.
      assert.ok(await waitFor(async () => a.activeTasks().length > 0 && b.activeTasks().length > 0 && a.activeTasks().length + b.activeTasks().length === 4, 20_000));
      await produceBatch(broker.bootstrap, 'fo-in', batch(400, 1));
      await waitForCounts(broker.bootstrap, 'fo-out', 20);
      const bTasks = b.activeTasks();

      await b.close();
      assert.ok(await waitFor(async () => a.activeTasks().length === 4 && a.state() === 'RUNNING', 20_000), `a has ${a.activeTasks()}`);
      const restoredFromB = restores.filter((r) => bTasks.includes(r.taskId));
      assert.ok(restoredFromB.length > 0 && restoredFromB.some((r) => r.records > 0), `a restored ${JSON.stringify(restores)}`);
      await produceBatch(broker.bootstrap, 'fo-in', batch(400, 2));
      await waitForCounts(broker.bootstrap, 'fo-out', 40);
      assert.equal(a.keyValueStore<string, number>('fo-counts').get('key-3'), 40);

      // A third instance joins, takes tasks, processes, then dies without committing or leaving.
      const c = await instance('c');
      await c.start();
      assert.ok(await waitFor(async () => c.activeTasks().length > 0, 20_000));
      await produceBatch(broker.bootstrap, 'fo-in', batch(400, 3));
      await waitForCounts(broker.bootstrap, 'fo-out', 60);
      await new Promise((r) => setTimeout(r, 300)); // let c's commit interval pass so its work is committed
      await c.kill();
      assert.ok(await waitFor(async () => a.activeTasks().length === 4 && a.state() === 'RUNNING', 20_000), 'a takes over after the session timeout');
      await produceBatch(broker.bootstrap, 'fo-in', batch(400, 4));
      await waitForCounts(broker.bootstrap, 'fo-out', 80);
      await a.close();
    });

    it('restores from the changelog after local state is wiped', async () => {
      const d = await instance('d');
      d.cleanUp();
      await d.start();
      assert.equal(d.activeTasks().length, 4);
      for (let i = 0; i < KEYS; i++) assert.equal(d.keyValueStore<string, number>('fo-counts').get(`key-${i}`), 80);
      await produceBatch(broker.bootstrap, 'fo-in', batch(20, 5));
      await waitForCounts(broker.bootstrap, 'fo-out', 81);
      await d.close();
    });
  });
}

describe('streams: record cache', () => {
  let broker: TestBroker;
  let dir: string;
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
    dir = await tempDir('fjord-streams-cache-');
    await createTopics(broker.bootstrap, { 'cache-in': 1, 'cache-out': 1 });
  });
  after(async () => {
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('collapses repeated updates of a key before the changelog and downstream', async () => {
    await produceBatch(broker.bootstrap, 'cache-in', Array.from({ length: 500 }, (_, i) => ({ key: 'hot', value: String(i) })));
    const s = new KafkaStreams(topology('cache-in', 'cache-out', 'cache-counts'), {
      'application.id': 'cache-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'commit.interval.ms': 1000,
      'default.dsl.store': 'in_memory',
    });
    await s.start();
    try {
      assert.ok(await waitFor(async () => (await latestCounts(broker.bootstrap, 'cache-out')).get('hot') === 500, 20_000));
      const out = await readTopic(broker.bootstrap, 'cache-out', L);
      const changelog = await readTopic(broker.bootstrap, 'cache-app-cache-counts-changelog', L);
      assert.ok(out.length < 50, `expected few downstream updates, got ${out.length}`);
      assert.ok(changelog.length < 50, `expected few changelog records, got ${changelog.length}`);
      assert.equal(changelog.at(-1)?.value, 500);
    } finally {
      await s.close();
    }
  });
});

describe('streams: standby replicas and bad records', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'sb-in': 2, 'sb-out': 1, 'bad-in': 1, 'bad-out': 1 });
  });
  after(async () => {
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps standby tasks warm so a takeover reads only the changelog tail', async () => {
    const make = async (name: string) => {
      const dir = await tempDir(`fjord-streams-sb-${name}-`);
      dirs.push(dir);
      return new KafkaStreams(topology('sb-in', 'sb-out', 'sb-counts'), {
        'application.id': 'standby-app',
        'bootstrap.servers': broker.bootstrap,
        'state.dir': dir,
        'commit.interval.ms': 100,
        'num.standby.replicas': 1,
        'default.dsl.store': 'in_memory',
        'statestore.cache.max.bytes': 0, // every update hits the changelog: a full restore would read ~200 records
        'application.server': `host-${name}:1`,
      });
    };
    const a = await make('a');
    await a.start();
    const b = await make('b');
    const restores: Array<{ taskId: string; records: number }> = [];
    b.on('restore', (r) => restores.push(r));
    await b.start();
    assert.ok(await waitFor(async () => a.activeTasks().length === 1 && b.activeTasks().length === 1 && b.standbyTasks().length === 1, 20_000), `a=${a.activeTasks()} b=${b.activeTasks()}/${b.standbyTasks()}`);
    const standbyId = b.standbyTasks()[0];
    // Each instance knows which application.server holds any key's task (eventually: under KIP-1071
    // the broker sends the endpoint map on the heartbeat after an assignment changes).
    const hostsAgree = () =>
      ['key-1', 'key-2', 'key-3', 'key-4'].every((key) => {
        const fromA = a.queryMetadataForKey('sb-counts', key, S);
        const fromB = b.queryMetadataForKey('sb-counts', key, S);
        return fromA.activeHost === fromB.activeHost && fromA.activeHost === (fromA.isLocal ? 'host-a:1' : 'host-b:1');
      });
    assert.ok(await waitFor(async () => hostsAgree(), 10_000), 'both instances name the same application.server for every key');
    await produceBatch(broker.bootstrap, 'sb-in', batch(400, 1));
    await waitForCounts(broker.bootstrap, 'sb-out', 20);
    await new Promise((r) => setTimeout(r, 500)); // standby catches up with the changelog
    await a.close();
    assert.ok(await waitFor(async () => b.activeTasks().length === 2 && b.state() === 'RUNNING', 20_000));
    const takeover = restores.find((r) => r.taskId === standbyId);
    assert.ok(takeover, JSON.stringify(restores));
    const changelog = await readTopic(broker.bootstrap, 'standby-app-sb-counts-changelog', L);
    const partitionRecords = changelog.filter((r) => `0_${r.partition}` === standbyId).length;
    assert.ok(partitionRecords >= 100, `changelog partition holds ${partitionRecords}`);
    assert.ok(takeover.records < 20, `standby should need little restore, read ${takeover.records} of ${partitionRecords} records`);
    await produceBatch(broker.bootstrap, 'sb-in', batch(400, 2));
    await waitForCounts(broker.bootstrap, 'sb-out', 40);
    await b.close();
  });

  it('fails start() when a source topic does not exist', async () => {
    const dir = await tempDir('fjord-streams-missing-');
    dirs.push(dir);
    const s = new KafkaStreams(topology('no-such-topic', 'sb-out', 'missing-counts'), { 'application.id': 'missing-app', 'bootstrap.servers': broker.bootstrap, 'state.dir': dir });
    await assert.rejects(s.start(), /source topic no-such-topic does not exist/);
    assert.equal(s.state(), 'ERROR');
  });

  it('skips undecodable records with logAndContinue and counts them', async () => {
    const dir = await tempDir('fjord-streams-bad-');
    dirs.push(dir);
    await produceBatch(broker.bootstrap, 'bad-in', [
      { key: 'a', value: '{"n":1}' },
      { key: 'b', value: 'not json' },
      { key: 'c', value: '{"n":3}' },
    ]);
    const b = new StreamsBuilder();
    b.stream<string, { n: number }>('bad-in', Consumed.with(S, Serdes.Json()))
      .mapValues((v) => String(v.n))
      .to('bad-out', Produced.with(S, S));
    const s = new KafkaStreams(b.build(), {
      'application.id': 'bad-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'commit.interval.ms': 100,
      'default.deserialization.exception.handler': 'logAndContinue',
    });
    await s.start();
    try {
      assert.ok(await waitFor(async () => (await readTopic(broker.bootstrap, 'bad-out', S)).length === 2, 20_000));
      assert.deepEqual((await readTopic(broker.bootstrap, 'bad-out', S)).map((r) => [r.key, r.value]), [['a', '1'], ['c', '3']]);
      assert.equal(s.metrics().skippedRecords, 1);
      assert.equal(s.state(), 'RUNNING');
    } finally {
      await s.close();
    }
  });
});
