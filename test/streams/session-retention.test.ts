// Session store retention, as in Kafka Streams: a session whose end is more than `retention` of
// stream time behind the newest session end is expired — not returned by fetch / findSessions /
// fetchSession / all, refused by put, swept from the backend, and not brought back by a restore.
// DSL retention defaults to gap + grace (Materialized.withRetention may extend it, never shorten
// it); Processor API stores take it from Stores.*SessionStore(name, retentionPeriod).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  KafkaStreams,
  Materialized,
  type Processor,
  type ProcessorContext,
  Produced,
  type Record,
  type SessionStore,
  Serdes,
  SessionWindows,
  Stores,
  StreamsBuilder,
  TopologyTestDriver,
  type Windowed,
} from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import kafkajs from 'kafkajs';
import { createTopics, FAST_STREAMS_GROUPS, kafka, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();
const GAP = 1000;

function sessionCounts(input: string, output: string, materialized: Materialized<string, number> = Materialized.as<string, number>('sessions')) {
  const b = new StreamsBuilder();
  b.stream<string, string>(input)
    .groupByKey()
    .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(GAP))
    .count(materialized)
    .toStream()
    .map((wk: Windowed<string>, n) => ({ key: `${wk.key}@${wk.window.start}-${wk.window.end}`, value: n }))
    .to(output, Produced.with(S, L));
  return b.build();
}

const sessionsOf = (rows: Array<{ key: Windowed<string>; value: number }>) => rows.map((s) => `${s.key.key}@${s.key.window.start}-${s.key.window.end}=${s.value}`);

describe('streams: session store retention (TopologyTestDriver)', () => {
  it('default retention (gap + grace): expired sessions leave fetch, findSessions, fetchSession, all and the backend', () => {
    const d = new TopologyTestDriver(sessionCounts('in', 'out'));
    try {
      const input = d.createInputTopic('in', S, S);
      input.pipeInput('a', 'x', 1000);
      input.pipeInput('a', 'x', 1500); // merges: a@1000-1500
      input.pipeInput('b', 'x', 1800);
      const store = d.getSessionStore<string, number>('sessions');
      assert.deepEqual(sessionsOf(store.all()), ['a@1000-1500=2', 'b@1800-1800=1']);
      // Stream time 2600: a session is live while its end > 2600 - 1000, so a's (end 1500) has expired.
      input.pipeInput('c', 'x', 2600);
      assert.deepEqual(sessionsOf(store.fetch('a')), []);
      assert.deepEqual(sessionsOf(store.findSessions('a', 0, Number.MAX_SAFE_INTEGER)), []);
      assert.equal(store.fetchSession('a', 1000, 1500), null);
      assert.deepEqual(sessionsOf(store.fetch('b')), ['b@1800-1800=1'], 'b ends 1800 > 2600 - 1000: still live');
      assert.equal(store.fetchSession('b', 1800, 1800), 1);
      // A record for a within the gap of its expired session starts a new one (nothing to merge with).
      input.pipeInput('a', 'x', 2700);
      assert.deepEqual(sessionsOf(store.fetch('a')), ['a@2700-2700=1']);
      input.pipeInput('c', 'x', 5000);
      assert.deepEqual(sessionsOf(store.all()), ['c@5000-5000=1']);
      // The sweep deleted the expired entries from the backend, not only hid them.
      assert.equal(store.backend.count(), 1);
      const out = d.createOutputTopic('out', S, L).readKeyValuesToList().map((kv) => `${kv.key}=${kv.value}`);
      assert.ok(out.includes('a@2700-2700=1'), out.join(','));
      assert.ok(!out.includes('a@1000-2700=3'), `expired session did not merge: ${out.join(',')}`);
    } finally {
      d.close();
    }
  });

  it('Materialized.withRetention keeps sessions longer; a retention below gap + grace is refused', () => {
    const d = new TopologyTestDriver(sessionCounts('in', 'out', Materialized.as<string, number>('sessions').withRetention(10_000)));
    try {
      const input = d.createInputTopic('in', S, S);
      input.pipeInput('a', 'x', 1000);
      input.pipeInput('b', 'x', 5000);
      const store = d.getSessionStore<string, number>('sessions');
      assert.deepEqual(sessionsOf(store.fetch('a')), ['a@1000-1000=1'], 'closed for merging but retained for queries');
      input.pipeInput('b', 'x', 10_999); // 1000 > 10999 - 10000: still live
      assert.deepEqual(sessionsOf(store.fetch('a')), ['a@1000-1000=1']);
      input.pipeInput('b', 'x', 11_000);
      assert.deepEqual(sessionsOf(store.fetch('a')), []);
    } finally {
      d.close();
    }
    assert.throws(() => sessionCounts('in', 'out', Materialized.as<string, number>('short').withRetention(GAP - 1)), /retention 999 ms is smaller than the inactivity gap plus grace period \(1000 ms\)/);
  });

  it('Processor API: Stores.inMemorySessionStore(name, retention) refuses expired puts and hides expired sessions', () => {
    class Writer implements Processor<string, string, string, string> {
      private store!: SessionStore<string, string>;
      init(ctx: ProcessorContext<string, string>): void {
        this.store = ctx.getStateStore('raw-sessions');
      }
      process(r: Record<string, string>): void {
        // value "start-end": put that session as given
        const [start, end] = r.value.split('-').map(Number) as [number, number];
        this.store.put({ key: r.key, window: { start, end } }, r.value);
      }
    }
    const b = new StreamsBuilder();
    b.addStateStore(Stores.sessionStoreBuilder(Stores.inMemorySessionStore('raw-sessions', 500), S, S));
    b.stream<string, string>('in').process(() => new Writer(), 'raw-sessions');
    const d = new TopologyTestDriver(b.build());
    try {
      const input = d.createInputTopic('in', S, S);
      input.pipeInput('k', '0-100', 100);
      input.pipeInput('k', '900-1000', 1000); // observed 1000: 100 < 1000 - 500 + 1 → expired
      input.pipeInput('k', '300-400', 1000); // ends before the live range: dropped on put
      input.pipeInput('k', '450-501', 1000); // 501 = first live end
      const store = d.getSessionStore<string, string>('raw-sessions');
      assert.deepEqual(store.fetch('k').map((s) => s.value), ['450-501', '900-1000']);
      assert.deepEqual(store.findSessions('k', 0, 2000).map((s) => s.value), ['450-501', '900-1000']);
      assert.equal(store.fetchSession('k', 0, 100), null);
      assert.equal(store.expiredRecordsDropped, 1);
    } finally {
      d.close();
    }
  });
});

