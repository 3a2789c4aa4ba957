// Persistence of streams groups (KIP-1071) in `__consumer_offsets`, in Kafka's record formats:
//   17 StreamsGroupMetadata (group epoch)            19 StreamsGroupMemberMetadata (process, endpoint)
//   20 StreamsGroupTargetAssignmentMetadata (epoch)  21 StreamsGroupTargetAssignmentMember
//   22 StreamsGroupCurrentMemberAssignment           23 StreamsGroupTopology
// (18 partition metadata and 24 resolved topic ids are not written; replay ignores them.)
// Records are batched per group by the consumer protocol's GroupRecordBatcher.
import { Reader } from '../../../protocol/primitives.js';
import { decodeStreamsGroupCurrentMemberAssignmentKey, encodeStreamsGroupCurrentMemberAssignmentKey } from '../../../protocol/gen/internal/streams-group-current-member-assignment-key.js';
import { decodeStreamsGroupCurrentMemberAssignmentValue, encodeStreamsGroupCurrentMemberAssignmentValue } from '../../../protocol/gen/internal/streams-group-current-member-assignment-value.js';
import { decodeStreamsGroupMemberMetadataKey, encodeStreamsGroupMemberMetadataKey } from '../../../protocol/gen/internal/streams-group-member-metadata-key.js';
import { decodeStreamsGroupMemberMetadataValue, encodeStreamsGroupMemberMetadataValue } from '../../../protocol/gen/internal/streams-group-member-metadata-value.js';
import { decodeStreamsGroupMetadataKey, encodeStreamsGroupMetadataKey } from '../../../protocol/gen/internal/streams-group-metadata-key.js';
import { decodeStreamsGroupMetadataValue, encodeStreamsGroupMetadataValue } from '../../../protocol/gen/internal/streams-group-metadata-value.js';
import { decodeStreamsGroupTargetAssignmentMemberKey, encodeStreamsGroupTargetAssignmentMemberKey } from '../../../protocol/gen/internal/streams-group-target-assignment-member-key.js';
import { decodeStreamsGroupTargetAssignmentMemberValue, encodeStreamsGroupTargetAssignmentMemberValue } from '../../../protocol/gen/internal/streams-group-target-assignment-member-value.js';
import { decodeStreamsGroupTargetAssignmentMetadataKey, encodeStreamsGroupTargetAssignmentMetadataKey } from '../../../protocol/gen/internal/streams-group-target-assignment-metadata-key.js';
import { decodeStreamsGroupTargetAssignmentMetadataValue, encodeStreamsGroupTargetAssignmentMetadataValue } from '../../../protocol/gen/internal/streams-group-target-assignment-metadata-value.js';
import { decodeStreamsGroupTopologyKey, encodeStreamsGroupTopologyKey } from '../../../protocol/gen/internal/streams-group-topology-key.js';
import { decodeStreamsGroupTopologyValue, encodeStreamsGroupTopologyValue } from '../../../protocol/gen/internal/streams-group-topology-value.js';
import { fromWire, toWire, type TopicPartitions } from '../consumer-protocol/assignment.js';
import type { MemberState } from '../consumer-protocol/reconciliation.js';
import { GroupRecordBatcher, recordBytes } from '../consumer-protocol/records.js';
import type { StreamsGroup, StreamsGroupListener, StreamsGroupMember } from './streams-group.js';
import type { StreamsTopology } from './topology.js';

const KEY_GROUP_METADATA = 17;
const KEY_MEMBER_METADATA = 19;
const KEY_TARGET_METADATA = 20;
const KEY_TARGET_MEMBER = 21;
const KEY_CURRENT_ASSIGNMENT = 22;
const KEY_TOPOLOGY = 23;
export const STREAMS_GROUP_KEY_VERSIONS: readonly number[] = [17, 18, 19, 20, 21, 22, 23, 24];

/** Kafka's MemberState byte values (shared with the consumer protocol). */
const STATE_BYTE: Record<MemberState, number> = { unrevoked_partitions: 0, unreleased_partitions: 1, stable: 2 };
const STATE_OF: Record<number, MemberState> = { 0: 'unrevoked_partitions', 1: 'unreleased_partitions', 2: 'stable' };

const tasks = (a: TopicPartitions) => toWire(a).map((t) => ({ subtopologyId: t.topicId, partitions: t.partitions }));
const fromTasks = (list: { subtopologyId: string; partitions: number[] }[]) => fromWire(list.map((t) => ({ topicId: t.subtopologyId, partitions: t.partitions })));

