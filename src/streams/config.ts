// KafkaStreams configuration with Kafka's keys (application.id, bootstrap.servers, ...).
import { ClientSecurityError, clientSecurityFrom, type ClientSecurityOptions } from '../security/client-security.js';
import { Serdes, type Serde } from './serdes.js';
import type { StreamsDefaults } from './topology.js';

export interface StreamsConfig {
  'application.id': string;
  'bootstrap.servers'?: string | string[];
  /** 'at_least_once' (default) or 'exactly_once_v2'. */
  'processing.guarantee'?: 'at_least_once' | 'exactly_once_v2' | 'exactly_once';
  'commit.interval.ms'?: number;
  'state.dir'?: string;
  'num.standby.replicas'?: number;
  /** Record cache size for all tasks of this instance (Kafka's statestore.cache.max.bytes). */
  'statestore.cache.max.bytes'?: number;
  'cache.max.bytes.buffering'?: number;
  'default.key.serde'?: Serde<any>;
  'default.value.serde'?: Serde<any>;
  /** 'in_memory' or 'persistent' (lmdb); Kafka's 'rocksDB' is accepted as persistent. */
  'default.dsl.store'?: 'in_memory' | 'persistent' | 'rocksDB' | 'rocks_db';
  'num.stream.threads'?: number;
  'replication.factor'?: number;
  'session.timeout.ms'?: number;
  'heartbeat.interval.ms'?: number;
  /** host:port this instance serves interactive queries on (returned by queryMetadataForKey). */
  'application.server'?: string;
  'client.id'?: string;
  'auto.offset.reset'?: 'earliest' | 'latest';
  /** 'logAndFail' (default) stops the instance on an undecodable record; 'logAndContinue' skips it. */
  'default.deserialization.exception.handler'?: 'logAndFail' | 'logAndContinue';
  /** 'streams' (KIP-1071, the default when the broker offers StreamsGroupHeartbeat) or 'classic' (consumer-group protocol with Fjord's assignor). */
  'group.protocol'?: 'classic' | 'streams';
  /** PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL — used by every connection the instance opens. */
  'security.protocol'?: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  /** PEM CA bundle to trust (ssl.truststore.location is read the same way; PEM only). */
  'ssl.ca.location'?: string;
  'ssl.truststore.location'?: string;
  /** Client certificate and key (PEM files) for mutual TLS. */
  'ssl.certificate.location'?: string;
  'ssl.key.location'?: string;
  /** librdkafka's inline PEM variants of the three above. */
  'ssl.ca.pem'?: string;
  'ssl.certificate.pem'?: string;
  'ssl.key.pem'?: string;
  /** 'https' (default) verifies the broker's host name; '' or 'none' does not. */
  'ssl.endpoint.identification.algorithm'?: string;
  /** PLAIN (default), SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER. */
  'sasl.mechanism'?: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';
  /** Java-style login: `... required username="..." password="...";` (sasl.username / sasl.password win). */
  'sasl.jaas.config'?: string;
  'sasl.username'?: string;
  'sasl.password'?: string;
  'sasl.oauthbearer.token'?: string;
  [key: string]: unknown;
}

export interface ResolvedConfig {
  applicationId: string;
  bootstrapServers: string[];
  exactlyOnce: boolean;
  commitIntervalMs: number;
  stateDir: string;
  numStandbyReplicas: number;
  cacheMaxBytes: number;
  defaults: StreamsDefaults;
  replicationFactor: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  applicationServer: string;
  clientId: string;
  autoOffsetReset: 'earliest' | 'latest';
  skipUndecodable: boolean;
  /** Explicit group.protocol, or null: streams when the broker offers it, else classic. */
  groupProtocol: 'classic' | 'streams' | null;
  /** num.standby.replicas was given (under KIP-1071 it is then written to the group's config). */
  standbyReplicasExplicit: boolean;
  /** TLS and SASL options for every client and socket. */
  security: ClientSecurityOptions;
}

export class StreamsConfigError extends Error {}

export function resolveConfig(c: StreamsConfig, needBootstrap: boolean): ResolvedConfig {
  const appId = c['application.id'];
  if (typeof appId !== 'string' || !/^[A-Za-z0-9._-]+$/.test(appId)) throw new StreamsConfigError(`application.id must be a non-empty name of letters, digits, '.', '_' or '-', got ${JSON.stringify(appId)}`);
  const bs = c['bootstrap.servers'];
  const servers = (Array.isArray(bs) ? bs : typeof bs === 'string' ? bs.split(',') : []).map((s) => s.trim()).filter(Boolean);
  if (needBootstrap && servers.length === 0) throw new StreamsConfigError('bootstrap.servers is required');
  const guarantee = c['processing.guarantee'] ?? 'at_least_once';
  if (!['at_least_once', 'exactly_once_v2', 'exactly_once'].includes(guarantee)) throw new StreamsConfigError(`processing.guarantee must be at_least_once or exactly_once_v2, got ${guarantee}`);
  const exactlyOnce = guarantee !== 'at_least_once';
  const num = (k: string, d: number, min = 0) => {
    const v = c[k];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new StreamsConfigError(`${k} must be a number >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const store = c['default.dsl.store'] ?? 'persistent';
  const protocol = c['group.protocol'];
  if (protocol !== undefined && protocol !== 'classic' && protocol !== 'streams') throw new StreamsConfigError(`group.protocol must be classic or streams, got ${JSON.stringify(protocol)}`);
  let security: ClientSecurityOptions;
  try {
    security = clientSecurityFrom((k) => c[k], 'the KafkaStreams config');
  } catch (err) {
    if (err instanceof ClientSecurityError) throw new StreamsConfigError(err.message);
    throw err;
  }
  return {
    applicationId: appId,
    bootstrapServers: servers,
    exactlyOnce,
    commitIntervalMs: num('commit.interval.ms', exactlyOnce ? 100 : 30_000, 1),
    stateDir: (c['state.dir'] as string | undefined) ?? `/tmp/fjord-streams`,
    numStandbyReplicas: num('num.standby.replicas', 0),
    cacheMaxBytes: num('statestore.cache.max.bytes', num('cache.max.bytes.buffering', 10 * 1024 * 1024)),
    defaults: {
      keySerde: c['default.key.serde'] ?? Serdes.String(),
      valueSerde: c['default.value.serde'] ?? Serdes.String(),
      storeType: store === 'in_memory' ? 'in_memory' : 'persistent',
    },
    replicationFactor: num('replication.factor', -1, -1),
    sessionTimeoutMs: num('session.timeout.ms', 10_000, 1),
    heartbeatIntervalMs: num('heartbeat.interval.ms', 1_000, 1),
    applicationServer: (c['application.server'] as string | undefined) ?? '',
    clientId: (c['client.id'] as string | undefined) ?? `${appId}-client`,
    autoOffsetReset: c['auto.offset.reset'] ?? 'earliest',
    skipUndecodable: c['default.deserialization.exception.handler'] === 'logAndContinue',
    groupProtocol: protocol ?? null,
    standbyReplicasExplicit: c['num.standby.replicas'] !== undefined,
    security,
  };
}
