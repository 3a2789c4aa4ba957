// The DSL: StreamsBuilder, KStream, KTable, GlobalKTable, grouped and windowed streams.
// Operators build ProcessorNodes; stateful ones declare stores; key-changing operators mark the
// stream so the next grouping or join goes through a repartition topic.
import { type Branched, Consumed, type Grouped, type Joined, Materialized, type Named, type Produced, Repartitioned, type StreamJoined, type Suppressed, type StreamPartitioner, type TopicNameExtractor } from './options.js';
import type { Serde } from './serdes.js';
import { Serdes } from './serdes.js';
import type { KeyValueStore, SessionStore, WindowStore, Windowed } from './stores.js';
import { Change, ProcessorNode, Topology, type Rec, type StoreDef, type TaskContext } from './topology.js';
import { processorNode, type ProcessorSupplier, type StoreBuilder } from './processor.js';
import { JoinWindows, SessionWindows, SlidingWindows, TimeWindows, type GroupWindows } from './windows.js';

export interface KeyValue<K, V> {
  key: K;
  value: V;
}
export const KeyValue = {
  pair<K, V>(key: K, value: V): KeyValue<K, V> {
    return { key, value };
  },
};
type KV<K, V> = KeyValue<K, V> | [K, V];
function kvOf<K, V>(r: KV<K, V>): KeyValue<K, V> {
  return Array.isArray(r) ? { key: r[0], value: r[1] } : r;
}

type Getter = (ctx: TaskContext, key: any) => any;

function serdeOr<T>(s: Serde<T> | undefined, ctx: TaskContext, which: 'key' | 'value'): Serde<T> {
  return s ?? (which === 'key' ? ctx.env.defaults.keySerde : ctx.env.defaults.valueSerde);
}

export class StreamsBuilder {
  /** @internal */ readonly topology = new Topology();
  private counter = 0;

  /** @internal */ newName(prefix: string): string {
    return `${prefix}-${String(this.counter++).padStart(10, '0')}`;
  }
  /** @internal */ node(name: string, process?: ProcessorNode['process'], parent?: ProcessorNode): ProcessorNode {
    const n = new ProcessorNode(name, process);
    this.topology.allNodes.push(n);
    parent?.addChild(n);
    return n;
  }
  /** @internal */ addStore(def: StoreDef): void {
    if (this.topology.storeDefs.has(def.name) || this.topology.globalStores.has(def.name)) throw new Error(`store name ${def.name} is used twice`);
    this.topology.storeDefs.set(def.name, def);
  }
  /** @internal */ source(topics: string[], consumed?: Consumed, internal = false): ProcessorNode {
    const n = this.node(consumed?.name ?? this.newName('KSTREAM-SOURCE'));
    this.topology.sources.push({ node: n, topics, keySerde: consumed?.keySerde, valueSerde: consumed?.valueSerde, timestampExtractor: consumed?.timestampExtractor, offsetReset: consumed?.offsetReset });
    if (internal) for (const t of topics) if (!this.topology.internalTopics.has(t)) this.topology.internalTopics.set(t, { name: t, kind: 'repartition' });
    return n;
  }

  stream<K = any, V = any>(topics: string | string[], consumed?: Consumed<K, V>): KStream<K, V> {
    const list = Array.isArray(topics) ? topics : [topics];
    if (list.length === 0) throw new Error('stream() needs at least one topic');
    return new KStream<K, V>(this, this.source(list, consumed), consumed?.keySerde, consumed?.valueSerde, false);
  }

  table<K = any, V = any>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const src = this.source([topic], consumed);
    const storeName = materialized?.storeName ?? `${topic}-STATE-STORE-${String(this.counter++).padStart(10, '0')}`;
    const ks = materialized?.keySerde ?? consumed?.keySerde;
    const vs = materialized?.valueSerde ?? consumed?.valueSerde;
    this.addStore({ name: storeName, kind: 'kv', keySerde: ks, valueSerde: vs, logged: materialized?.loggingEnabled ?? true, cached: materialized?.cachingEnabled ?? true, storeType: materialized?.storeType });
    const n = this.node(this.newName('KTABLE-SOURCE'), (ctx, rec) => {
      if (rec.key === null || rec.key === undefined) return;
      ctx.store<KeyValueStore<K, V>>(storeName).put(rec.key, rec.value, rec.timestamp);
    }, src);
    n.stores.push(storeName);
    n.init = (ctx, self) => ctx.store<KeyValueStore<K, V>>(storeName).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
    return new KTable<K, V>(this, n, ks, vs, (ctx, key) => ctx.store<KeyValueStore<K, V>>(storeName).get(key), storeName);
  }

  /** Registers a store for Processor API processors (`stream.process(supplier, name)`). */
  addStateStore(builder: StoreBuilder): this {
    this.addStore(builder.def);
    return this;
  }

  globalTable<K = any, V = any>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
    const storeName = materialized?.storeName ?? `${topic}-STATE-STORE-${String(this.counter++).padStart(10, '0')}`;
    const store: StoreDef = {
      name: storeName,
      kind: 'kv',
      keySerde: materialized?.keySerde ?? consumed?.keySerde,
      valueSerde: materialized?.valueSerde ?? consumed?.valueSerde,
      logged: false,
      cached: false,
      storeType: materialized?.storeType,
    };
    this.topology.globalStores.set(storeName, { store, topic, keySerde: consumed?.keySerde, valueSerde: consumed?.valueSerde });
    return new GlobalKTable<K, V>(storeName);
  }

  /**
   * A global store: every instance reads all of topic and feeds it through the processor, the
   * only writer of the store (other processors read it, as a GlobalKTable). The topic is the
   * store's changelog, so the builder must have logging disabled, as in Kafka.
   */
  addGlobalStore(storeBuilder: StoreBuilder, topic: string, consumed: Consumed<any, any> | undefined, stateUpdateSupplier: ProcessorSupplier): this {
    const def = storeBuilder.def;
    if (def.logged) throw new Error(`global store ${def.name} must not have logging enabled (its source topic ${topic} is its changelog); use withLoggingDisabled()`);
    if (this.topology.storeDefs.has(def.name) || this.topology.globalStores.has(def.name)) throw new Error(`store name ${def.name} is used twice`);
    const node = processorNode(consumed?.name ?? this.newName('KSTREAM-GLOBAL-PROCESSOR'), stateUpdateSupplier, [def.name]);
    this.topology.globalStores.set(def.name, {
      store: { ...def, cached: false },
      topic,
      keySerde: consumed?.keySerde,
      valueSerde: consumed?.valueSerde,
      processor: node,
      ...(consumed?.timestampExtractor ? { timestampExtractor: consumed.timestampExtractor } : {}),
    });
    return this;
  }

  build(): Topology {
    return this.topology;
  }
}

export class GlobalKTable<K, V> {
  constructor(readonly storeName: string) {}
  queryableStoreName(): string {
    return this.storeName;
  }
  /** @internal */ get(ctx: TaskContext, key: K): V | null {
    return ctx.globalStore<KeyValueStore<K, V>>(this.storeName).get(key);
  }
}

type Predicate<K, V> = (key: K, value: V) => boolean;
type ValueJoiner<V1, V2, R> = (left: V1, right: V2, key?: any) => R;

export class KStream<K, V> {
  constructor(
    /** @internal */ readonly builder: StreamsBuilder,
    /** @internal */ readonly node: ProcessorNode,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal */ readonly repartitionRequired: boolean,
  ) {}

  private child<K2, V2>(prefix: string, process: ProcessorNode['process'], keyChanged: boolean, ks?: Serde<K2>, vs?: Serde<V2>, named?: Named): KStream<K2, V2> {
    const n = this.builder.node(named?.name ?? this.builder.newName(prefix), process, this.node);
    return new KStream<K2, V2>(this.builder, n, (keyChanged ? ks : ((ks ?? this.keySerde) as any)) as Serde<K2> | undefined, vs, this.repartitionRequired || keyChanged);
  }

