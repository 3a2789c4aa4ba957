// One table of topology cases, run both through the TopologyTestDriver (driver.test.ts) and the
// Kafka runtime against a real broker (runtime.test.ts): same topology, same input, same expectation.
import {
  Branched,
  Consumed,
  Grouped,
  JoinWindows,
  KeyValue,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  SlidingWindows,
  type StreamsBuilder,
  Suppressed,
  TimeWindows,
  type Deserializer,
  type Serde,
} from '../../src/streams/index.js';

export interface CaseInput {
  topic: string;
  key: string | null;
  value: unknown;
  timestamp: number;
  valueSerde?: Serde<any>;
}

export interface CaseOutput {
  topic: string;
  valueDeserializer: Deserializer<any>;
  /** 'latest': last value per key, null deletes; 'all': every record, order ignored. */
  compare: 'latest' | 'all';
  expected: Record<string, unknown> | Array<[string | null, unknown]>;
}

export interface StreamsCase {
  name: string;
  /** Input topics and their partition counts (time-sensitive cases use 1 partition). */
  topics: Record<string, number>;
  /** Topics written by the topology, created before running against a broker. */
  outputs: CaseOutput[];
  build(b: StreamsBuilder): void;
  inputs: CaseInput[];
}

const S = Serdes.String();
const L = Serdes.Long();
const J = Serdes.Json<any>();
const joinStr = (l: unknown, r: unknown) => `${l}+${r}`;

