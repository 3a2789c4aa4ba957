// The processor graph a StreamsBuilder produces, split into sub-topologies (connected parts
// between repartition topics), and the per-task context nodes run in. The same Task code runs
// under the TopologyTestDriver and the Kafka runtime; only the TaskEnvironment differs.
import { join } from 'node:path';
import type { Serde } from './serdes.js';
import { KeyValueStore, LmdbBackend, MemoryBackend, SessionStore, WindowStore, type AnyStore, type BytesBackend } from './stores.js';
import type { TimestampExtractor } from './options.js';
import { processorNode, PunctuationType, type Punctuation, type ProcessorSupplier, type StoreBuilder } from './processor.js';
import type { Deserializer, Serializer } from './serdes.js';

export interface Rec {
  key: any;
  value: any;
  timestamp: number;
  headers?: Map<string, Buffer>;
}

/** A KTable update: the new value and the one it replaces (null = absent / delete). */
export class Change<V = any> {
  constructor(
    readonly newValue: V | null,
    readonly oldValue: V | null,
  ) {}
}

export class ProcessorNode {
  readonly children: ProcessorNode[] = [];
  /** Stores this node reads or writes; nodes sharing a store run in the same task. */
  readonly stores: string[] = [];
  constructor(
    readonly name: string,
    public process: (ctx: TaskContext, rec: Rec, self: ProcessorNode) => void = (ctx, rec, self) => self.forward(ctx, rec),
    public init?: (ctx: TaskContext, self: ProcessorNode) => void,
  ) {}
  forward(ctx: TaskContext, rec: Rec): void {
    const c = this.children;
    for (const child of c) child.process(ctx, rec, child);
  }
  addChild(n: ProcessorNode): ProcessorNode {
    this.children.push(n);
    return n;
  }
}

export interface SourceInfo {
  node: ProcessorNode;
  topics: string[];
  keySerde?: Serde<any>;
  valueSerde?: Serde<any>;
  timestampExtractor?: TimestampExtractor;
  offsetReset?: 'earliest' | 'latest';
}

export interface StoreDef {
  name: string;
  kind: 'kv' | 'window' | 'session';
  keySerde?: Serde<any>;
  valueSerde?: Serde<any>;
  logged: boolean;
  cached: boolean;
  storeType?: 'in_memory' | 'persistent';
  windowSize?: number;
  retainDuplicates?: boolean;
  /** Window and session stores: how long (in stream time past a window's start / a session's end) it is kept; unset = for ever. */
  retentionMs?: number;
}

export interface GlobalStoreDef {
  store: StoreDef;
  topic: string;
  keySerde?: Serde<any>;
  valueSerde?: Serde<any>;
  /** addGlobalStore: the processor that maintains the store (GlobalKTable: records go in as they are). */
  processor?: ProcessorNode;
  /** Topology.addGlobalStore's source node name (described; names are unique in a topology). */
  sourceName?: string;
  timestampExtractor?: TimestampExtractor;
}

/** A raw record of a global store's source topic. */
export interface GlobalSourceRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  offset?: bigint;
  headers?: Map<string, Buffer>;
}

/**
 * How a global store takes in its source topic. A GlobalKTable copies the records' bytes; a store
 * from addGlobalStore feeds them, deserialized, through its processor (on startup too, as Kafka 4
 * does), which alone may write the store.
 */
export function globalStoreApplier(name: string, g: GlobalStoreDef, store: AnyStore, ctx: TaskContext): (partition: number, r: GlobalSourceRecord) => void {
  const node = g.processor;
  if (!node) return (_p, r) => r.key && store.restore(r.key, r.value);
  ctx.stores.set(name, store);
  node.init?.(ctx, node);
  const ks = g.keySerde ?? ctx.env.defaults.keySerde;
  const vs = g.valueSerde ?? ctx.env.defaults.valueSerde;
  return (partition, r) => {
    const offset = Number(r.offset ?? -1n);
    let key: unknown;
    let value: unknown;
    try {
      key = r.key === null ? null : ks.deserialize(g.topic, r.key);
      value = r.value === null ? null : vs.deserialize(g.topic, r.value);
    } catch (err) {
      if (ctx.env.onDeserializationError?.(err, g.topic, offset)) return;
      throw new Error(`cannot deserialize record at ${g.topic} offset ${offset}: ${(err as Error).message}`, { cause: err });
    }
    (ctx as { partition: number }).partition = partition;
    ctx.topic = g.topic;
    ctx.offset = offset;
    const timestamp = g.timestampExtractor ? g.timestampExtractor({ key, value, timestamp: r.timestamp, topic: g.topic, partition }, ctx.streamTime) : r.timestamp;
    if (timestamp > ctx.streamTime) ctx.streamTime = timestamp;
    node.process(ctx, { key, value, timestamp, headers: r.headers }, node);
  };
}

