// Persistence of consumer-protocol (KIP-848) groups in `__consumer_offsets`, in Kafka's own record
// formats (key versions 3..8):
//   3 ConsumerGroupMetadata (group epoch)         4 ConsumerGroupPartitionMetadata (subscribed topics)
//   5 ConsumerGroupMemberMetadata (subscriptions) 6 ConsumerGroupTargetAssignmentMetadata (epoch)
//   7 ConsumerGroupTargetAssignmentMember         8 ConsumerGroupCurrentMemberAssignment
// The writer collects records as the group changes and appends them in one go; the replayer
// rebuilds groups from the log at startup.
import { Reader, Writer } from '../../../protocol/primitives.js';
import { decodeConsumerGroupCurrentMemberAssignmentKey, encodeConsumerGroupCurrentMemberAssignmentKey } from '../../../protocol/gen/internal/consumer-group-current-member-assignment-key.js';
import { decodeConsumerGroupCurrentMemberAssignmentValue, encodeConsumerGroupCurrentMemberAssignmentValue } from '../../../protocol/gen/internal/consumer-group-current-member-assignment-value.js';
import { decodeConsumerGroupMemberMetadataKey, encodeConsumerGroupMemberMetadataKey } from '../../../protocol/gen/internal/consumer-group-member-metadata-key.js';
import { decodeConsumerGroupMemberMetadataValue, encodeConsumerGroupMemberMetadataValue } from '../../../protocol/gen/internal/consumer-group-member-metadata-value.js';
import { decodeConsumerGroupMetadataKey, encodeConsumerGroupMetadataKey } from '../../../protocol/gen/internal/consumer-group-metadata-key.js';
import { decodeConsumerGroupMetadataValue, encodeConsumerGroupMetadataValue } from '../../../protocol/gen/internal/consumer-group-metadata-value.js';
import { decodeConsumerGroupPartitionMetadataKey, encodeConsumerGroupPartitionMetadataKey } from '../../../protocol/gen/internal/consumer-group-partition-metadata-key.js';
import { decodeConsumerGroupPartitionMetadataValue, encodeConsumerGroupPartitionMetadataValue } from '../../../protocol/gen/internal/consumer-group-partition-metadata-value.js';
import { decodeConsumerGroupTargetAssignmentMemberKey, encodeConsumerGroupTargetAssignmentMemberKey } from '../../../protocol/gen/internal/consumer-group-target-assignment-member-key.js';
import { decodeConsumerGroupTargetAssignmentMemberValue, encodeConsumerGroupTargetAssignmentMemberValue } from '../../../protocol/gen/internal/consumer-group-target-assignment-member-value.js';
import { decodeConsumerGroupTargetAssignmentMetadataKey, encodeConsumerGroupTargetAssignmentMetadataKey } from '../../../protocol/gen/internal/consumer-group-target-assignment-metadata-key.js';
import { decodeConsumerGroupTargetAssignmentMetadataValue, encodeConsumerGroupTargetAssignmentMetadataValue } from '../../../protocol/gen/internal/consumer-group-target-assignment-metadata-value.js';
import { fromWire, toWire } from './assignment.js';
import type { ConsumerGroup, ConsumerGroupListener, ConsumerGroupMember } from './consumer-group.js';
import type { MemberState } from './reconciliation.js';

const KEY_GROUP_METADATA = 3;
const KEY_PARTITION_METADATA = 4;
const KEY_MEMBER_METADATA = 5;
const KEY_TARGET_METADATA = 6;
const KEY_TARGET_MEMBER = 7;
const KEY_CURRENT_ASSIGNMENT = 8;
export const CONSUMER_GROUP_KEY_VERSIONS = [3, 4, 5, 6, 7, 8] as const;

/** Kafka's MemberState byte values. */
const STATE_BYTE: Record<MemberState, number> = { unrevoked_partitions: 0, unreleased_partitions: 1, stable: 2 };
const STATE_OF: Record<number, MemberState> = { 0: 'unrevoked_partitions', 1: 'unreleased_partitions', 2: 'stable' };

export interface KeyValue {
  key: Buffer;
  value: Buffer | null;
}

export function recordBytes(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  encode(w);
  return w.toBuffer();
}

