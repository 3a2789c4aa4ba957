// StreamsBuilder.addGlobalStore: a store fed from a topic through a processor on every instance
// (at startup and while running), read-only to the stream processors that join against it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { Consumed, KafkaStreams, type KeyValueStore, type ProcessorContext, Produced, type Record, Serdes, Stores, StreamsBuilder, TopologyTestDriver } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();

/** Global processor: keeps rates as integer cents (so the store holds what the processor wrote, not the raw bytes). */
function rateLoader() {
  let store: KeyValueStore<string, number>;
  return {
    init: (ctx: ProcessorContext<never, never>) => (store = ctx.getStateStore('rates')),
    process: (r: Record<string, string | null>) => (r.value === null ? store.delete(r.key) : store.put(r.key, Math.round(Number(r.value) * 100), r.timestamp)),
  };
}

function topology() {
  const b = new StreamsBuilder();
  b.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('rates'), S, L).withLoggingDisabled(), 'gs-rates', Consumed.with(S, S), rateLoader);
  b.stream<string, string>('gs-orders', Consumed.with(S, S))
    .process(() => {
      let ctx: ProcessorContext<string, string>;
      let rates: KeyValueStore<string, number>;
      return {
        init: (c: ProcessorContext<string, string>) => {
          ctx = c;
          rates = c.getStateStore('rates');
        },
        process: (r: Record<string, string>) => {
          if (r.value === 'write') {
            try {
              rates.put('XXX', 1);
              ctx.forward(r.withValue('written'));
            } catch (err) {
              ctx.forward(r.withValue(/read-only/.test((err as Error).message) ? 'read-only' : 'other-error'));
            }
            return;
          }
          const [currency, amount] = r.value.split(':');
          const cents = rates.get(currency!);
          ctx.forward(r.withValue(cents === null ? 'unknown' : String(Number(amount) * cents)));
        },
      };
    })
    .to('gs-out', Produced.with(S, S));
  return b.build();
}

describe('streams: addGlobalStore', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'gs-rates': 2, 'gs-orders': 2, 'gs-out': 1 });
  });
  after(async () => {
    for (const s of running) await s.close().catch(() => {});
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function instance(name: string): Promise<KafkaStreams> {
    const dir = await tempDir(`fjord-streams-gs-${name}-`);
    dirs.push(dir);
    const s = new KafkaStreams(topology(), { 'application.id': 'gs-app', 'bootstrap.servers': broker.bootstrap, 'state.dir': dir, 'commit.interval.ms': 100 });
    running.push(s);
    return s;
  }

  it('every instance loads the whole topic through the processor and follows updates; other processors only read it', async () => {
    await produceBatch(broker.bootstrap, 'gs-rates', [
      { key: 'EUR', value: '1.10' },
      { key: 'GBP', value: '1.25' },
      { key: 'JPY', value: '0.01' },
      { key: 'CHF', value: '1.05' },
    ]);
    const a = await instance('a');
    const b = await instance('b');
    await Promise.all([a.start(), b.start()]);
    for (const s of [a, b]) {
      const rates = s.keyValueStore<string, number>('rates');
      assert.deepEqual(['EUR', 'GBP', 'JPY', 'CHF'].map((c) => rates.get(c)), [110, 125, 1, 105], 'each instance holds all partitions, as written by the processor');
    }
    // A rate changes and one is deleted while running: both instances follow.
    await produceBatch(broker.bootstrap, 'gs-rates', [
      { key: 'EUR', value: '1.20' },
      { key: 'JPY', value: null as unknown as string },
    ]);
    assert.ok(await waitFor(async () => [a, b].every((s) => s.keyValueStore<string, number>('rates').get('EUR') === 120 && s.keyValueStore('rates').get('JPY') === null), 15_000));
    await produceBatch(broker.bootstrap, 'gs-orders', [
      { key: 'o1', value: 'EUR:3' },
      { key: 'o2', value: 'GBP:2' },
      { key: 'o3', value: 'JPY:100' },
      { key: 'o4', value: 'write' },
    ]);
    let out = new Map<string, string | null>();
    assert.ok(
      await waitFor(async () => {
        out = new Map((await readTopic(broker.bootstrap, 'gs-out', S)).map((r) => [r.key!, r.value]));
        return out.size === 4;
      }, 20_000),
    );
    assert.deepEqual(Object.fromEntries(out), { o1: '360', o2: '250', o3: 'unknown', o4: 'read-only' });
    assert.equal(a.keyValueStore('rates').get('XXX'), null);
  });

  it('refuses a logged store builder (the topic is the changelog) and works in the TopologyTestDriver', () => {
    assert.throws(
      () => new StreamsBuilder().addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('r2'), S, L), 'gs-rates', Consumed.with(S, S), rateLoader),
      /must not have logging enabled/,
    );
    const driver = new TopologyTestDriver(topology());
    driver.createInputTopic('gs-rates', S, S).pipeInput('EUR', '2.00');
    driver.createInputTopic('gs-orders', S, S).pipeInput('o', 'EUR:5');
    assert.deepEqual(driver.createOutputTopic('gs-out', S, S).readKeyValuesToList(), [{ key: 'o', value: '1000' }]);
    assert.equal(driver.getKeyValueStore('rates').get('EUR'), 200);
  });
});