export const cases: StreamsCase[] = [
  {
    name: 'word count',
    topics: { 'wc-in': 3 },
    outputs: [{ topic: 'wc-out', valueDeserializer: L, compare: 'latest', expected: { hello: 3, world: 2, streams: 2, of: 1 } }],
    build(b) {
      b.stream<string, string>('wc-in')
        .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
        .groupBy((_k, word) => word)
        .count(Materialized.as('wc-counts'))
        .toStream()
        .to('wc-out', Produced.with(S, L));
    },
    inputs: [
      { topic: 'wc-in', key: null, value: 'Hello world', timestamp: 1 },
      { topic: 'wc-in', key: null, value: 'hello streams', timestamp: 2 },
      { topic: 'wc-in', key: null, value: 'world of streams, hello', timestamp: 3 },
    ],
  },
  {
    name: 'stateless filter, mapValues, split',
    topics: { 'sl-in': 2 },
    outputs: [
      { topic: 'sl-a', valueDeserializer: S, compare: 'all', expected: [['k1', 'ALICE'], ['k3', 'ANNA']] },
      { topic: 'sl-other', valueDeserializer: S, compare: 'all', expected: [['k4', 'CARL']] },
    ],
    build(b) {
      b.stream<string, { n: number; name: string }>('sl-in', Consumed.with(S, J))
        .filter((_k, v) => v.n > 0)
        .mapValues((v) => v.name.toUpperCase())
        .split()
        .branch((_k, v) => v.startsWith('A'), Branched.withConsumer((s) => s.to('sl-a', Produced.with(S, S))))
        .defaultBranch(Branched.withConsumer((s) => s.to('sl-other', Produced.with(S, S))));
    },
    inputs: [
      { topic: 'sl-in', key: 'k1', value: { n: 1, name: 'alice' }, timestamp: 1, valueSerde: J },
      { topic: 'sl-in', key: 'k2', value: { n: 0, name: 'bob' }, timestamp: 2, valueSerde: J },
      { topic: 'sl-in', key: 'k3', value: { n: 2, name: 'anna' }, timestamp: 3, valueSerde: J },
      { topic: 'sl-in', key: 'k4', value: { n: 3, name: 'carl' }, timestamp: 4, valueSerde: J },
    ],
  },
  {
    name: 'page views per region (stream-table join, re-grouping)',
    topics: { 'pv-views': 2, 'pv-regions': 2 },
    outputs: [{ topic: 'pv-out', valueDeserializer: L, compare: 'latest', expected: { europe: 2, asia: 2, UNKNOWN: 1 } }],
    build(b) {
      const regions = b.table<string, string>('pv-regions');
      b.stream<string, string>('pv-views')
        .leftJoin(regions, (_page, region) => region ?? 'UNKNOWN')
        .groupBy((_user, region) => region)
        .count()
        .toStream()
        .to('pv-out', Produced.with(S, L));
    },
    inputs: [
      { topic: 'pv-regions', key: 'alice', value: 'europe', timestamp: 1 },
      { topic: 'pv-regions', key: 'bob', value: 'asia', timestamp: 2 },
      { topic: 'pv-views', key: 'alice', value: '/p1', timestamp: 10 },
      { topic: 'pv-views', key: 'bob', value: '/p2', timestamp: 11 },
      { topic: 'pv-views', key: 'carol', value: '/p3', timestamp: 12 },
      { topic: 'pv-views', key: 'alice', value: '/p4', timestamp: 13 },
      { topic: 'pv-regions', key: 'alice', value: 'asia', timestamp: 14 },
      { topic: 'pv-views', key: 'alice', value: '/p5', timestamp: 15 },
    ],
  },
  {
    name: 'tumbling window count with grace, late events and suppression',
    topics: { 'win-in': 1 },
    outputs: [
      { topic: 'win-final', valueDeserializer: L, compare: 'all', expected: [['k@0', 3], ['k@10', 1], ['k@20', 1]] },
      { topic: 'win-raw', valueDeserializer: L, compare: 'latest', expected: { 'k@0': 3, 'k@10': 1, 'k@20': 1, 'k@30': 1, 'k@40': 1 } },
    ],
    build(b) {
      const counts = b.stream<string, string>('win-in').groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count(Materialized.as('win-counts'));
      counts.toStream((wk) => `${wk.key}@${wk.window.start}`).to('win-raw', Produced.with(S, L));
      counts
        .suppress(Suppressed.untilWindowCloses())
        .toStream((wk) => `${wk.key}@${wk.window.start}`)
        .to('win-final', Produced.with(S, L));
    },
    inputs: [1, 3, 12, 4, 21, 2, 30, 40].map((t) => ({ topic: 'win-in', key: 'k', value: `v${t}`, timestamp: t })),
  },
  {
    name: 'stream-stream windowed joins (inner, left, outer)',
    topics: { 'ssj-l': 1, 'ssj-r': 1 },
    outputs: [
      { topic: 'ssj-inner', valueDeserializer: S, compare: 'all', expected: [['a', 'L1+R1'], ['a', 'L3+R3']] },
      { topic: 'ssj-left', valueDeserializer: S, compare: 'all', expected: [['a', 'L1+R1'], ['a', 'L3+R3'], ['b', 'L2+null']] },
      { topic: 'ssj-outer', valueDeserializer: S, compare: 'all', expected: [['a', 'L1+R1'], ['a', 'L3+R3'], ['b', 'L2+null'], ['c', 'null+R2']] },
    ],
    build(b) {
      const l = b.stream<string, string>('ssj-l');
      const r = b.stream<string, string>('ssj-r');
      const w = JoinWindows.ofTimeDifferenceWithNoGrace(5);
      l.join(r, joinStr, w).to('ssj-inner');
      l.leftJoin(r, joinStr, w).to('ssj-left');
      l.outerJoin(r, joinStr, w).to('ssj-outer');
    },
    inputs: [
      { topic: 'ssj-l', key: 'a', value: 'L1', timestamp: 10 },
      { topic: 'ssj-r', key: 'a', value: 'R1', timestamp: 12 },
      { topic: 'ssj-l', key: 'b', value: 'L2', timestamp: 20 },
      { topic: 'ssj-r', key: 'c', value: 'R2', timestamp: 21 },
      { topic: 'ssj-l', key: 'a', value: 'L3', timestamp: 30 },
      { topic: 'ssj-r', key: 'a', value: 'R3', timestamp: 33 },
      { topic: 'ssj-l', key: 'z', value: 'Z', timestamp: 60 },
    ],
  },
  {
    name: 'table-table joins (inner, left, outer)',
    topics: { 'ttj-l': 2, 'ttj-r': 2 },
    outputs: [
      { topic: 'ttj-inner', valueDeserializer: S, compare: 'latest', expected: { a: '11+x' } },
      { topic: 'ttj-left', valueDeserializer: S, compare: 'latest', expected: { a: '11+x', b: '2+null' } },
      { topic: 'ttj-outer', valueDeserializer: S, compare: 'latest', expected: { a: '11+x', b: '2+null', c: 'null+y' } },
    ],
    build(b) {
      const l = b.table<string, string>('ttj-l');
      const r = b.table<string, string>('ttj-r');
      l.join(r, joinStr).toStream().to('ttj-inner');
      l.leftJoin(r, joinStr).toStream().to('ttj-left');
      l.outerJoin(r, joinStr).toStream().to('ttj-outer');
    },
    inputs: [
      { topic: 'ttj-l', key: 'a', value: '1', timestamp: 1 },
      { topic: 'ttj-r', key: 'a', value: 'x', timestamp: 2 },
      { topic: 'ttj-l', key: 'b', value: '2', timestamp: 3 },
      { topic: 'ttj-r', key: 'c', value: 'y', timestamp: 4 },
      { topic: 'ttj-l', key: 'a', value: '11', timestamp: 5 },
      { topic: 'ttj-r', key: 'b', value: 'z', timestamp: 6 },
      { topic: 'ttj-r', key: 'b', value: null, timestamp: 7 },
    ],
  },
  {
    name: 'foreign-key table-table join',
    topics: { 'fk-orders': 2, 'fk-products': 3 },
    outputs: [{ topic: 'fk-out', valueDeserializer: S, compare: 'latest', expected: { o1: '2xgreen-apple', o2: '7xgreen-apple', o3: '1xplum' } }],
    build(b) {
      const orders = b.table<string, { product: string; qty: number }>('fk-orders', Consumed.with(S, J));
      const products = b.table<string, string>('fk-products');
      orders
        .join(products, (o) => o.product, (o, name) => `${o.qty}x${name}`)
        .toStream()
        .to('fk-out', Produced.with(S, S));
    },
    inputs: [
      { topic: 'fk-products', key: 'p1', value: 'apple', timestamp: 1 },
      { topic: 'fk-products', key: 'p2', value: 'pear', timestamp: 2 },
      { topic: 'fk-orders', key: 'o1', value: { product: 'p1', qty: 2 }, timestamp: 3, valueSerde: J },
      { topic: 'fk-orders', key: 'o2', value: { product: 'p2', qty: 5 }, timestamp: 4, valueSerde: J },
      { topic: 'fk-orders', key: 'o3', value: { product: 'p3', qty: 1 }, timestamp: 5, valueSerde: J },
      { topic: 'fk-products', key: 'p1', value: 'green-apple', timestamp: 6 },
      { topic: 'fk-orders', key: 'o2', value: { product: 'p1', qty: 7 }, timestamp: 7, valueSerde: J },
      { topic: 'fk-products', key: 'p3', value: 'plum', timestamp: 8 },
    ],
  },
  {
    name: 'GlobalKTable enrichment',
    topics: { 'gk-customers': 2, 'gk-orders': 2 },
    outputs: [{ topic: 'gk-out', valueDeserializer: S, compare: 'all', expected: [['o1', 'Ann:10'], ['o2', 'Bo:20']] }],
    build(b) {
      const customers = b.globalTable<string, string>('gk-customers');
      b.stream<string, { cust: string; amount: number }>('gk-orders', Consumed.with(S, J))
        .join(customers, (_k, v) => v.cust, (v, name) => `${name}:${v.amount}`)
        .to('gk-out', Produced.with(S, S));
    },
    inputs: [
      { topic: 'gk-customers', key: 'c1', value: 'Ann', timestamp: 1 },
      { topic: 'gk-customers', key: 'c2', value: 'Bo', timestamp: 2 },
      { topic: 'gk-orders', key: 'o1', value: { cust: 'c1', amount: 10 }, timestamp: 3, valueSerde: J },
      { topic: 'gk-orders', key: 'o2', value: { cust: 'c2', amount: 20 }, timestamp: 4, valueSerde: J },
      { topic: 'gk-orders', key: 'o3', value: { cust: 'c9', amount: 5 }, timestamp: 5, valueSerde: J },
    ],
  },
  {
    name: 'table groupBy with adder and subtractor',
    topics: { 'tg-users': 2 },
    outputs: [{ topic: 'tg-out', valueDeserializer: L, compare: 'latest', expected: { eu: 0, us: 2 } }],
    build(b) {
      b.table<string, string>('tg-users')
        .groupBy((user, region) => KeyValue.pair(region, user), Grouped.with(S, S))
        .count()
        .toStream()
        .to('tg-out', Produced.with(S, L));
    },
    inputs: [
      { topic: 'tg-users', key: 'u1', value: 'eu', timestamp: 1 },
      { topic: 'tg-users', key: 'u2', value: 'eu', timestamp: 2 },
      { topic: 'tg-users', key: 'u3', value: 'us', timestamp: 3 },
      { topic: 'tg-users', key: 'u1', value: 'us', timestamp: 4 },
      { topic: 'tg-users', key: 'u2', value: null, timestamp: 5 },
    ],
  },
  {
    name: 'session windows merge',
    topics: { 'ses-in': 1 },
    outputs: [{ topic: 'ses-out', valueDeserializer: L, compare: 'latest', expected: { 's@0-30': 5 } }],
    build(b) {
      b.stream<string, string>('ses-in')
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 100))
        .count()
        .toStream((wk) => `${wk.key}@${wk.window.start}-${wk.window.end}`)
        .to('ses-out', Produced.with(S, L));
    },
    inputs: [0, 5, 30, 12, 20].map((t) => ({ topic: 'ses-in', key: 's', value: `v${t}`, timestamp: t })),
  },
  {
    name: 'sliding windows',
    topics: { 'sw-in': 1 },
    outputs: [{ topic: 'sw-out', valueDeserializer: L, compare: 'latest', expected: { 'w@0': 2, 'w@6': 1, 'w@10': 1 } }],
    build(b) {
      b.stream<string, string>('sw-in')
        .groupByKey()
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 100))
        .count()
        .toStream((wk) => `${wk.key}@${wk.window.start}`)
        .to('sw-out', Produced.with(S, L));
    },
    inputs: [5, 8, 20].map((t) => ({ topic: 'sw-in', key: 'w', value: `v${t}`, timestamp: t })),
  },
];

/** Folds output records the way a case compares them. */
export function summarize(out: CaseOutput, records: Array<{ key: string | null; value: unknown }>): unknown {
  if (out.compare === 'latest') {
    const m: Record<string, unknown> = {};
    for (const r of records) {
      if (r.value === null) delete m[String(r.key)];
      else m[String(r.key)] = r.value;
    }
    return sortKeys(m);
  }
  return records.map((r) => [r.key, r.value]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function sortKeys(m: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function expectedOf(out: CaseOutput): unknown {
  return out.compare === 'latest' ? sortKeys(out.expected as Record<string, unknown>) : [...(out.expected as unknown[])].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