const keys = {
  group: (groupId: string) => recordBytes(KEY_GROUP_METADATA, (w) => encodeStreamsGroupMetadataKey(w, 0, { groupId })),
  member: (groupId: string, memberId: string) => recordBytes(KEY_MEMBER_METADATA, (w) => encodeStreamsGroupMemberMetadataKey(w, 0, { groupId, memberId })),
  target: (groupId: string) => recordBytes(KEY_TARGET_METADATA, (w) => encodeStreamsGroupTargetAssignmentMetadataKey(w, 0, { groupId })),
  targetMember: (groupId: string, memberId: string) =>
    recordBytes(KEY_TARGET_MEMBER, (w) => encodeStreamsGroupTargetAssignmentMemberKey(w, 0, { groupId, memberId })),
  current: (groupId: string, memberId: string) =>
    recordBytes(KEY_CURRENT_ASSIGNMENT, (w) => encodeStreamsGroupCurrentMemberAssignmentKey(w, 0, { groupId, memberId })),
  topology: (groupId: string) => recordBytes(KEY_TOPOLOGY, (w) => encodeStreamsGroupTopologyKey(w, 0, { groupId })),
};

function topologyValue(t: StreamsTopology): Buffer {
  const info = (i: StreamsTopology['subtopologies'][number]['stateChangelogTopics'][number]) => ({
    name: i.name,
    partitions: i.partitions,
    replicationFactor: i.replicationFactor,
    topicConfigs: i.configs,
  });
  return recordBytes(0, (w) =>
    encodeStreamsGroupTopologyValue(w, 0, {
      epoch: t.epoch,
      subtopologies: t.subtopologies.map((s) => ({ ...s, stateChangelogTopics: s.stateChangelogTopics.map(info), repartitionSourceTopics: s.repartitionSourceTopics.map(info) })),
    }),
  );
}

/** Turns a streams group's changes into records. */
export class StreamsGroupRecordWriter extends GroupRecordBatcher implements StreamsGroupListener {
  groupUpdated(g: StreamsGroup): void {
    this.push(g.groupId, {
      key: keys.group(g.groupId),
      value: recordBytes(0, (w) =>
        encodeStreamsGroupMetadataValue(w, 0, { epoch: g.groupEpoch, metadataHash: 0, validatedTopologyEpoch: g.configured?.taskCounts ? (g.topology?.epoch ?? -1) : -1, assignmentConfigs: [] }),
      ),
    });
  }

  topologyUpdated(g: StreamsGroup): void {
    if (g.topology) this.push(g.groupId, { key: keys.topology(g.groupId), value: topologyValue(g.topology) });
  }

  targetUpdated(g: StreamsGroup): void {
    for (const [memberId, a] of g.targetAssignment) {
      this.push(g.groupId, {
        key: keys.targetMember(g.groupId, memberId),
        value: recordBytes(0, (w) => encodeStreamsGroupTargetAssignmentMemberValue(w, 0, { activeTasks: tasks(a.active), standbyTasks: tasks(a.standby), warmupTasks: [] })),
      });
    }
    this.push(g.groupId, {
      key: keys.target(g.groupId),
      value: recordBytes(0, (w) => encodeStreamsGroupTargetAssignmentMetadataValue(w, 0, { assignmentEpoch: g.assignmentEpoch })),
    });
  }

  memberMetadataUpdated(g: StreamsGroup, m: StreamsGroupMember): void {
    this.push(g.groupId, {
      key: keys.member(g.groupId, m.memberId),
      value: recordBytes(0, (w) =>
        encodeStreamsGroupMemberMetadataValue(w, 0, {
          instanceId: m.instanceId,
          rackId: m.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          topologyEpoch: m.topologyEpoch,
          processId: m.processId,
          userEndpoint: m.userEndpoint,
          clientTags: m.clientTags,
        }),
      ),
    });
  }

  memberUpdated(g: StreamsGroup, m: StreamsGroupMember): void {
    this.push(g.groupId, {
      key: keys.current(g.groupId, m.memberId),
      value: recordBytes(0, (w) =>
        encodeStreamsGroupCurrentMemberAssignmentValue(w, 0, {
          memberEpoch: m.memberEpoch,
          previousMemberEpoch: m.previousMemberEpoch,
          state: STATE_BYTE[m.state],
          activeTasks: tasks(m.assigned),
          standbyTasks: tasks(m.standby),
          warmupTasks: [],
          activeTasksPendingRevocation: tasks(m.pendingRevocation),
          standbyTasksPendingRevocation: [],
          warmupTasksPendingRevocation: [],
        }),
      ),
    });
  }

