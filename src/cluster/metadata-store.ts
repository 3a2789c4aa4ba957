// The cluster metadata store: topics, partition assignments and state, brokers, producer-id blocks.
// Single-node Fjord uses EmbeddedMetadataStore (a file in the data dir); a cluster will use an
// etcd implementation of the same interface, with compare-and-set on partition state.

export interface PartitionAssignment {
  partition: number;
  /** During a reassignment: the target replicas followed by the ones being removed. */
  replicas: number[];
  /** Reassignment in progress (AlterPartitionReassignments): replicas being added / removed. */
  addingReplicas?: number[];
  removingReplicas?: number[];
}

export interface PartitionState {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Bumped on every change; compare-and-set token for ISR updates in a cluster. */
  version: number;
}

export interface TopicRecord {
  name: string;
  /** Kafka topic id: base64url of 16 random bytes. */
  topicId: string;
  partitions: PartitionAssignment[];
  /** Topic-level config overrides (validated). */
  configs: Record<string, string>;
  createdAt: number;
}

export interface BrokerRegistration {
  nodeId: number;
  /** Endpoint of the first listener (what single-listener code and tools use). */
  host: string;
  port: number;
  rack: string | null;
  /** Every listener's advertised endpoint; clients get the one of the listener they came in on. */
  endpoints?: { name: string; host: string; port: number }[];
  /** Set while the broker is in controlled shutdown: the controller moves leadership away from it. */
  shuttingDown?: boolean;
}

/** The endpoint a client connected through `listenerName` must use to reach `broker` (Kafka answers per listener). */
export function endpointFor(broker: BrokerRegistration, listenerName: string): { host: string; port: number } | undefined {
  if (!broker.endpoints || broker.endpoints.length === 0) return { host: broker.host, port: broker.port };
  return broker.endpoints.find((e) => e.name === listenerName);
}

/** One client-quota entity (KIP-546): user / client-id / ip components; name null = the default entity. */
export interface ClientQuotaEntityComponent {
  entityType: string;
  entityName: string | null;
}

/** Quota values of one entity (producer_byte_rate, consumer_byte_rate, request_percentage, ...). */
export interface ClientQuotaRecord {
  /** Components sorted by entity type. */
  entity: ClientQuotaEntityComponent[];
  values: Record<string, number>;
}

export type MetadataChange =
  | { kind: 'topic-created'; topic: TopicRecord }
  | { kind: 'topic-deleted'; name: string; topicId: string }
  | { kind: 'topic-updated'; topic: TopicRecord }
  | { kind: 'partition-state'; topic: string; partition: number; state: PartitionState }
  /** A broker registered, left, or changed its registration, or the controller changed (cluster store). */
  | { kind: 'brokers-changed' }
  /** The cluster-wide security state (ACLs, SCRAM credentials) changed (cluster store). */
  | { kind: 'security-updated' }
  /** The dynamic broker config map (brokerConfigs()) changed, through any broker. */
  | { kind: 'broker-configs-changed' };

/**
 * A read-modify-write of the dynamic broker config map: gets the stored map (do not mutate it),
 * returns the new one. May run more than once when another writer got in between; throwing
 * aborts the update.
 */
export type BrokerConfigsUpdate = (current: Readonly<Record<string, string>>) => Record<string, string>;

/** True when two config maps hold the same entries (an update that changes nothing is not written). */
export function sameEntries(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

export interface MetadataStore {
  load(): Promise<void>;
  readonly clusterId: string;
  /** The broker that acts as controller (single node: itself). */
  controllerId(): number;
  brokers(): BrokerRegistration[];
  /**
   * Cluster store: false once this broker can no longer prove its etcd session (lease) is alive;
   * a leader then refuses writes (NOT_LEADER_OR_FOLLOWER) until it is back. Absent = always alive.
   */
  sessionAlive?(): boolean;
  registerBroker(broker: BrokerRegistration): Promise<void>;

  topics(): Iterable<TopicRecord>;
  topic(name: string): TopicRecord | undefined;
  topicById(topicId: string): TopicRecord | undefined;
  createTopic(topic: TopicRecord, states: PartitionState[]): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  updateTopicConfigs(name: string, configs: Record<string, string>): Promise<void>;
  addPartitions(name: string, added: PartitionAssignment[], states: PartitionState[]): Promise<void>;

  partitionState(topic: string, partition: number): PartitionState | undefined;
  /** Compare-and-set: applies only when the stored version equals expectedVersion. */
  updatePartitionState(topic: string, partition: number, state: PartitionState, expectedVersion: number): Promise<boolean>;
  /**
   * One atomic write of a partition's state and its topic record (Kafka writes a reassignment's
   * end as one PartitionChangeRecord): compare-and-set on the state's version as
   * updatePartitionState, and `change` edits a copy of the topic record (returning undefined
   * aborts). Every broker sees both changes together: the cache never holds one without the
   * other, and listeners hear of them only once both are in it. True when written; false when
   * the state moved on, the topic is gone, or `change` aborted.
   */
  updatePartitionStateAndTopic(
    topic: string,
    partition: number,
    state: PartitionState,
    expectedVersion: number,
    change: (record: TopicRecord) => TopicRecord | undefined,
  ): Promise<boolean>;

  /** Reserves a block of producer ids (like Kafka's AllocateProducerIds); returns the first id. */
  allocateProducerIdBlock(size: number): Promise<number>;

  /**
   * Dynamic broker config overrides (AlterConfigs on the broker resource) and group configs, one
   * map shared by the cluster; a new object after every change.
   */
  brokerConfigs(): Record<string, string>;
  /**
   * Compare-and-set update of that map (retried with the fresh map while others write), so
   * concurrent changes of different keys through different brokers all survive. Resolves once
   * this broker's listeners heard the resulting 'broker-configs-changed'.
   */
  updateBrokerConfigs(update: BrokerConfigsUpdate): Promise<void>;

  /** Client quotas (AlterClientQuotas); stored, listed, not enforced yet. */
  clientQuotas(): ClientQuotaRecord[];
  /** Replaces the whole quota list (entities without values are dropped). */
  updateClientQuotas(quotas: ClientQuotaRecord[]): Promise<void>;

  /**
   * ACLs and SCRAM credentials shared by every broker of a cluster (an opaque JSON document the
   * security layer owns). Absent on the embedded store: a single broker keeps them in its data dir.
   */
  securityState?(): unknown;
  updateSecurityState?(state: unknown): Promise<void>;

  onChange(listener: (change: MetadataChange) => void): void;
  close(): Promise<void>;
}
