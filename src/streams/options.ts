// Operator options with Kafka Streams' names: Consumed, Produced, Grouped, Materialized, Joined,
// StreamJoined, Repartitioned, Named, Branched, Suppressed.
import type { Serde } from './serdes.js';

export type TimestampExtractor = (record: { key: unknown; value: unknown; timestamp: number; topic: string; partition: number }, partitionTime: number) => number;
export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, numPartitions: number) => number | undefined;
export type TopicNameExtractor<K, V> = (key: K, value: V, context: { topic: string; partition: number; offset: number }) => string;

export type AutoOffsetReset = 'earliest' | 'latest';

export class Consumed<K = any, V = any> {
  constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly timestampExtractor?: TimestampExtractor,
    readonly offsetReset?: AutoOffsetReset,
    readonly name?: string,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Consumed<K, V> {
    return new Consumed(keySerde, valueSerde);
  }
  static as(name: string): Consumed {
    return new Consumed(undefined, undefined, undefined, undefined, name);
  }
  withTimestampExtractor(e: TimestampExtractor): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, e, this.offsetReset, this.name);
  }
  withOffsetResetPolicy(reset: AutoOffsetReset): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, this.timestampExtractor, reset, this.name);
  }
}

export class Produced<K = any, V = any> {
  constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly partitioner?: StreamPartitioner<K, V>,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Produced<K, V> {
    return new Produced(keySerde, valueSerde);
  }
  static keySerde<K>(s: Serde<K>): Produced<K, any> {
    return new Produced(s);
  }
  static valueSerde<V>(s: Serde<V>): Produced<any, V> {
    return new Produced(undefined, s);
  }
  static streamPartitioner<K, V>(p: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(undefined, undefined, p);
  }
  withStreamPartitioner(p: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, p);
  }
}

export class Grouped<K = any, V = any> {
  constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly name?: string,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Grouped<K, V> {
    return new Grouped(keySerde, valueSerde);
  }
  static as(name: string): Grouped {
    return new Grouped(undefined, undefined, name);
  }
  withName(name: string): Grouped<K, V> {
    return new Grouped(this.keySerde, this.valueSerde, name);
  }
  withKeySerde<K2>(s: Serde<K2>): Grouped<K2, V> {
    return new Grouped(s, this.valueSerde, this.name);
  }
  withValueSerde<V2>(s: Serde<V2>): Grouped<K, V2> {
    return new Grouped(this.keySerde, s, this.name);
  }
}

export class Repartitioned<K = any, V = any> {
  constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly name?: string,
    readonly numberOfPartitions?: number,
    readonly partitioner?: StreamPartitioner<K, V>,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Repartitioned<K, V> {
    return new Repartitioned(keySerde, valueSerde);
  }
  static as(name: string): Repartitioned {
    return new Repartitioned(undefined, undefined, name);
  }
  static numberOfPartitions(n: number): Repartitioned {
    return new Repartitioned(undefined, undefined, undefined, n);
  }
  withNumberOfPartitions(n: number): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, this.name, n, this.partitioner);
  }
  withName(name: string): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, name, this.numberOfPartitions, this.partitioner);
  }
  withStreamPartitioner(p: StreamPartitioner<K, V>): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, this.name, this.numberOfPartitions, p);
  }
}

export type StoreType = 'in_memory' | 'persistent';