  memberRemoved(g: StreamsGroup, memberId: string): void {
    this.push(
      g.groupId,
      { key: keys.current(g.groupId, memberId), value: null },
      { key: keys.targetMember(g.groupId, memberId), value: null },
      { key: keys.member(g.groupId, memberId), value: null },
    );
  }

  groupTombstones(g: StreamsGroup): Buffer[] {
    return [keys.target(g.groupId), keys.topology(g.groupId), keys.group(g.groupId)];
  }
}

/** Applies one replayed record; `groupFor` finds or creates the group, `drop` removes a tombstoned one. */
export function replayStreamsRecord(
  keyVersion: number,
  key: Buffer,
  value: Buffer | null,
  groupFor: (groupId: string) => StreamsGroup,
  drop: (groupId: string) => void,
): void {
  const kr = new Reader(key);
  kr.int16();
  const vr = value === null ? null : new Reader(value);
  const vv = vr?.int16() ?? 0;
  switch (keyVersion) {
    case KEY_GROUP_METADATA: {
      const k = decodeStreamsGroupMetadataKey(kr, 0);
      if (!vr) {
        drop(k.groupId);
        return;
      }
      groupFor(k.groupId).groupEpoch = decodeStreamsGroupMetadataValue(vr, vv).epoch;
      return;
    }
    case KEY_TOPOLOGY: {
      const k = decodeStreamsGroupTopologyKey(kr, 0);
      if (!vr) return;
      const v = decodeStreamsGroupTopologyValue(vr, vv);
      const info = (i: { name: string; partitions: number; replicationFactor: number; topicConfigs: { key: string; value: string }[] }) => ({
        name: i.name,
        partitions: i.partitions,
        replicationFactor: i.replicationFactor,
        configs: i.topicConfigs,
      });
      groupFor(k.groupId).topology = {
        epoch: v.epoch,
        subtopologies: v.subtopologies.map((s) => ({ ...s, stateChangelogTopics: s.stateChangelogTopics.map(info), repartitionSourceTopics: s.repartitionSourceTopics.map(info) })),
      };
      return;
    }
    case KEY_MEMBER_METADATA: {
      const k = decodeStreamsGroupMemberMetadataKey(kr, 0);
      const g = groupFor(k.groupId);
      if (!vr) {
        g.forgetMember(k.memberId);
        return;
      }
      const v = decodeStreamsGroupMemberMetadataValue(vr, vv);
      const m = g.restoreMember(k.memberId);
      m.instanceId = v.instanceId;
      m.rackId = v.rackId;
      m.clientId = v.clientId;
      m.clientHost = v.clientHost;
      m.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
      m.topologyEpoch = v.topologyEpoch;
      m.processId = v.processId;
      m.userEndpoint = v.userEndpoint;
      m.clientTags = v.clientTags;
      return;
    }
    case KEY_TARGET_METADATA: {
      const k = decodeStreamsGroupTargetAssignmentMetadataKey(kr, 0);
      if (!vr) return;
      groupFor(k.groupId).assignmentEpoch = decodeStreamsGroupTargetAssignmentMetadataValue(vr, vv).assignmentEpoch;
      return;
    }
    case KEY_TARGET_MEMBER: {
      const k = decodeStreamsGroupTargetAssignmentMemberKey(kr, 0);
      const g = groupFor(k.groupId);
      if (!vr) {
        g.targetAssignment.delete(k.memberId);
        return;
      }
      const v = decodeStreamsGroupTargetAssignmentMemberValue(vr, vv);
      g.targetAssignment.set(k.memberId, { active: fromTasks(v.activeTasks), standby: fromTasks(v.standbyTasks) });
      return;
    }
    case KEY_CURRENT_ASSIGNMENT: {
      const k = decodeStreamsGroupCurrentMemberAssignmentKey(kr, 0);
      if (!vr) return;
      const v = decodeStreamsGroupCurrentMemberAssignmentValue(vr, vv);
      const m = groupFor(k.groupId).restoreMember(k.memberId);
      m.memberEpoch = v.memberEpoch;
      m.previousMemberEpoch = v.previousMemberEpoch;
      m.state = STATE_OF[v.state] ?? 'stable';
      m.assigned = fromTasks(v.activeTasks);
      m.standby = fromTasks(v.standbyTasks);
      m.pendingRevocation = fromTasks(v.activeTasksPendingRevocation);
      return;
    }
  }
}