export const keys = {
  group: (groupId: string) => recordBytes(3, (w) => encodeConsumerGroupMetadataKey(w, 0, { groupId })),
  partitions: (groupId: string) => recordBytes(4, (w) => encodeConsumerGroupPartitionMetadataKey(w, 0, { groupId })),
  member: (groupId: string, memberId: string) => recordBytes(5, (w) => encodeConsumerGroupMemberMetadataKey(w, 0, { groupId, memberId })),
  target: (groupId: string) => recordBytes(6, (w) => encodeConsumerGroupTargetAssignmentMetadataKey(w, 0, { groupId })),
  targetMember: (groupId: string, memberId: string) =>
    recordBytes(7, (w) => encodeConsumerGroupTargetAssignmentMemberKey(w, 0, { groupId, memberId })),
  current: (groupId: string, memberId: string) =>
    recordBytes(8, (w) => encodeConsumerGroupCurrentMemberAssignmentKey(w, 0, { groupId, memberId })),
};

function memberMetadataValue(m: ConsumerGroupMember): Buffer {
  return recordBytes(0, (w) =>
    encodeConsumerGroupMemberMetadataValue(w, 0, {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignor,
      classicMemberMetadata: null,
    }),
  );
}

function currentAssignmentValue(m: ConsumerGroupMember): Buffer {
  return recordBytes(0, (w) =>
    encodeConsumerGroupCurrentMemberAssignmentValue(w, 0, {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: STATE_BYTE[m.state],
      assignedPartitions: toWire(m.assigned),
      partitionsPendingRevocation: toWire(m.pendingRevocation),
    }),
  );
}

/**
 * Collects the records a group's changes produce, per group, until they are flushed (shared by the
 * consumer- and streams-protocol writers).
 */
export class GroupRecordBatcher {
  private readonly pending = new Map<string, KeyValue[]>();
  private scheduled = false;

  constructor(private readonly append: (groupId: string, records: KeyValue[]) => Promise<void>, private readonly log: (msg: string) => void) {}

  protected push(groupId: string, ...records: KeyValue[]): void {
    let list = this.pending.get(groupId);
    if (!list) this.pending.set(groupId, (list = []));
    list.push(...records);
    // Changes made by timers (session expiry) are flushed on their own.
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        for (const id of [...this.pending.keys()]) {
          this.flush(id).catch((err) => this.log(`group ${id}: persisting failed: ${(err as Error).message}`));
        }
      });
    }
  }

  /** Appends what is pending for the group; resolves when durable. */
  flush(groupId: string): Promise<void> {
    const records = this.pending.get(groupId);
    if (!records || records.length === 0) return Promise.resolve();
    this.pending.delete(groupId);
    return this.append(groupId, records).catch((err: unknown) => {
      // Keep them for the next flush: memory already moved on, the log must catch up.
      this.pending.set(groupId, [...records, ...(this.pending.get(groupId) ?? [])]);
      throw err;
    });
  }
}

/** The consumer group's records, in the order Kafka writes them. */
export class ConsumerGroupRecordWriter extends GroupRecordBatcher implements ConsumerGroupListener {
  memberMetadataUpdated(g: ConsumerGroup, m: ConsumerGroupMember): void {
    this.push(g.groupId, { key: keys.member(g.groupId, m.memberId), value: memberMetadataValue(m) });
  }

  memberUpdated(g: ConsumerGroup, m: ConsumerGroupMember): void {
    this.push(g.groupId, { key: keys.current(g.groupId, m.memberId), value: currentAssignmentValue(m) });
  }

  memberRemoved(g: ConsumerGroup, memberId: string): void {
    this.push(
      g.groupId,
      { key: keys.current(g.groupId, memberId), value: null },
      { key: keys.targetMember(g.groupId, memberId), value: null },
      { key: keys.member(g.groupId, memberId), value: null },
    );
  }

  groupUpdated(g: ConsumerGroup): void {
    this.push(
      g.groupId,
      { key: keys.group(g.groupId), value: recordBytes(0, (w) => encodeConsumerGroupMetadataValue(w, 0, { epoch: g.groupEpoch })) },
      {
        key: keys.partitions(g.groupId),
        value: recordBytes(0, (w) =>
          encodeConsumerGroupPartitionMetadataValue(w, 0, {
            topics: [...g.subscriptionMetadata].map(([topicName, t]) => ({
              topicId: t.topicId,
              topicName,
              numPartitions: t.partitions,
              partitionMetadata: [],
            })),
          }),
        ),
      },
    );
  }