export class Materialized<K = any, V = any> {
  constructor(
    readonly storeName?: string,
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly cachingEnabled = true,
    readonly loggingEnabled = true,
    readonly storeType?: StoreType,
    readonly retentionMs?: number,
  ) {}
  static as<K = any, V = any>(storeName: string): Materialized<K, V> {
    return new Materialized(storeName);
  }
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Materialized<K, V> {
    return new Materialized(undefined, keySerde, valueSerde);
  }
  private copy(o: Partial<Materialized<any, any>>): Materialized<any, any> {
    const m = { ...this, ...o } as Materialized<any, any>;
    return new Materialized(m.storeName, m.keySerde, m.valueSerde, m.cachingEnabled, m.loggingEnabled, m.storeType, m.retentionMs);
  }
  withKeySerde<K2>(s: Serde<K2>): Materialized<K2, V> {
    return this.copy({ keySerde: s });
  }
  withValueSerde<V2>(s: Serde<V2>): Materialized<K, V2> {
    return this.copy({ valueSerde: s });
  }
  withCachingEnabled(): Materialized<K, V> {
    return this.copy({ cachingEnabled: true });
  }
  withCachingDisabled(): Materialized<K, V> {
    return this.copy({ cachingEnabled: false });
  }
  withLoggingEnabled(): Materialized<K, V> {
    return this.copy({ loggingEnabled: true });
  }
  withLoggingDisabled(): Materialized<K, V> {
    return this.copy({ loggingEnabled: false });
  }
  /** 'in_memory' or 'persistent' (lmdb); default from the `default.dsl.store` config. */
  withStoreType(t: StoreType): Materialized<K, V> {
    return this.copy({ storeType: t });
  }
  withRetention(ms: number): Materialized<K, V> {
    return this.copy({ retentionMs: ms });
  }
}

export class Joined<K = any, V = any, VO = any> {
  constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly otherValueSerde?: Serde<VO>,
    readonly name?: string,
  ) {}
  static with<K, V, VO>(keySerde?: Serde<K>, valueSerde?: Serde<V>, otherValueSerde?: Serde<VO>): Joined<K, V, VO> {
    return new Joined(keySerde, valueSerde, otherValueSerde);
  }
  static as(name: string): Joined {
    return new Joined(undefined, undefined, undefined, name);
  }
}

export class StreamJoined<K = any, V = any, VO = any> {
  constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly otherValueSerde?: Serde<VO>,
    readonly storeName?: string,
  ) {}
  static with<K, V, VO>(keySerde?: Serde<K>, valueSerde?: Serde<V>, otherValueSerde?: Serde<VO>): StreamJoined<K, V, VO> {
    return new StreamJoined(keySerde, valueSerde, otherValueSerde);
  }
  static as(storeName: string): StreamJoined {
    return new StreamJoined(undefined, undefined, undefined, storeName);
  }
  withStoreName(name: string): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, name);
  }
}

export class Named {
  constructor(readonly name: string) {}
  static as(name: string): Named {
    return new Named(name);
  }
}

// biome-ignore lint/correctness/noUnusedVariables: K and V type the branch like Kafka Streams' Branched<K, V>
export class Branched<K = any, V = any> {
  constructor(
    readonly name?: string,
    readonly chain?: (s: any) => any,
  ) {}
  static as(name: string): Branched {
    return new Branched(name);
  }
  /** The branch stream is handed to fn; its result (if a stream) is what the map holds. */
  static withFunction(fn: (s: any) => any, name?: string): Branched {
    return new Branched(name, fn);
  }
  static withConsumer(fn: (s: any) => void, name?: string): Branched {
    return new Branched(name, (s) => {
      fn(s);
      return undefined;
    });
  }
}

export class BufferConfig {
  constructor(
    readonly maxRecords = Infinity,
    readonly maxBytes = Infinity,
  ) {}
  static unbounded(): BufferConfig {
    return new BufferConfig();
  }
  static maxRecords(n: number): BufferConfig {
    return new BufferConfig(n);
  }
  shutDownWhenFull(): BufferConfig {
    return this;
  }
  emitEarlyWhenFull(): BufferConfig {
    return this;
  }
}

export class Suppressed {
  private constructor(
    readonly kind: 'untilWindowCloses' | 'untilTimeLimit',
    readonly timeLimitMs: number,
    readonly buffer: BufferConfig,
  ) {}
  static untilWindowCloses(buffer: BufferConfig = BufferConfig.unbounded()): Suppressed {
    return new Suppressed('untilWindowCloses', 0, buffer);
  }
  static untilTimeLimit(ms: number, buffer: BufferConfig = BufferConfig.unbounded()): Suppressed {
    return new Suppressed('untilTimeLimit', ms, buffer);
  }
}
