// A consumer-protocol (KIP-848) group: members heartbeat with ConsumerGroupHeartbeat, the group
// computes a target assignment with a server-side assignor whenever the group epoch moves past
// the assignment epoch, and each member reconciles towards its target (./reconciliation.ts).
//
// Epochs: the GROUP epoch bumps when membership, subscriptions or the subscribed topics' metadata
// change; the ASSIGNMENT epoch is the group epoch the target assignment was computed at; a
// MEMBER epoch reaches the assignment epoch once the member revoked what it had to give up.
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../../protocol/errors.js';
import type {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponseInput,
} from '../../../protocol/gen/consumer-group-heartbeat.js';
import type { ConsumerGroupDescribeResponseDescribedGroupInput } from '../../../protocol/gen/consumer-group-describe.js';
import {
  assignmentsEqual,
  cloneAssignment,
  fromWire,
  isSubset,
  toWire,
  type TopicPartitions,
} from './assignment.js';
import { isInternalTopic } from '../../runtime/internal-topics.js';
import type { GroupLike } from '../group.js';
import type { ServerAssignor } from './assignors.js';
import { reconcile, type MemberAssignmentState, type MemberState } from './reconciliation.js';

export const JOIN_EPOCH = 0;
export const LEAVE_EPOCH = -1;
export const STATIC_LEAVE_EPOCH = -2;

/** A heartbeat that must be answered with an error code. */
export class ConsumerGroupError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a consumer group needs to know about topics (the cluster metadata store, adapted). */
export interface TopicView {
  byName(name: string): { topicId: string; partitions: number } | undefined;
  byId(topicId: string): { name: string; partitions: number } | undefined;
  names(): Iterable<string>;
  /** Changes whenever topics are created, deleted or grow partitions. */
  version(): number;
}

export interface ConsumerGroupSettings {
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  maxSize: number;
  /** First one is the default. */
  assignors: readonly ServerAssignor[];
}

/** Persistence hook: told about every change, in the order Kafka writes its records. */
export interface ConsumerGroupListener {
  /** Subscriptions, client info, rebalance timeout (ConsumerGroupMemberMetadata). */
  memberMetadataUpdated?(group: ConsumerGroup, member: ConsumerGroupMember): void;
  /** Epochs and current assignment (ConsumerGroupCurrentMemberAssignment). */
  memberUpdated?(group: ConsumerGroup, member: ConsumerGroupMember): void;
  memberRemoved?(group: ConsumerGroup, memberId: string): void;
  groupUpdated?(group: ConsumerGroup): void;
  targetUpdated?(group: ConsumerGroup): void;
  /** One member's target assignment moved (static member replaced). */
  targetMemberUpdated?(group: ConsumerGroup, memberId: string): void;
  groupTombstones?(group: ConsumerGroup): Buffer[];
}

export class ConsumerGroupMember implements MemberAssignmentState {
  memberEpoch = 0;
  previousMemberEpoch = 0;
  state: MemberState = 'stable';
  assigned: TopicPartitions = new Map();
  pendingRevocation: TopicPartitions = new Map();
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  rebalanceTimeoutMs = 300_000;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  sessionTimer: NodeJS.Timeout | undefined;
  rebalanceTimer: NodeJS.Timeout | undefined;
  constructor(readonly memberId: string) {}
}

export interface HeartbeatContext {
  apiVersion: number;
  clientId: string;
  clientHost: string;
}


/** Compiles a subscription regex (RE2/J syntax; JS RegExp here) as a whole-name match. */
export function compileTopicRegex(regex: string): RegExp {
  return new RegExp(`^(?:${regex})$`);
}

export class ConsumerGroup implements GroupLike {
  readonly type = 'consumer' as const;
  readonly protocolType = 'consumer';
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** instanceId → memberId of static members. */
  readonly staticMembers = new Map<string, string>();
  /** memberId → target partitions, as of assignmentEpoch. */
  targetAssignment = new Map<string, TopicPartitions>();
  /** "topicId:partition" → memberId of the member owning it (assigned or pending revocation). */
  private readonly owners = new Map<string, string>();
  /** Subscribed topics (all members): name → id and partition count, as used by the last epoch. */
  subscriptionMetadata = new Map<string, { topicId: string; partitions: number }>();
  private metadataVersionSeen = -1;
  /** When the last member left (offset expiry base). */
  emptySince = 0;
  private readonly regexCache = new Map<string, RegExp>();
  private closed = false;

  constructor(
    readonly groupId: string,
    private readonly topics: TopicView,
    private readonly settings: ConsumerGroupSettings,
    private readonly listener: ConsumerGroupListener = {},
    private readonly now: () => number = Date.now,
  ) {}