export interface InternalTopic {
  /** Name without the application.id prefix, e.g. "KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition". */
  name: string;
  kind: 'repartition' | 'changelog';
  partitions?: number;
  /** Nodes that write to it; their sub-topology decides the partition count if the reader cannot. */
  writers?: ProcessorNode[];
}

export interface SubTopology {
  id: number;
  nodes: ProcessorNode[];
  sources: SourceInfo[];
  /** Source topic names; internal ones without the application prefix, flagged in internalSources. */
  sourceTopics: string[];
  internalSources: Set<string>;
  stores: string[];
}

export interface StreamsDefaults {
  keySerde: Serde<any>;
  valueSerde: Serde<any>;
  storeType: 'in_memory' | 'persistent';
}

/** What a running task needs from its host (driver or Kafka runtime). */
export interface TaskEnvironment {
  applicationId: string;
  defaults: StreamsDefaults;
  stateDir?: string;
  cacheMaxBytesPerStore: number;
  /** Sends one record; partition undefined = default partitioner (murmur2 of the key bytes). */
  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, partition?: number, headers?: Map<string, Buffer>): void;
  numPartitions(topic: string): number;
  globalStore(name: string): AnyStore;
  /** Full topic name for an internal topic name (adds the application.id prefix). */
  internalTopic(name: string): string;
  /** A record that cannot be deserialized: true = skip it (logAndContinue), false = fail. */
  onDeserializationError?(err: unknown, topic: string, offset: number): boolean;
  /** Wall-clock time for punctuators (the test driver's mocked clock; Date.now() otherwise). */
  now?(): number;
  /** ProcessorContext.commit(): commit at the next opportunity. */
  requestCommit?(): void;
}

export class TaskContext {
  /** Max record timestamp this task has seen. */
  streamTime = -1;
  private readonly nodeTimes = new Map<string, number>();
  readonly stores = new Map<string, AnyStore>();
  readonly nodeState = new Map<string, any>();
  topic = '';
  offset = -1;
  readonly punctuations: Punctuation[] = [];
  private readonly closeHooks: Array<() => void> = [];
  constructor(
    readonly taskId: string,
    readonly partition: number,
    readonly env: TaskEnvironment,
  ) {}
  get applicationId(): string {
    return this.env.applicationId;
  }
  store<S extends AnyStore = AnyStore>(name: string): S {
    const s = this.stores.get(name);
    if (!s) throw new Error(`task ${this.taskId} has no store ${name}`);
    return s as S;
  }
  globalStore<S extends AnyStore = AnyStore>(name: string): S {
    return this.env.globalStore(name) as S;
  }
  /** Observed stream time of one processor: max timestamp it has seen, including this one. */
  observe(node: string, ts: number): number {
    const t = Math.max(this.nodeTimes.get(node) ?? -1, ts);
    this.nodeTimes.set(node, t);
    return t;
  }
  nodeTime(node: string): number {
    return this.nodeTimes.get(node) ?? -1;
  }
  isGlobalStore(name: string): boolean {
    try {
      return !!this.env.globalStore(name);
    } catch {
      return false;
    }
  }
  wallClockNow(): number {
    return this.env.now?.() ?? Date.now();
  }
  onClose(hook: () => void): void {
    this.closeHooks.push(hook);
  }
  runCloseHooks(): void {
    for (const h of this.closeHooks.splice(0)) h();
  }
  /** Wall-clock punctuators first fire one interval from now; stream-time ones at the first record (or one interval past the current stream time). */
  schedule(intervalMs: number, type: PunctuationType, callback: (timestamp: number) => void): { cancel(): void } {
    const next = type === PunctuationType.WALL_CLOCK_TIME ? this.wallClockNow() + intervalMs : this.streamTime < 0 ? -1 : this.streamTime + intervalMs;
    const p: Punctuation = { intervalMs, type, callback, next, cancelled: false, run: callback };
    this.punctuations.push(p);
    return { cancel: () => (p.cancelled = true) };
  }
  /** Fires due punctuators of one type once each (missed intervals are skipped, as in Kafka); true if any fired. */
  punctuate(type: PunctuationType, now: number): boolean {
    if (now < 0 || this.punctuations.length === 0) return false;
    let fired = false;
    for (const p of [...this.punctuations]) {
      if (p.cancelled || p.type !== type) continue;
      if (p.next < 0) p.next = now;
      if (now < p.next) continue;
      p.next = now - ((now - p.next) % p.intervalMs) + p.intervalMs;
      const [topic, offset] = [this.topic, this.offset];
      this.offset = -1; // no record metadata inside a punctuator
      try {
        p.run(now);
      } finally {
        [this.topic, this.offset] = [topic, offset];
      }
      fired = true;
    }
    for (let i = this.punctuations.length - 1; i >= 0; i--) if (this.punctuations[i]!.cancelled) this.punctuations.splice(i, 1);
    return fired;
  }
}

