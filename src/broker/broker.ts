// The composition root and lifecycle of one broker: every service is a field built here and
// handed the narrow services it uses, so two brokers in one process share nothing. start():
// load metadata, open logs (recovery), open replicas, load coordinators, listen on every
// listener. close() stops listening, flushes and closes every log, and writes the clean-shutdown marker.
import { SchemaValidator } from './schema-validation.js';
import { mkdir } from 'node:fs/promises';
import { EmbeddedMetadataStore } from '../cluster/embedded-store.js';
import type * as EtcdStoreModule from '../cluster/etcd-store.js';
import { ClusterController } from '../cluster/controller.js';
import { isInternalTopic } from '../coordinator/runtime/internal-topics.js';
import { CoordinatorKeyType, type CoordinatorLocator } from '../coordinator/runtime/runtime.js';
import { BrokerLoggers, LOG_LEVELS, BROKER_LOGGERS } from './logging.js';
import type { MetadataStore } from '../cluster/metadata-store.js';
import { ReplicaManager } from '../cluster/replica-manager.js';
import { InterBrokerClients } from '../cluster/broker-client.js';
import { interBrokerSecurity, type InterBrokerSecurity } from '../cluster/inter-broker-security.js';
import { KafkaServer } from '../net/server.js';
import { LogManager } from '../storage/index.js';
import { DataDirLock, ensureMetaProperties } from '../storage/data-dir.js';
import { ConnectionQuotas } from '../net/connection-quotas.js';
import { ConfigAdmin } from '../config/config-admin.js';
import { BrokerConfig } from '../config/config.js';
import { Dispatcher } from './dispatcher.js';
import type { BrokerServices, Handler } from './handler.js';
import { allHandlers } from './handlers/index.js';
import { ProducerIdManager } from './producer-ids.js';
import { ClientQuotas } from './quotas.js';
import { TopicAdmin } from './topic-admin.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';
import { TransactionCoordinator } from '../coordinator/transaction/coordinator.js';
import { TxnOffsetStore } from '../coordinator/transaction/txn-offsets.js';
import { LocalTxnMarkerChannel } from '../coordinator/transaction/markers.js';
import { QuotaManager } from '../security/quota-manager.js';
import { SecurityManager } from '../security/security-manager.js';
import type { StoredSecurityState } from '../security/store.js';
import { usesTls, type SecurityProtocol } from '../security/session.js';

/** One endpoint the broker listens on, with its security protocol (default: from listener.security.protocol.map, else PLAINTEXT). */
export interface ListenerSpec {
  name: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  protocol?: SecurityProtocol;
}

export interface BrokerOptions {
  dataDir: string;
  /** The first listener; ignored when `listeners` is given. */
  host?: string;
  port?: number;
  /** Endpoints to listen on; the first is advertised to clients. Default: one PLAINTEXT on host:port. */
  listeners?: ListenerSpec[];
  /**
   * The cluster metadata store, or a factory for it. Default: the embedded single-node store in
   * the data dir. A cluster passes its etcd store here.
   */
  metadataStore?: MetadataStore | ((ctx: { dataDir: string; nodeId: number }) => MetadataStore);
  /** Kafka broker configs (`log.retention.ms`, `num.partitions`, ...). */
  config?: Record<string, string>;
  /** Cluster id expected in etcd (created there when none exists yet); only with fjord.etcd.endpoints. */
  clusterId?: string;
  /** Host advertised to clients in Metadata; defaults to the listen host (127.0.0.1 for wildcards). */
  advertisedHost?: string;
  /** Port advertised for the first listener (e.g. behind a proxy); defaults to the bound port. */
  advertisedPort?: number;
  /** Receives one line per log record (pino underneath); without it the broker logs nothing. */
  logger?: (msg: string) => void;
}