  targetMemberUpdated(g: ConsumerGroup, memberId: string): void {
    const a = g.targetAssignment.get(memberId) ?? new Map();
    this.push(g.groupId, {
      key: keys.targetMember(g.groupId, memberId),
      value: recordBytes(0, (w) => encodeConsumerGroupTargetAssignmentMemberValue(w, 0, { topicPartitions: toWire(a) })),
    });
  }

  targetUpdated(g: ConsumerGroup): void {
    for (const memberId of g.targetAssignment.keys()) this.targetMemberUpdated(g, memberId);
    this.push(g.groupId, {
      key: keys.target(g.groupId),
      value: recordBytes(0, (w) => encodeConsumerGroupTargetAssignmentMetadataValue(w, 0, { assignmentEpoch: g.assignmentEpoch })),
    });
  }

  groupTombstones(g: ConsumerGroup): Buffer[] {
    return [keys.target(g.groupId), keys.partitions(g.groupId), keys.group(g.groupId)];
  }
}

/**
 * Applies one replayed record. `groupFor(id, create)` returns the group (creating it when asked);
 * `drop(id)` removes a group whose metadata was tombstoned.
 */
export function replayRecord(
  keyVersion: number,
  key: Buffer,
  value: Buffer | null,
  groupFor: (groupId: string) => ConsumerGroup,
  drop: (groupId: string) => void,
): void {
  const kr = new Reader(key);
  kr.int16();
  const vr = value === null ? null : new Reader(value);
  const vv = vr?.int16() ?? 0;
  switch (keyVersion) {
    case KEY_GROUP_METADATA: {
      const k = decodeConsumerGroupMetadataKey(kr, 0);
      if (!vr) {
        drop(k.groupId);
        return;
      }
      groupFor(k.groupId).groupEpoch = decodeConsumerGroupMetadataValue(vr, vv).epoch;
      return;
    }
    case KEY_PARTITION_METADATA: {
      const k = decodeConsumerGroupPartitionMetadataKey(kr, 0);
      if (!vr) return;
      const v = decodeConsumerGroupPartitionMetadataValue(vr, vv);
      groupFor(k.groupId).subscriptionMetadata = new Map(
        v.topics.map((t) => [t.topicName, { topicId: t.topicId, partitions: t.numPartitions }]),
      );
      return;
    }
    case KEY_MEMBER_METADATA: {
      const k = decodeConsumerGroupMemberMetadataKey(kr, 0);
      const g = groupFor(k.groupId);
      if (!vr) {
        g.forgetMember(k.memberId);
        return;
      }
      const v = decodeConsumerGroupMemberMetadataValue(vr, vv);
      const m = g.restoreMember(k.memberId);
      m.instanceId = v.instanceId;
      m.rackId = v.rackId;
      m.clientId = v.clientId;
      m.clientHost = v.clientHost;
      m.subscribedTopicNames = v.subscribedTopicNames;
      m.subscribedTopicRegex = v.subscribedTopicRegex;
      m.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
      m.serverAssignor = v.serverAssignor;
      return;
    }
    case KEY_TARGET_METADATA: {
      const k = decodeConsumerGroupTargetAssignmentMetadataKey(kr, 0);
      if (!vr) return;
      groupFor(k.groupId).assignmentEpoch = decodeConsumerGroupTargetAssignmentMetadataValue(vr, vv).assignmentEpoch;
      return;
    }
    case KEY_TARGET_MEMBER: {
      const k = decodeConsumerGroupTargetAssignmentMemberKey(kr, 0);
      const g = groupFor(k.groupId);
      if (!vr) {
        g.targetAssignment.delete(k.memberId);
        return;
      }
      g.targetAssignment.set(k.memberId, fromWire(decodeConsumerGroupTargetAssignmentMemberValue(vr, vv).topicPartitions));
      return;
    }
    case KEY_CURRENT_ASSIGNMENT: {
      const k = decodeConsumerGroupCurrentMemberAssignmentKey(kr, 0);
      if (!vr) return;
      const v = decodeConsumerGroupCurrentMemberAssignmentValue(vr, vv);
      const m = groupFor(k.groupId).restoreMember(k.memberId);
      m.memberEpoch = v.memberEpoch;
      m.previousMemberEpoch = v.previousMemberEpoch;
      m.state = STATE_OF[v.state] ?? 'stable';
      m.assigned = fromWire(v.assignedPartitions);
      m.pendingRevocation = fromWire(v.partitionsPendingRevocation);
      return;
    }
  }
}
