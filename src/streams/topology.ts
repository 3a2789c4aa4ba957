// The processor graph a StreamsBuilder produces, split into sub-topologies (connected parts
// between repartition topics), and the per-task context nodes run in. The same Task code runs
// under the TopologyTestDriver and the Kafka runtime; only the TaskEnvironment differs.
import { join } from 'node:path';
import type { Serde } from './serdes.js';
import { KeyValueStore, LmdbBackend, MemoryBackend, SessionStore, WindowStore, type AnyStore, type BytesBackend } from './stores.js';
import type { TimestampExtractor } from './options.js';

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
}

export interface GlobalStoreDef {
  store: StoreDef;
  topic: string;
  keySerde?: Serde<any>;
  valueSerde?: Serde<any>;
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
}

export class TaskContext {
  /** Max record timestamp this task has seen. */
  streamTime = -1;
  private readonly nodeTimes = new Map<string, number>();
  readonly stores = new Map<string, AnyStore>();
  readonly nodeState = new Map<string, any>();
  topic = '';
  offset = -1;
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
      return new WindowStore(def.name, backend, sink, cache, ks, vs, def.windowSize ?? 0, def.retainDuplicates);
    case 'session':
      return new SessionStore(def.name, backend, sink, cache, ks, vs);
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

  /** A readable outline, like Kafka's TopologyDescription. */
  describe(): string {
    const lines: string[] = ['Topologies:'];
    for (const st of this.subTopologies()) {
      lines.push(`   Sub-topology: ${st.id}`);
      for (const n of st.nodes) lines.push(`    ${n.name} --> ${n.children.map((c) => c.name).join(', ') || 'none'}${n.stores.length ? ` (stores: ${n.stores.join(', ')})` : ''}`);
    }
    for (const [name, g] of this.globalStores) lines.push(`   Global store: ${name} (topic: ${g.topic})`);
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
  }

  /** Commit point: caches flush to the backends, changelogs and downstream. */
  flush(): void {
    // A flush forwards downstream, which may dirty a later store: repeat until quiet (bounded).
    for (let pass = 0; pass < 4; pass++) for (const s of this.ctx.stores.values()) s.flush();
  }

  close(): void {
    for (const s of this.ctx.stores.values()) s.close();
  }

  /** Records processed since the task was created. */
  processed = 0;
}