export class Broker implements BrokerServices {
  readonly config: BrokerConfig;
  readonly nodeId: number;
  readonly metadata: MetadataStore;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly topics: TopicAdmin;
  readonly producerIds: ProducerIdManager;
  readonly configAdmin: ConfigAdmin;
  readonly schemaValidator: SchemaValidator;
  readonly quotas: ClientQuotas;
  /** Group coordinator: classic + consumer groups, committed offsets in __consumer_offsets. */
  readonly groups: GroupCoordinator;
  /** Transaction coordinator: transactional ids, their state in __transaction_state, markers. */
  readonly transactions: TransactionCoordinator;
  /** Offsets committed inside transactions, pending until their marker (group side). */
  readonly txnOffsets: TxnOffsetStore;
  readonly handlers: ReadonlyMap<number, Handler>;
  /** Requests to other brokers of the cluster (transaction verification and markers). */
  readonly interBroker: InterBrokerClients;
  /** FindCoordinator resolvers by key type; the transaction and share coordinators add theirs here. */
  readonly coordinators: Map<number, CoordinatorLocator>;
  readonly internalTopics = { isInternal: isInternalTopic };
  readonly loggers: BrokerLoggers;
  /** Listeners, TLS, SASL credentials and the ACL authorizer. */
  readonly security: SecurityManager;
  /** Enforces the client byte-rate quotas stored by AlterClientQuotas. */
  readonly quotaManager: QuotaManager;
  readonly log: (msg: string) => void;
  /** etcd cluster only: leader elections on membership changes, ElectLeaders, rebalance, controlled shutdown. */
  readonly controller: ClusterController | undefined;
  private readonly servers: KafkaServer[] = [];
  /** The first listener's server (tests inspect its connections). */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by test/broker/hostile-input.test.ts
  private get server(): KafkaServer | undefined {
    return this.servers[0];
  }
  /** Every listener with its security protocol and the address it is bound to, in the order given. */
  readonly listening: { name: string; protocol: string; host: string; port: number }[] = [];
  /** The advertised endpoint of every listener (what Metadata hands to clients of that listener). */
  readonly listenerEndpoints: { name: string; protocol: string; host: string; port: number }[] = [];
  host = '127.0.0.1';
  port = 0;
  advertisedHost = '127.0.0.1';
  private closing: Promise<void> | undefined;
  private dirLock: DataDirLock | undefined;
  /** max.connections(.per.ip), connections.max.idle.ms, queued.max.request.bytes across all listeners. */
  get connectionQuotas(): ConnectionQuotas {
    if (!this.quotasOfConnections) {
      this.quotasOfConnections = new ConnectionQuotas({
        maxConnections: this.config.getInt('max.connections'),
        maxConnectionsPerIp: this.config.getInt('max.connections.per.ip'),
        connectionsMaxIdleMs: this.config.connectionsMaxIdleMs,
        queuedMaxRequestBytes: this.config.getLong('queued.max.request.bytes'),
      });
      this.quotasOfConnections.connectionRate = (ip) => this.quotaManager.recordConnection(ip);
    }
    return this.quotasOfConnections;
  }
  private quotasOfConnections: ConnectionQuotas | undefined;

  /** The etcd store module, loaded only for a cluster (etcd3 and gRPC cost a single broker's start ~0.3 s). */
  private readonly etcd: typeof EtcdStoreModule | undefined;

