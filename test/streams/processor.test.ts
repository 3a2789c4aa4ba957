// Processor API: KStream.process with a store and punctuators, Topology.addSource / addProcessor /
// addSink / addStateStore, in the TopologyTestDriver (mocked wall clock) and against a broker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import {
  KafkaStreams,
  type KeyValueStore,
  Materialized,
  type Processor,
  type ProcessorContext,
  Produced,
  PunctuationType,
  Record,
  Serdes,
  Stores,
  StreamsBuilder,
  Topology,
  TopologyTestDriver,
} from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();

/** Counts per key in a store; emits every count on a wall-clock punctuator and tags each emit with where the last input came from. */
class CountEmitter implements Processor<string, string, string, number> {
  private ctx!: ProcessorContext<string, number>;
  private store!: KeyValueStore<string, number>;
  readonly seen: string[] = [];
  streamTicks: number[] = [];
  constructor(private readonly wallIntervalMs: number) {}
  init(ctx: ProcessorContext<string, number>): void {
    this.ctx = ctx;
    this.store = ctx.getStateStore('emit-counts');
    ctx.schedule(this.wallIntervalMs, PunctuationType.WALL_CLOCK_TIME, (ts) => {
      for (const { key, value } of this.store.all()) ctx.forward(new Record(key, value, ts));
      ctx.commit();
    });
    ctx.schedule(1000, PunctuationType.STREAM_TIME, (ts) => {
      this.streamTicks.push(ts);
      assert.equal(ctx.recordMetadata(), null, 'no record metadata inside a punctuator');
    });
  }
  process(record: Record<string, string>): void {
    const md = this.ctx.recordMetadata()!;
    this.seen.push(`${md.topic()}/${md.partition()}/${md.offset()}@${record.timestamp}${record.headers.get('h') ? `+${record.headers.get('h')}` : ''}`);
    this.store.put(record.key, (this.store.get(record.key) ?? 0) + 1, record.timestamp);
  }
}

function countEmitterTopology(input: string, output: string, wallIntervalMs: number, made: CountEmitter[]) {
  const b = new StreamsBuilder();
  b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('emit-counts'), S, L));
  b.stream<string, string>(input)
    .process(() => {
      const p = new CountEmitter(wallIntervalMs);
      made.push(p);
      return p;
    }, 'emit-counts')
    .to(output, Produced.with(S, L));
  return b.build();
}