export function createStore(def: StoreDef, ctx: TaskContext, log: boolean, changelogTopic: string | null, partition: number): AnyStore {
  const env = ctx.env;
  const persistent = (def.storeType ?? env.defaults.storeType) === 'persistent' && env.stateDir;
  const backend: BytesBackend = persistent ? new LmdbBackend(join(env.stateDir!, env.applicationId, ctx.taskId, def.name)) : new MemoryBackend();
  const sink = log && def.logged && changelogTopic ? { log: (k: Buffer, v: Buffer | null, ts: number) => env.send(changelogTopic, k, v, ts, partition) } : {};
  const cache = def.cached ? env.cacheMaxBytesPerStore : 0;
  const ks = def.keySerde ?? env.defaults.keySerde;
  const vs = def.valueSerde ?? env.defaults.valueSerde;
  switch (def.kind) {
    case 'kv':
      return new KeyValueStore(def.name, backend, sink, cache, ks, vs);
    case 'window':
      return new WindowStore(def.name, backend, sink, cache, ks, vs, def.windowSize ?? 0, def.retainDuplicates, def.retentionMs);
    case 'session':
      return new SessionStore(def.name, backend, sink, cache, ks, vs, def.retentionMs);
  }
}

export class Topology {
  readonly sources: SourceInfo[] = [];
  readonly storeDefs = new Map<string, StoreDef>();
  readonly globalStores = new Map<string, GlobalStoreDef>();
  readonly internalTopics = new Map<string, InternalTopic>();
  readonly allNodes: ProcessorNode[] = [];
  private subs: SubTopology[] | null = null;

