// Single-node metadata store: the whole state in one JSON file in the data dir, rewritten
// atomically (write temp, fsync, rename, fsync dir) on each change. Metadata changes are rare
// (topic admin), so simplicity beats incremental logging here. Several brokers in one process
// may share one instance (tests of replication without etcd): brokers() lists every registration
// and every broker's listener hears every change, as with the etcd store.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  BrokerConfigsUpdate,
  BrokerRegistration,
  ClientQuotaRecord,
  MetadataChange,
  MetadataStore,
  PartitionAssignment,
  PartitionState,
  TopicRecord,
} from './metadata-store.js';
import { sameEntries } from './metadata-store.js';
import { ErrorCode } from '../protocol/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';

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

const METADATA_FILE = 'fjord-metadata.json';

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
  private loading: Promise<void> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly nodeId: number,
  ) {}

  get clusterId(): string {
    return this.state.clusterId;
  }

  /**
   * Loads once: several brokers in one process may share one store (in-process cluster tests);
   * each broker's start() calls load().
   */
  load(): Promise<void> {
    this.loading ??= this.loadOnce();
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
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

  createTopic(topic: TopicRecord, states: PartitionState[]): Promise<void> {
    return this.mutate((draft) => {
      // Checked inside the serialized mutation: two racing creations cannot both pass.
      if (draft.topics.some((t) => t.name === topic.name)) {
        throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic.name}' already exists.`);
      }
      draft.topics.push(topic);
      draft.partitionStates[topic.name] = states;
      return [{ kind: 'topic-created', topic }];
    });
  }

  deleteTopic(name: string): Promise<void> {
    return this.mutate((draft) => {
      const topic = draft.topics.find((t) => t.name === name);
      if (!topic) return [];
      draft.topics = draft.topics.filter((t) => t.name !== name);
      delete draft.partitionStates[name];
      return [{ kind: 'topic-deleted', name, topicId: topic.topicId }];
    });
  }

  updateTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    return this.mutate((draft) => {
      const topic = requireTopic(draft, name);
      topic.configs = { ...configs };
      return [{ kind: 'topic-updated', topic }];
    });
  }

  addPartitions(name: string, added: PartitionAssignment[], states: PartitionState[]): Promise<void> {
    return this.mutate((draft) => {
      const topic = requireTopic(draft, name);
      // Compare-and-set on the partition count: the additions must follow the current last partition.
      if (added.length > 0 && added[0]!.partition !== topic.partitions.length) {
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic '${name}' changed concurrently: it has ${topic.partitions.length} partitions now.`);
      }
      topic.partitions.push(...added);
      draft.partitionStates[name]!.push(...states);
      return [{ kind: 'topic-updated', topic }];
    });
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    return this.state.partitionStates[topic]?.[partition];
  }

  async updatePartitionState(topic: string, partition: number, state: PartitionState, expectedVersion: number): Promise<boolean> {
    let applied = false;
    await this.mutate((draft) => {
      const states = draft.partitionStates[topic];
      const current = states?.[partition];
      if (!states || !current || current.version !== expectedVersion) return [];
      states[partition] = { ...state, version: expectedVersion + 1 };
      applied = true;
      return [{ kind: 'partition-state', topic, partition, state: states[partition]! }];
    });
    return applied;
  }

  /** One mutation: the state's CAS, the topic change, one file write, then both notifications. */
  async updatePartitionStateAndTopic(
    topic: string,
    partition: number,
    state: PartitionState,
    expectedVersion: number,
    change: (record: TopicRecord) => TopicRecord | undefined,
  ): Promise<boolean> {
    let applied = false;
    await this.mutate((draft) => {
      const states = draft.partitionStates[topic];
      const current = states?.[partition];
      const index = draft.topics.findIndex((t) => t.name === topic);
      if (!states || !current || index < 0 || current.version !== expectedVersion) return [];
      // A copy: a change that edits it and then aborts must leave the draft (written anyway) alone.
      const record = change(structuredClone(draft.topics[index]!));
      if (!record) return [];
      draft.topics[index] = record;
      states[partition] = { ...state, version: expectedVersion + 1 };
      applied = true;
      // Listeners run after both are in memory (mutate swaps the state first), the topic first.
      return [
        { kind: 'topic-updated', topic: record },
        { kind: 'partition-state', topic, partition, state: states[partition]! },
      ];
    });
    return applied;
  }

  async allocateProducerIdBlock(size: number): Promise<number> {
    let first = 0;
    await this.mutate((draft) => {
      first = draft.nextProducerId;
      draft.nextProducerId = first + size;
      return [];
    });
    return first;
  }

  brokerConfigs(): Record<string, string> {
    return this.state.brokerConfigs;
  }

  /** Serialized with every other mutation, so the update always sees the latest map. */
  updateBrokerConfigs(update: BrokerConfigsUpdate): Promise<void> {
    return this.mutate((draft) => {
      const next = { ...update(draft.brokerConfigs) };
      if (sameEntries(next, draft.brokerConfigs)) return [];
      draft.brokerConfigs = next;
      return [{ kind: 'broker-configs-changed' }];
    });
  }

  clientQuotas(): ClientQuotaRecord[] {
    return this.state.clientQuotas ?? [];
  }

  updateClientQuotas(quotas: ClientQuotaRecord[]): Promise<void> {
    return this.mutate((draft) => {
      draft.clientQuotas = quotas.filter((q) => Object.keys(q.values).length > 0);
      return [];
    });
  }

  onChange(listener: (change: MetadataChange) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    await this.writeChain;
  }

  private index(topic: TopicRecord): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private emit(change: MetadataChange): void {
    for (const l of this.listeners) l(change);
  }

  /**
   * Runs one mutation at a time: `change` checks and edits a copy of the state, the copy is
   * written durably, and only then does it replace the in-memory state and the listeners hear
   * of it. A check and its write are thus atomic, and a failed write changes nothing.
   */
  private mutate(change: (draft: StoredState) => MetadataChange[]): Promise<void> {
    const run = async () => {
      const draft = structuredClone(this.state);
      const changes = change(draft);
      await this.writeAtomically(JSON.stringify(draft));
      this.state = draft;
      this.byName.clear();
      this.byId.clear();
      for (const t of draft.topics) this.index(t);
      for (const c of changes) this.emit(c);
    };
    const next = this.writeChain.then(run);
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  private persist(): Promise<void> {
    return this.mutate(() => []);
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

function requireTopic(state: StoredState, name: string): TopicRecord {
  const topic = state.topics.find((t) => t.name === name);
  if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unknown topic ${name}.`);
  return topic;
}