  filter(predicate: Predicate<K, V>, named?: Named): KStream<K, V> {
    return this.child('KSTREAM-FILTER', (ctx, rec, self) => predicate(rec.key, rec.value) && self.forward(ctx, rec), false, this.keySerde, this.valueSerde, named);
  }
  filterNot(predicate: Predicate<K, V>, named?: Named): KStream<K, V> {
    return this.filter((k, v) => !predicate(k, v), named);
  }
  map<K2, V2>(mapper: (key: K, value: V) => KV<K2, V2>, named?: Named): KStream<K2, V2> {
    return this.child('KSTREAM-MAP', (ctx, rec, self) => {
      const kv = kvOf(mapper(rec.key, rec.value));
      self.forward(ctx, { key: kv.key, value: kv.value, timestamp: rec.timestamp, headers: rec.headers });
    }, true, undefined, undefined, named);
  }
  /** mapper gets (value, key): `mapValues(v => ...)` reads like Java's ValueMapper. */
  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KStream<K, V2> {
    return this.child('KSTREAM-MAPVALUES', (ctx, rec, self) => self.forward(ctx, { ...rec, value: mapper(rec.value, rec.key) }), false, this.keySerde, undefined, named);
  }
  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KV<K2, V2>>, named?: Named): KStream<K2, V2> {
    return this.child('KSTREAM-FLATMAP', (ctx, rec, self) => {
      for (const r of mapper(rec.key, rec.value)) {
        const kv = kvOf(r);
        self.forward(ctx, { key: kv.key, value: kv.value, timestamp: rec.timestamp, headers: rec.headers });
      }
    }, true, undefined, undefined, named);
  }
  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: Named): KStream<K, V2> {
    return this.child('KSTREAM-FLATMAPVALUES', (ctx, rec, self) => {
      for (const v of mapper(rec.value, rec.key)) self.forward(ctx, { ...rec, value: v });
    }, false, this.keySerde, undefined, named);
  }
  selectKey<K2>(mapper: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    return this.child('KSTREAM-KEY-SELECT', (ctx, rec, self) => self.forward(ctx, { ...rec, key: mapper(rec.key, rec.value) }), true, undefined, this.valueSerde, named);
  }
  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.child('KSTREAM-PEEK', (ctx, rec, self) => {
      action(rec.key, rec.value);
      self.forward(ctx, rec);
    }, false, this.keySerde, this.valueSerde, named);
  }
  /**
   * Runs a Processor API processor (one instance per task) on every record; it may forward any
   * number of records, schedule punctuators and use the stores named here (added with
   * `builder.addStateStore`). The result counts as key-changing, as in Kafka.
   */
  process<KOut = any, VOut = any>(supplier: ProcessorSupplier<K, V, KOut, VOut>, ...namedOrStores: Array<Named | string>): KStream<KOut, VOut> {
    const named = namedOrStores.find((x): x is Named => typeof x !== 'string');
    const storeNames = namedOrStores.filter((x): x is string => typeof x === 'string');
    for (const st of storeNames) if (!this.builder.topology.storeDefs.has(st)) throw new Error(`process() names store ${st}, which was not added with addStateStore`);
    const n = processorNode(named?.name ?? this.builder.newName('KSTREAM-PROCESSOR'), supplier, storeNames);
    this.builder.topology.allNodes.push(n);
    this.node.addChild(n);
    return new KStream<KOut, VOut>(this.builder, n, undefined, undefined, true);
  }
  /** Like process(), but the processor keeps each record's key (Kafka's FixedKeyProcessor), so no repartitioning follows. */
  processValues<VOut = any>(supplier: ProcessorSupplier<K, V, K, VOut>, ...namedOrStores: Array<Named | string>): KStream<K, VOut> {
    const named = namedOrStores.find((x): x is Named => typeof x !== 'string');
    const storeNames = namedOrStores.filter((x): x is string => typeof x === 'string');
    for (const st of storeNames) if (!this.builder.topology.storeDefs.has(st)) throw new Error(`processValues() names store ${st}, which was not added with addStateStore`);
    const n = processorNode(named?.name ?? this.builder.newName('KSTREAM-PROCESSVALUES'), supplier, storeNames, true);
    this.builder.topology.allNodes.push(n);
    this.node.addChild(n);
    return new KStream<K, VOut>(this.builder, n, this.keySerde, undefined, this.repartitionRequired);
  }
  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.child('KSTREAM-FOREACH', (_ctx, rec) => action(rec.key, rec.value), false, undefined, undefined, named);
  }
  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    const n = this.builder.node(named?.name ?? this.builder.newName('KSTREAM-MERGE'), undefined, this.node);
    other.node.addChild(n);
    return new KStream<K, V>(this.builder, n, this.keySerde, this.valueSerde, this.repartitionRequired || other.repartitionRequired);
  }
  /** Branches in order; each record goes to the first branch whose predicate matches. */
  split(named?: Named): BranchedKStream<K, V> {
    return new BranchedKStream<K, V>(this, named?.name ?? this.builder.newName('KSTREAM-BRANCH'));
  }
  /** Old-style branching: one stream per predicate, first match wins. */
  branch(...predicates: Array<Predicate<K, V>>): Array<KStream<K, V>> {
    const branches = predicates.map(() => this.builder.node(this.builder.newName('KSTREAM-BRANCHCHILD')));
    this.child('KSTREAM-BRANCH', (ctx, rec) => {
      for (let i = 0; i < predicates.length; i++) {
        const branch = branches[i]!;
        if (predicates[i]!(rec.key, rec.value)) return branch.process(ctx, rec, branch);
      }
    }, false).node.children.push(...branches);
    return branches.map((b) => new KStream<K, V>(this.builder, b, this.keySerde, this.valueSerde, this.repartitionRequired));
  }

  to(topic: string | TopicNameExtractor<K, V>, produced?: Produced<K, V>): void {
    const name = this.builder.newName('KSTREAM-SINK');
    const ks = produced?.keySerde ?? this.keySerde;
    const vs = produced?.valueSerde ?? this.valueSerde;
    const partitioner = produced?.partitioner;
    this.builder.node(name, (ctx, rec) => {
      const t = typeof topic === 'string' ? topic : topic(rec.key, rec.value, { topic: ctx.topic, partition: ctx.partition, offset: ctx.offset });
      sendRecord(ctx, t, rec, serdeOr(ks, ctx, 'key'), serdeOr(vs, ctx, 'value'), partitioner);
    }, this.node);
  }

  /** Writes through an internal `<application.id>-<name>-repartition` topic and reads it back. */
  repartition(repartitioned?: Repartitioned<K, V>): KStream<K, V> {
    const name = repartitioned?.name ?? this.builder.newName('KSTREAM-REPARTITION');
    return repartitionThrough(this, `${name}-repartition`, repartitioned?.keySerde ?? this.keySerde, repartitioned?.valueSerde ?? this.valueSerde, repartitioned?.numberOfPartitions, repartitioned?.partitioner);
  }

  groupByKey(grouped?: Grouped<K, V>): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this, grouped?.keySerde ?? this.keySerde, grouped?.valueSerde ?? this.valueSerde, grouped?.name);
  }
  groupBy<K2>(selector: (key: K, value: V) => K2, grouped?: Grouped<K2, V>): KGroupedStream<K2, V> {
    const s = this.selectKey(selector);
    return new KGroupedStream<K2, V>(s, grouped?.keySerde, grouped?.valueSerde ?? this.valueSerde, grouped?.name);
  }

  toTable(materialized?: Materialized<K, V>): KTable<K, V> {
    const ks = materialized?.keySerde ?? this.keySerde;
    const vs = materialized?.valueSerde ?? this.valueSerde;
    const input = this.repartitionRequired ? repartitionThrough(this, `${this.builder.newName('KSTREAM-TOTABLE')}-repartition`, ks, vs) : this;
    const storeName = materialized?.storeName ?? this.builder.newName('KSTREAM-TOTABLE-STATE-STORE');
    this.builder.addStore({ name: storeName, kind: 'kv', keySerde: ks, valueSerde: vs, logged: materialized?.loggingEnabled ?? true, cached: materialized?.cachingEnabled ?? true, storeType: materialized?.storeType });
    const n = this.builder.node(this.builder.newName('KSTREAM-TOTABLE'), (ctx, rec) => {
      if (rec.key === null || rec.key === undefined) return;
      ctx.store<KeyValueStore<K, V>>(storeName).put(rec.key, rec.value, rec.timestamp);
    }, input.node);
    n.stores.push(storeName);
    n.init = (ctx, self) => ctx.store<KeyValueStore<K, V>>(storeName).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
    return new KTable<K, V>(this.builder, n, ks, vs, (ctx, key) => ctx.store<KeyValueStore<K, V>>(storeName).get(key), storeName);
  }

  // ---- joins -------------------------------------------------------------------------------

  join<VO, R>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO, R>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, R>;
  join<VO, R>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO, R>, joined?: Joined<K, V, VO>): KStream<K, R>;
  join<GK, GV, R>(table: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK, joiner: ValueJoiner<V, GV, R>): KStream<K, R>;
  join(other: any, a: any, b?: any, c?: any): any {
    return this.joinAny('inner', other, a, b, c);
  }
  leftJoin<VO, R>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO | null, R>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, R>;
  leftJoin<VO, R>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, R>, joined?: Joined<K, V, VO>): KStream<K, R>;
  leftJoin<GK, GV, R>(table: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK, joiner: ValueJoiner<V, GV | null, R>): KStream<K, R>;
  leftJoin(other: any, a: any, b?: any, c?: any): any {
    return this.joinAny('left', other, a, b, c);
  }
  outerJoin<VO, R>(other: KStream<K, VO>, joiner: ValueJoiner<V | null, VO | null, R>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, R> {
    return this.joinAny('outer', other, joiner, windows, streamJoined);
  }

  private joinAny(type: JoinType, other: any, a: any, b: any, c: any): KStream<K, any> {
    if (other instanceof GlobalKTable) return this.globalJoin(type, other, a, b);
    if (other instanceof KTable) return this.tableJoin(type, other, a, b);
    if (other instanceof KStream) return streamStreamJoin(type, this, other as KStream<K, any>, a, b as JoinWindows, c);
    throw new TypeError('join target must be a KStream, KTable or GlobalKTable');
  }

  private globalJoin(type: JoinType, table: GlobalKTable<any, any>, keySelector: (k: K, v: V) => any, joiner: ValueJoiner<V, any, any>): KStream<K, any> {
    const n = this.builder.node(this.builder.newName('KSTREAM-JOIN'), (ctx, rec, self) => {
      if (rec.value === null || rec.value === undefined) return;
      const gk = keySelector(rec.key, rec.value);
      const gv = gk === null || gk === undefined ? null : table.get(ctx, gk);
      if (gv === null && type === 'inner') return;
      self.forward(ctx, { ...rec, value: joiner(rec.value, gv, rec.key) });
    }, this.node);
    n.stores.push(table.storeName);
    return new KStream(this.builder, n, this.keySerde, undefined, this.repartitionRequired);
  }

  private tableJoin(type: JoinType, table: KTable<K, any>, joiner: ValueJoiner<V, any, any>, joined?: Joined<K, V, any>): KStream<K, any> {
    const input = this.repartitionRequired ? this.repartition(Repartitioned.with(joined?.keySerde ?? this.keySerde, joined?.valueSerde ?? this.valueSerde)) : this;
    const n = this.builder.node(this.builder.newName('KSTREAM-JOIN'), (ctx, rec, self) => {
      if (rec.key === null || rec.key === undefined || rec.value === null || rec.value === undefined) return;
      const tv = table.getter(ctx, rec.key);
      if ((tv === null || tv === undefined) && type === 'inner') return;
      self.forward(ctx, { ...rec, value: joiner(rec.value, tv ?? null, rec.key) });
    }, input.node);
    n.stores.push(...table.storeNames());
    return new KStream(this.builder, n, input.keySerde, undefined, false);
  }
}

