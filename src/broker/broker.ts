// Broker lifecycle: load metadata, open logs (recovery), start background tasks, listen.
// close() stops listening, flushes and closes every log, and writes the clean-shutdown marker.
import { mkdir } from 'node:fs/promises';
import { EmbeddedMetadataStore } from '../cluster/embedded-store.js';
import type { MetadataStore } from '../cluster/metadata-store.js';
import { ReplicaManager } from '../cluster/replica-manager.js';
import { KafkaServer } from '../net/server.js';
import { LogManager } from '../storage/index.js';
import { DataDirLock, ensureMetaProperties } from '../storage/data-dir.js';
import { ConfigAdmin } from './config-admin.js';
import { BrokerConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import type { Handler } from './handler.js';
import { allHandlers } from './handlers/index.js';
import { ProducerIdManager } from './producer-ids.js';
import { ClientQuotas } from './quotas.js';
import { TopicAdmin } from './topic-admin.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';

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
  readonly log: (msg: string) => void;
  private server: KafkaServer | undefined;
  host = '127.0.0.1';
  port = 0;
  advertisedHost = '127.0.0.1';
  private closing: Promise<void> | undefined;
  private dirLock: DataDirLock | undefined;

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
      minFreeBytes: this.config.getLong('fjord.storage.min.free.bytes'),
      log: (msg) => this.log(msg),
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
    this.handlers = new Map(allHandlers.map((h) => [h.apiKey, h]));
  }

  static async start(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options);
    try {
      await broker.startup();
    } catch (err) {
      await broker.dirLock?.release();
      throw err;
    }
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
    // One process per data dir, and the dir must belong to this cluster and node.
    this.dirLock = await DataDirLock.acquire(this.options.dataDir);
    await this.metadata.load();
    await ensureMetaProperties(this.options.dataDir, this.metadata.clusterId, this.nodeId);
    this.configAdmin.loadDynamicBrokerConfigs(this.log);
    await this.logs.load();
    for (const topic of this.metadata.topics()) await this.replicas.ensureTopic(topic);
    await this.groups.start();
    this.logs.startBackgroundTasks();
    const server = new KafkaServer(
      new Dispatcher(this, this.handlers),
      {
        maxFrameBytes: this.config.socketRequestMaxBytes,
        maxInFlight: 64,
        maxQueuedResponseBytes: 64 * 1024 * 1024,
      },
      this.log,
    );
    const listening = await server.listen({ host: this.options.host ?? '127.0.0.1', port: this.options.port ?? 9092 });
    this.server = server;
    this.host = listening.host;
    this.port = listening.port;
    const wildcard = listening.host === '0.0.0.0' || listening.host === '::';
    this.advertisedHost = this.options.advertisedHost ?? (wildcard ? '127.0.0.1' : listening.host);
    await this.metadata.registerBroker({ nodeId: this.nodeId, host: this.advertisedHost, port: this.port, rack: null });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.groups.close();
      await this.server?.close();
      await this.logs.close();
      await this.metadata.close();
      await this.dirLock?.release();
    })();
    return this.closing;
  }
}