  /** Sub-topologies: nodes connected by edges or by a shared store. */
  subTopologies(): SubTopology[] {
    if (this.subs) return this.subs;
    const parent = new Map<ProcessorNode, ProcessorNode>();
    const find = (n: ProcessorNode): ProcessorNode => {
      let p = parent.get(n) ?? n;
      while (p !== (parent.get(p) ?? p)) p = parent.get(p)!;
      parent.set(n, p);
      return p;
    };
    const union = (a: ProcessorNode, b: ProcessorNode) => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent.set(ra, rb);
    };
    const storeOwner = new Map<string, ProcessorNode>();
    for (const n of this.allNodes) {
      for (const c of n.children) union(n, c);
      for (const s of n.stores) {
        if (this.globalStores.has(s)) continue;
        const o = storeOwner.get(s);
        if (o) union(o, n);
        else storeOwner.set(s, n);
      }
    }
    const groups = new Map<ProcessorNode, SubTopology>();
    const order: SubTopology[] = [];
    for (const src of this.sources) {
      const root = find(src.node);
      let st = groups.get(root);
      if (!st) {
        st = { id: order.length, nodes: [], sources: [], sourceTopics: [], internalSources: new Set(), stores: [] };
        groups.set(root, st);
        order.push(st);
      }
      st.sources.push(src);
      for (const t of src.topics) {
        if (!st.sourceTopics.includes(t)) st.sourceTopics.push(t);
        if (this.internalTopics.has(t)) st.internalSources.add(t);
      }
    }
    for (const n of this.allNodes) {
      const st = groups.get(find(n));
      if (!st) continue;
      st.nodes.push(n);
      for (const s of n.stores) if (!this.globalStores.has(s) && !st.stores.includes(s)) st.stores.push(s);
    }
    this.subs = order;
    return order;
  }

  /**
   * Partition counts for internal topics, as Kafka derives them: a topic read together with user
   * topics gets their count (co-partitioning); otherwise it inherits the count of the
   * sub-topology that writes it.
   */
  internalTopicPartitions(external: Map<string, number>, fallback: number): Map<string, number> {
    const subs = this.subTopologies();
    const subOfNode = new Map<ProcessorNode, SubTopology>();
    for (const st of subs) for (const n of st.nodes) subOfNode.set(n, st);
    const out = new Map<string, number>();
    const visiting = new Set<SubTopology>();
    const subCount = (st: SubTopology): number => {
      const ext = st.sourceTopics.filter((t) => !st.internalSources.has(t)).map((t) => external.get(t) ?? 0);
      if (ext.length) return Math.max(...ext);
      if (visiting.has(st)) return fallback;
      visiting.add(st);
      let n = 0;
      for (const t of st.internalSources) n = Math.max(n, topicCount(t));
      visiting.delete(st);
      return n || fallback;
    };
    const topicCount = (t: string): number => {
      const it = this.internalTopics.get(t)!;
      if (it.partitions) return it.partitions;
      let n = 0;
      for (const w of it.writers ?? []) {
        const st = subOfNode.get(w);
        if (st) n = Math.max(n, subCount(st));
      }
      return n || fallback;
    };
    for (const st of subs) {
      const n = subCount(st);
      for (const t of st.internalSources) if (!this.internalTopics.get(t)!.partitions) out.set(t, n);
    }
    for (const t of this.internalTopics.keys()) if (!out.has(t)) out.set(t, topicCount(t));
    return out;
  }

  // ---- Processor API graph building (Kafka's Topology.addSource / addProcessor / addSink / addStateStore)

  private nodeNamed(name: string): ProcessorNode {
    const n = this.allNodes.find((x) => x.name === name);
    if (!n) throw new Error(`no processor named ${name}`);
    return n;
  }
  /** Node names are unique across the graph and the global stores' source / processor names. */
  private nameTaken(name: string): boolean {
    return this.allNodes.some((x) => x.name === name) || [...this.globalStores.values()].some((g) => g.sourceName === name || g.processor?.name === name);
  }
  private addNode(n: ProcessorNode, parentNames: string[]): this {
    if (this.nameTaken(n.name)) throw new Error(`processor name ${n.name} is used twice`);
    const parents = parentNames.map((p) => this.nodeNamed(p));
    this.allNodes.push(n);
    for (const p of parents) p.addChild(n);
    this.subs = null;
    return this;
  }

  /** addSource(name, ...topics) or addSource(name, keyDeserializer, valueDeserializer, ...topics). */
  addSource(name: string, ...args: Array<string | Deserializer<any>>): this {
    const des = args.filter((a): a is Deserializer<any> => typeof a !== 'string');
    const topics = args.filter((a): a is string => typeof a === 'string');
    if (topics.length === 0) throw new Error(`source ${name} needs at least one topic`);
    const asSerde = (d?: Deserializer<any>) => (d ? ({ deserialize: (t: string, b: Buffer) => d.deserialize(t, b), serialize: () => Buffer.alloc(0) } as unknown as Serde<any>) : undefined);
    const n = new ProcessorNode(name);
    this.addNode(n, []);
    this.sources.push({ node: n, topics, keySerde: asSerde(des[0]), valueSerde: asSerde(des[1]) });
    return this;
  }

  addProcessor(name: string, supplier: ProcessorSupplier, ...parentNames: string[]): this {
    if (parentNames.length === 0) throw new Error(`processor ${name} needs at least one parent`);
    return this.addNode(processorNode(name, supplier, []), parentNames);
  }

  /** addSink(name, topic, ...parentNames) or addSink(name, topic, keySerializer, valueSerializer, ...parentNames). */
  addSink(name: string, topic: string, ...args: Array<string | Serializer<any>>): this {
    const ser = args.filter((a): a is Serializer<any> => typeof a !== 'string');
    const parentNames = args.filter((a): a is string => typeof a === 'string');
    if (parentNames.length === 0) throw new Error(`sink ${name} needs at least one parent`);
    const n = new ProcessorNode(name, (ctx, rec) => {
      const ks = ser[0] ?? ctx.env.defaults.keySerde;
      const vs = ser[1] ?? ctx.env.defaults.valueSerde;
      const kb = rec.key === null || rec.key === undefined ? null : ks.serialize(topic, rec.key);
      const vb = rec.value === null || rec.value === undefined ? null : vs.serialize(topic, rec.value);
      ctx.env.send(topic, kb, vb, rec.timestamp, undefined, rec.headers);
    });
    return this.addNode(n, parentNames);
  }

  /**
   * Kafka's Topology.addGlobalStore(storeBuilder, sourceName, [timestampExtractor,] keyDeserializer,
   * valueDeserializer, topic, processorName, stateUpdateSupplier): every instance reads all of
   * `topic` through the processor, the store's only writer; other processors read it with
   * getStateStore. Logging must be disabled (the topic is the changelog).
   */
  addGlobalStore(storeBuilder: StoreBuilder, sourceName: string, keyDeserializer: Deserializer<any> | null, valueDeserializer: Deserializer<any> | null, topic: string, processorName: string, stateUpdateSupplier: ProcessorSupplier): this;
  addGlobalStore(
    storeBuilder: StoreBuilder,
    sourceName: string,
    timestampExtractor: TimestampExtractor | null,
    keyDeserializer: Deserializer<any> | null,
    valueDeserializer: Deserializer<any> | null,
    topic: string,
    processorName: string,
    stateUpdateSupplier: ProcessorSupplier,
  ): this;
  addGlobalStore(storeBuilder: StoreBuilder, sourceName: string, ...rest: unknown[]): this {
    const withExtractor = rest.length === 6;
    if (!withExtractor && rest.length !== 5) throw new Error('addGlobalStore(storeBuilder, sourceName, [timestampExtractor,] keyDeserializer, valueDeserializer, topic, processorName, stateUpdateSupplier)');
    const [timestampExtractor, keyDeserializer, valueDeserializer, topic, processorName, supplier] = (withExtractor ? rest : [null, ...rest]) as [
      TimestampExtractor | null,
      Deserializer<any> | null,
      Deserializer<any> | null,
      string,
      string,
      ProcessorSupplier,
    ];
    if (typeof topic !== 'string' || topic === '') throw new Error(`global store ${storeBuilder.name}: topic must be a topic name`);
    const def = storeBuilder.def;
    if (def.logged) throw new Error(`global store ${def.name} must not have logging enabled (its source topic ${topic} is its changelog); use withLoggingDisabled()`);
    if (this.storeDefs.has(def.name) || this.globalStores.has(def.name)) throw new Error(`store name ${def.name} is used twice`);
    if (sourceName === processorName) throw new Error(`addGlobalStore: source and processor need different names, both are ${sourceName}`);
    for (const n of [sourceName, processorName]) if (this.nameTaken(n)) throw new Error(`processor name ${n} is used twice`);
    const asSerde = (d: Deserializer<any> | null) => (d ? ({ deserialize: (t: string, b: Buffer) => d.deserialize(t, b), serialize: () => Buffer.alloc(0) } as unknown as Serde<any>) : undefined);
    this.globalStores.set(def.name, {
      store: { ...def, cached: false },
      topic,
      keySerde: asSerde(keyDeserializer),
      valueSerde: asSerde(valueDeserializer),
      processor: processorNode(processorName, supplier, [def.name]),
      sourceName,
      ...(timestampExtractor ? { timestampExtractor } : {}),
    });
    return this;
  }

  /** Registers a store and connects it to the named processors (they reach it with getStateStore). */
  addStateStore(builder: StoreBuilder, ...processorNames: string[]): this {
    const def = builder.def;
    if (this.storeDefs.has(def.name) || this.globalStores.has(def.name)) throw new Error(`store name ${def.name} is used twice`);
    this.storeDefs.set(def.name, def);
    return this.connectProcessorAndStateStores(...processorNames.map((p) => [p, def.name] as const));
  }

  private connectProcessorAndStateStores(...pairs: Array<readonly [string, string]>): this {
    for (const [p, store] of pairs) {
      const n = this.nodeNamed(p);
      if (!n.stores.includes(store)) n.stores.push(store);
    }
    this.subs = null;
    return this;
  }

  /** A readable outline, like Kafka's TopologyDescription. */
  describe(): string {
    const lines: string[] = ['Topologies:'];
    for (const st of this.subTopologies()) {
      lines.push(`   Sub-topology: ${st.id}`);
      for (const n of st.nodes) lines.push(`    ${n.name} --> ${n.children.map((c) => c.name).join(', ') || 'none'}${n.stores.length ? ` (stores: ${n.stores.join(', ')})` : ''}`);
    }
    for (const [name, g] of this.globalStores) {
      const via = g.processor ? `, ${g.sourceName ? `source: ${g.sourceName}, ` : ''}processor: ${g.processor.name}` : '';
      lines.push(`   Global store: ${name} (topic: ${g.topic}${via})`);
    }
    return lines.join('\n');
  }
}

