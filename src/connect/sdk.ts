// The connector SDK: what a connector written in TypeScript implements, and the record and schema
// model shared by converters, transforms and tasks. Shapes follow Kafka Connect's Java API so a
// Connect user recognises them (Schema JSON is exactly JsonConverter's schema envelope).

export type SchemaType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

export interface Schema {
  type: SchemaType;
  optional?: boolean;
  name?: string;
  version?: number;
  doc?: string;
  default?: unknown;
  parameters?: Record<string, string>;
  /** struct only */
  fields?: Field[];
  /** array only */
  items?: Schema;
  /** map only */
  keys?: Schema;
  values?: Schema;
}

export interface Field extends Schema {
  field: string;
}

export interface Header {
  key: string;
  value: string | Buffer | null;
}

export interface ConnectRecord {
  topic: string;
  kafkaPartition?: number | null;
  keySchema?: Schema | null;
  key: unknown;
  valueSchema?: Schema | null;
  value: unknown;
  timestamp?: number | null;
  headers?: Header[];
}

export interface SourceRecord extends ConnectRecord {
  /** Identifies the source stream, e.g. {filename} or {server}; stored as JSON in the offset topic. */
  sourcePartition: Record<string, unknown>;
  /** Position within sourcePartition; the last acknowledged one is handed back after a restart. */
  sourceOffset: Record<string, unknown>;
}

export interface SinkRecord extends ConnectRecord {
  kafkaPartition: number;
  kafkaOffset: bigint;
}

export type ConfigType = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'list' | 'password' | 'class';

export interface ConfigKey {
  type: ConfigType;
  /** Absent means required. */
  default?: string | number | boolean | string[] | null;
  importance?: 'high' | 'medium' | 'low';
  documentation?: string;
  group?: string;
  validValues?: string[];
  /** Inclusive numeric range. */
  min?: number;
  max?: number;
}

export type ConfigDef = Record<string, ConfigKey>;

/** Given to connectors and tasks: read committed source offsets, request a task reconfiguration. */
export interface ConnectorContext {
  connectorName: string;
  requestTaskReconfiguration(): void;
  raiseError(err: Error): void;
}

export interface SourceTaskContext {
  connectorName: string;
  taskId: number;
  /** The last offset committed for a source partition (null when none). */
  offset(partition: Record<string, unknown>): Record<string, unknown> | null;
}

export interface SinkTaskContext {
  connectorName: string;
  taskId: number;
}

export interface SourceTask {
  start(config: Record<string, string>, context: SourceTaskContext): Promise<void> | void;
  /** Return records, or an empty array/null after waiting briefly (not forever) when there are none. */
  poll(signal: AbortSignal): Promise<SourceRecord[] | null>;
  /** Called for each record once Kafka acknowledged it. */
  commitRecord?(record: SourceRecord): Promise<void> | void;
  /** Called after the offsets of acknowledged records were durably stored in the offset topic. */
  commit?(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface SinkTask {
  start(config: Record<string, string>, context: SinkTaskContext): Promise<void> | void;
  /** Write the records; throw to fail the task (the batch is redelivered after a restart). */
  put(records: SinkRecord[]): Promise<void> | void;
  /** Make everything put so far durable; offsets are committed to Kafka only after this. */
  flush?(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface Connector {
  start(config: Record<string, string>, context: ConnectorContext): Promise<void> | void;
  taskConfigs(maxTasks: number): Promise<Record<string, string>[]> | Record<string, string>[];
  stop(): Promise<void> | void;
  /** Extra validation beyond the config definition: map of config name → error messages. */
  validate?(config: Record<string, string>): Promise<Record<string, string[]>> | Record<string, string[]>;
}

/** What a plugin module exports (default export or `connectors` array) to add connectors. */
export interface ConnectorPlugin {
  className: string;
  aliases?: string[];
  type: 'source' | 'sink';
  version: string;
  config: ConfigDef;
  createConnector(): Connector;
  createTask(): SourceTask | SinkTask;
  /** Sources: false when the task cannot run exactly-once (its offsets do not identify its input). */
  exactlyOnceSupport?: boolean;
}

/** Thrown for retriable problems; other errors fail the task. */
export class RetriableError extends Error {}

export class DataError extends Error {}

export const CONNECT_VERSION = '4.0.0-fjord';

/** A connector that only splits its config into task configs (what most connectors need). */
export function simpleConnector(
  taskConfigs: (config: Record<string, string>, maxTasks: number) => Record<string, string>[],
  validate?: (config: Record<string, string>) => Record<string, string[]>,
): Connector {
  let current: Record<string, string> = {};
  return {
    start(config) {
      current = config;
    },
    taskConfigs: (maxTasks) => taskConfigs(current, maxTasks),
    stop() {},
    validate,
  };
}