  // ---------------------------------------------------------------------------- GroupLike view

  get state(): string {
    if (this.closed) return 'Dead';
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch === STATIC_LEAVE_EPOCH) continue;
      if (m.state !== 'stable' || m.memberEpoch !== this.assignmentEpoch) return 'Reconciling';
    }
    return 'Stable';
  }

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** OffsetCommit: generationIdOrMemberEpoch is the member epoch. */
  validateOffsetCommit(memberId: string, memberEpoch: number, _groupInstanceId: string | null): number {
    if (memberEpoch < 0 && this.members.size === 0) return ErrorCode.NONE; // admin / simple commit
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch > member.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
    if (memberEpoch < member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** OffsetFetch v9+: memberId/memberEpoch, or null/-1 from admin clients. */
  validateOffsetFetch(memberId: string | null, memberEpoch: number): number {
    if (memberEpoch < 0 && !memberId) return ErrorCode.NONE;
    const member = memberId ? this.members.get(memberId) : undefined;
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  validateOffsetDelete(): number {
    return this.closed ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscriptionMetadata.has(topic);
  }

  /** Offsets age only while the group is empty, from when it became empty (or the commit). */
  offsetExpirationBaseTimestamp(commitTimestamp: number): number | null {
    if (this.members.size > 0) return null;
    return Math.max(commitTimestamp, this.emptySince);
  }

  /** Keys to delete with the group (its ConsumerGroup* records; members are gone when empty). */
  tombstones(): Buffer[] {
    return this.listener.groupTombstones?.(this) ?? [];
  }

  close(): void {
    this.closed = true;
    for (const m of this.members.values()) this.clearTimers(m);
  }

  /** The assignor the group uses: the one most members ask for, else the configured default. */
  get assignor(): ServerAssignor {
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [name, n] of votes) if (best === undefined || n > votes.get(best)!) best = name;
    return this.settings.assignors.find((a) => a.name === best) ?? this.settings.assignors[0]!;
  }

  // ------------------------------------------------------------------------------- heartbeat

  /** Handles a join or regular heartbeat (memberEpoch >= 0). Throws ConsumerGroupError. */
  heartbeat(req: ConsumerGroupHeartbeatRequest, ctx: HeartbeatContext): ConsumerGroupHeartbeatResponseInput {
    let bump = false;
    let memberChanged = false;
    let member: ConsumerGroupMember;
    const before = { epoch: -100, assigned: new Map() as TopicPartitions };
    const owned = req.topicPartitions === null ? null : fromWire(req.topicPartitions);
    if (req.memberEpoch === JOIN_EPOCH) {
      const joined = this.joinMember(req, ctx);
      member = joined.member;
      bump = joined.isNew;
      memberChanged = joined.isNew;
    } else {
      const existing = this.members.get(req.memberId);
      if (!existing) throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${this.groupId}.`);
      member = existing;
      if (member.instanceId !== null && req.instanceId !== null && req.instanceId !== member.instanceId) {
        throw new ConsumerGroupError(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${req.instanceId} does not match member ${member.memberId}.`);
      }
      if (req.memberEpoch > member.memberEpoch) {
        throw new ConsumerGroupError(ErrorCode.FENCED_MEMBER_EPOCH, `Member epoch ${req.memberEpoch} is newer than ${member.memberEpoch}.`);
      }
      if (req.memberEpoch < member.memberEpoch) {
        // A lost response: the member may still be at its previous epoch with a subset of its partitions.
        if (req.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned)) {
          throw new ConsumerGroupError(ErrorCode.FENCED_MEMBER_EPOCH, `Member epoch ${req.memberEpoch} is fenced (current ${member.memberEpoch}).`);
        }
      }
      before.epoch = member.memberEpoch;
      before.assigned = cloneAssignment(member.assigned);
    }

    // Member fields (null / -1 = unchanged).
    if (member.clientId !== ctx.clientId || member.clientHost !== ctx.clientHost) memberChanged = true;
    member.clientId = ctx.clientId;
    member.clientHost = ctx.clientHost;
    if (req.rackId !== null && req.rackId !== member.rackId) {
      member.rackId = req.rackId;
      memberChanged = true;
    }
    if (req.rebalanceTimeoutMs !== -1 && req.rebalanceTimeoutMs !== member.rebalanceTimeoutMs) {
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      memberChanged = true;
    }
    if (req.serverAssignor !== null && req.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = req.serverAssignor;
      bump = true;
    }
    if (req.subscribedTopicNames !== null) {
      const names = [...new Set(req.subscribedTopicNames)].sort();
      if (names.join('\0') !== member.subscribedTopicNames.join('\0')) {
        member.subscribedTopicNames = names;
        bump = true;
      }
    }
    if (req.subscribedTopicRegex !== null) {
      const regex = req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex;
      if (regex !== member.subscribedTopicRegex) {
        member.subscribedTopicRegex = regex;
        bump = true;
      }
    }

    if (bump) memberChanged = true;
    if (memberChanged) this.listener.memberMetadataUpdated?.(this, member);
    // Subscribed topic metadata: a new topic, a deleted one or more partitions → new epoch.
    if (bump || this.metadataVersionSeen !== this.topics.version()) {
      if (this.refreshSubscriptionMetadata()) bump = true;
    }
    if (bump) {
      this.groupEpoch++;
      this.listener.groupUpdated?.(this);
    }
    if (this.groupEpoch > this.assignmentEpoch) this.computeTargetAssignment();

    this.reconcileMember(member, owned);
    this.scheduleSessionTimeout(member);

    const fullRequest =
      req.memberEpoch === JOIN_EPOCH ||
      (req.rebalanceTimeoutMs !== -1 &&
        (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) &&
        req.topicPartitions !== null);
    const changed = before.epoch !== member.memberEpoch || !assignmentsEqual(before.assigned, member.assigned);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment: fullRequest || changed ? { topicPartitions: toWire(member.assigned) } : null,
    };
  }

  private joinMember(req: ConsumerGroupHeartbeatRequest, ctx: HeartbeatContext): { member: ConsumerGroupMember; isNew: boolean } {
    const memberId = req.memberId !== '' ? req.memberId : randomBytes(16).toString('base64url');
    if (req.instanceId !== null) {
      const previousId = this.staticMembers.get(req.instanceId);
      const previous = previousId !== undefined ? this.members.get(previousId) : undefined;
      if (previous && previous.memberId !== memberId) {
        if (previous.memberEpoch !== STATIC_LEAVE_EPOCH) {
          throw new ConsumerGroupError(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${previous.memberId} with instance id ${req.instanceId} is still active.`,
          );
        }
        // The static member comes back: the new member id takes over its epoch and assignment.
        const member = new ConsumerGroupMember(memberId);
        member.instanceId = req.instanceId;
        member.memberEpoch = previous.previousMemberEpoch;
        member.previousMemberEpoch = previous.previousMemberEpoch;
        member.state = previous.state;
        member.assigned = previous.assigned;
        member.pendingRevocation = previous.pendingRevocation;
        member.rackId = previous.rackId;
        member.rebalanceTimeoutMs = previous.rebalanceTimeoutMs;
        member.subscribedTopicNames = previous.subscribedTopicNames;
        member.subscribedTopicRegex = previous.subscribedTopicRegex;
        member.serverAssignor = previous.serverAssignor;
        this.clearTimers(previous);
        this.members.delete(previous.memberId);
        this.listener.memberRemoved?.(this, previous.memberId);
        this.members.set(memberId, member);
        this.staticMembers.set(req.instanceId, memberId);
        const target = this.targetAssignment.get(previous.memberId);
        this.targetAssignment.delete(previous.memberId);
        if (target) this.targetAssignment.set(memberId, target);
        this.setOwnership(member);
        this.listener.memberMetadataUpdated?.(this, member);
        this.listener.targetMemberUpdated?.(this, memberId);
        this.listener.memberUpdated?.(this, member);
        return { member, isNew: false };
      }
    }
    const existing = this.members.get(memberId);
    if (existing) {
      // Rejoin with epoch 0 (after a fence or a restart with the same id): same member again.
      if (existing.memberEpoch === STATIC_LEAVE_EPOCH) {
        existing.memberEpoch = existing.previousMemberEpoch;
        this.listener.memberUpdated?.(this, existing);
      }
      return { member: existing, isNew: false };
    }
    if (this.members.size >= this.settings.maxSize) {
      throw new ConsumerGroupError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.settings.maxSize} members.`,
      );
    }
    const member = new ConsumerGroupMember(memberId);
    member.instanceId = req.instanceId;
    member.clientId = ctx.clientId;
    member.clientHost = ctx.clientHost;
    this.members.set(memberId, member);
    if (req.instanceId !== null) this.staticMembers.set(req.instanceId, memberId);
    return { member, isNew: true };
  }

  /** memberEpoch -1 (leave) or -2 (static member leaves, expecting to come back). */
  leave(req: ConsumerGroupHeartbeatRequest): ConsumerGroupHeartbeatResponseInput {
    let member: ConsumerGroupMember | undefined;
    if (req.instanceId !== null) {
      const id = this.staticMembers.get(req.instanceId);
      member = id !== undefined ? this.members.get(id) : undefined;
      if (!member) {
        throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is not a member of group ${this.groupId}.`);
      }
      if (member.memberId !== req.memberId) {
        throw new ConsumerGroupError(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${req.instanceId} belongs to another member.`);
      }
    } else {
      member = this.members.get(req.memberId);
      if (!member) {
        throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${this.groupId}.`);
      }
    }
    if (req.memberEpoch === STATIC_LEAVE_EPOCH && member.instanceId !== null) {
      // Keeps its assignment for a while (session timeout) so a restart does not rebalance.
      if (member.memberEpoch !== STATIC_LEAVE_EPOCH) member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = STATIC_LEAVE_EPOCH;
      this.clearRebalanceTimer(member);
      this.scheduleSessionTimeout(member);
      this.listener.memberUpdated?.(this, member);
    } else {
      this.removeMember(member.memberId);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /** Removes a member (leave, session or rebalance timeout): its partitions become free. */
  removeMember(memberId: string): boolean {
    const member = this.members.get(memberId);
    if (!member) return false;
    this.clearTimers(member);
    this.clearOwnership(member);
    this.members.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) {
      this.staticMembers.delete(member.instanceId);
    }
    this.targetAssignment.delete(memberId);
    this.listener.memberRemoved?.(this, memberId);
    if (this.members.size === 0) this.emptySince = this.now();
    this.refreshSubscriptionMetadata();
    this.groupEpoch++;
    this.listener.groupUpdated?.(this);
    return true;
  }

  // --------------------------------------------------------------------------- assignment

  /** Topic ids a member subscribes to (names that exist, plus regex matches). */
  subscribedTopicIds(member: ConsumerGroupMember): Set<string> {
    const ids = new Set<string>();
    for (const name of this.subscribedTopicNamesOf(member)) {
      const t = this.topics.byName(name);
      if (t) ids.add(t.topicId);
    }
    return ids;
  }

  private subscribedTopicNamesOf(member: ConsumerGroupMember): string[] {
    const names = [...member.subscribedTopicNames];
    if (member.subscribedTopicRegex !== null) {
      let re = this.regexCache.get(member.subscribedTopicRegex);
      if (!re) {
        try {
          re = compileTopicRegex(member.subscribedTopicRegex);
        } catch {
          return names;
        }
        this.regexCache.set(member.subscribedTopicRegex, re);
      }
      for (const name of this.topics.names()) if (!isInternalTopic(name) && re.test(name)) names.push(name);
    }
    return names;
  }

  /** Recomputes the group's subscribed topic metadata; true when it changed. */
  private refreshSubscriptionMetadata(): boolean {
    this.metadataVersionSeen = this.topics.version();
    const next = new Map<string, { topicId: string; partitions: number }>();
    for (const m of this.members.values()) {
      for (const name of this.subscribedTopicNamesOf(m)) {
        const t = this.topics.byName(name);
        if (t) next.set(name, { topicId: t.topicId, partitions: t.partitions });
      }
    }
    let same = next.size === this.subscriptionMetadata.size;
    if (same) {
      for (const [name, v] of next) {
        const old = this.subscriptionMetadata.get(name);
        if (!old || old.topicId !== v.topicId || old.partitions !== v.partitions) {
          same = false;
          break;
        }
      }
    }
    this.subscriptionMetadata = next;
    return !same;
  }

  private computeTargetAssignment(): void {
    const members = new Map<string, { subscribedTopicIds: Set<string>; rackId: string | null }>();
    const topics = new Map<string, number>();
    for (const m of this.members.values()) {
      const ids = this.subscribedTopicIds(m);
      members.set(m.memberId, { subscribedTopicIds: ids, rackId: m.rackId });
    }
    for (const v of this.subscriptionMetadata.values()) topics.set(v.topicId, v.partitions);
    this.targetAssignment = this.assignor.assign({ members, topics, current: this.targetAssignment });
    this.assignmentEpoch = this.groupEpoch;
    this.listener.targetUpdated?.(this);
  }

  // ------------------------------------------------------------------------ reconciliation

  private reconcileMember(member: ConsumerGroupMember, owned: TopicPartitions | null): void {
    if (member.memberEpoch === STATIC_LEAVE_EPOCH) return;
    const before = member.state + member.memberEpoch;
    const next = reconcile(member, {
      targetEpoch: this.assignmentEpoch,
      target: this.targetAssignment.get(member.memberId) ?? new Map(),
      ownedByOther: (t, p) => {
        const o = this.owners.get(`${t}:${p}`);
        return o !== undefined && o !== member.memberId;
      },
      owned,
      topicExists: (t) => this.topics.byId(t) !== undefined,
    });
    if (next !== member) {
      this.clearOwnership(member);
      member.memberEpoch = next.memberEpoch;
      member.previousMemberEpoch = next.previousMemberEpoch;
      member.state = next.state;
      member.assigned = next.assigned;
      member.pendingRevocation = next.pendingRevocation;
      this.setOwnership(member);
      this.listener.memberUpdated?.(this, member);
    }
    if (member.state === 'unrevoked_partitions') {
      if (!member.rebalanceTimer || before !== member.state + member.memberEpoch) this.scheduleRebalanceTimeout(member);
    } else {
      this.clearRebalanceTimer(member);
    }
  }

  private clearOwnership(member: ConsumerGroupMember): void {
    for (const a of [member.assigned, member.pendingRevocation]) {
      for (const [t, ps] of a) {
        for (const p of ps) if (this.owners.get(`${t}:${p}`) === member.memberId) this.owners.delete(`${t}:${p}`);
      }
    }
  }

  private setOwnership(member: ConsumerGroupMember): void {
    for (const a of [member.assigned, member.pendingRevocation]) {
      for (const [t, ps] of a) for (const p of ps) this.owners.set(`${t}:${p}`, member.memberId);
    }
  }

  /** The member owning a partition now (assigned or still revoking), if any. */
  ownerOf(topicId: string, partition: number): string | undefined {
    return this.owners.get(`${topicId}:${partition}`);
  }

  // -------------------------------------------------------------------------------- timers

  private scheduleSessionTimeout(member: ConsumerGroupMember): void {
    if (this.closed) return;
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = undefined;
      if (this.members.get(member.memberId) === member) this.removeMember(member.memberId);
    }, this.settings.sessionTimeoutMs);
    member.sessionTimer.unref?.();
  }

  private scheduleRebalanceTimeout(member: ConsumerGroupMember): void {
    if (this.closed) return;
    this.clearRebalanceTimer(member);
    const epoch = member.memberEpoch;
    member.rebalanceTimer = setTimeout(() => {
      member.rebalanceTimer = undefined;
      const current = this.members.get(member.memberId);
      if (current === member && member.state === 'unrevoked_partitions' && member.memberEpoch === epoch) {
        this.removeMember(member.memberId);
      }
    }, Math.max(0, member.rebalanceTimeoutMs));
    member.rebalanceTimer.unref?.();
  }

  private clearRebalanceTimer(member: ConsumerGroupMember): void {
    if (member.rebalanceTimer) clearTimeout(member.rebalanceTimer);
    member.rebalanceTimer = undefined;
  }

  private clearTimers(member: ConsumerGroupMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
    this.clearRebalanceTimer(member);
  }

  // ------------------------------------------------------------------------------- restore

  /** The member with this id, created empty if needed (replay of __consumer_offsets). */
  restoreMember(memberId: string): ConsumerGroupMember {
    let m = this.members.get(memberId);
    if (!m) this.members.set(memberId, (m = new ConsumerGroupMember(memberId)));
    return m;
  }

  /** Drops a member during replay (no epoch bump: the log already has the group epoch). */
  forgetMember(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) this.clearTimers(m);
    this.members.delete(memberId);
  }

  /** Rebuilds derived state after a replay: owners, static ids, session timers. */
  finishRestore(): void {
    this.owners.clear();
    this.staticMembers.clear();
    this.metadataVersionSeen = -1;
    if (this.members.size === 0) this.emptySince = this.now();
    for (const m of this.members.values()) {
      this.setOwnership(m);
      if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
      this.scheduleSessionTimeout(m);
      if (m.state === 'unrevoked_partitions') this.scheduleRebalanceTimeout(m);
    }
  }

  // ------------------------------------------------------------------------------ describe

  describe(): ConsumerGroupDescribeResponseDescribedGroupInput {
    const named = (a: TopicPartitions) => ({
      topicPartitions: toWire(a).map((tp) => ({ ...tp, topicName: this.topics.byId(tp.topicId)?.name ?? '' })),
    });
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId: this.groupId,
      groupState: this.state,
      groupEpoch: this.groupEpoch,
      assignmentEpoch: this.assignmentEpoch,
      assignorName: this.assignor.name,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: named(m.assigned),
        targetAssignment: named(this.targetAssignment.get(m.memberId) ?? new Map()),
      })),
      authorizedOperations: -2147483648,
    };
  }
}
