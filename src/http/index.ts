// Fjord's HTTP side: the Schema Registry and the REST Proxy, each a fastify plugin on its own
// listener (Confluent's default ports 8081 and 8082), both reaching Kafka only as clients.
import type { FastifyInstance } from 'fastify';
import { registryPlugin } from '../registry/plugin.js';
import { SchemaStore } from '../registry/store.js';
import type { BaseOptions } from '@platformatic/kafka';
import { createHttpServer, listen } from './server.js';
import type { KafkaAccess } from './kafka.js';
import { httpsOptions, installAuthentication, type HttpSecurityOptions } from './auth.js';

export interface HttpServiceOptions {
  /** Kafka bootstrap servers the services connect to as clients. */
  bootstrap: string | string[];
  host?: string;
  /** Default 8081; 0 picks a free port. */
  port?: number;
  logLevel?: string;
  log?: (msg: string) => void;
  /** HTTPS and HTTP authentication (Basic / Bearer checked by the cluster). */
  security?: HttpSecurityOptions;
  /** TLS / SASL of the service's own Kafka connections (a --command-config file's settings). */
  kafkaSecurity?: Pick<BaseOptions, 'tls' | 'sasl'>;
}

export interface RunningService {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

function access(o: HttpServiceOptions, clientId: string): KafkaAccess {
  const brokers = Array.isArray(o.bootstrap) ? o.bootstrap : o.bootstrap.split(',').map((s) => s.trim()).filter(Boolean);
  return { brokers, clientId, security: o.kafkaSecurity };
}

/**
 * Starts the Schema Registry: listens first (a taken port fails at once), then replays
 * `_schemas`; requests wait until the replay is done.
 */
export async function startSchemaRegistry(o: HttpServiceOptions): Promise<RunningService & { store: SchemaStore }> {
  const store = new SchemaStore({ kafka: access(o, 'fjord-schema-registry'), log: o.log });
  const app = createHttpServer({ logLevel: o.logLevel, https: httpsOptions(o.security) });
  installAuthentication(app, access(o, 'fjord-schema-registry-auth'), o.security, 'Schema Registry');
  const ready = store.start();
  ready.catch(() => {}); // awaited below; a failure must not surface as unhandled meanwhile
  app.addHook('onRequest', async () => {
    await ready;
  });
  await app.register(registryPlugin, { store });
  let url: string;
  try {
    url = await listen(app, o.host ?? '127.0.0.1', o.port ?? 8081, 'schema registry');
    await ready;
  } catch (err) {
    await app.close().catch(() => {});
    await ready.catch(() => {});
    await store.close();
    throw err;
  }
  return {
    url,
    app,
    store,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/** Starts the REST Proxy (v2 and v3); `registryUrl` enables Avro/JSON Schema/Protobuf payloads. */
export async function startRestProxy(
  o: HttpServiceOptions & { registryUrl?: string; consumerInstanceTimeoutMs?: number; maxRequestBytes?: number; maxRecordBytes?: number },
): Promise<RunningService> {
  const { restProxyPlugin, RestProxy } = await import('../rest-proxy/plugin.js');
  const proxy = new RestProxy({
    kafka: access(o, 'fjord-rest-proxy'),
    registryUrl: o.registryUrl,
    consumerInstanceTimeoutMs: o.consumerInstanceTimeoutMs,
    maxRecordBytes: o.maxRecordBytes,
  });
  await proxy.start();
  const app = createHttpServer({ logLevel: o.logLevel, bodyLimit: o.maxRequestBytes ?? 16 * 1024 * 1024, https: httpsOptions(o.security) });
  installAuthentication(app, access(o, 'fjord-rest-proxy'), o.security, 'REST Proxy');
  await app.register(restProxyPlugin, { proxy });
  let url: string;
  try {
    url = await listen(app, o.host ?? '127.0.0.1', o.port ?? 8082, 'REST proxy');
  } catch (err) {
    await app.close().catch(() => {});
    await proxy.close();
    throw err;
  }
  return {
    url,
    app,
    close: async () => {
      await app.close();
      await proxy.close();
    },
  };
}
