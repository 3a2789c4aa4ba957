// Offsets committed inside transactions (TxnOffsetCommit), the group coordinator's side. As in
// Kafka they are appended to the group's `__consumer_offsets` partition as a *transactional*
// batch of ordinary OffsetCommit records (the producer's id and epoch in the batch header), held
// as pending per producer, and applied to the group's committed offsets only when the COMMIT
// marker reaches that partition (an ABORT marker drops them). Replaying `__consumer_offsets`
// does the same with the batches and markers it meets, so a restart keeps exactly the committed
// ones; OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT while any are pending.
import type { BrokerConfig } from '../../config/config.js';
import { errorCodeOf } from '../../protocol/kafka-error.js';
import type { MetadataStore } from '../../cluster/metadata-store.js';
import type { Partition } from '../../cluster/partition.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { GroupCoordinator, OffsetEntry } from '../group/coordinator.js';
import { decodeCoordinatorRecord } from '../group/records.js';
import { CONSUMER_OFFSETS_TOPIC as OFFSETS_TOPIC } from '../runtime/internal-topics.js';

/** What the store needs besides the group coordinator. */
export interface TxnOffsetStoreDeps {
  readonly config: BrokerConfig;
  readonly metadata: Pick<MetadataStore, 'topic'>;
  readonly partitions: { get(topic: string, partition: number): Partition | undefined };
  /** The transaction coordinator's KIP-890 check (is the partition in the producer's transaction?). */
  readonly transactions: {
    verifyPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): number;
  };
}

export interface TxnCommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface TxnCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: { name: string; partitions: TxnCommitPartition[] }[];
}

type TopicResult = { name: string; partitions: { partitionIndex: number; errorCode: number }[] };

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class TxnOffsetStore {
  /** groupId → producerId → (topic, partition) → pending offset. */
  private readonly pending = new Map<string, Map<number, Map<string, OffsetEntry>>>();

  constructor(
    private readonly groups: GroupCoordinator,
    private readonly deps: TxnOffsetStoreDeps,
  ) {
    // Replay of __consumer_offsets hands transactional batches and markers to this store.
    groups.offsetsTopic.transactionalReplay = {
      record: (_partition, producerId, key, value) => this.replayRecord(producerId, key, value),
      marker: (partition, producerId, commit) => this.complete(partition, producerId, commit),
    };
  }

  private addPending(groupId: string, producerId: number, e: OffsetEntry): void {
    let byProducer = this.pending.get(groupId);
    if (!byProducer) this.pending.set(groupId, (byProducer = new Map()));
    let entries = byProducer.get(producerId);
    if (!entries) byProducer.set(producerId, (entries = new Map()));
    entries.set(tpKey(e.topic, e.partition), e);
  }

  private replayRecord(producerId: number, key: Buffer, value: Buffer | null): void {
    let rec;
    try {
      rec = decodeCoordinatorRecord(key, value);
    } catch {
      return;
    }
    if (rec.kind !== 'offset' || rec.value === null) return;
    this.addPending(rec.key.group, producerId, {
      topic: rec.key.topic,
      partition: rec.key.partition,
      offset: rec.value.offset,
      leaderEpoch: rec.value.leaderEpoch,
      metadata: rec.value.metadata,
      commitTimestamp: rec.value.commitTimestamp,
      expireTimestamp: rec.value.expireTimestamp,
    });
  }

  /** A marker reached `__consumer_offsets-<partition>`: apply or drop the producer's pending offsets there. */
  complete(partition: number, producerId: number, commit: boolean): void {
    const groups = this.groups;
    for (const [groupId, byProducer] of this.pending) {
      const entries = byProducer.get(producerId);
      if (!entries || groups.offsetsTopic.partitionFor(groupId) !== partition) continue;
      byProducer.delete(producerId);
      if (byProducer.size === 0) this.pending.delete(groupId);
      if (!commit) continue;
      let stored = groups.offsets.get(groupId);
      if (!stored) groups.offsets.set(groupId, (stored = new Map()));
      for (const [k, e] of entries) stored.set(k, e);
      if (!groups.getGroup(groupId)) groups.createClassicGroup(groupId);
    }
  }

  /** True when an offset of the group for this partition waits for its transaction to end. */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    const byProducer = this.pending.get(groupId);
    if (!byProducer) return false;
    const k = tpKey(topic, partition);
    for (const entries of byProducer.values()) if (entries.has(k)) return true;
    return false;
  }

  hasAnyPending(groupId: string): boolean {
    return (this.pending.get(groupId)?.size ?? 0) > 0;
  }

  /** TxnOffsetCommit. */
  async commit(req: TxnCommitRequest, apiVersion: number): Promise<TopicResult[]> {
    const all = (code: number): TopicResult[] =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    const groups = this.groups;
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    const err = await groups.checkCoordinator(req.groupId);
    if (err !== ErrorCode.NONE) return all(err);
    // KIP-890: the group's offsets partition must have been added to the transaction (AddOffsetsToTxn).
    const offsetsPartition = groups.offsetsTopic.partitionFor(req.groupId);
    const verdict = this.deps.transactions.verifyPartition(req.transactionalId, req.producerId, req.producerEpoch, OFFSETS_TOPIC, offsetsPartition);
    if (verdict !== ErrorCode.NONE) {
      const fenced = verdict === ErrorCode.INVALID_PRODUCER_EPOCH;
      return all(fenced ? (apiVersion >= 3 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH) : verdict);
    }
    const group = groups.getGroup(req.groupId);
    if (group && (req.generationId >= 0 || req.memberId !== '')) {
      const v = group.validateOffsetCommit(req.memberId, req.generationId, req.groupInstanceId);
      if (v !== ErrorCode.NONE) return all(v);
    } else if (!group && req.generationId >= 0) {
      return all(ErrorCode.ILLEGAL_GENERATION);
    }
    const { result, entries, records } = groups.planOffsetCommit(req.groupId, req.topics, Date.now());
    if (records.length === 0) return result;
    try {
      await groups.offsetsTopic.append(req.groupId, records, { producerId: req.producerId, producerEpoch: req.producerEpoch });
    } catch (e) {
      let code = errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (code === ErrorCode.INVALID_PRODUCER_EPOCH && apiVersion >= 3) code = ErrorCode.PRODUCER_FENCED;
      for (const t of result) for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) p.errorCode = code;
      return result;
    }
    for (const e of entries) this.addPending(req.groupId, req.producerId, e);
    return result;
  }
}