  private constructor(
    readonly options: BrokerOptions,
    etcd?: typeof EtcdStoreModule,
  ) {
    this.etcd = etcd;
    this.config = new BrokerConfig(options.config ?? {});
    this.nodeId = this.config.nodeId;
    this.loggers = new BrokerLoggers(options.logger);
    this.log = this.loggers.info('fjord.broker');
    const store = options.metadataStore;
    this.metadata =
      store === undefined
        ? this.defaultMetadataStore()
        : typeof store === 'function'
          ? store({ dataDir: options.dataDir, nodeId: this.nodeId })
          : store;
    this.controller =
      this.etcd && this.metadata instanceof this.etcd.EtcdMetadataStore ? new ClusterController(this.nodeId, this.config, this.metadata, this.loggers.info('fjord.cluster')) : undefined;
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
      onCleanerError: (log, err) => this.loggers.get('fjord.storage').error(`log cleaner failed on ${log.topic}-${log.partition}: ${err.message}`),
      minFreeBytes: this.config.getLong('fjord.storage.min.free.bytes'),
      log: this.loggers.warn('fjord.storage'),
      wal: this.config.getBool('fjord.wal.enable'),
      walFileBytes: this.config.getLong('fjord.wal.segment.bytes'),
      maxOpenSegmentFiles: this.config.getInt('fjord.log.max.open.segment.files'),
    });
    let interBrokerSettings: InterBrokerSecurity | undefined;
    this.interBroker = new InterBrokerClients(this.nodeId, () => this.metadata.brokers(), undefined, () => (interBrokerSettings ??= interBrokerSecurity(this.config)));
    this.replicas = new ReplicaManager(this.nodeId, this.config, this.metadata, this.logs, this.loggers.warn('fjord.cluster'));
    this.topics = new TopicAdmin(this.nodeId, this.config, this.metadata, this.replicas);
    this.producerIds = new ProducerIdManager(this.metadata);
    this.schemaValidator = new SchemaValidator(() => this.config.get('confluent.schema.registry.url'));
    this.configAdmin = new ConfigAdmin(this.nodeId, this.config, this.metadata, this.replicas, this.loggers, LOG_LEVELS, BROKER_LOGGERS);
    this.quotas = new ClientQuotas(this.metadata);
    this.groups = new GroupCoordinator({
      nodeId: this.nodeId,
      config: this.config,
      groupConfigs: this.configAdmin.groups,
      interBroker: this.interBroker,
      metadata: this.metadata,
      partitions: this.replicas,
      topics: this.topics,
      log: this.loggers.info('fjord.coordinator'),
    });
    this.txnOffsets = new TxnOffsetStore(this.groups, {
      config: this.config,
      metadata: this.metadata,
      partitions: this.replicas,
      transactions: { verifyPartition: (...args) => this.transactions.verifyPartition(...args) },
    });
    this.transactions = new TransactionCoordinator({
      nodeId: this.nodeId,
      config: this.config,
      metadata: this.metadata,
      partitions: this.replicas,
      topics: this.topics,
      log: this.loggers.info('fjord.coordinator'),
      producerIds: this.producerIds,
      offsetsPartitionFor: async (groupId) => {
        await this.groups.offsetsTopic.ensure();
        return this.groups.offsetsTopic.partitionFor(groupId);
      },
      markerChannel: new LocalTxnMarkerChannel(this),
    });
    this.coordinators = new Map<number, CoordinatorLocator>([
      [CoordinatorKeyType.GROUP, this.groups.offsetsTopic],
      [CoordinatorKeyType.TRANSACTION, this.transactions.stateTopic],
    ]);
    // A cluster shares ACLs and SCRAM credentials through its metadata store; one broker keeps its own.
    const metadata = this.metadata;
    const shared =
      metadata.securityState && metadata.updateSecurityState
        ? { get: () => metadata.securityState!() as StoredSecurityState | undefined, put: (next: StoredSecurityState) => metadata.updateSecurityState!(next) }
        : undefined;
    this.security = new SecurityManager(this.config, options.dataDir, shared);
    if (shared) metadata.onChange((change) => change.kind === 'security-updated' && this.security.refreshShared());
    this.quotaManager = new QuotaManager(
      () => this.metadata.clientQuotas(),
      () => this.config.getInt('quota.window.size.seconds') * 1000,
      () => this.config.getInt('quota.window.num'),
    );
    this.handlers = new Map(allHandlers.map((h) => [h.apiKey, h]));
  }

  /** fjord.etcd.endpoints set: the shared etcd store of a cluster; otherwise the embedded single-node one. */
  private defaultMetadataStore(): MetadataStore {
    const endpoints = this.config.getList('fjord.etcd.endpoints');
    if (endpoints.length === 0 || !this.etcd) return new EmbeddedMetadataStore(this.options.dataDir, this.nodeId);
    return new this.etcd.EtcdMetadataStore({
      endpoints: endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`)),
      prefix: this.config.getString('fjord.etcd.prefix') ?? '/fjord',
      nodeId: this.nodeId,
      clusterId: this.options.clusterId,
      sessionTimeoutMs: this.config.getInt('broker.session.timeout.ms'),
      heartbeatIntervalMs: this.config.getInt('broker.heartbeat.interval.ms'),
      log: this.loggers.info('fjord.cluster'),
    });
  }

  static async start(options: BrokerOptions): Promise<Broker> {
    const clustered = new BrokerConfig(options.config ?? {}).getList('fjord.etcd.endpoints').length > 0;
    const broker = new Broker(options, clustered ? await import('../cluster/etcd-store.js') : undefined);
    try {
      await broker.startup();
    } catch (err) {
      // Leave nothing behind: etcd session, watch and timers of a cluster store included.
      broker.controller?.close();
      broker.replicas.close();
      await broker.metadata.close().catch(() => undefined);
      await broker.dirLock?.release();
      throw err;
    }
    return broker;
  }

  get clusterId(): string {
    return this.metadata.clusterId;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get bootstrap(): string {
    return `${this.advertisedHost}:${this.port}`;
  }

  private async startup(): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    // One process per data dir, and the dir must belong to this cluster and node.
    this.dirLock = await DataDirLock.acquire(this.options.dataDir);
    await this.metadata.load();
    await ensureMetaProperties(this.options.dataDir, this.metadata.clusterId, this.nodeId);
    this.configAdmin.loadDynamicBrokerConfigs(this.log);
    await this.logs.load();
    await this.replicas.start();
    await this.groups.start();
    await this.transactions.start();
    this.logs.startBackgroundTasks();
    await this.security.load();
    const dispatcher = new Dispatcher(this, this.handlers);
    const listeners = this.security.listeners(this.options.listeners, this.options.host ?? '127.0.0.1', this.options.port ?? 9092);
    if (listeners.length === 0) throw new Error('a broker needs at least one listener');
    for (const spec of listeners) {
      const server = new KafkaServer(
        dispatcher,
        {
          maxFrameBytes: this.config.socketRequestMaxBytes,
          maxInFlight: 64,
          maxQueuedResponseBytes: 64 * 1024 * 1024,
          quotas: this.connectionQuotas,
        },
        this.loggers.info('fjord.net'),
      );
      this.servers.push(server);
      const tls = usesTls(spec.protocol);
      const bound = await server.listen({
        host: spec.host,
        port: spec.port,
        listener: { name: spec.name, protocol: spec.protocol },
        tls: tls ? () => this.security.tlsOptions(spec.name) : undefined,
        certificatePrincipal: tls
          ? (socket) => (socket.authorized ? this.security.principalFromCertificate(socket.getPeerCertificate().subject as never) : null)
          : undefined,
      });
      this.listening.push({ name: spec.name, protocol: spec.protocol, ...bound });
      const wildcard = bound.host === '0.0.0.0' || bound.host === '::';
      const advertised = this.options.advertisedHost ?? (wildcard ? '127.0.0.1' : bound.host);
      const advertisedPort = this.listenerEndpoints.length === 0 ? (this.options.advertisedPort ?? bound.port) : bound.port;
      this.listenerEndpoints.push({ name: spec.name, protocol: spec.protocol, host: advertised, port: advertisedPort });
    }
    const first = this.listenerEndpoints[0]!;
    this.host = this.listening[0]!.host;
    this.port = this.listening[0]!.port;
    this.advertisedHost = first.host;
    await this.metadata.registerBroker({
      nodeId: this.nodeId,
      host: first.host,
      port: first.port,
      rack: this.config.brokerRack,
      endpoints: this.listenerEndpoints.map(({ name, host, port }) => ({ name, host, port })),
    });
    this.controller?.start();
    if (this.controller) await this.awaitController();
  }

  /**
   * A cluster broker is ready once some broker is the elected controller: clients that send admin
   * requests to the controller (kafkajs) fail on a Metadata answer without one. Bounded by the
   * session timeout; past it the broker serves anyway (Metadata says -1 until an election).
   */
  private async awaitController(): Promise<void> {
    const deadline = Date.now() + this.config.getInt('broker.session.timeout.ms');
    while (this.metadata.controllerId() < 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.controller && this.port !== 0) {
        // Controlled shutdown: hand leadership over while still serving, so clients move without a lease timeout.
        const timeoutMs = Math.min(30_000, 2 * this.config.getInt('broker.session.timeout.ms') + 5000);
        try {
          const { remaining } = await this.controller.controlledShutdown(timeoutMs);
          if (remaining > 0) this.log(`controlled shutdown: still leading ${remaining} partition(s) after ${timeoutMs} ms; stopping anyway`);
        } catch (err) {
          this.log(`controlled shutdown failed: ${(err as Error).message}; stopping anyway`);
        }
      }
      this.controller?.close();
      this.groups.close();
      this.transactions.close();
      this.replicas.close();
      this.interBroker.close();
      await Promise.all(this.servers.map((s) => s.close()));
      await this.logs.close();
      await this.metadata.close();
      await this.dirLock?.release();
    })();
    return this.closing;
  }
}
