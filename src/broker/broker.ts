// Broker lifecycle: load metadata, open logs (recovery), start background tasks, listen.
// close() stops listening, flushes and closes every log, and writes the clean-shutdown marker.
import { mkdir } from 'node:fs/promises';
import { EmbeddedMetadataStore } from '../cluster/embedded-store.js';
import type { MetadataStore } from '../cluster/metadata-store.js';
import { ReplicaManager } from '../cluster/replica-manager.js';
import { KafkaServer } from '../net/server.js';
import { LogManager } from '../storage/index.js';
import { ConfigAdmin } from './config-admin.js';
import { BrokerConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import type { Handler } from './handler.js';
import { allHandlers } from './handlers/index.js';
import { ProducerIdManager } from './producer-ids.js';
import { ClientQuotas } from './quotas.js';
import { TopicAdmin } from './topic-admin.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';
import { QuotaManager } from '../security/quota-manager.js';
import { SecurityManager } from '../security/security-manager.js';
import { usesTls } from '../security/session.js';

export interface BrokerOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** Kafka broker configs (`log.retention.ms`, `num.partitions`, ...). */
  config?: Record<string, string>;
  /** Host advertised to clients in Metadata; defaults to the listen host (127.0.0.1 for wildcards). */
  advertisedHost?: string;
  logger?: (msg: string) => void;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly nodeId: number;
  readonly metadata: MetadataStore;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly topics: TopicAdmin;
  readonly producerIds: ProducerIdManager;
  readonly configAdmin: ConfigAdmin;
  readonly quotas: ClientQuotas;
  /** Group coordinator: classic + consumer groups, committed offsets in __consumer_offsets. */
  readonly groups: GroupCoordinator;
  readonly handlers: ReadonlyMap<number, Handler>;
  /** Listeners, TLS, SASL credentials and the ACL authorizer. */
  readonly security: SecurityManager;
  /** Enforces the client byte-rate quotas stored by AlterClientQuotas. */
  readonly quotaManager: QuotaManager;
  readonly log: (msg: string) => void;
  private readonly servers: KafkaServer[] = [];
  /** The first listener's server (its connections are what tests inspect). */
  get server(): KafkaServer | undefined {
    return this.servers[0];
  }
  /** Every listener with the address it is bound to (port 0 resolved), in configuration order. */
  listenerEndpoints: { name: string; protocol: string; host: string; port: number }[] = [];
  host = '127.0.0.1';
  port = 0;
  advertisedHost = '127.0.0.1';
  private closing: Promise<void> | undefined;

  private constructor(readonly options: BrokerOptions) {
    this.config = new BrokerConfig(options.config ?? {});
    this.nodeId = this.config.nodeId;
    this.log = options.logger ?? (() => {});
    this.metadata = new EmbeddedMetadataStore(options.dataDir, this.nodeId);
    this.logs = new LogManager(options.dataDir, {
      flush: {
        // Group commit (fsync before ack) unless the user asks for Kafka's flush.messages/flush.ms behaviour.
        mode: this.config.get('fjord.flush.mode') === 'kafka' ? 'interval' : 'group-commit',
        groupCommitMs: this.config.getInt('fjord.group.commit.ms'),
      },
      configFor: (topic) => {
        const record = this.metadata.topic(topic);
        return this.replicas.settingsFor(record ?? { name: topic, topicId: '', partitions: [], configs: {}, createdAt: 0 });
      },
      retentionCheckIntervalMs: this.config.logRetentionCheckIntervalMs,
      cleanerEnabled: this.config.getBool('log.cleaner.enable'),
      cleanerBackoffMs: this.config.getLong('log.cleaner.backoff.ms'),
      onCleanerError: (log, err) => this.log(`log cleaner failed on ${log.topic}-${log.partition}: ${err.message}`),
    });
    this.replicas = new ReplicaManager(this.nodeId, this.config, this.metadata, this.logs);
    this.topics = new TopicAdmin(this.nodeId, this.config, this.metadata, this.replicas);
    this.producerIds = new ProducerIdManager(this.metadata);
    this.configAdmin = new ConfigAdmin(this.nodeId, this.config, this.metadata, this.replicas);
    this.quotas = new ClientQuotas(this.metadata);
    this.groups = new GroupCoordinator({
      nodeId: this.nodeId,
      config: this.config,
      metadata: this.metadata,
      partitions: this.replicas,
      topics: this.topics,
      log: (msg) => this.log(msg),
    });
    this.security = new SecurityManager(this.config, options.dataDir);
    this.quotaManager = new QuotaManager(
      () => this.metadata.clientQuotas(),
      () => this.config.getInt('quota.window.size.seconds') * 1000,
      () => this.config.getInt('quota.window.num'),
    );
    this.handlers = new Map(allHandlers.map((h) => [h.apiKey, h]));
  }

  static async start(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options);
    await broker.startup();
    return broker;
  }

  get clusterId(): string {
    return this.metadata.clusterId;
  }

  get bootstrap(): string {
    return `${this.advertisedHost}:${this.port}`;
  }

  private async startup(): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    await this.metadata.load();
    this.configAdmin.loadDynamicBrokerConfigs(this.log);
    await this.logs.load();
    for (const topic of this.metadata.topics()) await this.replicas.ensureTopic(topic);
    await this.groups.start();
    this.logs.startBackgroundTasks();
    await this.security.load();
    const limits = {
      maxFrameBytes: this.config.socketRequestMaxBytes,
      maxInFlight: 64,
      maxQueuedResponseBytes: 64 * 1024 * 1024,
    };
    const dispatcher = new Dispatcher(this, this.handlers);
    for (const spec of this.security.listeners(this.options.host ?? '127.0.0.1', this.options.port ?? 9092)) {
      const server = new KafkaServer(dispatcher, limits, this.log);
      const tls = usesTls(spec.protocol);
      const listening = await server.listen({
        host: spec.host,
        port: spec.port,
        listener: { name: spec.name, protocol: spec.protocol },
        tls: tls ? () => this.security.tlsOptions() : undefined,
        certificatePrincipal: tls ? (socket) => (socket.authorized ? this.security.principalFromCertificate(socket.getPeerCertificate().subject as never) : null) : undefined,
      });
      this.servers.push(server);
      const wildcard = listening.host === '0.0.0.0' || listening.host === '::';
      const advertised = this.options.advertisedHost ?? (wildcard ? '127.0.0.1' : listening.host);
      this.listenerEndpoints.push({ name: spec.name, protocol: spec.protocol, host: advertised, port: listening.port });
    }
    const primary = this.listenerEndpoints[0]!;
    this.host = primary.host;
    this.port = primary.port;
    this.advertisedHost = primary.host;
    await this.metadata.registerBroker({
      nodeId: this.nodeId,
      host: this.advertisedHost,
      port: this.port,
      rack: null,
      endpoints: this.listenerEndpoints.map(({ name, host, port }) => ({ name, host, port })),
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.groups.close();
      await Promise.all(this.servers.map((s) => s.close()));
      await this.logs.close();
      await this.metadata.close();
    })();
    return this.closing;
  }
}
