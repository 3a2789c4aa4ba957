// TopologyTestDriver: runs a topology in-process without a broker, like Kafka's. Each sub-topology
// runs as one task (partition 0); records written to repartition topics are processed right away;
// caches flush after every input record, so every update is visible downstream.
import { resolveConfig, type StreamsConfig } from './config.js';
import type { Deserializer, Serializer } from './serdes.js';
import { KeyValueStore, SessionStore, WindowStore, type AnyStore } from './stores.js';
import { createStore, globalStoreApplier, Task, TaskContext, type TaskEnvironment, type Topology } from './topology.js';

export interface TestRecord<K, V> {
  key: K | null;
  value: V | null;
  timestamp: number;
  headers?: Map<string, Buffer>;
}

interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: Map<string, Buffer>;
}

export class TopologyTestDriver {
  private readonly tasks: Task[] = [];
  private readonly outputs = new Map<string, RawRecord[]>();
  private readonly pending: Array<{ topic: string; rec: RawRecord }> = [];
  private readonly globals = new Map<string, { store: AnyStore; topic: string; apply: (partition: number, r: RawRecord) => void }>();
  private readonly env: TaskEnvironment;
  private wallClock: number;
  private offsets = 0;
  private draining = false;

  constructor(
    private readonly topology: Topology,
    config: Partial<StreamsConfig> = {},
    initialWallClockTimeMs = Date.now(),
  ) {
    const cfg = resolveConfig({ 'application.id': 'test-driver', ...config } as StreamsConfig, false);
    this.wallClock = initialWallClockTimeMs;
    const self = this;
    this.env = {
      applicationId: cfg.applicationId,
      defaults: { ...cfg.defaults, storeType: 'in_memory' },
      cacheMaxBytesPerStore: 0,
      send(topic, key, value, timestamp, _partition, headers) {
        const rec = { key, value, timestamp, headers };
        if (self.isInternal(topic)) self.pending.push({ topic, rec });
        else {
          const list = self.outputs.get(topic) ?? [];
          list.push(rec);
          self.outputs.set(topic, list);
          // A user topic that is also a source (e.g. to("a") then stream("a")) is read back.
          if (self.tasks.some((t) => t.inputTopics().includes(topic))) self.pending.push({ topic, rec });
        }
      },
      numPartitions: () => 1,
      globalStore: (name) => {
        const g = self.globals.get(name);
        if (!g) throw new Error(`no global store ${name}`);
        return g.store;
      },
      internalTopic: (name) => `${cfg.applicationId}-${name}`,
      now: () => self.wallClock,
    };
    for (const [name, g] of topology.globalStores) {
      const ctx = new TaskContext('global', 0, this.env);
      const store = createStore({ ...g.store, keySerde: g.store.keySerde ?? g.keySerde, valueSerde: g.store.valueSerde ?? g.valueSerde }, ctx, false, null, 0);
      this.globals.set(name, { store, topic: g.topic, apply: globalStoreApplier(name, g, store, ctx) });
    }
    for (const sub of topology.subTopologies()) this.tasks.push(new Task(topology, sub, 0, this.env, false));
  }

  private isInternal(topic: string): boolean {
    const prefix = `${this.env.applicationId}-`;
    return topic.startsWith(prefix) && this.topology.internalTopics.has(topic.slice(prefix.length));
  }