type JoinType = 'inner' | 'left' | 'outer';

function sendRecord(ctx: TaskContext, topic: string, rec: Rec, ks: Serde<any>, vs: Serde<any>, partitioner?: StreamPartitioner<any, any>): void {
  const kb = rec.key === null || rec.key === undefined ? null : ks.serialize(topic, rec.key);
  const vb = rec.value === null || rec.value === undefined ? null : vs.serialize(topic, rec.value);
  let partition: number | undefined;
  if (partitioner) partition = partitioner(topic, rec.key, rec.value, ctx.env.numPartitions(topic));
  ctx.env.send(topic, kb, vb, rec.timestamp, partition, rec.headers);
}

function repartitionThrough<K, V>(stream: KStream<K, V>, topicName: string, ks: Serde<K> | undefined, vs: Serde<V> | undefined, partitions?: number, partitioner?: StreamPartitioner<K, V>): KStream<K, V> {
  const b = stream.builder;
  const existing = b.topology.internalTopics.get(topicName);
  if (existing) throw new Error(`repartition topic ${topicName} is defined twice; name your Grouped/Repartitioned operations uniquely`);
  const sink = b.node(b.newName('KSTREAM-SINK'), (ctx, rec) => {
    if (rec.key === null || rec.key === undefined) return; // Kafka drops null keys before repartitioning
    sendRecord(ctx, ctx.env.internalTopic(topicName), rec, serdeOr(ks, ctx, 'key'), serdeOr(vs, ctx, 'value'), partitioner);
  }, stream.node);
  b.topology.internalTopics.set(topicName, { name: topicName, kind: 'repartition', partitions, writers: [sink] });
  const src = b.source([topicName], Consumed.with(ks, vs), true);
  return new KStream<K, V>(b, src, ks, vs, false);
}

export class BranchedKStream<K, V> {
  private readonly predicates: Array<{ pred: Predicate<K, V>; node: ProcessorNode }> = [];
  private readonly result = new Map<string, KStream<K, V>>();
  private readonly splitter: ProcessorNode;
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly prefix: string,
  ) {
    this.splitter = stream.builder.node(prefix, (ctx, rec) => {
      for (const p of this.predicates) {
        if (p.pred(rec.key, rec.value)) return p.node.process(ctx, rec, p.node);
      }
    }, stream.node);
  }
  branch(predicate: Predicate<K, V>, branched?: Branched): BranchedKStream<K, V> {
    this.add(predicate, branched);
    return this;
  }
  defaultBranch(branched?: Branched): Map<string, KStream<K, V>> {
    this.add(() => true, branched, '0');
    return this.result;
  }
  noDefaultBranch(): Map<string, KStream<K, V>> {
    return this.result;
  }
  private add(pred: Predicate<K, V>, branched?: Branched, fallbackSuffix?: string): void {
    const b = this.stream.builder;
    const n = b.node(`${this.prefix}-${branched?.name ?? fallbackSuffix ?? String(this.predicates.length + 1)}`);
    this.splitter.children.push(n);
    this.predicates.push({ pred, node: n });
    const s = new KStream<K, V>(b, n, this.stream.keySerde, this.stream.valueSerde, this.stream.repartitionRequired);
    const name = `${this.prefix}-${branched?.name ?? fallbackSuffix ?? String(this.predicates.length)}`;
    const chained = branched?.chain ? branched.chain(s) : s;
    if (chained instanceof KStream) this.result.set(name, chained);
  }
}

// ---- KTable ------------------------------------------------------------------------------------

export class KTable<K, V> {
  constructor(
    /** @internal */ readonly builder: StreamsBuilder,
    /** @internal */ readonly node: ProcessorNode,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal Current value of a key in this table, for joins. */ readonly getter: Getter,
    /** @internal */ readonly storeName?: string,
    /** @internal Stores the getter reads. */ readonly extraStores: string[] = [],
    /** @internal For suppress(untilWindowCloses): grace of the windowed aggregation. */ readonly windowGraceMs?: number,
  ) {}

  queryableStoreName(): string | null {
    return this.storeName ?? null;
  }
  /** @internal */ storeNames(): string[] {
    return [...(this.storeName ? [this.storeName] : []), ...this.extraStores];
  }

  private derive<V2>(prefix: string, compute: (key: K, v: V | null) => V2 | null, materialized: Materialized<K, V2> | undefined, named?: Named): KTable<K, V2> {
    const b = this.builder;
    const parentGetter = this.getter;
    const getter: Getter = (ctx, key) => compute(key, parentGetter(ctx, key) ?? null);
    if (materialized?.storeName) {
      const storeName = materialized.storeName;
      b.addStore({ name: storeName, kind: 'kv', keySerde: materialized.keySerde ?? this.keySerde, valueSerde: materialized.valueSerde, logged: materialized.loggingEnabled, cached: materialized.cachingEnabled, storeType: materialized.storeType });
      const n = b.node(named?.name ?? b.newName(prefix), (ctx, rec) => {
        const ch = rec.value as Change<V>;
        ctx.store<KeyValueStore<K, V2>>(storeName).put(rec.key, compute(rec.key, ch.newValue), rec.timestamp);
      }, this.node);
      n.stores.push(storeName);
      n.init = (ctx, self) => ctx.store<KeyValueStore<K, V2>>(storeName).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
      return new KTable<K, V2>(b, n, materialized.keySerde ?? this.keySerde, materialized.valueSerde, (ctx, key) => ctx.store<KeyValueStore<K, V2>>(storeName).get(key), storeName);
    }
    const n = b.node(named?.name ?? b.newName(prefix), (ctx, rec, self) => {
      const ch = rec.value as Change<V>;
      const nv = ch.newValue === null ? null : compute(rec.key, ch.newValue);
      const ov = ch.oldValue === null ? null : compute(rec.key, ch.oldValue);
      if (nv === null && ov === null) return;
      self.forward(ctx, { ...rec, value: new Change(nv, ov) });
    }, this.node);
    return new KTable<K, V2>(b, n, this.keySerde, undefined, getter, undefined, this.storeNames(), this.windowGraceMs);
  }

