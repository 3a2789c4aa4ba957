// Processor API (Kafka Streams' org.apache.kafka.streams.processor.api): Processor, Record,
// ProcessorContext with forward / schedule (punctuators) / getStateStore / commit / record
// metadata, and store builders (Stores) for stores a processor declares by name.
import type { Serde } from './serdes.js';
import { ProcessorNode, type StoreDef, type TaskContext } from './topology.js';

export const PunctuationType = { WALL_CLOCK_TIME: 'WALL_CLOCK_TIME', STREAM_TIME: 'STREAM_TIME' } as const;
export type PunctuationType = (typeof PunctuationType)[keyof typeof PunctuationType];

/** An immutable record as processors see it; `with…` return copies. */
export class Record<K, V> {
  constructor(
    readonly key: K,
    readonly value: V,
    readonly timestamp: number,
    readonly headers: Map<string, Buffer> = new Map(),
  ) {}
  withKey<K2>(key: K2): Record<K2, V> {
    return new Record(key, this.value, this.timestamp, this.headers);
  }
  withValue<V2>(value: V2): Record<K, V2> {
    return new Record(this.key, value, this.timestamp, this.headers);
  }
  withTimestamp(timestamp: number): Record<K, V> {
    return new Record(this.key, this.value, timestamp, this.headers);
  }
  withHeaders(headers: Map<string, Buffer>): Record<K, V> {
    return new Record(this.key, this.value, this.timestamp, headers);
  }
}

/** Where the record being processed came from (null inside a punctuator). */
export interface RecordMetadata {
  topic(): string;
  partition(): number;
  offset(): number;
}

export interface Cancellable {
  cancel(): void;
}

export interface ProcessorContext<KOut = any, VOut = any> {
  /** Sends a record to every child processor, or only to the child named childName. */
  forward(record: Record<KOut, VOut>, childName?: string): void;
  /** Calls punctuator(timestamp) every intervalMs of wall-clock or stream time. */
  schedule(intervalMs: number, type: PunctuationType, punctuator: (timestamp: number) => void): Cancellable;
  getStateStore<S = any>(name: string): S;
  /** Asks for a commit soon (the runtime commits at its next loop turn). */
  commit(): void;
  recordMetadata(): RecordMetadata | null;
  taskId(): string;
  applicationId(): string;
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
}

export interface Processor<KIn = any, VIn = any, KOut = any, VOut = any> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: Record<KIn, VIn>): void;
  close?(): void;
}

/** Kafka's ProcessorSupplier.get(): a new Processor per task. */
export type ProcessorSupplier<KIn = any, VIn = any, KOut = any, VOut = any> = (() => Processor<KIn, VIn, KOut, VOut>) | { get(): Processor<KIn, VIn, KOut, VOut> };

export interface Punctuation {
  intervalMs: number;
  type: PunctuationType;
  callback: (timestamp: number) => void;
  /** Next time it is due; -1 = at the first record (stream time not known yet). */
  next: number;
  cancelled: boolean;
  /** Runs the callback with the scheduling processor as the current node. */
  run: (timestamp: number) => void;
}

/**
 * A graph node running a user Processor: one instance per task, created in the task's init.
 * fixedKey (processValues): what it forwards keeps the key of the record being processed.
 */
export function processorNode(name: string, supplier: ProcessorSupplier, storeNames: string[], fixedKey = false): ProcessorNode {
  const create = typeof supplier === 'function' ? supplier : () => supplier.get();
  const node = new ProcessorNode(name, (ctx, rec) => {
    const state = ctx.nodeState.get(name) as { processor: Processor; context: NodeProcessorContext } | undefined;
    if (!state) return;
    state.context.current = rec;
    try {
      state.processor.process(new Record(rec.key, rec.value, rec.timestamp, rec.headers ?? new Map()));
    } finally {
      state.context.current = null;
    }
  });
  node.stores.push(...storeNames);
  node.init = (ctx, self) => {
    const processor = create();
    const context = new NodeProcessorContext(ctx, self, fixedKey);
    ctx.nodeState.set(name, { processor, context });
    if (processor.close) ctx.onClose(() => processor.close!());
    processor.init?.(context);
  };
  return node;
}

const STORE_WRITES = new Set(['put', 'delete', 'remove', 'putAll', 'putIfAbsent']);

