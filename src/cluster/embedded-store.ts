// Single-node metadata store: the whole state in one JSON file in the data dir, rewritten
// atomically (write temp, fsync, rename, fsync dir) on each change. Metadata changes are rare
// (topic admin), so simplicity beats incremental logging here.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  BrokerRegistration,
  ClientQuotaRecord,
  MetadataChange,
  MetadataStore,
  PartitionAssignment,
  PartitionState,
  TopicRecord,
} from './metadata-store.js';

interface StoredState {
  version: 1;
  clusterId: string;
  nextProducerId: number;
  topics: TopicRecord[];
  partitionStates: Record<string, PartitionState[]>;
  brokerConfigs: Record<string, string>;
  /** Absent in files written before client quotas existed. */
  clientQuotas?: ClientQuotaRecord[];
}

export const METADATA_FILE = 'fjord-metadata.json';

/** Kafka cluster ids and topic ids are 16 random bytes in URL-safe base64 without padding. */
export function randomKafkaUuid(): string {
  const bytes = randomBytes(16);
  // Kafka avoids ids starting with '-' (confuses command lines); clear the top bit of byte 0 like it does.
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('base64url');
}

export class EmbeddedMetadataStore implements MetadataStore {
  private state: StoredState = {
    version: 1,
    clusterId: randomKafkaUuid(),
    nextProducerId: 0,
    topics: [],
    partitionStates: {},
    brokerConfigs: {},
  };
  private readonly byName = new Map<string, TopicRecord>();
  private readonly byId = new Map<string, TopicRecord>();
  private readonly listeners: ((change: MetadataChange) => void)[] = [];
  private registered: BrokerRegistration[] = [];
  private writeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataDir: string,
    private readonly nodeId: number,
  ) {}

  get clusterId(): string {
    return this.state.clusterId;
  }

  async load(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(join(this.dataDir, METADATA_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as StoredState;
      if (parsed.version !== 1) throw new Error(`unsupported metadata file version ${parsed.version}`);
      this.state = parsed;
    } else {
      await this.persist();
    }
    for (const t of this.state.topics) this.index(t);
  }

  controllerId(): number {
    return this.nodeId;
  }

  brokers(): BrokerRegistration[] {
    return this.registered;
  }

  async registerBroker(broker: BrokerRegistration): Promise<void> {
    this.registered = [...this.registered.filter((b) => b.nodeId !== broker.nodeId), broker];
  }

  topics(): Iterable<TopicRecord> {
    return this.byName.values();
  }

  topic(name: string): TopicRecord | undefined {
    return this.byName.get(name);
  }

  topicById(topicId: string): TopicRecord | undefined {
    return this.byId.get(topicId);
  }

  async createTopic(topic: TopicRecord, states: PartitionState[]): Promise<void> {
    if (this.byName.has(topic.name)) throw new Error(`topic ${topic.name} already exists`);
    this.state.topics.push(topic);
    this.state.partitionStates[topic.name] = states;
    this.index(topic);
    await this.persist();
    this.emit({ kind: 'topic-created', topic });
  }

  async deleteTopic(name: string): Promise<void> {
    const topic = this.byName.get(name);
    if (!topic) return;
    this.state.topics = this.state.topics.filter((t) => t.name !== name);
    delete this.state.partitionStates[name];
    this.byName.delete(name);
    this.byId.delete(topic.topicId);
    await this.persist();
    this.emit({ kind: 'topic-deleted', name, topicId: topic.topicId });
  }

  async updateTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    const topic = this.requireTopic(name);
    topic.configs = { ...configs };
    await this.persist();
    this.emit({ kind: 'topic-updated', topic });
  }

  async addPartitions(name: string, added: PartitionAssignment[], states: PartitionState[]): Promise<void> {
    const topic = this.requireTopic(name);
    topic.partitions.push(...added);
    this.state.partitionStates[name]!.push(...states);
    await this.persist();
    this.emit({ kind: 'topic-updated', topic });
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    return this.state.partitionStates[topic]?.[partition];
  }

  async updatePartitionState(
    topic: string,
    partition: number,
    state: PartitionState,
    expectedVersion: number,
  ): Promise<boolean> {
    const states = this.state.partitionStates[topic];
    const current = states?.[partition];
    if (!states || !current || current.version !== expectedVersion) return false;
    states[partition] = { ...state, version: expectedVersion + 1 };
    await this.persist();
    this.emit({ kind: 'partition-state', topic, partition, state: states[partition]! });
    return true;
  }

  async allocateProducerIdBlock(size: number): Promise<number> {
    const first = this.state.nextProducerId;
    this.state.nextProducerId = first + size;
    await this.persist();
    return first;
  }

  brokerConfigs(): Record<string, string> {
    return this.state.brokerConfigs;
  }

  async updateBrokerConfigs(configs: Record<string, string>): Promise<void> {
    this.state.brokerConfigs = { ...configs };
    await this.persist();
  }

  clientQuotas(): ClientQuotaRecord[] {
    return this.state.clientQuotas ?? [];
  }

  async updateClientQuotas(quotas: ClientQuotaRecord[]): Promise<void> {
    this.state.clientQuotas = quotas.filter((q) => Object.keys(q.values).length > 0);
    await this.persist();
  }

  onChange(listener: (change: MetadataChange) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    await this.writeChain;
  }

  private requireTopic(name: string): TopicRecord {
    const topic = this.byName.get(name);
    if (!topic) throw new Error(`unknown topic ${name}`);
    return topic;
  }

  private index(topic: TopicRecord): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private emit(change: MetadataChange): void {
    for (const l of this.listeners) l(change);
  }

  /** Serialised so that concurrent changes never interleave partial files. */
  private persist(): Promise<void> {
    const snapshot = JSON.stringify(this.state);
    const next = this.writeChain.then(() => this.writeAtomically(snapshot));
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  private async writeAtomically(text: string): Promise<void> {
    const target = join(this.dataDir, METADATA_FILE);
    const temp = `${target}.tmp`;
    const fh = await open(temp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target);
    const dir = await open(this.dataDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