  filter(predicate: Predicate<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.derive('KTABLE-FILTER', (k, v) => (v !== null && predicate(k, v) ? v : null), materialized);
  }
  filterNot(predicate: Predicate<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v), materialized);
  }
  mapValues<V2>(mapper: (value: V, key: K) => V2, materialized?: Materialized<K, V2>): KTable<K, V2> {
    return this.derive('KTABLE-MAPVALUES', (k, v) => (v === null ? null : mapper(v, k)), materialized);
  }

  toStream<K2 = K>(mapper?: (key: K, value: V | null) => K2): KStream<K2, V> {
    const n = this.builder.node(this.builder.newName('KTABLE-TOSTREAM'), (ctx, rec, self) => {
      const v = (rec.value as Change<V>).newValue;
      self.forward(ctx, { key: mapper ? mapper(rec.key, v) : rec.key, value: v, timestamp: rec.timestamp, headers: rec.headers });
    }, this.node);
    return new KStream<K2, V>(this.builder, n, (mapper ? undefined : this.keySerde) as Serde<K2> | undefined, this.valueSerde, !!mapper);
  }

  /**
   * Holds back updates: until the window closes (windowed tables) or for a time limit. The buffer
   * is a changelogged store (`<application.id>-<name>-store-changelog`, as in Kafka), so pending
   * results survive a task moving to another instance or a crash; the in-memory map is a working
   * copy rebuilt from the restored store the first time the task uses it.
   */
  suppress(suppressed: Suppressed): KTable<K, V> {
    const b = this.builder;
    const name = b.newName('KTABLE-SUPPRESS');
    const bufferStore = `${name}-store`;
    const grace = this.windowGraceMs;
    const windowed = grace !== undefined;
    if (suppressed.kind === 'untilWindowCloses' && !windowed) throw new Error('suppress(untilWindowCloses) needs a windowed KTable');
    b.addStore({ name: bufferStore, kind: 'kv', keySerde: Serdes.Bytes(), valueSerde: Serdes.Json(), logged: true, cached: false });
    const upstreamStore = this.storeName;
    // Windowed tables carry no key serde of their own: the inner key's serde is the window store's.
    const keySerdeOf = (ctx: TaskContext): Serde<any> =>
      windowed && upstreamStore ? ctx.store<WindowStore<any, any> | SessionStore<any, any>>(upstreamStore).keySerde : serdeOr(this.keySerde as Serde<any> | undefined, ctx, 'key');
    const valueSerdeOf = (ctx: TaskContext): Serde<any> =>
      windowed && upstreamStore ? ctx.store<WindowStore<any, any> | SessionStore<any, any>>(upstreamStore).valueSerde : serdeOr(this.valueSerde as Serde<any> | undefined, ctx, 'value');
    type Entry = { rec: Rec; time: number };
    type Logged = { k: string | null; w?: [number, number]; n: string | null; o: string | null; ts: number; t: number };
    const b64 = (buf: Buffer | null | undefined) => (buf ? buf.toString('base64') : null);
    const encode = (ctx: TaskContext, e: Entry): Logged => {
      const ks = keySerdeOf(ctx);
      const vs = valueSerdeOf(ctx);
      const ch = e.rec.value as Change<V>;
      const key = windowed ? (e.rec.key as Windowed<K>).key : e.rec.key;
      const enc = (v: V | null) => (v === null || v === undefined ? null : b64(vs.serialize('', v)));
      return {
        k: key === null || key === undefined ? null : b64(ks.serialize('', key)),
        ...(windowed ? { w: [(e.rec.key as Windowed<K>).window.start, (e.rec.key as Windowed<K>).window.end] as [number, number] } : {}),
        n: enc(ch.newValue),
        o: enc(ch.oldValue),
        ts: e.rec.timestamp,
        t: e.time,
      };
    };
    const decode = (ctx: TaskContext, l: Logged): Entry => {
      const ks = keySerdeOf(ctx);
      const vs = valueSerdeOf(ctx);
      const dec = (s: string | null) => (s === null ? null : vs.deserialize('', Buffer.from(s, 'base64')));
      const inner = l.k === null ? null : ks.deserialize('', Buffer.from(l.k, 'base64'));
      const key = l.w ? { key: inner, window: { start: l.w[0], end: l.w[1] } } : inner;
      return { rec: { key, value: new Change(dec(l.n), dec(l.o)), timestamp: l.ts }, time: l.t };
    };
    const n = b.node(name, (ctx, rec, self) => {
      const store = ctx.store<KeyValueStore<Buffer, Logged>>(bufferStore);
      let buf = ctx.nodeState.get(name) as Map<string, Entry> | undefined;
      if (!buf) {
        ctx.nodeState.set(name, (buf = new Map()));
        const restored = store.all().map((e) => [e.key.toString('latin1'), decode(ctx, e.value)] as const);
        for (const [id, e] of restored.sort((x, y) => x[1].time - y[1].time)) buf.set(id, e);
      }
      const now = ctx.observe(name, rec.timestamp);
      const ch = rec.value as Change<V>;
      const bufferTime = windowed && suppressed.kind === 'untilWindowCloses' ? (rec.key as Windowed<K>).window.end : rec.timestamp;
      const fresh: Entry = { rec, time: bufferTime };
      const freshLogged = encode(ctx, fresh);
      const idBytes = Buffer.from(JSON.stringify([freshLogged.k, freshLogged.w ?? null]));
      const id = idBytes.toString('latin1');
      const prev = buf.get(id);
      // Keep the oldest old value so downstream sees one change from before the buffered run.
      const entry: Entry = { rec: { ...rec, value: new Change(ch.newValue, prev ? (prev.rec.value as Change<V>).oldValue : ch.oldValue) }, time: prev?.time ?? bufferTime };
      buf.set(id, entry);
      store.put(idBytes, encode(ctx, entry), rec.timestamp);
      const emit = (k: string, e: Entry) => {
        buf.delete(k);
        store.put(Buffer.from(k, 'latin1'), null, e.rec.timestamp);
        self.forward(ctx, e.rec);
      };
      const limit = suppressed.kind === 'untilWindowCloses' ? grace! : suppressed.timeLimitMs;
      const due = [...buf.entries()].filter(([, e]) => e.time + limit <= now).sort((x, y) => x[1].time - y[1].time);
      for (const [k, e] of due) emit(k, e);
      if (buf.size > suppressed.buffer.maxRecords) {
        const [k, e] = buf.entries().next().value!;
        emit(k, e);
      }
    }, this.node);
    n.stores.push(bufferStore, ...(windowed && upstreamStore ? [upstreamStore] : []));
    return new KTable<K, V>(b, n, this.keySerde, this.valueSerde, this.getter, undefined, this.storeNames(), this.windowGraceMs);
  }

  groupBy<K2, V2>(selector: (key: K, value: V) => KV<K2, V2>, grouped?: Grouped<K2, V2>): KGroupedTable<K2, V2> {
    return new KGroupedTable<K2, V2>(this as KTable<any, any>, selector as any, grouped);
  }

  join<VO, R>(other: KTable<K, VO>, joiner: ValueJoiner<V, VO, R>, materialized?: Materialized<K, R>): KTable<K, R>;
  join<KO, VO, R>(other: KTable<KO, VO>, foreignKeyExtractor: (value: V) => KO, joiner: ValueJoiner<V, VO, R>, materialized?: Materialized<K, R>): KTable<K, R>;
  join(other: KTable<any, any>, a: any, b?: any, c?: any): KTable<K, any> {
    return typeof b === 'function' ? foreignKeyJoin('inner', this, other, a, b, c) : tableTableJoin('inner', this, other, a, b);
  }
  leftJoin<VO, R>(other: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, R>, materialized?: Materialized<K, R>): KTable<K, R>;
  leftJoin<KO, VO, R>(other: KTable<KO, VO>, foreignKeyExtractor: (value: V) => KO, joiner: ValueJoiner<V, VO | null, R>, materialized?: Materialized<K, R>): KTable<K, R>;
  leftJoin(other: KTable<any, any>, a: any, b?: any, c?: any): KTable<K, any> {
    return typeof b === 'function' ? foreignKeyJoin('left', this, other, a, b, c) : tableTableJoin('left', this, other, a, b);
  }
  outerJoin<VO, R>(other: KTable<K, VO>, joiner: ValueJoiner<V | null, VO | null, R>, materialized?: Materialized<K, R>): KTable<K, R> {
    return tableTableJoin('outer', this, other, joiner, materialized);
  }
}

