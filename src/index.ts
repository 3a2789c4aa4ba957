// Fjord's public API.
import { Broker, type BrokerOptions } from './broker/broker.js';

export { Broker, type BrokerOptions } from './broker/broker.js';

export interface StartBrokerOptions {
  dataDir: string;
  /** 0 picks a free port. Default 9092. */
  port?: number;
  host?: string;
  config?: Record<string, string>;
  logger?: (msg: string) => void;
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
    logger: options.logger,
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
