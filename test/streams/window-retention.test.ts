// Window store retention, as in Kafka Streams' segmented window stores: a window whose start is
// more than `retention` of stream time behind the newest window start is expired — not returned by
// fetch / fetchRange / all, refused by put, swept from the backend, and not brought back by a
// restore. DSL retention defaults to size + grace (sliding: 2 × difference + grace) and may be
// extended, never shortened; Processor API stores take it from Stores.*WindowStore(name, retention).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  JoinWindows,
  Materialized,
  type Processor,
  type ProcessorContext,
  Produced,
  type Record,
  Serdes,
  SlidingWindows,
  Stores,
  StreamJoined,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  type Windowed,
  type WindowStore,
} from '../../src/streams/index.js';

const S = Serdes.String();
const L = Serdes.Long();

function windowedCounts(windows: TimeWindows | SlidingWindows, materialized: Materialized<string, number> = Materialized.as<string, number>('counts')) {
  const b = new StreamsBuilder();
  b.stream<string, string>('in')
    .groupByKey()
    .windowedBy(windows)
    .count(materialized)
    .toStream()
    .map((wk: Windowed<string>, n) => ({ key: `${wk.key}@${wk.window.start}`, value: n }))
    .to('out', Produced.with(S, L));
  return b.build();
}

const rows = (store: WindowStore<string, number>) => store.all().map((e) => `${e.key.key}@${e.key.window.start}=${e.value}`);