/** A task: one partition of one sub-topology, with its stores. */
export class Task {
  readonly ctx: TaskContext;
  private readonly sourcesByTopic = new Map<string, SourceInfo[]>();
  constructor(
    readonly topology: Topology,
    readonly sub: SubTopology,
    readonly partition: number,
    env: TaskEnvironment,
    /** Whether stores write their changelog (the driver does not). */
    logging: boolean,
  ) {
    this.ctx = new TaskContext(`${sub.id}_${partition}`, partition, env);
    for (const s of sub.sources) {
      for (const t of s.topics) {
        const full = sub.internalSources.has(t) ? env.internalTopic(t) : t;
        const list = this.sourcesByTopic.get(full) ?? [];
        list.push(s);
        this.sourcesByTopic.set(full, list);
      }
    }
    for (const name of sub.stores) {
      const def = topology.storeDefs.get(name)!;
      this.ctx.stores.set(name, createStore(def, this.ctx, logging, env.internalTopic(`${name}-changelog`), partition));
    }
    for (const n of sub.nodes) n.init?.(this.ctx, n);
  }

  get id(): string {
    return this.ctx.taskId;
  }

  /** Full topic names this task consumes. */
  inputTopics(): string[] {
    return [...this.sourcesByTopic.keys()];
  }