function joinValues(type: JoinType, l: any, r: any, joiner: ValueJoiner<any, any, any>, key: any): any {
  const hasL = l !== null && l !== undefined;
  const hasR = r !== null && r !== undefined;
  if (type === 'inner') return hasL && hasR ? joiner(l, r, key) : null;
  if (type === 'left') return hasL ? joiner(l, hasR ? r : null, key) : null;
  return hasL || hasR ? joiner(hasL ? l : null, hasR ? r : null, key) : null;
}

function tableTableJoin<K>(type: JoinType, left: KTable<K, any>, right: KTable<K, any>, joiner: ValueJoiner<any, any, any>, materialized?: Materialized<K, any>): KTable<K, any> {
  const b = left.builder;
  const name = b.newName('KTABLE-JOINTHIS');
  const merge = b.node(b.newName('KTABLE-MERGE'));
  const fromLeft = b.node(name, (ctx, rec) => {
    const ch = rec.value as Change<any>;
    const r = right.getter(ctx, rec.key);
    const nv = joinValues(type, ch.newValue, r, joiner, rec.key);
    const ov = joinValues(type, ch.oldValue, r, joiner, rec.key);
    if (nv === null && ov === null) return;
    merge.process(ctx, { ...rec, value: new Change(nv, ov) }, merge);
  }, left.node);
  const fromRight = b.node(b.newName('KTABLE-JOINOTHER'), (ctx, rec) => {
    const ch = rec.value as Change<any>;
    const l = left.getter(ctx, rec.key);
    const nv = joinValues(type, l, ch.newValue, joiner, rec.key);
    const ov = joinValues(type, l, ch.oldValue, joiner, rec.key);
    if (nv === null && ov === null) return;
    merge.process(ctx, { ...rec, value: new Change(nv, ov) }, merge);
  }, right.node);
  fromLeft.stores.push(...right.storeNames());
  fromRight.stores.push(...left.storeNames());
  fromLeft.children.push(merge);
  const getter: Getter = (ctx, key) => joinValues(type, left.getter(ctx, key), right.getter(ctx, key), joiner, key);
  const joinedTable = new KTable<K, any>(b, merge, left.keySerde, undefined, getter, undefined, [...left.storeNames(), ...right.storeNames()]);
  return materialized?.storeName ? joinedTable.mapValues((v) => v, materialized) : joinedTable;
}

/**
 * Foreign-key join, as Kafka does it: the left table subscribes to the right key through a
 * `…-subscription-registration-topic` (partitioned by foreign key); the right side answers through
 * a `…-subscription-response-topic` (partitioned by primary key), and the left side joins the
 * answer with its current value, dropping answers for values that changed meanwhile.
 */
function foreignKeyJoin<K, V, KO, VO>(type: JoinType, left: KTable<K, V>, right: KTable<KO, VO>, fkExtractor: (v: V) => KO, joiner: ValueJoiner<V, VO, any>, materialized?: Materialized<K, any>): KTable<K, any> {
  const b = left.builder;
  const base = b.newName('KTABLE-FK-JOIN');
  const regTopic = `${base}-SUBSCRIPTION-REGISTRATION-topic`;
  const respTopic = `${base}-SUBSCRIPTION-RESPONSE-topic`;
  const subStore = `${base}-SUBSCRIPTION-STATE-STORE`;
  const regInfo = { name: regTopic, kind: 'repartition' as const, writers: [] as ProcessorNode[] };
  const respInfo = { name: respTopic, kind: 'repartition' as const, writers: [] as ProcessorNode[] };
  b.topology.internalTopics.set(regTopic, regInfo);
  b.topology.internalTopics.set(respTopic, respInfo);
  const json = Serdes.Json<any>();
  const fkKeyBytes = (ctx: TaskContext, fk: KO) => serdeOr(right.keySerde, ctx, 'key').serialize('', fk)!;
  const pkBytes = (ctx: TaskContext, k: K) => serdeOr(left.keySerde, ctx, 'key').serialize('', k)!;
  const valueHash = (ctx: TaskContext, v: V | null) => (v === null ? null : serdeOr(left.valueSerde, ctx, 'value').serialize('', v)!.toString('base64'));
  // Left side: send subscribe/unsubscribe to the foreign key's partition.
  const subscribe = b.node(b.newName('KTABLE-FK-JOIN-SUBSCRIBE'), (ctx, rec) => {
    const ch = rec.value as Change<V>;
    const newFk = ch.newValue === null ? null : fkExtractor(ch.newValue);
    const oldFk = ch.oldValue === null ? null : fkExtractor(ch.oldValue);
    const pk = pkBytes(ctx, rec.key).toString('base64');
    const hash = valueHash(ctx, ch.newValue);
    const topic = ctx.env.internalTopic(regTopic);
    if (oldFk !== null && oldFk !== undefined && (newFk === null || JSON.stringify(fkKeyBytes(ctx, oldFk)) !== JSON.stringify(fkKeyBytes(ctx, newFk)))) {
      ctx.env.send(topic, fkKeyBytes(ctx, oldFk), json.serialize('', { op: 'unsub', pk, hash }), rec.timestamp);
    }
    if (newFk !== null && newFk !== undefined) ctx.env.send(topic, fkKeyBytes(ctx, newFk), json.serialize('', { op: 'sub', pk, hash }), rec.timestamp);
    else if (ch.newValue === null || type === 'left') {
      // Deleted row or no foreign key: answer locally (left join keeps the row with a null right side).
      ctx.env.send(ctx.env.internalTopic(respTopic), pkBytes(ctx, rec.key), json.serialize('', { hash, right: null }), rec.timestamp);
    }
  }, left.node);
  // Right side, co-partitioned with the right table: keep subscriptions, answer on both events.
  b.addStore({ name: subStore, kind: 'kv', keySerde: Serdes.Bytes(), valueSerde: Serdes.Json(), logged: true, cached: false });
  const regSource = b.source([regTopic], Consumed.with(Serdes.Bytes(), json), true);
  const rightValueB64 = (ctx: TaskContext, v: VO | null) => (v === null || v === undefined ? null : serdeOr(right.valueSerde, ctx, 'value').serialize('', v)!.toString('base64'));
  const subs = (ctx: TaskContext) => ctx.store<KeyValueStore<Buffer, Record<string, string | null>>>(subStore);
  const regNode = b.node(b.newName('KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR'), (ctx, rec) => {
    const fkBytes = rec.key as Buffer;
    const msg = rec.value as { op: string; pk: string; hash: string | null };
    const cur = subs(ctx).get(fkBytes) ?? {};
    if (msg.op === 'unsub') delete cur[msg.pk];
    else cur[msg.pk] = msg.hash;
    subs(ctx).put(fkBytes, cur, rec.timestamp);
    if (msg.op === 'sub') {
      const fk = serdeOr(right.keySerde, ctx, 'key').deserialize('', fkBytes);
      const rv = right.getter(ctx, fk);
      ctx.env.send(ctx.env.internalTopic(respTopic), Buffer.from(msg.pk, 'base64'), json.serialize('', { hash: msg.hash, right: rightValueB64(ctx, rv) }), rec.timestamp);
    }
  }, regSource);
  regNode.stores.push(subStore, ...right.storeNames());
  regInfo.writers.push(subscribe);
  respInfo.writers.push(subscribe, regNode);
  const rightUpdate = b.node(b.newName('KTABLE-FK-JOIN-RIGHT-UPDATE'), (ctx, rec) => {
    const ch = rec.value as Change<VO>;
    const cur = subs(ctx).get(fkKeyBytes(ctx, rec.key));
    if (!cur) return;
    for (const [pk, hash] of Object.entries(cur)) {
      ctx.env.send(ctx.env.internalTopic(respTopic), Buffer.from(pk, 'base64'), json.serialize('', { hash, right: rightValueB64(ctx, ch.newValue) }), rec.timestamp);
    }
  }, right.node);
  rightUpdate.stores.push(subStore);
  // Left side again: join the answer with the current left value if it is still the same.
  const respSource = b.source([respTopic], Consumed.with(left.keySerde, json), true);
  const resultName = b.newName('KTABLE-FK-JOIN-OUTPUT');
  const resultStore = materialized?.storeName ?? `${resultName}-STATE-STORE`;
  b.addStore({ name: resultStore, kind: 'kv', keySerde: left.keySerde, valueSerde: materialized?.valueSerde, logged: true, cached: materialized?.cachingEnabled ?? false, storeType: materialized?.storeType });
  const out = b.node(resultName, (ctx, rec) => {
    const msg = rec.value as { hash: string | null; right: string | null };
    const lv = left.getter(ctx, rec.key) ?? null;
    if (valueHash(ctx, lv) !== msg.hash) return; // stale answer: the left row changed since
    const rv = msg.right === null ? null : serdeOr(right.valueSerde, ctx, 'value').deserialize('', Buffer.from(msg.right, 'base64'));
    const joined = lv === null ? null : joinValues(type, lv, rv, joiner, rec.key);
    const store = ctx.store<KeyValueStore<K, any>>(resultStore);
    if (joined === null && store.get(rec.key) === null) return;
    store.put(rec.key, joined, rec.timestamp);
  }, respSource);
  out.stores.push(resultStore, ...left.storeNames());
  out.init = (ctx, self) => ctx.store<KeyValueStore<K, any>>(resultStore).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
  return new KTable<K, any>(b, out, left.keySerde, materialized?.valueSerde, (ctx, key) => ctx.store<KeyValueStore<K, any>>(resultStore).get(key), resultStore);
}

