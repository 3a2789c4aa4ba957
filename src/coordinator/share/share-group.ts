// A share group (KIP-932): members heartbeat with ShareGroupHeartbeat and get partitions from a
// server-side assignor; unlike consumer groups several members may share a partition, so there is
// no revocation step — a member takes the target assignment (and the group epoch) at once.
//
// Reuses the KIP-848 building blocks: TopicView (topics by name/id with a change counter), the
// TopicPartitions assignment helpers and the join/leave epoch constants.
import { ErrorCode } from '../../protocol/errors.js';
import { encodeShareGroupMetadataKey } from '../../protocol/gen/internal/share-group-metadata-key.js';
import { Writer } from '../../protocol/primitives.js';
import { assignmentsEqual, toWire, type TopicPartitions } from '../group/consumer-protocol/assignment.js';
import { ConsumerGroupError, JOIN_EPOCH, LEAVE_EPOCH, type TopicView } from '../group/consumer-protocol/consumer-group.js';
import type { GroupLike } from '../group/group.js';
import { simpleShareAssignor, type ShareAssignor } from './assignor.js';

export { JOIN_EPOCH, LEAVE_EPOCH };

/** ShareGroupMetadataKey record type in __consumer_offsets. */
export const SHARE_GROUP_METADATA_KEY_TYPE = 11;

export function shareGroupMetadataKey(groupId: string): Buffer {
  const w = new Writer(32);
  w.int16(SHARE_GROUP_METADATA_KEY_TYPE);
  encodeShareGroupMetadataKey(w, 0, { groupId });
  return w.toBuffer();
}

export interface ShareGroupSettings {
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  maxSize: number;
}

export interface ShareHeartbeat {
  memberId: string;
  memberEpoch: number;
  rackId: string | null;
  subscribedTopicNames: string[] | null;
}

export interface ShareHeartbeatResult {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** null = unchanged since the member's last heartbeat. */
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

export interface ShareGroupListener {
  /** The group epoch moved (persist ShareGroupMetadata). */
  groupUpdated?(group: ShareGroup): void;
  /** A member left or timed out: its acquired records go back to the pool. */
  memberRemoved?(group: ShareGroup, memberId: string): void;
}

export class ShareGroupMember {
  memberEpoch = 0;
  previousMemberEpoch = 0;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  subscribedTopicNames: string[] = [];
  assigned: TopicPartitions = new Map();
  sessionTimer: NodeJS.Timeout | undefined;
  constructor(readonly memberId: string) {}
}

export class ShareGroup implements GroupLike {
  readonly type = 'share' as const;
  readonly protocolType = 'share';
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ShareGroupMember>();
  targetAssignment = new Map<string, TopicPartitions>();
  /** Subscribed topics (union over members): name → id and partition count. */
  subscriptionMetadata = new Map<string, { topicId: string; partitions: number }>();
  private metadataVersionSeen = -1;
  private closed = false;

  constructor(
    readonly groupId: string,
    private readonly topics: TopicView,
    private readonly settings: ShareGroupSettings,
    private readonly listener: ShareGroupListener = {},
    private readonly assignor: ShareAssignor = simpleShareAssignor,
  ) {}

  get state(): string {
    if (this.closed) return 'Dead';
    if (this.members.size === 0) return 'Empty';
    return 'Stable';
  }

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  // Share groups commit no offsets through OffsetCommit/OffsetFetch.
  validateOffsetCommit(): number {
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }
  validateOffsetFetch(): number {
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }
  validateOffsetDelete(): number {
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }
  isSubscribedToTopic(topic: string): boolean {
    return this.subscriptionMetadata.has(topic);
  }
  offsetExpirationBaseTimestamp(): number | null {
    return null;
  }
  tombstones(): Buffer[] {
    return [shareGroupMetadataKey(this.groupId)];
  }

  close(): void {
    this.closed = true;
    for (const m of this.members.values()) if (m.sessionTimer) clearTimeout(m.sessionTimer);
  }

