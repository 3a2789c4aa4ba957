// Topic lifecycle with Kafka's validation rules: names, partition counts, replication factors
// and configs. Used by CreateTopics, DeleteTopics, CreatePartitions and auto-creation.
import { randomKafkaUuid } from '../cluster/embedded-store.js';
import type { MetadataStore, PartitionAssignment, PartitionState, TopicRecord } from '../cluster/metadata-store.js';
import type { ReplicaManager } from '../cluster/replica-manager.js';
import { ErrorCode } from '../protocol/errors.js';
import { ConfigError, validateTopicConfigs, type BrokerConfig } from '../config/config.js';
import { KafkaError } from './errors.js';

const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's topic name rules; throws INVALID_TOPIC_EXCEPTION with the reason. */
export function validateTopicName(name: string): void {
  const fail = (why: string) => {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic name "${name}" is illegal, ${why}`);
  };
  if (name.length === 0) fail('it can\'t be empty');
  if (name === '.' || name === '..') fail('it cannot be "." or ".."');
  if (name.length > MAX_TOPIC_NAME_LENGTH) fail(`it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters`);
  if (!LEGAL_TOPIC_NAME.test(name)) fail("it contains a character other than ASCII alphanumerics, '.', '_' and '-'");
}

/** '.' and '_' collide in metric names, so Kafka refuses topics that differ only by them. */
function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

export interface CreateTopicRequest {
  name: string;
  numPartitions: number; // -1 = broker default
  replicationFactor: number; // -1 = broker default
  assignments?: { partitionIndex: number; brokerIds: number[] }[];
  configs?: Record<string, string | null>;
}

export class TopicAdmin {
  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: MetadataStore,
    private readonly replicas: ReplicaManager,
  ) {}

  private liveBrokerIds(): number[] {
    const ids = this.metadata.brokers().map((b) => b.nodeId);
    return ids.length ? ids : [this.nodeId];
  }

  /** Validates a creation and returns the record that would be stored; throws KafkaError. */
  plan(req: CreateTopicRequest): TopicRecord {
    validateTopicName(req.name);
    if (this.metadata.topic(req.name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${req.name}' already exists.`);
    }
    for (const t of this.metadata.topics()) {
      if (collisionKey(t.name) === collisionKey(req.name)) {
        throw new KafkaError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${req.name}' collides with existing topic: ${t.name}`,
        );
      }
    }
    let configs: Record<string, string>;
    try {
      configs = validateTopicConfigs(req.configs ?? {});
    } catch (err) {
      if (err instanceof ConfigError) throw new KafkaError(ErrorCode.INVALID_CONFIG, err.message);
      throw err;
    }
    const brokers = this.liveBrokerIds();
    let partitions: PartitionAssignment[];
    if (req.assignments && req.assignments.length > 0) {
      if (req.numPartitions !== -1 || req.replicationFactor !== -1) {
        throw new KafkaError(
          ErrorCode.INVALID_REQUEST,
          'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
        );
      }
      this.checkPartitionLimits(req.assignments.length, req.assignments[0]!.brokerIds.length, brokers.length);
      partitions = this.checkAssignments(req.assignments, brokers);
      partitions.forEach((p, i) => {
        if (p.partition !== i) {
          throw new KafkaError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Partitions should be a consecutive 0-based integer sequence; found ${p.partition} at position ${i}.`,
          );
        }
      });
    } else {
      const count = req.numPartitions === -1 ? this.config.numPartitions : req.numPartitions;
      const rf = req.replicationFactor === -1 ? this.config.defaultReplicationFactor : req.replicationFactor;
      if (count <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
      if (rf <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
      if (rf > brokers.length) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${brokers.length} broker(s) are registered.`,
        );
      }
      // Checked before assigning: the assignment allocates per partition.
      this.checkPartitionLimits(count, rf, brokers.length);
      partitions = this.assign(0, count, rf, brokers);
    }
    return { name: req.name, topicId: randomKafkaUuid(), partitions, configs, createdAt: Date.now() };
  }

  async create(req: CreateTopicRequest): Promise<TopicRecord> {
    const record = this.plan(req);
    await this.metadata.createTopic(record, record.partitions.map((p) => this.initialState(p)));
    await this.replicas.applied(record.name);
    return record;
  }

  /** Auto-creation for Metadata requests (auto.create.topics.enable). */
  async autoCreate(name: string): Promise<TopicRecord> {
    return this.create({ name, numPartitions: -1, replicationFactor: -1 });
  }

  async delete(name: string): Promise<void> {
    if (!this.config.deleteTopicEnable) {
      throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    }
    if (!this.metadata.topic(name)) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    await this.metadata.deleteTopic(name);
    await this.replicas.applied(name);
  }

  /** CreatePartitions: grow a topic to `count` partitions. */
  async addPartitions(
    name: string,
    count: number,
    assignments: { brokerIds: number[] }[] | null,
    validateOnly: boolean,
  ): Promise<void> {
    const topic = this.metadata.topic(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const current = topic.partitions.length;
    if (count < current) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${current} partitions, which is higher than the requested ${count}.`,
      );
    }
    if (count === current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
    }
    const brokers = this.liveBrokerIds();
    const rf = topic.partitions[0]?.replicas.length ?? 1;
    this.checkPartitionLimits(count - current, rf, brokers.length);
    let added: PartitionAssignment[];
    if (assignments && assignments.length > 0) {
      if (assignments.length !== count - current) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Increasing the number of partitions by ${count - current} but ${assignments.length} assignments provided.`,
        );
      }
      added = this.checkAssignments(
        assignments.map((a, i) => ({ partitionIndex: current + i, brokerIds: a.brokerIds })),
        brokers,
      );
    } else {
      added = this.assign(current, count - current, rf, brokers);
    }
    if (validateOnly) return;
    await this.metadata.addPartitions(name, added, added.map((p) => this.initialState(p)));
    await this.replicas.applied(name);
  }

  /**
   * Bounds the partitions one request may create and the replicas each broker hosts, so that a
   * single request (validate_only included) cannot make the broker allocate without limit.
   */
  checkPartitionLimits(newPartitions: number, rf: number, brokerCount: number): void {
    const perRequest = this.config.getInt('fjord.max.partitions.per.request');
    if (newPartitions > perRequest) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `Cannot create ${newPartitions} partitions in one request: the limit is ${perRequest} (fjord.max.partitions.per.request).`,
      );
    }
    const perBroker = this.config.getInt('fjord.max.partitions.per.broker');
    let hosted = 0;
    for (const t of this.metadata.topics()) hosted += t.partitions.length * (t.partitions[0]?.replicas.length ?? 1);
    const spread = Math.ceil((hosted + newPartitions * rf) / Math.max(1, brokerCount));
    if (spread > perBroker) {
      throw new KafkaError(
        ErrorCode.POLICY_VIOLATION,
        `Creating ${newPartitions} partition(s) with replication factor ${rf} would put about ${spread} partition replicas on each of ${brokerCount} broker(s); the limit is ${perBroker} (fjord.max.partitions.per.broker).`,
      );
    }
  }

  private initialState(p: PartitionAssignment): PartitionState {
    return { leader: p.replicas[0]!, leaderEpoch: 0, isr: [...p.replicas], version: 0 };
  }

  /** Round-robin replica placement starting at a partition-dependent broker, like Kafka's. */
  private assign(firstPartition: number, count: number, rf: number, brokers: number[]): PartitionAssignment[] {
    const sorted = [...brokers].sort((a, b) => a - b);
    const out: PartitionAssignment[] = [];
    for (let i = 0; i < count; i++) {
      const p = firstPartition + i;
      const replicas: number[] = [];
      for (let r = 0; r < rf; r++) replicas.push(sorted[(p + r) % sorted.length]!);
      out.push({ partition: p, replicas });
    }
    return out;
  }

  private checkAssignments(
    assignments: { partitionIndex: number; brokerIds: number[] }[],
    brokers: number[],
  ): PartitionAssignment[] {
    const live = new Set(brokers);
    const rf = assignments[0]!.brokerIds.length;
    return assignments.map((a) => {
      if (a.brokerIds.length === 0 || a.brokerIds.length !== rf || new Set(a.brokerIds).size !== a.brokerIds.length) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Invalid replica assignment for partition ${a.partitionIndex}.`);
      }
      for (const id of a.brokerIds) {
        if (!live.has(id)) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Unknown broker ${id} in replica assignment.`);
        }
      }
      return { partition: a.partitionIndex, replicas: [...a.brokerIds] };
    });
  }
}