// ---- grouping and aggregation ------------------------------------------------------------------

function aggStoreName(b: StreamsBuilder, m?: Materialized<any, any>): string {
  return m?.storeName ?? b.newName('KSTREAM-AGGREGATE-STATE-STORE');
}

export class KGroupedStream<K, V> {
  constructor(
    /** @internal */ readonly stream: KStream<K, V>,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal */ readonly groupName?: string,
  ) {}

  /** @internal The stream the aggregation reads, repartitioned if the key changed. */
  input(storeName: string): KStream<K, V> {
    if (!this.stream.repartitionRequired) return this.stream;
    return repartitionThrough(this.stream, `${this.groupName ?? storeName}-repartition`, this.keySerde, this.valueSerde);
  }

  count(materialized?: Materialized<K, number>): KTable<K, number> {
    return this.aggregate<number>(() => 0, (_k, _v, agg) => agg + 1, (materialized ?? new Materialized<K, number>()).withValueSerde(materialized?.valueSerde ?? Serdes.Long()));
  }
  reduce(reducer: (agg: V, value: V) => V, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.doAggregate<V>('KSTREAM-REDUCE', () => null as any, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), materialized ?? Materialized.with(this.keySerde, this.valueSerde));
  }
  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, agg: VA) => VA, materialized?: Materialized<K, VA>): KTable<K, VA> {
    return this.doAggregate('KSTREAM-AGGREGATE', initializer, aggregator, materialized);
  }
  private doAggregate<VA>(prefix: string, initializer: () => VA, aggregator: (key: K, value: V, agg: VA) => VA, materialized?: Materialized<K, VA>): KTable<K, VA> {
    const b = this.stream.builder;
    const storeName = aggStoreName(b, materialized);
    const input = this.input(storeName);
    const ks = materialized?.keySerde ?? this.keySerde;
    b.addStore({ name: storeName, kind: 'kv', keySerde: ks, valueSerde: materialized?.valueSerde, logged: materialized?.loggingEnabled ?? true, cached: materialized?.cachingEnabled ?? true, storeType: materialized?.storeType });
    const n = b.node(b.newName(prefix), (ctx, rec) => {
      if (rec.key === null || rec.key === undefined || rec.value === null || rec.value === undefined) return;
      const store = ctx.store<KeyValueStore<K, VA>>(storeName);
      const old = store.get(rec.key);
      store.put(rec.key, aggregator(rec.key, rec.value, old === null ? initializer() : old), rec.timestamp);
    }, input.node);
    n.stores.push(storeName);
    n.init = (ctx, self) => ctx.store<KeyValueStore<K, VA>>(storeName).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
    return new KTable<K, VA>(b, n, ks, materialized?.valueSerde, (ctx, key) => ctx.store<KeyValueStore<K, VA>>(storeName).get(key), storeName);
  }

  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: GroupWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    if (windows instanceof SessionWindows) return new SessionWindowedKStream(this, windows);
    return new TimeWindowedKStream(this, windows);
  }
}

export class TimeWindowedKStream<K, V> {
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}
  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    return this.aggregate<number>(() => 0, (_k, _v, agg) => agg + 1, (materialized ?? new Materialized<K, number>()).withValueSerde(materialized?.valueSerde ?? Serdes.Long()));
  }
  reduce(reducer: (agg: V, value: V) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    return this.aggregate<V>(() => null as any, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), materialized ?? Materialized.with(this.grouped.keySerde, this.grouped.valueSerde));
  }
  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, agg: VA) => VA, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const b = this.grouped.stream.builder;
    const storeName = aggStoreName(b, materialized);
    const input = this.grouped.input(storeName);
    const ks = materialized?.keySerde ?? this.grouped.keySerde;
    const w = this.windows;
    const grace = w.gracePeriodMs();
    const size = w instanceof TimeWindows ? w.sizeMs : w.timeDifferenceMs;
    // Kafka: retention defaults to size + grace (sliding: 2 × time difference + grace) and may not
    // be shorter, or a window could expire while records can still update it.
    const minRetention = w instanceof TimeWindows ? size + grace : 2 * size + grace;
    const retentionMs = materialized?.retentionMs ?? minRetention;
    if (retentionMs < minRetention) {
      throw new Error(`window store ${storeName}: retention ${retentionMs} ms is smaller than the ${w instanceof TimeWindows ? 'window size' : 'twice the time difference'} plus grace period (${minRetention} ms)`);
    }
    b.addStore({ name: storeName, kind: 'window', keySerde: ks, valueSerde: materialized?.valueSerde, logged: materialized?.loggingEnabled ?? true, cached: materialized?.cachingEnabled ?? true, storeType: materialized?.storeType, windowSize: size, retentionMs });
    const name = b.newName('KSTREAM-AGGREGATE');
    let n: ProcessorNode;
    if (w instanceof TimeWindows) {
      n = b.node(name, (ctx, rec) => {
        if (rec.key === null || rec.key === undefined || rec.value === null || rec.value === undefined) return;
        const now = ctx.observe(name, rec.timestamp);
        const closeTime = now - grace;
        const store = ctx.store<WindowStore<K, VA>>(storeName);
        for (const win of w.windowsFor(rec.timestamp)) {
          if (win.end <= closeTime) continue; // late: window closed (Kafka logs and drops)
          const old = store.fetch(rec.key, win.start);
          store.put(rec.key, aggregator(rec.key, rec.value, old === null ? initializer() : old), win.start, rec.timestamp);
        }
      }, input.node);
    } else {
      n = b.node(name, (ctx, rec) => slidingAggregate(ctx, name, storeName, w, rec, initializer, aggregator), input.node);
      // Raw records are read back up to 2d + 1 before a record that may itself be d + grace late.
      const rawRetentionMs = Math.max(retentionMs, 3 * size + grace + 2);
      b.addStore({ name: `${storeName}-raw`, kind: 'window', keySerde: ks, valueSerde: this.grouped.valueSerde, logged: true, cached: false, storeType: materialized?.storeType, windowSize: 0, retainDuplicates: true, retentionMs: rawRetentionMs });
      n.stores.push(`${storeName}-raw`);
    }
    n.stores.push(storeName);
    n.init = (ctx, self) =>
      ctx.store<WindowStore<K, VA>>(storeName).onFlush((key, nv, ov, ts) => {
        if (w instanceof SlidingWindows) key = { key: key.key, window: { start: key.window.start, end: key.window.start + size } };
        self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts });
      });
    const getter: Getter = (ctx, wk: Windowed<K>) => ctx.store<WindowStore<K, VA>>(storeName).fetch(wk.key, wk.window.start);
    return new KTable<Windowed<K>, VA>(b, n, undefined, materialized?.valueSerde, getter, storeName, [], grace);
  }
}