describe('streams: window store retention (TopologyTestDriver)', () => {
  it('tumbling windows: retention size + grace; expired windows leave every read and the backend', () => {
    const d = new TopologyTestDriver(windowedCounts(TimeWindows.ofSizeAndGrace(100, 50)));
    try {
      const input = d.createInputTopic('in', S, S);
      input.pipeInput('a', 'x', 10);
      input.pipeInput('a', 'x', 20);
      input.pipeInput('b', 'x', 120);
      const store = d.getWindowStore<string, number>('counts');
      assert.deepEqual(rows(store), ['a@0=2', 'b@100=1']);
      assert.equal(store.retentionMs, 150);
      // Newest window start 100: window 0 is live while 0 > 100 - 150.
      input.pipeInput('c', 'x', 149);
      assert.equal(store.fetch('a', 0), 2);
      // Newest window start 200: 0 <= 200 - 150 has expired, 100 has not.
      input.pipeInput('c', 'x', 200);
      assert.equal(store.fetch('a', 0), null);
      assert.deepEqual(store.fetchRange('a', 0, 1000), []);
      assert.deepEqual(rows(store), ['b@100=1', 'c@100=1', 'c@200=1']);
      // Far ahead: everything but the newest window is expired and swept from the backend.
      input.pipeInput('z', 'x', 10_000);
      assert.deepEqual(rows(store), ['z@10000=1']);
      assert.equal(store.backend.count(), 1, 'the sweep deleted expired windows, not only hid them');
    } finally {
      d.close();
    }
  });

  it('Materialized.withRetention keeps windows longer for queries; shorter than size + grace is refused', () => {
    const d = new TopologyTestDriver(windowedCounts(TimeWindows.ofSizeWithNoGrace(100), Materialized.as<string, number>('counts').withRetention(1000)));
    try {
      const input = d.createInputTopic('in', S, S);
      input.pipeInput('a', 'x', 5);
      input.pipeInput('b', 'x', 900);
      const store = d.getWindowStore<string, number>('counts');
      assert.equal(store.fetch('a', 0), 1, 'window 0 closed for updates but retained for queries');
      input.pipeInput('b', 'x', 1000); // window 1000: 0 <= 1000 - 1000 → expired
      assert.equal(store.fetch('a', 0), null);
    } finally {
      d.close();
    }
    assert.throws(() => windowedCounts(TimeWindows.ofSizeAndGrace(100, 50), Materialized.as<string, number>('short').withRetention(149)), /retention 149 ms is smaller than the window size plus grace period \(150 ms\)/);
    assert.throws(() => windowedCounts(SlidingWindows.ofTimeDifferenceAndGrace(100, 10), Materialized.as<string, number>('short2').withRetention(209)), /smaller than the twice the time difference plus grace period \(210 ms\)/);
  });

  it('sliding windows and stream-stream joins keep giving the same results with bounded stores', () => {
    const d = new TopologyTestDriver(windowedCounts(SlidingWindows.ofTimeDifferenceAndGrace(10, 5)));
    try {
      const input = d.createInputTopic('in', S, S);
      for (let t = 0; t <= 2000; t += 7) input.pipeInput('k', 'x', t);
      const store = d.getWindowStore<string, number>('counts');
      const raw = d.getWindowStore<string, string>('counts-raw');
      // Only windows and raw records within retention of the newest remain.
      assert.ok(store.backend.count() < 20, `aggregate store holds ${store.backend.count()} windows`);
      assert.ok(raw.backend.count() < 20, `raw store holds ${raw.backend.count()} records`);
      // Every window of the latest records still counts all the records within 10 ms before it.
      const last = store.fetchRange('k', 1980, 2000);
      assert.ok(last.length > 0);
      for (const w of last) assert.ok(w.value >= 1 && w.value <= 2, `window ${w.start} = ${w.value}`);
    } finally {
      d.close();
    }

    const b = new StreamsBuilder();
    const left = b.stream<string, string>('left');
    const right = b.stream<string, string>('right');
    left.join(right, (l, r) => `${l}+${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(5), StreamJoined.as('pairs')).to('joined', Produced.with(S, S));
    const j = new TopologyTestDriver(b.build());
    try {
      const l = j.createInputTopic('left', S, S);
      const r = j.createInputTopic('right', S, S);
      for (let t = 0; t < 1000; t += 10) {
        l.pipeInput('k', `l${t}`, t);
        r.pipeInput('k', `r${t}`, t + 3);
      }
      const out = j.createOutputTopic('joined', S, S).readValuesToList();
      assert.equal(out.length, 100, 'each left record joins the right record 3 ms after it, and only that one');
      assert.equal(out[99], 'l990+r990');
      for (const name of ['pairs-this-join-store', 'pairs-other-join-store']) {
        const count = j.getWindowStore(name).backend.count();
        assert.ok(count <= 3, `${name} holds ${count} records`);
      }
    } finally {
      j.close();
    }
  });

  it('Processor API: Stores.inMemoryWindowStore(name, retention, size) refuses expired puts; restore skips expired windows', () => {
    class Writer implements Processor<string, string, string, string> {
      private store!: WindowStore<string, string>;
      init(ctx: ProcessorContext<string, string>): void {
        this.store = ctx.getStateStore('raw-windows');
      }
      process(r: Record<string, string>): void {
        this.store.put(r.key, r.value, Number(r.value));
      }
    }
    const b = new StreamsBuilder();
    b.addStateStore(Stores.windowStoreBuilder(Stores.inMemoryWindowStore('raw-windows', 500, 100), S, S));
    b.stream<string, string>('in').process(() => new Writer(), 'raw-windows');
    const d = new TopologyTestDriver(b.build());
    try {
      const input = d.createInputTopic('in', S, S);
      input.pipeInput('a', '1000', 0);
      input.pipeInput('b', '1400', 0);
      input.pipeInput('c', '1600', 0); // 1000 <= 1600 - 500: a's window expired
      const store = d.getWindowStore<string, string>('raw-windows');
      assert.equal(store.fetch('a', 1000), null);
      assert.equal(store.fetch('b', 1400), '1400');
      input.pipeInput('a', '900', 0); // older than retention allows: refused
      assert.equal(store.fetch('a', 900), null);
      assert.equal(store.expiredRecordsDropped, 1);

      // A restore of changelog records skips windows already expired at the batch's end.
      const key = (k: string, start: number) => {
        const b8 = Buffer.alloc(12);
        b8.writeBigUInt64BE(BigInt(start));
        return Buffer.concat([Buffer.from(k), b8]);
      };
      store.restoreBatch([
        [key('x', 100), Buffer.from('old')],
        [key('y', 5000), Buffer.from('new')],
      ]);
      assert.equal(store.fetch('x', 100), null);
      assert.equal(store.fetch('y', 5000), 'new');
    } finally {
      d.close();
    }
    assert.throws(() => Stores.inMemoryWindowStore('bad', 50, 100), /retentionPeriod 50 ms is smaller than the window size 100 ms/);
  });
});
