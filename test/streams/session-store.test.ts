// Processor API session stores: Stores.persistentSessionStore / inMemorySessionStore +
// sessionStoreBuilder, used by a sessionizing processor against a broker; the store is
// changelogged (restored on a fresh state.dir) unless logging is disabled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { KafkaStreams, type Processor, type ProcessorContext, Produced, Record, type SessionStore, Serdes, Stores, StreamsBuilder } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, kafka, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();
const GAP = 1000;

/** Merges each record into the key's sessions within GAP (as the DSL's session aggregation does) and forwards `key@start-end` = count. */
class Sessionizer implements Processor<string, string, string, number> {
  private ctx!: ProcessorContext<string, number>;
  private store!: SessionStore<string, number>;
  constructor(private readonly storeName: string) {}
  init(ctx: ProcessorContext<string, number>): void {
    this.ctx = ctx;
    this.store = ctx.getStateStore(this.storeName);
  }
  process(r: Record<string, string>): void {
    const overlapping = this.store.findSessions(r.key, r.timestamp - GAP, r.timestamp + GAP);
    let start = r.timestamp;
    let end = r.timestamp;
    let count = 1;
    for (const s of overlapping) {
      start = Math.min(start, s.key.window.start);
      end = Math.max(end, s.key.window.end);
      count += s.value;
      this.store.remove(s.key);
    }
    this.store.put({ key: r.key, window: { start, end } }, count);
    assert.equal(this.store.fetchSession(r.key, start, end), count, 'fetchSession reads the session just written');
    this.ctx.forward(new Record(`${r.key}@${start}-${end}`, count, r.timestamp));
  }
}

function topology(storeName: string, persistent: boolean, logging: boolean) {
  const b = new StreamsBuilder();
  const supplier = persistent ? Stores.persistentSessionStore(storeName, 60_000) : Stores.inMemorySessionStore(storeName, 60_000);
  const builder = Stores.sessionStoreBuilder(supplier, S, L);
  b.addStateStore(logging ? builder.withLoggingEnabled() : builder.withLoggingDisabled());
  b.stream<string, string>('ss-in')
    .process(() => new Sessionizer(storeName), storeName)
    .to(logging ? 'ss-out' : 'ss-out-nolog', Produced.with(S, L));
  return b.build();
}

describe('streams: session stores in the Processor API', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'ss-in': 1, 'ss-out': 1, 'ss-out-nolog': 1 });
  });
  after(async () => {
    for (const s of running) await s.close().catch(() => {});
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function instance(app: string, storeName: string, persistent: boolean, logging: boolean): Promise<KafkaStreams> {
    const dir = await tempDir(`fjord-streams-ss-${app}-`);
    dirs.push(dir);
    const s = new KafkaStreams(topology(storeName, persistent, logging), { 'application.id': app, 'bootstrap.servers': broker.bootstrap, 'state.dir': dir, 'commit.interval.ms': 100 });
    running.push(s);
    return s;
  }

  async function outputs(topic: string, n: number): Promise<Array<string>> {
    let got: string[] = [];
    await waitFor(async () => (got = (await readTopic(broker.bootstrap, topic, L)).map((r) => `${r.key}=${r.value}`)).length >= n, 20_000);
    return got;
  }

  it('persistent, logged: sessions merge, and a fresh instance continues them from the changelog', async () => {
    await produceBatch(broker.bootstrap, 'ss-in', [
      { key: 'u1', value: 'a', timestamp: 1000 },
      { key: 'u1', value: 'b', timestamp: 1500 },
      { key: 'u2', value: 'a', timestamp: 1600 },
      { key: 'u1', value: 'c', timestamp: 5000 }, // beyond the gap: a new session
    ]);
    const a = await instance('ss-app', 'user-sessions', true, true);
    await a.start();
    assert.deepEqual(await outputs('ss-out', 4), ['u1@1000-1000=1', 'u1@1000-1500=2', 'u2@1600-1600=1', 'u1@5000-5000=1']);
    assert.deepEqual(a.sessionStore<string, number>('user-sessions').fetch('u1').map((s) => `${s.key.window.start}-${s.key.window.end}=${s.value}`), ['1000-1500=2', '5000-5000=1']);
    await a.close();
    const changelog = await readTopic(broker.bootstrap, 'ss-app-user-sessions-changelog', L);
    assert.ok(changelog.length >= 4, `session writes and removals are changelogged: ${changelog.length}`);

    // Fresh state.dir: the store comes back from the changelog, so 5800 joins the 5000 session.
    const b = await instance('ss-app', 'user-sessions', true, true);
    await b.start();
    await produceBatch(broker.bootstrap, 'ss-in', [{ key: 'u1', value: 'd', timestamp: 5800 }]);
    const out = await outputs('ss-out', 5);
    assert.equal(out[4], 'u1@5000-5800=2');
    await b.close();
  });

  it('in-memory with logging disabled: works, and no changelog topic is created', async () => {
    const c = await instance('ss-nolog-app', 'mem-sessions', false, false);
    await c.start();
    const out = await outputs('ss-out-nolog', 5);
    assert.deepEqual(out, ['u1@1000-1000=1', 'u1@1000-1500=2', 'u2@1600-1600=1', 'u1@5000-5000=1', 'u1@5000-5800=2']);
    await c.close();
    const admin = kafka(broker.bootstrap).admin();
    await admin.connect();
    try {
      assert.ok(!(await admin.listTopics()).includes('ss-nolog-app-mem-sessions-changelog'));
    } finally {
      await admin.disconnect();
    }
  });
});
