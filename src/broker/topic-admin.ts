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

  /** Brokers new replicas may go to: registered and not in controlled shutdown. */
  private liveBrokerIds(): number[] {
    const ids = this.metadata.brokers().filter((b) => !b.shuttingDown).map((b) => b.nodeId);
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

  /**
   * Kafka's replica placement: leaders round-robin over the brokers, followers shifted so that
   * replica sets vary; rack-aware (brokers interleaved by rack, at most one replica per rack until
   * every rack has one) when every live broker has a rack. The start is the broker preferred to
   * lead the fewest partitions so far (Kafka starts at random), which spreads the leaders of many
   * small topics evenly and deterministically.
   */
  private assign(firstPartition: number, count: number, rf: number, brokers: number[]): PartitionAssignment[] {
    const racks = new Map(this.metadata.brokers().map((b) => [b.nodeId, b.rack]));
    const rackAware = brokers.length > 1 && brokers.every((b) => racks.get(b));
    const ordered = rackAware ? rackAlternated(brokers, (b) => racks.get(b)!) : [...brokers].sort((a, b) => a - b);
    const n = ordered.length;
    const preferredLeads = new Map<number, number>(ordered.map((b) => [b, 0]));
    for (const t of this.metadata.topics()) {
      for (const p of t.partitions) {
        const first = p.replicas[0];
        if (first !== undefined && preferredLeads.has(first)) preferredLeads.set(first, preferredLeads.get(first)! + 1);
      }
    }
    let start = 0;
    for (let i = 1; i < n; i++) if (preferredLeads.get(ordered[i]!)! < preferredLeads.get(ordered[start]!)!) start = i;
    const replicaIndex = (first: number, shift: number, j: number) => (first + 1 + ((shift + j) % (n - 1))) % n;
    const numRacks = new Set(ordered.map((b) => racks.get(b))).size;
    const out: PartitionAssignment[] = [];
    let shift = start;
    for (let i = 0; i < count; i++) {
      const p = firstPartition + i;
      if (i > 0 && i % n === 0) shift++;
      const firstIndex = (i + start) % n;
      const leader = ordered[firstIndex]!;
      const replicas = [leader];
      if (!rackAware) {
        for (let j = 0; j < rf - 1; j++) replicas.push(ordered[replicaIndex(firstIndex, shift, j)]!);
      } else {
        const usedRacks = new Set([racks.get(leader)]);
        for (let k = 0; replicas.length < rf && k < n * n; k++) {
          const b = ordered[replicaIndex(firstIndex, shift, k)]!;
          if (replicas.includes(b)) continue;
          // Another rack first, while some rack without a replica this round still has a free broker.
          if (usedRacks.has(racks.get(b)) && ordered.some((x) => !replicas.includes(x) && !usedRacks.has(racks.get(x)))) continue;
          replicas.push(b);
          usedRacks.add(racks.get(b));
          if (usedRacks.size === numRacks) usedRacks.clear(); // every rack has one: start another round
        }
      }
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

/** Brokers ordered rack by rack in turn (a1, b1, c1, a2, b2, ...), so neighbours sit in different racks. */
function rackAlternated(brokers: number[], rackOf: (b: number) => string): number[] {
  const byRack = new Map<string, number[]>();
  for (const b of [...brokers].sort((x, y) => x - y)) {
    const list = byRack.get(rackOf(b)) ?? [];
    list.push(b);
    byRack.set(rackOf(b), list);
  }
  const rackNames = [...byRack.keys()].sort();
  const out: number[] = [];
  for (let i = 0; out.length < brokers.length; i++) {
    for (const r of rackNames) {
      const b = byRack.get(r)![i];
      if (b !== undefined) out.push(b);
    }
  }
  return out;
}