describe('streams: Processor API in the TopologyTestDriver', () => {
  it('KStream.process: store, record metadata, wall-clock and stream-time punctuators', () => {
    const made: CountEmitter[] = [];
    const driver = new TopologyTestDriver(countEmitterTopology('pin', 'pout', 10_000, made), {}, 0);
    const input = driver.createInputTopic('pin', S, S, 0, 0);
    const output = driver.createOutputTopic('pout', S, L);
    input.pipeInput('a', 'x', 100);
    input.pipeRecordList([{ key: 'b', value: 'y', timestamp: 600, headers: new Map([['h', Buffer.from('v')]]) }]);
    input.pipeInput('a', 'z', 1200);
    assert.ok(output.isEmpty(), 'nothing forwarded before the wall-clock punctuator');
    const p = made[0]!;
    assert.deepEqual(p.seen, ['pin/0/0@100', 'pin/0/1@600+v', 'pin/0/2@1200']);
    // Stream time: fires at the first record, then once stream time passes first + 1000.
    assert.deepEqual(p.streamTicks, [100, 1200]);
    driver.advanceWallClockTime(9_999);
    assert.ok(output.isEmpty(), 'not due yet');
    driver.advanceWallClockTime(1);
    assert.deepEqual(output.readKeyValuesToMap(), new Map([['a', 2], ['b', 1]]));
    // 25 s at once: fires once (missed intervals are skipped, as in Kafka), at the current wall-clock time.
    driver.advanceWallClockTime(25_000);
    const recs = output.readRecordsToList();
    assert.deepEqual(recs.map((r) => [r.key, r.value, r.timestamp]), [['a', 2, 35_000], ['b', 1, 35_000]]);
    assert.deepEqual(driver.getKeyValueStore('emit-counts').get('a'), 2);
  });

  it('processValues keeps keys (no repartition before groupByKey) and refuses a key change', () => {
    const b = new StreamsBuilder();
    const values = b.stream<string, string>('pv-in').processValues(() => {
      let ctx: ProcessorContext<string, number>;
      return {
        init: (c: ProcessorContext<string, number>) => (ctx = c),
        process: (r: Record<string, string>) => {
          if (r.value === 'rekey') ctx.forward(r.withKey('other').withValue(0));
          else ctx.forward(r.withValue(r.value.length));
        },
      };
    });
    values.groupByKey().reduce((x: number, y: number) => x + y, Materialized.with(S, L)).toStream().to('pv-out', Produced.with(S, L));
    const topo = b.build();
    assert.equal(topo.subTopologies().length, 1, 'no repartition topic after processValues');
    const driver = new TopologyTestDriver(topo);
    const input = driver.createInputTopic('pv-in', S, S);
    input.pipeInput('a', 'xyz');
    input.pipeInput('a', 'xy');
    assert.deepEqual(driver.createOutputTopic('pv-out', S, L).readKeyValuesToList(), [
      { key: 'a', value: 3 },
      { key: 'a', value: 5 },
    ]);
    assert.throws(() => input.pipeInput('a', 'rekey'), /must not change the key/);
  });

  it('Topology.addSource / addProcessor / addSink / addStateStore', () => {
    const topo = new Topology()
      .addSource('Source', S, S, 'words-in')
      .addProcessor(
        'Upper',
        () => {
          let ctx: ProcessorContext<string, string>;
          return { init: (c: ProcessorContext<string, string>) => (ctx = c), process: (r: Record<string, string>) => ctx.forward(r.withValue(r.value.toUpperCase())) };
        },
        'Source',
      )
      .addProcessor(
        'Tally',
        () => {
          let ctx: ProcessorContext<string, number>;
          let store: KeyValueStore<string, number>;
          return {
            init: (c: ProcessorContext<string, number>) => {
              ctx = c;
              store = c.getStateStore('tally');
            },
            process: (r: Record<string, string>) => {
              const n = (store.get(r.value) ?? 0) + 1;
              store.put(r.value, n);
              ctx.forward(r.withKey(r.value).withValue(n), 'Sink');
            },
          };
        },
        'Upper',
      )
      .addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore('tally'), S, L), 'Tally')
      .addSink('Sink', 'words-out', S, L, 'Tally');
    assert.match(topo.describe(), /Upper --> Tally/);
    const driver = new TopologyTestDriver(topo);
    const input = driver.createInputTopic('words-in', S, S);
    input.pipeKeyValueList([
      { key: '1', value: 'kafka' },
      { key: '2', value: 'fjord' },
      { key: '3', value: 'Kafka' },
    ]);
    assert.deepEqual(driver.createOutputTopic('words-out', S, L).readKeyValuesToList(), [
      { key: 'KAFKA', value: 1 },
      { key: 'FJORD', value: 1 },
      { key: 'KAFKA', value: 2 },
    ]);
    assert.throws(() => new Topology().addProcessor('p', () => ({ process() {} }), 'missing'), /no processor named missing/);
    assert.throws(() => new StreamsBuilder().stream('x').process(() => ({ process() {} }), 'no-store'), /not added with addStateStore/);
  });
});

describe('streams: Processor API against a broker', () => {
  let broker: TestBroker;
  let dir: string;
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...FAST_STREAMS_GROUPS });
    dir = await tempDir('fjord-streams-papi-');
    await createTopics(broker.bootstrap, { 'papi-in': 2, 'papi-out': 1 });
  });
  after(async () => {
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('wall-clock punctuators emit store contents; the store is changelogged and queryable', async () => {
    const made: CountEmitter[] = [];
    const s = new KafkaStreams(countEmitterTopology('papi-in', 'papi-out', 200, made), {
      'application.id': 'papi-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'commit.interval.ms': 100,
    });
    await s.start();
    try {
      await produceBatch(broker.bootstrap, 'papi-in', Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, value: `v${i}` })));
      let last = new Map<string, number>();
      const ok = await waitFor(async () => {
        last = new Map((await readTopic(broker.bootstrap, 'papi-out', L)).map((r) => [r.key!, r.value!]));
        return last.size === 3 && [...last.values()].every((v) => v === 10);
      }, 15_000);
      assert.ok(ok, JSON.stringify([...last]));
      assert.equal(made.length, 2, 'one processor per task (2 partitions)');
      assert.equal(made.flatMap((p) => p.seen).length, 30);
      assert.ok(made.flatMap((p) => p.seen).every((x) => /^papi-in\/[01]\/\d+@\d+$/.test(x)));
      assert.equal(s.keyValueStore<string, number>('emit-counts').get('k1'), 10);
      const changelog = await readTopic(broker.bootstrap, 'papi-app-emit-counts-changelog', L);
      assert.equal(changelog.length, 30, 'every put is logged (caching off by default for Stores builders)');
    } finally {
      await s.close();
    }
  });
});
