// Topology.addGlobalStore (the Processor API form, with source and processor names, deserializers
// and an optional timestamp extractor) in a topology built without the DSL: the same topology runs
// in the TopologyTestDriver and against a broker and gives the same results.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { KafkaStreams, type KeyValueStore, type ProcessorContext, type Record, Serdes, Stores, Topology, TopologyTestDriver } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();

/** Rates arrive as "1.10|5000" (rate | event time); the store keeps "<cents>@<timestamp the processor saw>". */
function fxLoader() {
  let store: KeyValueStore<string, string>;
  return {
    init: (ctx: ProcessorContext<never, never>) => (store = ctx.getStateStore('fx')),
    process: (r: Record<string, string | null>) => {
      if (r.value === null) store.delete(r.key);
      else store.put(r.key, `${Math.round(Number(r.value.split('|')[0]) * 100)}@${r.timestamp}`, r.timestamp);
    },
  };
}

function pricer() {
  let ctx: ProcessorContext<string, string>;
  let fx: KeyValueStore<string, string>;
  return {
    init: (c: ProcessorContext<string, string>) => {
      ctx = c;
      fx = c.getStateStore('fx');
    },
    process: (r: Record<string, string>) => {
      const [currency, amount] = r.value.split(':');
      const rate = fx.get(currency!);
      ctx.forward(r.withValue(rate === null ? 'unknown' : String(Number(amount) * Number(rate.split('@')[0]))));
    },
  };
}

function topology(prefix: string): Topology {
  return new Topology()
    .addGlobalStore(
      Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('fx'), S, S).withLoggingDisabled(),
      'fx-source',
      (rec) => Number(String(rec.value).split('|')[1]),
      S,
      S,
      `${prefix}-fx`,
      'fx-loader',
      fxLoader,
    )
    .addSource('orders', S, S, `${prefix}-orders`)
    .addProcessor('price', pricer, 'orders')
    .addSink('out', `${prefix}-priced`, S, S, 'price');
}

describe('streams: Topology.addGlobalStore', () => {
  it('validates its arguments: logging disabled, unique store / source / processor names', () => {
    const builder = () => Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('fx'), S, S).withLoggingDisabled();
    assert.throws(() => new Topology().addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('fx'), S, S), 's', S, S, 't', 'p', fxLoader), /must not have logging enabled/);
    assert.throws(() => topology('x').addGlobalStore(builder(), 'fx-source2', S, S, 't', 'p2', fxLoader), /store name fx is used twice/);
    assert.throws(() => topology('x').addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('fx2'), S, S).withLoggingDisabled(), 'orders', S, S, 't', 'p2', fxLoader), /processor name orders is used twice/);
    assert.throws(() => topology('x').addProcessor('fx-loader', pricer, 'orders'), /processor name fx-loader is used twice/);
    assert.throws(() => new Topology().addGlobalStore(builder(), 'same', S, S, 't', 'same', fxLoader), /different names/);
    assert.match(topology('x').describe(), /Global store: fx \(topic: x-fx, source: fx-source, processor: fx-loader\)/);
  });

  it('TopologyTestDriver: the processor fills the store with extracted timestamps; the pricer reads it', () => {
    const d = new TopologyTestDriver(topology('d'));
    try {
      d.createInputTopic('d-fx', S, S).pipeInput('EUR', '1.10|5000', 1);
      d.createInputTopic('d-orders', S, S).pipeInput('o1', 'EUR:3', 10);
      d.createInputTopic('d-orders', S, S).pipeInput('o2', 'GBP:3', 11);
      assert.deepEqual(d.createOutputTopic('d-priced', S, S).readKeyValuesToList(), [
        { key: 'o1', value: '330' },
        { key: 'o2', value: 'unknown' },
      ]);
      assert.equal(d.getKeyValueStore<string, string>('fx').get('EUR'), '110@5000');
    } finally {
      d.close();
    }
  });

  describe('against a broker', () => {
    let broker: TestBroker;
    let dir = '';
    let streams: KafkaStreams | undefined;
    before(async () => {
      broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...FAST_STREAMS_GROUPS });
      await createTopics(broker.bootstrap, { 'k-fx': 2, 'k-orders': 2, 'k-priced': 1 });
      dir = await tempDir('fjord-streams-tgs-');
    });
    after(async () => {
      await streams?.close().catch(() => {});
      await broker?.dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('loads the global topic through the processor at start, follows it while running, and prices orders', async () => {
      await produceBatch(broker.bootstrap, 'k-fx', [
        { key: 'EUR', value: '1.10|5000', timestamp: 1 },
        { key: 'GBP', value: '1.25|6000', timestamp: 2 },
      ]);
      streams = new KafkaStreams(topology('k'), { 'application.id': 'tgs-app', 'bootstrap.servers': broker.bootstrap, 'state.dir': dir, 'commit.interval.ms': 100 });
      await streams.start();
      const fx = streams.keyValueStore<string, string>('fx');
      assert.deepEqual([fx.get('EUR'), fx.get('GBP')], ['110@5000', '125@6000'], 'loaded before start() resolved, timestamps from the extractor');
      await produceBatch(broker.bootstrap, 'k-fx', [{ key: 'EUR', value: '1.20|7000', timestamp: 3 }]);
      assert.ok(await waitFor(async () => fx.get('EUR') === '120@7000', 15_000), `EUR follows the topic: ${fx.get('EUR')}`);
      await produceBatch(broker.bootstrap, 'k-orders', [
        { key: 'o1', value: 'EUR:3' },
        { key: 'o2', value: 'GBP:2' },
        { key: 'o3', value: 'JPY:1' },
      ]);
      let out = new Map<string, string | null>();
      assert.ok(
        await waitFor(async () => {
          out = new Map((await readTopic(broker.bootstrap, 'k-priced', S)).map((r) => [r.key!, r.value]));
          return out.size === 3;
        }, 20_000),
      );
      assert.deepEqual(Object.fromEntries(out), { o1: '360', o2: '250', o3: 'unknown' });
    });
  });
});