  /** Join (epoch 0) or heartbeat (epoch > 0). Throws ShareGroupError. */
  heartbeat(req: ShareHeartbeat, client: { clientId: string; clientHost: string }): ShareHeartbeatResult {
    let member = this.members.get(req.memberId);
    let bump = false;
    const before = member ? { epoch: member.memberEpoch, assigned: member.assigned } : undefined;
    if (req.memberEpoch === JOIN_EPOCH) {
      if (!member) {
        if (this.members.size >= this.settings.maxSize) {
          throw new ConsumerGroupError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The share group has reached its maximum capacity of ${this.settings.maxSize} members.`);
        }
        member = new ShareGroupMember(req.memberId);
        this.members.set(req.memberId, member);
        bump = true;
      }
    } else {
      if (!member) throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of share group ${this.groupId}.`);
      if (req.memberEpoch !== member.memberEpoch && req.memberEpoch !== member.previousMemberEpoch) {
        throw new ConsumerGroupError(ErrorCode.FENCED_MEMBER_EPOCH, `Member epoch ${req.memberEpoch} is fenced (current ${member.memberEpoch}).`);
      }
    }
    member.clientId = client.clientId;
    member.clientHost = client.clientHost;
    if (req.rackId !== null) member.rackId = req.rackId;
    if (req.subscribedTopicNames !== null) {
      const names = [...new Set(req.subscribedTopicNames)].sort();
      if (names.join('\0') !== member.subscribedTopicNames.join('\0')) {
        member.subscribedTopicNames = names;
        bump = true;
      }
    }
    if (bump || this.metadataVersionSeen !== this.topics.version()) {
      if (this.refreshSubscriptionMetadata()) bump = true;
    }
    if (bump) this.bumpEpoch();
    if (this.groupEpoch > this.assignmentEpoch) this.computeTargetAssignment();
    // No exclusive ownership: the member moves to the target assignment at once.
    if (member.memberEpoch !== this.assignmentEpoch) {
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = this.assignmentEpoch;
      member.assigned = this.targetAssignment.get(member.memberId) ?? new Map();
    }
    this.scheduleSessionTimeout(member);
    const changed = !before || before.epoch !== member.memberEpoch || !assignmentsEqual(before.assigned, member.assigned);
    return {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment: req.memberEpoch === JOIN_EPOCH || changed ? { topicPartitions: toWire(member.assigned) } : null,
    };
  }

  /** memberEpoch -1: the member leaves. */
  leave(memberId: string): void {
    if (!this.members.has(memberId)) {
      throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of share group ${this.groupId}.`);
    }
    this.removeMember(memberId);
  }

  removeMember(memberId: string): boolean {
    const m = this.members.get(memberId);
    if (!m) return false;
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    this.listener.memberRemoved?.(this, memberId);
    this.refreshSubscriptionMetadata();
    this.bumpEpoch();
    return true;
  }

  /** True when the member exists (ShareFetch/ShareAcknowledge validation). */
  hasMember(memberId: string): boolean {
    return this.members.has(memberId);
  }

  /** Topic ids anyone in the group subscribes to. */
  subscribedTopicIds(): Set<string> {
    return new Set([...this.subscriptionMetadata.values()].map((v) => v.topicId));
  }

  private bumpEpoch(): void {
    this.groupEpoch++;
    this.listener.groupUpdated?.(this);
  }

  private refreshSubscriptionMetadata(): boolean {
    this.metadataVersionSeen = this.topics.version();
    const next = new Map<string, { topicId: string; partitions: number }>();
    for (const m of this.members.values()) {
      for (const name of m.subscribedTopicNames) {
        const t = this.topics.byName(name);
        if (t) next.set(name, { topicId: t.topicId, partitions: t.partitions });
      }
    }
    let same = next.size === this.subscriptionMetadata.size;
    if (same) {
      for (const [name, v] of next) {
        const old = this.subscriptionMetadata.get(name);
        if (!old || old.topicId !== v.topicId || old.partitions !== v.partitions) same = false;
      }
    }
    this.subscriptionMetadata = next;
    return !same;
  }

  private computeTargetAssignment(): void {
    const members = new Map<string, Set<string>>();
    for (const m of this.members.values()) {
      const ids = new Set<string>();
      for (const name of m.subscribedTopicNames) {
        const t = this.subscriptionMetadata.get(name);
        if (t) ids.add(t.topicId);
      }
      members.set(m.memberId, ids);
    }
    const topics = new Map<string, number>();
    for (const v of this.subscriptionMetadata.values()) topics.set(v.topicId, v.partitions);
    this.targetAssignment = this.assignor.assign(members, topics);
    this.assignmentEpoch = this.groupEpoch;
  }

  private scheduleSessionTimeout(member: ShareGroupMember): void {
    if (this.closed) return;
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = undefined;
      if (this.members.get(member.memberId) === member) this.removeMember(member.memberId);
    }, this.settings.sessionTimeoutMs);
    member.sessionTimer.unref?.();
  }

  /** Restores the epoch from ShareGroupMetadata (members rejoin after a restart). */
  restoreEpoch(epoch: number): void {
    this.groupEpoch = Math.max(this.groupEpoch, epoch);
    this.assignmentEpoch = Math.min(this.assignmentEpoch, this.groupEpoch);
  }

  describe(): {
    groupState: string;
    groupEpoch: number;
    assignmentEpoch: number;
    assignorName: string;
    members: {
      memberId: string;
      rackId: string | null;
      memberEpoch: number;
      clientId: string;
      clientHost: string;
      subscribedTopicNames: string[];
      assignment: { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] };
    }[];
  } {
    return {
      groupState: this.state,
      groupEpoch: this.groupEpoch,
      assignmentEpoch: this.assignmentEpoch,
      assignorName: this.assignor.name,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        assignment: {
          topicPartitions: toWire(m.assigned).map((tp) => ({ ...tp, topicName: this.topics.byId(tp.topicId)?.name ?? '' })),
        },
      })),
    };
  }
}