/**
 * Sliding-window aggregation. Windows are [t - d, t] for each record time t plus [t + 1, t + 1 + d]
 * where records follow; each affected window is recomputed from the raw records of the key, which
 * is simple and exact (cost grows with records per key per 2d).
 */
function slidingAggregate<K, V, VA>(ctx: TaskContext, name: string, storeName: string, w: SlidingWindows, rec: Rec, init: () => VA, agg: (k: K, v: V, a: VA) => VA): void {
  if (rec.key === null || rec.key === undefined || rec.value === null || rec.value === undefined) return;
  const d = w.timeDifferenceMs;
  const now = ctx.observe(name, rec.timestamp);
  const closeTime = now - w.graceMs;
  const ts = rec.timestamp;
  if (ts + d < closeTime) return; // every window holding this record has closed
  const raw = ctx.store<WindowStore<K, V>>(`${storeName}-raw`);
  const store = ctx.store<WindowStore<K, VA>>(storeName);
  raw.put(rec.key, rec.value, ts, ts);
  const records = raw.fetchRange(rec.key, Math.max(0, ts - 2 * d - 1), ts + 2 * d + 1);
  const starts = new Set<number>();
  for (const r of records) {
    const t = r.start;
    // window ending at a record: contains ts if t - d <= ts <= t
    if (t >= ts && t - d <= ts) starts.add(Math.max(0, t - d));
    // window starting right after a record: contains ts if t + 1 <= ts <= t + 1 + d
    if (t + 1 <= ts && ts <= t + 1 + d) starts.add(t + 1);
  }
  // the window right after the new record, if later records fall in it
  if (records.some((r) => r.start > ts && r.start <= ts + 1 + d)) starts.add(ts + 1);
  for (const start of [...starts].sort((a, b) => a - b)) {
    const end = start + d;
    if (end < closeTime) continue;
    let a = init();
    let maxTs = -1;
    for (const r of records) {
      if (r.start >= start && r.start <= end) {
        a = agg(rec.key, r.value, a);
        maxTs = Math.max(maxTs, r.start);
      }
    }
    if (maxTs < 0) continue;
    store.put(rec.key, a, start, maxTs);
  }
}

export class SessionWindowedKStream<K, V> {
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: SessionWindows,
  ) {}
  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    return this.aggregate<number>(() => 0, (_k, _v, agg) => agg + 1, (_k, a, b2) => a + b2, (materialized ?? new Materialized<K, number>()).withValueSerde(materialized?.valueSerde ?? Serdes.Long()));
  }
  reduce(reducer: (agg: V, value: V) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    return this.aggregate<V>(() => null as any, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), (_k, a, b2) => (a === null ? b2 : b2 === null ? a : reducer(a, b2)), materialized ?? Materialized.with(this.grouped.keySerde, this.grouped.valueSerde));
  }
  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, agg: VA) => VA, merger: (key: K, agg1: VA, agg2: VA) => VA, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const b = this.grouped.stream.builder;
    const storeName = aggStoreName(b, materialized);
    const input = this.grouped.input(storeName);
    const ks = materialized?.keySerde ?? this.grouped.keySerde;
    const gap = this.windows.gapMs;
    const grace = this.windows.graceMs;
    // Kafka: retention defaults to gap + grace and may not be shorter (a session could expire while it can still merge).
    const retentionMs = materialized?.retentionMs ?? gap + grace;
    if (retentionMs < gap + grace) {
      throw new Error(`session store ${storeName}: retention ${retentionMs} ms is smaller than the inactivity gap plus grace period (${gap + grace} ms)`);
    }
    b.addStore({ name: storeName, kind: 'session', keySerde: ks, valueSerde: materialized?.valueSerde, logged: materialized?.loggingEnabled ?? true, cached: materialized?.cachingEnabled ?? true, storeType: materialized?.storeType, retentionMs });
    const name = b.newName('KSTREAM-SESSION-AGGREGATE');
    const n = b.node(name, (ctx, rec) => {
      if (rec.key === null || rec.key === undefined || rec.value === null || rec.value === undefined) return;
      const ts = rec.timestamp;
      const now = ctx.observe(name, ts);
      const closeTime = now - grace;
      const store = ctx.store<SessionStore<K, VA>>(storeName);
      const overlapping = store.findSessions(rec.key, Math.max(0, ts - gap), ts + gap);
      let start = ts;
      let end = ts;
      let agg = initializer();
      for (const s of overlapping) {
        start = Math.min(start, s.key.window.start);
        end = Math.max(end, s.key.window.end);
        agg = merger(rec.key, agg, s.value);
      }
      if (end < closeTime) return; // late
      for (const s of overlapping) {
        if (s.key.window.start !== start || s.key.window.end !== end) store.remove(s.key);
      }
      agg = aggregator(rec.key, rec.value, agg);
      store.put({ key: rec.key, window: { start, end } }, agg, end);
    }, input.node);
    n.stores.push(storeName);
    n.init = (ctx, self) => ctx.store<SessionStore<K, VA>>(storeName).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
    const getter: Getter = (ctx, wk: Windowed<K>) => ctx.store<SessionStore<K, VA>>(storeName).findSessions(wk.key, wk.window.end, wk.window.start).find((s) => s.key.window.start === wk.window.start && s.key.window.end === wk.window.end)?.value ?? null;
    return new KTable<Windowed<K>, VA>(b, n, undefined, materialized?.valueSerde, getter, storeName, [], grace);
  }
}

export class KGroupedTable<K, V> {
  constructor(
    private readonly table: KTable<any, any>,
    private readonly selector: (key: any, value: any) => KV<K, V>,
    private readonly grouped?: Grouped<K, V>,
  ) {}
  count(materialized?: Materialized<K, number>): KTable<K, number> {
    return this.aggregate<number>(() => 0, (_k, _v, a) => a + 1, (_k, _v, a) => a - 1, (materialized ?? new Materialized<K, number>()).withValueSerde(materialized?.valueSerde ?? Serdes.Long()));
  }
  reduce(adder: (agg: V, value: V) => V, subtractor: (agg: V, value: V) => V, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.aggregate<V>(() => null as any, (_k, v, a) => (a === null ? v : adder(a, v)), (_k, v, a) => subtractor(a, v), materialized ?? Materialized.with(this.grouped?.keySerde, this.grouped?.valueSerde));
  }
  aggregate<VA>(initializer: () => VA, adder: (key: K, value: V, agg: VA) => VA, subtractor: (key: K, value: V, agg: VA) => VA, materialized?: Materialized<K, VA>): KTable<K, VA> {
    const b = this.table.builder;
    const storeName = aggStoreName(b, materialized);
    const topicName = `${this.grouped?.name ?? storeName}-repartition`;
    const topicInfo = { name: topicName, kind: 'repartition' as const, writers: [] as ProcessorNode[] };
    b.topology.internalTopics.set(topicName, topicInfo);
    const ks = this.grouped?.keySerde ?? materialized?.keySerde;
    const vs = this.grouped?.valueSerde;
    const selector = this.selector;
    // Repartition record value: [1 byte flags][4-byte len new][new][old]; flags bit0 = has new, bit1 = has old.
    const select = b.node(b.newName('KTABLE-SELECT'), (ctx, rec) => {
      const ch = rec.value as Change<any>;
      const topic = ctx.env.internalTopic(topicName);
      const kSerde = serdeOr(ks, ctx, 'key');
      const vSerde = serdeOr(vs, ctx, 'value');
      const nkv = ch.newValue === null ? null : kvOf(selector(rec.key, ch.newValue));
      const okv = ch.oldValue === null ? null : kvOf(selector(rec.key, ch.oldValue));
      const enc = (n: any, o: any) => {
        const nb = n === null ? Buffer.alloc(0) : vSerde.serialize(topic, n)!;
        const ob = o === null ? Buffer.alloc(0) : vSerde.serialize(topic, o)!;
        const h = Buffer.allocUnsafe(5);
        h.writeUInt8((n !== null ? 1 : 0) | (o !== null ? 2 : 0));
        h.writeUInt32BE(nb.length, 1);
        return Buffer.concat([h, nb, ob]);
      };
      if (nkv && okv && JSON.stringify(kSerde.serialize(topic, nkv.key)) === JSON.stringify(kSerde.serialize(topic, okv.key))) {
        ctx.env.send(topic, kSerde.serialize(topic, nkv.key), enc(nkv.value, okv.value), rec.timestamp);
        return;
      }
      if (okv && okv.key !== null && okv.key !== undefined) ctx.env.send(topic, kSerde.serialize(topic, okv.key), enc(null, okv.value), rec.timestamp);
      if (nkv && nkv.key !== null && nkv.key !== undefined) ctx.env.send(topic, kSerde.serialize(topic, nkv.key), enc(nkv.value, null), rec.timestamp);
    }, this.table.node);
    select.stores.push(...this.table.storeNames());
    topicInfo.writers.push(select);
    const src = b.source([topicName], Consumed.with(ks, Serdes.Bytes()), true);
    b.addStore({ name: storeName, kind: 'kv', keySerde: materialized?.keySerde ?? ks, valueSerde: materialized?.valueSerde, logged: materialized?.loggingEnabled ?? true, cached: materialized?.cachingEnabled ?? true, storeType: materialized?.storeType });
    const n = b.node(b.newName('KTABLE-AGGREGATE'), (ctx, rec) => {
      const buf = rec.value as Buffer;
      const vSerde = serdeOr(vs, ctx, 'value');
      const flags = buf.readUInt8(0);
      const nl = buf.readUInt32BE(1);
      const nv = flags & 1 ? vSerde.deserialize(ctx.topic, buf.subarray(5, 5 + nl)) : null;
      const ov = flags & 2 ? vSerde.deserialize(ctx.topic, buf.subarray(5 + nl)) : null;
      const store = ctx.store<KeyValueStore<K, VA>>(storeName);
      let agg = store.get(rec.key);
      if (ov !== null) agg = subtractor(rec.key, ov, agg === null ? initializer() : agg);
      if (nv !== null) agg = adder(rec.key, nv, agg === null ? initializer() : agg);
      store.put(rec.key, agg, rec.timestamp);
    }, src);
    n.stores.push(storeName);
    n.init = (ctx, self) => ctx.store<KeyValueStore<K, VA>>(storeName).onFlush((key, nv, ov, ts) => self.forward(ctx, { key, value: new Change(nv, ov), timestamp: ts }));
    return new KTable<K, VA>(b, n, materialized?.keySerde ?? ks, materialized?.valueSerde, (ctx, key) => ctx.store<KeyValueStore<K, VA>>(storeName).get(key), storeName);
  }
}