describe('streams: session store retention (KafkaStreams against a broker)', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'sr-in': 1, 'sr-out': 1 });
  });
  after(async () => {
    for (const s of running) await s.close().catch(() => {});
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function instance(): Promise<KafkaStreams> {
    const dir = await tempDir('fjord-streams-sr-');
    dirs.push(dir);
    const s = new KafkaStreams(sessionCounts('sr-in', 'sr-out'), { 'application.id': 'sr-app', 'bootstrap.servers': broker.bootstrap, 'state.dir': dir, 'commit.interval.ms': 100 });
    running.push(s);
    return s;
  }
  async function outputs(n: number): Promise<string[]> {
    let got: string[] = [];
    await waitFor(async () => (got = (await readTopic(broker.bootstrap, 'sr-out', L)).map((r) => `${r.key}=${r.value}`)).length >= n, 20_000);
    return got;
  }

  it('expired sessions disappear from interactive queries, and a restore from the changelog does not bring them back', async () => {
    await produceBatch(broker.bootstrap, 'sr-in', [
      { key: 'a', value: 'x', timestamp: 1000 },
      { key: 'b', value: 'x', timestamp: 1500 },
      { key: 'a', value: 'x', timestamp: 10_000 },
      { key: 'c', value: 'x', timestamp: 10_200 },
    ]);
    const first = await instance();
    await first.start();
    assert.deepEqual(await outputs(4), ['a@1000-1000=1', 'b@1500-1500=1', 'a@10000-10000=1', 'c@10200-10200=1']);
    let q = first.sessionStore<string, number>('sessions');
    assert.ok(await waitFor(async () => sessionsOf(q.fetch('c')).length === 1, 10_000), 'c is queryable');
    assert.deepEqual(sessionsOf(q.fetch('a')), ['a@10000-10000=1']);
    assert.deepEqual(sessionsOf(q.fetch('b')), []);
    assert.deepEqual(sessionsOf(q.findSessions('b', 0, Number.MAX_SAFE_INTEGER)), []);
    assert.equal(q.fetchSession('b', 1500, 1500), null);
    assert.equal(q.fetchSession('a', 10_000, 10_000), 1);
    await first.close();
    const admin = kafka(broker.bootstrap).admin();
    await admin.connect();
    try {
      const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: 'sr-app-sessions-changelog', configNames: ['cleanup.policy', 'retention.ms'] }] });
      const cfg = Object.fromEntries(res.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      // As Kafka: compacted and time-limited to retention + windowstore.changelog.additional.retention.ms (1 day).
      assert.deepEqual(cfg, { 'cleanup.policy': 'compact,delete', 'retention.ms': String(GAP + 86_400_000) });
    } finally {
      await admin.disconnect();
    }
    const changelog = await readTopic(broker.bootstrap, 'sr-app-sessions-changelog', L);
    assert.ok(changelog.some((r) => r.key !== null && r.value === 1), 'the expired sessions are still in the changelog (its retention removes them there)');

    // Fresh state dir: everything comes from the changelog; the expired sessions stay expired.
    const second = await instance();
    await second.start();
    q = second.sessionStore<string, number>('sessions');
    assert.deepEqual(sessionsOf(q.fetch('a')), ['a@10000-10000=1']);
    assert.deepEqual(sessionsOf(q.fetch('b')), []);
    assert.deepEqual(sessionsOf(q.fetch('c')), ['c@10200-10200=1']);
    await produceBatch(broker.bootstrap, 'sr-in', [{ key: 'a', value: 'x', timestamp: 10_500 }]);
    const out = await outputs(6);
    // The restored live session merges (tombstone for the old one, then the merged session).
    assert.equal(out.at(-1), 'a@10000-10500=2', out.join(','));
    await second.close();
  });
});
