// Fjord's public API.
import { Broker, type BrokerOptions, type ListenerSpec } from './broker/broker.js';

export { Broker, type BrokerOptions, type ListenerSpec } from './broker/broker.js';
export type { MetadataStore } from './cluster/metadata-store.js';

export interface StartBrokerOptions {
  dataDir: string;
  /** 0 picks a free port. Default 9092. */
  port?: number;
  host?: string;
  /** Several endpoints instead of host/port; the first is advertised. */
  listeners?: ListenerSpec[];
  config?: Record<string, string>;
  /** One line per log record; levels follow the broker-logger configs (DescribeConfigs / AlterConfigs). */
  logger?: (msg: string) => void;
  /** The cluster metadata store or a factory for it; default: embedded single-node store in dataDir. */
  metadataStore?: BrokerOptions['metadataStore'];
}

export interface RunningBroker {
  readonly host: string;
  readonly port: number;
  /** "host:port", ready for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly broker: Broker;
  close(): Promise<void>;
}

/** Starts a broker in this process; resolves once it accepts connections. */
export async function startBroker(options: StartBrokerOptions): Promise<RunningBroker> {
  const brokerOptions: BrokerOptions = {
    dataDir: options.dataDir,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 9092,
    config: options.config,
    listeners: options.listeners,
    logger: options.logger,
    metadataStore: options.metadataStore,
  };
  const broker = await Broker.start(brokerOptions);
  return {
    host: broker.advertisedHost,
    port: broker.port,
    bootstrap: broker.bootstrap,
    broker,
    close: () => broker.close(),
  };
}
