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
  /** Start the Schema Registry too (true: 127.0.0.1 on a free port; or host/port). */
  registry?: boolean | { host?: string; port?: number };
  /** Start the REST Proxy too (true: 127.0.0.1 on a free port; or host/port). */
  rest?: boolean | { host?: string; port?: number; consumerInstanceTimeoutMs?: number; maxRequestBytes?: number };
  /** The cluster metadata store or a factory for it; default: embedded single-node store in dataDir. */
  metadataStore?: BrokerOptions['metadataStore'];
}

export interface RunningBroker {
  readonly host: string;
  readonly port: number;
  /** "host:port", ready for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly broker: Broker;
  /** Schema Registry base URL when started with `registry`. */
  readonly registryUrl?: string;
  /** REST Proxy base URL when started with `rest`. */
  readonly restUrl?: string;
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
  const services: { close(): Promise<void> }[] = [];
  let registryUrl: string | undefined;
  let restUrl: string | undefined;
  const closeAll = async () => {
    for (const s of services.reverse()) await s.close().catch(() => {});
    await broker.close();
  };
  try {
    if (options.registry || options.rest) {
      const http = await import('./http/index.js');
      if (options.registry) {
        const o = options.registry === true ? {} : options.registry;
        const reg = await http.startSchemaRegistry({ bootstrap: broker.bootstrap, host: o.host ?? '127.0.0.1', port: o.port ?? 0, log: options.logger });
        services.push(reg);
        registryUrl = reg.url;
        // Topics with confluent.*.schema.validation are checked against this registry.
        broker.schemaValidator.localRegistryUrl = reg.url;
      }
      if (options.rest) {
        const o = options.rest === true ? {} : options.rest;
        const rest = await http.startRestProxy({ ...o, bootstrap: broker.bootstrap, host: o.host ?? '127.0.0.1', port: o.port ?? 0, registryUrl, log: options.logger });
        services.push(rest);
        restUrl = rest.url;
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    host: broker.advertisedHost,
    port: broker.port,
    bootstrap: broker.bootstrap,
    broker,
    registryUrl,
    restUrl,
    close: closeAll,
  };
}

export { startSchemaRegistry, startRestProxy, type HttpServiceOptions, type RunningService } from './http/index.js';
export {
  startCluster,
  type StartClusterOptions,
  type RunningCluster,
  type ClusterBroker,
} from './cluster/start-cluster.js';
