// Fjord's HTTP side: the Schema Registry and the REST Proxy, each a fastify plugin on its own
// listener (Confluent's default ports 8081 and 8082), both reaching Kafka only as clients.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registryPlugin } from '../registry/plugin.js';
import { SchemaStore } from '../registry/store.js';
import { RegistryElection } from '../registry/leader.js';
import { HttpError } from './server.js';
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
export async function startSchemaRegistry(
  o: HttpServiceOptions & {
    /**
     * Run as one of several instances: leader elected through this Kafka group (Confluent's
     * `schema-registry`); followers forward writes to the leader. `url` is how the others reach
     * this instance (default: the listen address).
     */
    leaderElection?: { groupId?: string; url?: string; sessionTimeoutMs?: number };
  },
): Promise<RunningService & { store: SchemaStore; election?: RegistryElection }> {
  const store = new SchemaStore({ kafka: access(o, 'fjord-schema-registry'), log: o.log });
  const app = createHttpServer({ logLevel: o.logLevel, https: httpsOptions(o.security) });
  installAuthentication(app, access(o, 'fjord-schema-registry-auth'), o.security, 'Schema Registry');
  const ready = store.start();
  ready.catch(() => {}); // awaited below; a failure must not surface as unhandled meanwhile
  let electionReady: Promise<void> = Promise.resolve();
  let election: RegistryElection | undefined;
  app.addHook('onRequest', async () => {
    await ready;
    await electionReady;
  });
  if (o.leaderElection) app.addHook('preHandler', async (req, reply) => forwardWrite(election, req, reply));
  await app.register(registryPlugin, { store });
  let url: string;
  try {
    url = await listen(app, o.host ?? '127.0.0.1', o.port ?? 8081, 'schema registry');
    if (o.leaderElection) {
      election = new RegistryElection({
        kafka: access(o, 'fjord-schema-registry'),
        url: o.leaderElection.url ?? url,
        groupId: o.leaderElection.groupId,
        sessionTimeoutMs: o.leaderElection.sessionTimeoutMs,
        log: o.log,
      });
      electionReady = election.start();
      electionReady.catch(() => {});
    }
    await ready;
    await electionReady;
  } catch (err) {
    await app.close().catch(() => {});
    await ready.catch(() => {});
    await election?.close();
    await store.close();
    throw err;
  }
  return {
    url,
    app,
    store,
    election,
    close: async () => {
      await election?.close();
      await app.close();
      await store.close();
    },
  };
}

/** Registry routes that change state (POST /subjects/{s} is a lookup, compatibility a check). */
function isRegistryWrite(method: string, route: string | undefined): boolean {
  if (!route) return false;
  if (method === 'POST') return route === '/subjects/:subject/versions';
  if (method === 'PUT' || method === 'DELETE') return /^\/(subjects|config|mode)(\/|$)/.test(route);
  return false;
}

/**
 * On a follower, a write goes to the leader and its answer comes back unchanged; 50004 when no
 * leader is known, 50003 when the leader cannot be reached (Confluent's codes).
 */
async function forwardWrite(election: RegistryElection | undefined, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (!isRegistryWrite(req.method, req.routeOptions.url)) return undefined;
  if (!election) throw new HttpError(500, 50004, 'Unknown leader: the leader election has not finished.');
  if (election.isLeader()) return undefined;
  const leader = await election.leaderUrl().catch(() => undefined);
  if (!leader) throw new HttpError(500, 50004, 'Unknown leader: no registry instance leads the group.');
  let res: Response;
  try {
    res = await fetch(`${leader}${req.url}`, {
      method: req.method,
      headers: {
        'content-type': String(req.headers['content-type'] ?? 'application/json'),
        accept: String(req.headers.accept ?? 'application/vnd.schemaregistry.v1+json'),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      },
      body: req.body === undefined || req.method === 'DELETE' ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    election.forgetLeader();
    throw new HttpError(500, 50003, `Error while forwarding the request to the leader ${leader}: ${(err as Error).message}`);
  }
  const body = await res.text();
  return reply.code(res.status).header('content-type', res.headers.get('content-type') ?? 'application/vnd.schemaregistry.v1+json').send(body);
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