  process(topic: string, offset: number, key: Buffer | null, value: Buffer | null, timestamp: number, headers?: Map<string, Buffer>): void {
    const sources = this.sourcesByTopic.get(topic);
    if (!sources) return;
    this.processed++;
    const ctx = this.ctx;
    ctx.topic = topic;
    ctx.offset = offset;
    const defaults = ctx.env.defaults;
    for (const s of sources) {
      let k: unknown;
      let v: unknown;
      try {
        k = key === null ? null : (s.keySerde ?? defaults.keySerde).deserialize(topic, key);
        v = value === null ? null : (s.valueSerde ?? defaults.valueSerde).deserialize(topic, value);
      } catch (err) {
        if (ctx.env.onDeserializationError?.(err, topic, offset)) continue;
        throw new Error(`cannot deserialize record at ${topic} offset ${offset}: ${(err as Error).message}`, { cause: err });
      }
      let ts = timestamp;
      if (s.timestampExtractor) ts = s.timestampExtractor({ key: k, value: v, timestamp, topic, partition: ctx.partition }, ctx.streamTime);
      if (ts < 0) continue; // Kafka drops records with an invalid (negative) timestamp
      if (ts > ctx.streamTime) ctx.streamTime = ts;
      s.node.process(ctx, { key: k, value: v, timestamp: ts, headers }, s.node);
    }
    if (ctx.punctuations.length) ctx.punctuate(PunctuationType.STREAM_TIME, ctx.streamTime);
  }

  /** Runs due wall-clock punctuators; true if any fired. */
  punctuateWallClock(now: number): boolean {
    return this.ctx.punctuations.length > 0 && this.ctx.punctuate(PunctuationType.WALL_CLOCK_TIME, now);
  }

  /** Commit point: caches flush to the backends, changelogs and downstream. */
  flush(): void {
    // A flush forwards downstream, which may dirty a later store: repeat until quiet (bounded).
    for (let pass = 0; pass < 4; pass++) for (const s of this.ctx.stores.values()) s.flush();
  }

  close(): void {
    try {
      this.ctx.runCloseHooks();
    } finally {
      for (const s of this.ctx.stores.values()) s.close();
    }
  }

  /** Records processed since the task was created. */
  processed = 0;
}