  /** @internal */ pipeRaw(topic: string, rec: RawRecord): void {
    for (const g of this.globals.values()) {
      if (g.topic === topic) g.apply(0, rec);
    }
    this.pending.push({ topic, rec });
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length) {
        const { topic: t, rec: r } = this.pending.shift()!;
        for (const task of this.tasks) {
          if (!task.inputTopics().includes(t)) continue;
          task.process(t, this.offsets++, r.key, r.value, r.timestamp, r.headers);
          task.flush();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  createInputTopic<K, V>(topic: string, keySerializer: Serializer<K>, valueSerializer: Serializer<V>, startTimestampMs?: number, autoAdvanceMs = 0): TestInputTopic<K, V> {
    return new TestInputTopic<K, V>(this, topic, keySerializer, valueSerializer, startTimestampMs ?? this.wallClock, autoAdvanceMs);
  }

  createOutputTopic<K, V>(topic: string, keyDeserializer: Deserializer<K>, valueDeserializer: Deserializer<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic<K, V>(() => {
      const list = this.outputs.get(topic) ?? [];
      this.outputs.set(topic, list);
      return list;
    }, topic, keyDeserializer, valueDeserializer);
  }

  /** Moves wall-clock time forward and runs the wall-clock punctuators that became due (each at most once, as Kafka's driver does). */
  advanceWallClockTime(ms: number): void {
    this.wallClock += ms;
    for (const task of this.tasks) {
      if (task.punctuateWallClock(this.wallClock)) task.flush();
    }
    this.drain();
  }

  private findStore(name: string): AnyStore | undefined {
    const g = this.globals.get(name);
    if (g) return g.store;
    for (const t of this.tasks) {
      const s = t.ctx.stores.get(name);
      if (s) return s;
    }
    return undefined;
  }
  getStateStore(name: string): AnyStore | undefined {
    return this.findStore(name);
  }
  getKeyValueStore<K = any, V = any>(name: string): KeyValueStore<K, V> {
    const s = this.findStore(name);
    if (!(s instanceof KeyValueStore)) throw new Error(`no key-value store ${name}`);
    return s;
  }
  getWindowStore<K = any, V = any>(name: string): WindowStore<K, V> {
    const s = this.findStore(name);
    if (!(s instanceof WindowStore)) throw new Error(`no window store ${name}`);
    return s;
  }
  getSessionStore<K = any, V = any>(name: string): SessionStore<K, V> {
    const s = this.findStore(name);
    if (!(s instanceof SessionStore)) throw new Error(`no session store ${name}`);
    return s;
  }
  getAllStateStores(): Map<string, AnyStore> {
    const out = new Map<string, AnyStore>();
    for (const t of this.tasks) for (const [n, s] of t.ctx.stores) out.set(n, s);
    for (const [n, g] of this.globals) out.set(n, g.store);
    return out;
  }
  close(): void {
    for (const t of this.tasks) t.close();
  }
}

export class TestInputTopic<K, V> {
  private nextTs: number;
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly topic: string,
    private readonly ks: Serializer<K>,
    private readonly vs: Serializer<V>,
    start: number,
    private readonly autoAdvanceMs: number,
  ) {
    this.nextTs = start;
  }
  pipeInput(key: K | null, value: V | null, timestamp?: number): void;
  pipeInput(value: V): void;
  pipeInput(...args: any[]): void {
    if (args.length === 1) this.pipeRecord({ key: null, value: args[0], timestamp: this.takeTs() });
    else this.pipeRecord({ key: args[0], value: args[1], timestamp: args[2] ?? this.takeTs() });
  }
  private takeTs(): number {
    const t = this.nextTs;
    this.nextTs += this.autoAdvanceMs;
    return t;
  }
  pipeRecord(r: TestRecord<K, V>): void {
    this.driver.pipeRaw(this.topic, {
      key: r.key === null ? null : this.ks.serialize(this.topic, r.key),
      value: r.value === null ? null : this.vs.serialize(this.topic, r.value),
      timestamp: r.timestamp,
      headers: r.headers,
    });
  }
  pipeKeyValueList(list: Array<{ key: K; value: V }>): void {
    for (const kv of list) this.pipeInput(kv.key, kv.value);
  }
  pipeValueList(list: V[]): void {
    for (const v of list) this.pipeInput(v);
  }
  pipeRecordList(list: Array<TestRecord<K, V>>): void {
    for (const r of list) this.pipeRecord(r);
  }
  advanceTime(ms: number): void {
    this.nextTs += ms;
  }
}

export class TestOutputTopic<K, V> {
  constructor(
    private readonly queue: () => RawRecord[],
    readonly topic: string,
    private readonly kd: Deserializer<K>,
    private readonly vd: Deserializer<V>,
  ) {}
  private decode(r: RawRecord): TestRecord<K, V> {
    return { key: this.kd.deserialize(this.topic, r.key), value: this.vd.deserialize(this.topic, r.value), timestamp: r.timestamp, headers: r.headers };
  }
  readRecord(): TestRecord<K, V> {
    const r = this.queue().shift();
    if (!r) throw new Error(`output topic ${this.topic} is empty`);
    return this.decode(r);
  }
  readKeyValue(): { key: K | null; value: V | null } {
    const r = this.readRecord();
    return { key: r.key, value: r.value };
  }
  readValue(): V | null {
    return this.readRecord().value;
  }
  readRecordsToList(): Array<TestRecord<K, V>> {
    return this.queue().splice(0).map((r) => this.decode(r));
  }
  readKeyValuesToList(): Array<{ key: K | null; value: V | null }> {
    return this.readRecordsToList().map((r) => ({ key: r.key, value: r.value }));
  }
  readValuesToList(): Array<V | null> {
    return this.readRecordsToList().map((r) => r.value);
  }
  /** Latest value per key (null values remove the key), as Kafka's readKeyValuesToMap. */
  readKeyValuesToMap(): Map<K, V> {
    const m = new Map<K, V>();
    for (const r of this.readRecordsToList()) {
      if (r.value === null) m.delete(r.key as K);
      else m.set(r.key as K, r.value);
    }
    return m;
  }
  isEmpty(): boolean {
    return this.queue().length === 0;
  }
  getQueueSize(): number {
    return this.queue().length;
  }
}
