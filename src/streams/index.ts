// fjord/streams: Kafka Streams for TypeScript.
export { Serdes, type Serde, type Serializer, type Deserializer } from './serdes.js';
export { WindowedSerdes } from './windowed-serdes.js';
export { StreamsBuilder, KStream, KTable, GlobalKTable, KGroupedStream, KGroupedTable, TimeWindowedKStream, SessionWindowedKStream, BranchedKStream, KeyValue } from './dsl.js';
export { Consumed, Produced, Grouped, Materialized, Joined, StreamJoined, Repartitioned, Named, Branched, Suppressed, BufferConfig, type TimestampExtractor, type StreamPartitioner, type TopicNameExtractor } from './options.js';
export { TimeWindows, SlidingWindows, SessionWindows, JoinWindows, Duration } from './windows.js';
export { KeyValueStore, WindowStore, SessionStore, type Windowed, type Window } from './stores.js';
export { Topology, Change } from './topology.js';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TestRecord } from './test-driver.js';
export { type StreamsConfig, StreamsConfigError } from './config.js';
export { KafkaStreams, type KafkaStreamsState, type KeyQueryMetadata } from './kafka-streams.js';
export { KafkaAuthenticationError } from './kafka-io.js';
export { PunctuationType, Record, Stores, StoreBuilder, type Processor, type ProcessorContext, type ProcessorSupplier, type RecordMetadata, type Cancellable } from './processor.js';
export {
  AvroSerde,
  JsonSchemaSerde,
  ProtobufSerde,
  prefetchRegistrySerdes,
  type AvroSerdeConfig,
  type JsonSchemaSerdeConfig,
  type ProtobufSerdeConfig,
  type RegistrySerdeConfig,
} from './registry-serdes.js';