/** Other processors see a global store read-only: only its addGlobalStore processor writes it (Kafka throws likewise). */
function readOnly(name: string, store: object): object {
  return new Proxy(store, {
    get(target, prop) {
      if (typeof prop === 'string' && STORE_WRITES.has(prop))
        return () => {
          throw new Error(`global store ${name} is read-only outside its global processor`);
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

class NodeProcessorContext implements ProcessorContext {
  /** The input record being processed (null inside punctuators). */
  current: { key: unknown } | null = null;
  constructor(
    private readonly ctx: TaskContext,
    private readonly node: ProcessorNode,
    private readonly fixedKey: boolean,
  ) {}
  forward(record: Record<any, any>, childName?: string): void {
    if (this.fixedKey && this.current && record.key !== this.current.key) throw new Error(`processValues processor ${this.node.name} must not change the key`);
    const rec = { key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers };
    for (const child of this.node.children) if (childName === undefined || child.name === childName) child.process(this.ctx, rec, child);
  }
  schedule(intervalMs: number, type: PunctuationType, punctuator: (timestamp: number) => void): Cancellable {
    if (!(intervalMs >= 1)) throw new Error(`punctuation interval must be at least 1 ms, got ${intervalMs}`);
    if (type !== PunctuationType.WALL_CLOCK_TIME && type !== PunctuationType.STREAM_TIME) throw new Error(`unknown punctuation type ${String(type)}`);
    return this.ctx.schedule(intervalMs, type, punctuator);
  }
  getStateStore<S = any>(name: string): S {
    if (!this.node.stores.includes(name) && !this.ctx.isGlobalStore(name)) throw new Error(`processor ${this.node.name} has no access to store ${name}; connect it with process(..., '${name}') or addStateStore`);
    return (this.ctx.stores.get(name) ?? readOnly(name, this.ctx.globalStore(name))) as S;
  }
  commit(): void {
    this.ctx.env.requestCommit?.();
  }
  recordMetadata(): RecordMetadata | null {
    if (this.ctx.offset < 0) return null;
    const { topic, partition, offset } = this.ctx;
    return { topic: () => topic, partition: () => partition, offset: () => offset };
  }
  taskId(): string {
    return this.ctx.taskId;
  }
  applicationId(): string {
    return this.ctx.applicationId;
  }
  currentStreamTimeMs(): number {
    return this.ctx.streamTime;
  }
  currentSystemTimeMs(): number {
    return this.ctx.wallClockNow();
  }
}

/** A store a processor uses by name: build one with Stores.keyValueStoreBuilder / windowStoreBuilder / sessionStoreBuilder. */
export class StoreBuilder {
  constructor(/** @internal */ readonly def: StoreDef) {}
  get name(): string {
    return this.def.name;
  }
  withLoggingDisabled(): StoreBuilder {
    return new StoreBuilder({ ...this.def, logged: false });
  }
  withLoggingEnabled(_config?: Record<string, string>): StoreBuilder {
    return new StoreBuilder({ ...this.def, logged: true });
  }
  withCachingEnabled(): StoreBuilder {
    return new StoreBuilder({ ...this.def, cached: true });
  }
  withCachingDisabled(): StoreBuilder {
    return new StoreBuilder({ ...this.def, cached: false });
  }
}

interface KeyValueBytesStoreSupplier {
  name: string;
  storeType: 'in_memory' | 'persistent';
}
interface SessionBytesStoreSupplier extends KeyValueBytesStoreSupplier {
  session: true;
  retentionMs: number;
}
interface WindowBytesStoreSupplier extends KeyValueBytesStoreSupplier {
  windowSize: number;
  retainDuplicates: boolean;
  retentionMs: number;
}

/** Kafka's Stores factory: suppliers (persistent = lmdb, or in-memory) and builders with serdes. Logging on, caching off by default, as in Kafka. */
export const Stores = {
  persistentKeyValueStore: (name: string): KeyValueBytesStoreSupplier => ({ name, storeType: 'persistent' }),
  inMemoryKeyValueStore: (name: string): KeyValueBytesStoreSupplier => ({ name, storeType: 'in_memory' }),
  /** Window stores: windows starting more than retentionPeriodMs of stream time before the newest are dropped (retention >= window size, as in Kafka). */
  persistentWindowStore: (name: string, retentionPeriodMs: number, windowSizeMs: number, retainDuplicates = false): WindowBytesStoreSupplier => ({ name, storeType: 'persistent', windowSize: windowSizeMs, retainDuplicates, retentionMs: windowRetention(name, retentionPeriodMs, windowSizeMs) }),
  inMemoryWindowStore: (name: string, retentionPeriodMs: number, windowSizeMs: number, retainDuplicates = false): WindowBytesStoreSupplier => ({ name, storeType: 'in_memory', windowSize: windowSizeMs, retainDuplicates, retentionMs: windowRetention(name, retentionPeriodMs, windowSizeMs) }),
  /** Session stores (the same SessionStore the DSL's session windows use); sessions ending more than retentionPeriodMs of stream time ago are dropped. */
  persistentSessionStore: (name: string, retentionPeriodMs: number): SessionBytesStoreSupplier => ({ name, storeType: 'persistent', session: true, retentionMs: sessionRetention(name, retentionPeriodMs) }),
  inMemorySessionStore: (name: string, retentionPeriodMs: number): SessionBytesStoreSupplier => ({ name, storeType: 'in_memory', session: true, retentionMs: sessionRetention(name, retentionPeriodMs) }),
  keyValueStoreBuilder: <K, V>(supplier: KeyValueBytesStoreSupplier, keySerde?: Serde<K>, valueSerde?: Serde<V>): StoreBuilder =>
    new StoreBuilder({ name: supplier.name, kind: 'kv', keySerde, valueSerde, logged: true, cached: false, storeType: supplier.storeType }),
  windowStoreBuilder: <K, V>(supplier: WindowBytesStoreSupplier, keySerde?: Serde<K>, valueSerde?: Serde<V>): StoreBuilder =>
    new StoreBuilder({ name: supplier.name, kind: 'window', keySerde, valueSerde, logged: true, cached: false, storeType: supplier.storeType, windowSize: supplier.windowSize, retainDuplicates: supplier.retainDuplicates, retentionMs: supplier.retentionMs }),
  sessionStoreBuilder: <K, V>(supplier: SessionBytesStoreSupplier, keySerde?: Serde<K>, valueSerde?: Serde<V>): StoreBuilder =>
    new StoreBuilder({ name: supplier.name, kind: 'session', keySerde, valueSerde, logged: true, cached: false, storeType: supplier.storeType, retentionMs: supplier.retentionMs }),
};

function windowRetention(name: string, ms: number, windowSizeMs: number): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new Error(`window store ${name}: retentionPeriod must be a number >= 0, got ${ms}`);
  if (ms < windowSizeMs) throw new Error(`window store ${name}: retentionPeriod ${ms} ms is smaller than the window size ${windowSizeMs} ms`);
  return ms;
}

function sessionRetention(name: string, ms: number): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new Error(`session store ${name}: retentionPeriod must be a number >= 0, got ${ms}`);
  return ms;
}