// ---- stream-stream join ------------------------------------------------------------------------

function streamStreamJoin<K>(type: JoinType, left: KStream<K, any>, right: KStream<K, any>, joiner: ValueJoiner<any, any, any>, windows: JoinWindows, sj?: StreamJoined<K, any, any>): KStream<K, any> {
  if (!(windows instanceof JoinWindows)) throw new TypeError('stream-stream joins need JoinWindows');
  const b = left.builder;
  const ks = sj?.keySerde ?? left.keySerde ?? right.keySerde;
  const l = left.repartitionRequired ? left.repartition(Repartitioned.with(ks, sj?.valueSerde ?? left.valueSerde)) : left;
  const r = right.repartitionRequired ? right.repartition(Repartitioned.with(ks, sj?.otherValueSerde ?? right.valueSerde)) : right;
  const base = sj?.storeName ?? b.newName('KSTREAM-JOIN');
  const thisStore = `${base}-this-join-store`;
  const otherStore = `${base}-other-join-store`;
  const outerStore = `${base}-outer-shared-join-store`;
  const timeKey = `${base}-time`;
  // A record joins others up to max(before, after) away and may itself arrive max(before, after)
  // + grace late: the join stores keep what such a record can still match, and no more.
  const joinRetentionMs = 2 * Math.max(windows.beforeMs, windows.afterMs) + windows.graceMs + 1;
  b.addStore({ name: thisStore, kind: 'window', keySerde: ks, valueSerde: sj?.valueSerde ?? left.valueSerde, logged: true, cached: false, windowSize: 0, retainDuplicates: true, retentionMs: joinRetentionMs });
  b.addStore({ name: otherStore, kind: 'window', keySerde: ks, valueSerde: sj?.otherValueSerde ?? right.valueSerde, logged: true, cached: false, windowSize: 0, retainDuplicates: true, retentionMs: joinRetentionMs });
  if (type !== 'inner') b.addStore({ name: outerStore, kind: 'kv', keySerde: Serdes.Bytes(), valueSerde: Serdes.Json(), logged: true, cached: false });
  const { beforeMs, afterMs, graceMs } = windows;
  const merge = b.node(b.newName('KSTREAM-MERGE'));
  const outerKey = (ts: number, isLeft: boolean, seq: number) => {
    const k = Buffer.allocUnsafe(13);
    k.writeBigUInt64BE(BigInt(ts));
    k.writeUInt8(isLeft ? 0 : 1, 8);
    k.writeUInt32BE(seq >>> 0, 9);
    return k;
  };
  const side = (isLeft: boolean) => (ctx: TaskContext, rec: Rec) => {
    if (rec.key === null || rec.key === undefined || rec.value === null || rec.value === undefined) return;
    const ts = rec.timestamp;
    const now = ctx.observe(timeKey, ts);
    // window on this side's perspective: other records in [ts - before, ts + after] (mirrored for right)
    const lo = isLeft ? ts - beforeMs : ts - afterMs;
    const hi = isLeft ? ts + afterMs : ts + beforeMs;
    const mine = ctx.store<WindowStore<K, any>>(isLeft ? thisStore : otherStore);
    const others = ctx.store<WindowStore<K, any>>(isLeft ? otherStore : thisStore);
    if (ts + Math.max(beforeMs, afterMs) + graceMs < now) return; // too late to join
    mine.put(rec.key, rec.value, ts, ts);
    const mySeq = mineSeq(mine);
    const matches = others.fetchRange(rec.key, Math.max(0, lo), hi);
    const outer = type !== 'inner' ? ctx.store<KeyValueStore<Buffer, any>>(outerStore) : null;
    for (const m of matches) {
      const lv = isLeft ? rec.value : m.value;
      const rv = isLeft ? m.value : rec.value;
      merge.process(ctx, { key: rec.key, value: joiner(lv, rv, rec.key), timestamp: Math.max(ts, m.start), headers: rec.headers }, merge);
      if (outer) outer.delete(outerKey(m.start, !isLeft, m.seq));
    }
    if (outer && matches.length === 0 && (isLeft || type === 'outer')) {
      const kb = serdeOr(ks, ctx, 'key').serialize('', rec.key)!;
      const vb = serdeOr(isLeft ? (sj?.valueSerde ?? left.valueSerde) : (sj?.otherValueSerde ?? right.valueSerde), ctx, 'value').serialize('', rec.value)!;
      outer.put(outerKey(ts, isLeft, mySeq), { k: kb.toString('base64'), v: vb.toString('base64') }, ts);
    }
    if (outer) emitExpiredOuter(ctx, now);
  };
  const emitExpiredOuter = (ctx: TaskContext, now: number) => {
    const outer = ctx.store<KeyValueStore<Buffer, { k: string; v: string }>>(outerStore);
    for (const e of outer.all()) {
      const ts = Number(e.key.readBigUInt64BE(0));
      const isLeft = e.key.readUInt8(8) === 0;
      const closes = ts + (isLeft ? afterMs : beforeMs) + graceMs;
      if (closes >= now) break; // entries are in timestamp order
      outer.delete(e.key);
      const key = serdeOr(ks, ctx, 'key').deserialize('', Buffer.from(e.value.k, 'base64'));
      const v = serdeOr(isLeft ? (sj?.valueSerde ?? left.valueSerde) : (sj?.otherValueSerde ?? right.valueSerde), ctx, 'value').deserialize('', Buffer.from(e.value.v, 'base64'));
      merge.process(ctx, { key, value: isLeft ? joiner(v, null, key) : joiner(null, v, key), timestamp: ts }, merge);
    }
  };
  const ln = b.node(b.newName('KSTREAM-JOINTHIS'), side(true), l.node);
  ln.children.push(merge); // edge only for grouping into one sub-topology; side() calls merge itself
  const rn = b.node(b.newName('KSTREAM-JOINOTHER'), side(false), r.node);
  ln.stores.push(thisStore, otherStore);
  rn.stores.push(thisStore, otherStore);
  if (type !== 'inner') {
    ln.stores.push(outerStore);
    rn.stores.push(outerStore);
  }
  return new KStream(b, merge, ks, undefined, false);
}

function mineSeq(store: WindowStore<any, any>): number {
  return (store as unknown as { seq: number }).seq;
}
