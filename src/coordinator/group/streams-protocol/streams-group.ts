// A streams group (KIP-1071): Kafka Streams members heartbeat with StreamsGroupHeartbeat; the first
// member's topology defines the tasks (subtopology × partition), the broker checks the topology
// against the cluster's topics, assigns active and standby tasks with ./assignor.ts and moves
// active tasks with the KIP-848 reconciliation (../consumer-protocol/reconciliation.ts): a task
// moves to a new member only after its previous owner reported (activeTasks) that it let it go.
//
// Epochs as in the consumer protocol: the GROUP epoch bumps on membership, topology, member
// metadata or topic changes; the ASSIGNMENT epoch is the group epoch of the last target
// assignment; a MEMBER epoch reaches it once the member revoked what it must give up.
import { ErrorCode } from '../../../protocol/errors.js';
import type {
  StreamsGroupHeartbeatRequest,
  StreamsGroupHeartbeatResponseInput,
  StreamsGroupHeartbeatResponseStatusInput,
} from '../../../protocol/gen/streams-group-heartbeat.js';
import type { StreamsGroupDescribeResponseDescribedGroupInput } from '../../../protocol/gen/streams-group-describe.js';
import { assignmentsEqual, cloneAssignment, fromWire, isSubset, toWire, type TopicPartitions } from '../consumer-protocol/assignment.js';
import { ConsumerGroupError, JOIN_EPOCH, type TopicView } from '../consumer-protocol/consumer-group.js';
import { reconcile, type MemberAssignmentState, type MemberState } from '../consumer-protocol/reconciliation.js';
import type { GroupLike } from '../group.js';
import { assignTasks, type TaskAssignment } from './assignor.js';
import {
  configureTopology,
  InvalidTopologyError,
  StreamsStatus,
  topologyFromWire,
  validateTopology,
  type ConfiguredTopology,
  type StreamsTopology,
} from './topology.js';

export interface StreamsGroupSettings {
  sessionTimeoutMs(groupId: string): number;
  heartbeatIntervalMs(groupId: string): number;
  numStandbyReplicas(groupId: string): number;
  maxSize: number;
}

type TaskIds = { subtopologyId: string; partitions: number[] }[];

const tasksFromWire = (list: readonly { subtopologyId: string; partitions: readonly number[] }[]): TopicPartitions =>
  fromWire(list.map((t) => ({ topicId: t.subtopologyId, partitions: t.partitions })));
const tasksToWire = (a: TopicPartitions): TaskIds => toWire(a).map((t) => ({ subtopologyId: t.topicId, partitions: t.partitions }));

export class StreamsGroupMember implements MemberAssignmentState {
  memberEpoch = 0;
  previousMemberEpoch = 0;
  state: MemberState = 'stable';
  /** Active tasks: subtopologyId → partitions. */
  assigned: TopicPartitions = new Map();
  pendingRevocation: TopicPartitions = new Map();
  standby: TopicPartitions = new Map();
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  rebalanceTimeoutMs = 300_000;
  topologyEpoch = 0;
  processId = '';
  userEndpoint: { host: string; port: number } | null = null;
  clientTags: { key: string; value: string }[] = [];
  taskOffsets: { subtopologyId: string; partition: number; offset: number }[] = [];
  taskEndOffsets: { subtopologyId: string; partition: number; offset: number }[] = [];
  sessionTimer: NodeJS.Timeout | undefined;
  rebalanceTimer: NodeJS.Timeout | undefined;
  constructor(readonly memberId: string) {}
}

/** Persistence hook: told about every change (records in __consumer_offsets). */
export interface StreamsGroupListener {
  /** Group epoch (StreamsGroupMetadata). */
  groupUpdated?(group: StreamsGroup): void;
  topologyUpdated?(group: StreamsGroup): void;
  /** Target assignment of every member and its epoch. */
  targetUpdated?(group: StreamsGroup): void;
  /** Process id, endpoint, client info, topology epoch (StreamsGroupMemberMetadata). */
  memberMetadataUpdated?(group: StreamsGroup, member: StreamsGroupMember): void;
  /** Epochs and current tasks (StreamsGroupCurrentMemberAssignment). */
  memberUpdated?(group: StreamsGroup, member: StreamsGroupMember): void;
  memberRemoved?(group: StreamsGroup, memberId: string): void;
  groupTombstones?(group: StreamsGroup): Buffer[];
}

export interface HeartbeatOutcome {
  response: StreamsGroupHeartbeatResponseInput;
  /** Internal topics the broker should create (the caller does, like Kafka's auto-creation). */
  topicsToCreate: ConfiguredTopology['missingInternalTopics'];
}

export class StreamsGroup implements GroupLike {
  readonly type = 'streams' as const;
  readonly protocolType = 'streams';
  groupEpoch = 0;
  assignmentEpoch = 0;
  topology: StreamsTopology | null = null;
  configured: ConfiguredTopology | null = null;
  readonly members = new Map<string, StreamsGroupMember>();
  targetAssignment = new Map<string, TaskAssignment>();
  /** Bumps whenever an assignment or an endpoint changes (partitionsByUserEndpoint). */
  endpointInformationEpoch = 0;
  /** The member that asked the whole application to shut down (until the group is empty). */
  private shutdownRequestedBy: string | null = null;
  /** "subtopologyId:partition" → member owning the active task (assigned or revoking). */
  private readonly owners = new Map<string, string>();
  private topicsVersionSeen = -1;
  private taskCountsKey = '';
  emptySince = 0;
  private closed = false;

  constructor(
    readonly groupId: string,
    private readonly topics: TopicView,
    private readonly settings: StreamsGroupSettings,
    private readonly listener: StreamsGroupListener = {},
    private readonly now: () => number = Date.now,
  ) {}

  // ---------------------------------------------------------------------------- GroupLike view

  get state(): string {
    if (this.closed) return 'Dead';
    if (this.members.size === 0) return 'Empty';
    if (!this.configured?.taskCounts) return 'NotReady';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) if (m.state !== 'stable' || m.memberEpoch !== this.assignmentEpoch) return 'Reconciling';
    return 'Stable';
  }

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  validateOffsetCommit(memberId: string, memberEpoch: number, _groupInstanceId: string | null): number {
    if (memberEpoch < 0 && this.members.size === 0) return ErrorCode.NONE;
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch > member.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
    if (memberEpoch < member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  validateOffsetFetch(memberId: string | null, memberEpoch: number): number {
    if (memberEpoch < 0 && !memberId) return ErrorCode.NONE;
    const member = memberId ? this.members.get(memberId) : undefined;
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  validateOffsetDelete(): number {
    if (this.closed) return ErrorCode.GROUP_ID_NOT_FOUND;
    return this.members.size > 0 ? ErrorCode.NON_EMPTY_GROUP : ErrorCode.NONE;
  }

  isSubscribedToTopic(topic: string): boolean {
    for (const names of this.configured?.sourceTopicsOf.values() ?? []) if (names.includes(topic)) return true;
    return false;
  }

  offsetExpirationBaseTimestamp(commitTimestamp: number): number | null {
    if (this.members.size > 0) return null;
    return Math.max(commitTimestamp, this.emptySince);
  }

  tombstones(): Buffer[] {
    return this.listener.groupTombstones?.(this) ?? [];
  }

  close(): void {
    this.closed = true;
    for (const m of this.members.values()) this.clearTimer(m);
  }

  // ------------------------------------------------------------------------------- heartbeat

  /** A join or regular heartbeat (memberEpoch >= 0). Throws ConsumerGroupError. */
  heartbeat(req: StreamsGroupHeartbeatRequest, ctx: { clientId: string; clientHost: string }): HeartbeatOutcome {
    let bump = false;
    let memberChanged = false;
    let topologyChanged = false;
    let member: StreamsGroupMember;
    let full = false;
    const before = { epoch: -100, active: new Map() as TopicPartitions, standby: new Map() as TopicPartitions };
    const owned = req.activeTasks === null ? null : tasksFromWire(req.activeTasks);
    if (req.memberEpoch === JOIN_EPOCH) {
      full = true;
      const topology = topologyFromWire(req.topology!);
      try {
        validateTopology(topology);
      } catch (err) {
        if (err instanceof InvalidTopologyError) throw new ConsumerGroupError(ErrorCode.STREAMS_INVALID_TOPOLOGY, err.message);
        throw err;
      }
      const existing = this.members.get(req.memberId);
      if (existing) member = existing;
      else {
        if (this.members.size >= this.settings.maxSize) {
          throw new ConsumerGroupError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The streams group has reached its maximum capacity of ${this.settings.maxSize} members.`);
        }
        member = new StreamsGroupMember(req.memberId);
        this.members.set(member.memberId, member);
        bump = true;
      }
      // The first member (or the only one) sets the topology; later ones must match its epoch.
      const alone = this.members.size === 1;
      if (this.topology === null || (alone && topology.epoch !== this.topology.epoch)) {
        this.topology = topology;
        this.topicsVersionSeen = -1;
        topologyChanged = true;
        bump = true;
      }
      // A member behind the group's topology gets no tasks (STALE_TOPOLOGY): the assignor must rerun.
      if (member.topologyEpoch !== topology.epoch) bump = true;
      member.topologyEpoch = topology.epoch;
    } else {
      const existing = this.members.get(req.memberId);
      if (!existing) throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${this.groupId}.`);
      member = existing;
      if (req.memberEpoch > member.memberEpoch) {
        throw new ConsumerGroupError(ErrorCode.FENCED_MEMBER_EPOCH, `Member epoch ${req.memberEpoch} is newer than ${member.memberEpoch}.`);
      }
      if (req.memberEpoch < member.memberEpoch) {
        // A lost response: the member may still be at its previous epoch with a subset of its tasks.
        if (req.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned)) {
          throw new ConsumerGroupError(ErrorCode.FENCED_MEMBER_EPOCH, `Member epoch ${req.memberEpoch} is fenced (current ${member.memberEpoch}).`);
        }
      }
      before.epoch = member.memberEpoch;
      before.active = cloneAssignment(member.assigned);
      before.standby = cloneAssignment(member.standby);
    }

    // Member metadata (null / -1 = unchanged). What the assignor reads bumps the group epoch.
    if (member.clientId !== ctx.clientId || member.clientHost !== ctx.clientHost) memberChanged = true;
    member.clientId = ctx.clientId;
    member.clientHost = ctx.clientHost;
    if (req.instanceId !== null && req.instanceId !== member.instanceId) {
      member.instanceId = req.instanceId;
      memberChanged = true;
    }
    if (req.rebalanceTimeoutMs !== -1 && req.rebalanceTimeoutMs !== member.rebalanceTimeoutMs) {
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      memberChanged = true;
    }
    if (req.rackId !== null && req.rackId !== member.rackId) {
      member.rackId = req.rackId;
      bump = true;
    }
    if (req.processId !== null && req.processId !== member.processId) {
      member.processId = req.processId;
      bump = true;
    }
    if (req.clientTags !== null) {
      const tags = req.clientTags.map((t) => ({ key: t.key, value: t.value }));
      if (JSON.stringify(tags) !== JSON.stringify(member.clientTags)) {
        member.clientTags = tags;
        bump = true;
      }
    }
    if (req.userEndpoint !== null) {
      const ep = { host: req.userEndpoint.host, port: req.userEndpoint.port };
      if (member.userEndpoint?.host !== ep.host || member.userEndpoint?.port !== ep.port) {
        member.userEndpoint = ep;
        this.endpointInformationEpoch++;
        memberChanged = true;
      }
    }
    if (req.taskOffsets !== null) member.taskOffsets = req.taskOffsets.map((o) => ({ ...o }));
    if (req.taskEndOffsets !== null) member.taskEndOffsets = req.taskEndOffsets.map((o) => ({ ...o }));
    if (req.shutdownApplication && this.shutdownRequestedBy === null) this.shutdownRequestedBy = member.memberId;

    if (bump || memberChanged) this.listener.memberMetadataUpdated?.(this, member);
    if (topologyChanged) this.listener.topologyUpdated?.(this);
    if (bump || this.topicsVersionSeen !== this.topics.version()) {
      if (this.reconfigure()) bump = true;
    }
    if (bump) {
      this.groupEpoch++;
      this.listener.groupUpdated?.(this);
    }
    if (this.groupEpoch > this.assignmentEpoch) this.computeTargetAssignment();

    this.reconcileMember(member, owned);
    this.scheduleSessionTimeout(member);

    const changed =
      before.epoch !== member.memberEpoch || !assignmentsEqual(before.active, member.assigned) || !assignmentsEqual(before.standby, member.standby);
    if (changed) this.endpointInformationEpoch++;
    const status = this.statusFor(member);
    const withEndpoints = req.endpointInformationEpoch < this.endpointInformationEpoch && [...this.members.values()].some((m) => m.userEndpoint);
    return {
      response: {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId: member.memberId,
        memberEpoch: member.memberEpoch,
        heartbeatIntervalMs: this.settings.heartbeatIntervalMs(this.groupId),
        acceptableRecoveryLagLegacy: 10_000,
        taskOffsetIntervalMs: 60_000,
        acceptableRecoveryLag: 10_000,
        // Always a list, also when empty: the Streams client keeps the last list it saw on null.
        status,
        activeTasks: full || changed ? tasksToWire(member.assigned) : null,
        standbyTasks: full || changed ? tasksToWire(member.standby) : null,
        warmupTasks: full || changed ? [] : null,
        topologyDescriptionRequired: false,
        endpointInformationEpoch: this.endpointInformationEpoch,
        partitionsByUserEndpoint: withEndpoints ? this.partitionsByUserEndpoint() : null,
      },
      topicsToCreate: this.configured?.missingInternalTopics ?? [],
    };
  }

  /** memberEpoch -1 (leave) or -2 (static leave; Fjord treats it as a leave). */
  leave(req: StreamsGroupHeartbeatRequest): StreamsGroupHeartbeatResponseInput {
    const member = this.members.get(req.memberId);
    if (!member) throw new ConsumerGroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${this.groupId}.`);
    this.removeMember(member.memberId);
    return { errorCode: ErrorCode.NONE, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0 };
  }

  /** Removes a member (leave or session timeout): its tasks become free; the group epoch moves. */
  removeMember(memberId: string): boolean {
    const member = this.members.get(memberId);
    if (!member) return false;
    this.clearTimer(member);
    this.clearOwnership(member);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    this.listener.memberRemoved?.(this, memberId);
    if (this.members.size === 0) {
      this.emptySince = this.now();
      this.shutdownRequestedBy = null;
    }
    this.groupEpoch++;
    this.listener.groupUpdated?.(this);
    this.endpointInformationEpoch++;
    return true;
  }

  private statusFor(member: StreamsGroupMember): StreamsGroupHeartbeatResponseStatusInput[] {
    const out: StreamsGroupHeartbeatResponseStatusInput[] = [];
    const c = this.configured;
    if (this.topology && member.topologyEpoch < this.topology.epoch) {
      out.push({ statusCode: StreamsStatus.STALE_TOPOLOGY, statusDetail: `The member's topology epoch ${member.topologyEpoch} is behind the group's topology epoch ${this.topology.epoch}.` });
    }
    if (c && c.missingSourceTopics.length > 0) {
      out.push({ statusCode: StreamsStatus.MISSING_SOURCE_TOPICS, statusDetail: `Source topics ${c.missingSourceTopics.join(', ')} are missing.` });
    }
    if (c && c.missingInternalTopics.length > 0) {
      out.push({ statusCode: StreamsStatus.MISSING_INTERNAL_TOPICS, statusDetail: `Internal topics are missing: [${c.missingInternalTopics.map((t) => t.name).join(', ')}]` });
    }
    if (c && c.incorrectlyPartitioned.length > 0) {
      out.push({ statusCode: StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS, statusDetail: `Copartitioned topics have different partition counts: ${c.incorrectlyPartitioned.join(', ')}` });
    }
    if (this.shutdownRequestedBy !== null) {
      out.push({
        statusCode: StreamsStatus.SHUTDOWN_APPLICATION,
        statusDetail: `Streams group member ${this.shutdownRequestedBy} encountered a fatal error and requested a shutdown for the entire application.`,
      });
    }
    return out;
  }

  // --------------------------------------------------------------------------- assignment

  /** Re-checks the topology against the topics; true when the task counts changed. */
  private reconfigure(): boolean {
    this.topicsVersionSeen = this.topics.version();
    if (!this.topology) return false;
    const topics = this.topics;
    try {
      this.configured = configureTopology(this.topology, {
        partitionsOf: (name) => topics.byName(name)?.partitions,
        names: () => topics.names(),
      });
    } catch (err) {
      if (!(err instanceof InvalidTopologyError)) throw err;
      this.configured = { taskCounts: null, missingSourceTopics: [], missingInternalTopics: [], incorrectlyPartitioned: [], sourceTopicsOf: new Map() };
    }
    const key = JSON.stringify(this.configured.taskCounts ? [...this.configured.taskCounts] : null);
    if (key === this.taskCountsKey) return false;
    this.taskCountsKey = key;
    return true;
  }

  private computeTargetAssignment(): void {
    const members = new Map<string, string>();
    const topologyEpoch = this.topology?.epoch ?? 0;
    for (const m of this.members.values()) if (m.topologyEpoch >= topologyEpoch) members.set(m.memberId, m.processId);
    this.targetAssignment = assignTasks({
      members,
      taskCounts: this.configured?.taskCounts ?? new Map(),
      previous: this.targetAssignment,
      numStandbyReplicas: this.settings.numStandbyReplicas(this.groupId),
    });
    this.assignmentEpoch = this.groupEpoch;
    this.listener.targetUpdated?.(this);
  }

  private reconcileMember(member: StreamsGroupMember, owned: TopicPartitions | null): void {
    const target = this.targetAssignment.get(member.memberId) ?? { active: new Map(), standby: new Map() };
    const next = reconcile(member, {
      targetEpoch: this.assignmentEpoch,
      target: target.active,
      ownedByOther: (s, p) => {
        const o = this.owners.get(`${s}:${p}`);
        return o !== undefined && o !== member.memberId;
      },
      owned,
      topicExists: (s) => this.configured?.taskCounts?.has(s) ?? false,
    });
    const standbyBefore = member.standby;
    const before = member.state + member.memberEpoch;
    if (next !== member) {
      this.clearOwnership(member);
      member.memberEpoch = next.memberEpoch;
      member.previousMemberEpoch = next.previousMemberEpoch;
      member.state = next.state;
      member.assigned = next.assigned;
      member.pendingRevocation = next.pendingRevocation;
      this.setOwnership(member);
    }
    // Standby tasks hold no exclusive resource: they follow the target once the epoch is reached.
    if (member.memberEpoch === this.assignmentEpoch) member.standby = cloneAssignment(target.standby);
    if (next !== member || !assignmentsEqual(standbyBefore, member.standby)) this.listener.memberUpdated?.(this, member);
    // A member that does not give up its revoked tasks within its rebalance timeout is removed.
    if (member.state === 'unrevoked_partitions') {
      if (!member.rebalanceTimer || before !== member.state + member.memberEpoch) this.scheduleRebalanceTimeout(member);
    } else this.clearRebalanceTimer(member);
  }

  private clearOwnership(member: StreamsGroupMember): void {
    for (const a of [member.assigned, member.pendingRevocation]) {
      for (const [s, ps] of a) for (const p of ps) if (this.owners.get(`${s}:${p}`) === member.memberId) this.owners.delete(`${s}:${p}`);
    }
  }

  private setOwnership(member: StreamsGroupMember): void {
    for (const a of [member.assigned, member.pendingRevocation]) for (const [s, ps] of a) for (const p of ps) this.owners.set(`${s}:${p}`, member.memberId);
  }

  /** Source-topic partitions each member with an endpoint serves (Interactive Queries). */
  private partitionsByUserEndpoint() {
    const topicPartitions = (a: TopicPartitions) => {
      const byTopic = new Map<string, Set<number>>();
      for (const [s, ps] of a) {
        for (const topic of this.configured?.sourceTopicsOf.get(s) ?? []) {
          let set = byTopic.get(topic);
          if (!set) byTopic.set(topic, (set = new Set()));
          for (const p of ps) set.add(p);
        }
      }
      return [...byTopic].sort(([a], [b]) => (a < b ? -1 : 1)).map(([topic, ps]) => ({ topic, partitions: [...ps].sort((x, y) => x - y) }));
    };
    return [...this.members.values()]
      .filter((m) => m.userEndpoint)
      .map((m) => ({ userEndpoint: m.userEndpoint!, activePartitions: topicPartitions(m.assigned), standbyPartitions: topicPartitions(m.standby) }));
  }

  // -------------------------------------------------------------------------------- timers

  private scheduleSessionTimeout(member: StreamsGroupMember): void {
    if (this.closed) return;
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = undefined;
      if (this.members.get(member.memberId) === member) this.removeMember(member.memberId);
    }, this.settings.sessionTimeoutMs(this.groupId));
    member.sessionTimer.unref?.();
  }

  private scheduleRebalanceTimeout(member: StreamsGroupMember): void {
    if (this.closed) return;
    this.clearRebalanceTimer(member);
    const epoch = member.memberEpoch;
    member.rebalanceTimer = setTimeout(() => {
      member.rebalanceTimer = undefined;
      if (this.members.get(member.memberId) === member && member.state === 'unrevoked_partitions' && member.memberEpoch === epoch) {
        this.removeMember(member.memberId);
      }
    }, Math.max(0, member.rebalanceTimeoutMs));
    member.rebalanceTimer.unref?.();
  }

  private clearRebalanceTimer(member: StreamsGroupMember): void {
    if (member.rebalanceTimer) clearTimeout(member.rebalanceTimer);
    member.rebalanceTimer = undefined;
  }

  private clearTimer(member: StreamsGroupMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
    this.clearRebalanceTimer(member);
  }

  // ------------------------------------------------------------------------------- restore

  /** The member with this id, created empty if needed (replay of __consumer_offsets). */
  restoreMember(memberId: string): StreamsGroupMember {
    let m = this.members.get(memberId);
    if (!m) this.members.set(memberId, (m = new StreamsGroupMember(memberId)));
    return m;
  }

  /** Drops a member during replay (no epoch bump: the log already has the group epoch). */
  forgetMember(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) this.clearTimer(m);
    this.members.delete(memberId);
  }

  /** Rebuilds derived state after a replay: configured topology, owners, session timers. */
  finishRestore(): void {
    this.owners.clear();
    this.reconfigure();
    if (this.members.size === 0) this.emptySince = this.now();
    for (const m of this.members.values()) {
      this.setOwnership(m);
      this.scheduleSessionTimeout(m);
      if (m.state === 'unrevoked_partitions') this.scheduleRebalanceTimeout(m);
    }
  }

  // ------------------------------------------------------------------------------ describe

  describe(): StreamsGroupDescribeResponseDescribedGroupInput {
    const topicInfo = (i: { name: string; partitions: number; replicationFactor: number; configs: { key: string; value: string }[] }) => ({
      name: i.name,
      partitions: i.partitions,
      replicationFactor: i.replicationFactor,
      topicConfigs: i.configs,
    });
    const assignment = (active: TopicPartitions, standby: TopicPartitions) => ({
      activeTasks: tasksToWire(active),
      standbyTasks: tasksToWire(standby),
      warmupTasks: [],
    });
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId: this.groupId,
      groupState: this.state,
      groupEpoch: this.groupEpoch,
      assignmentEpoch: this.assignmentEpoch,
      topology: this.topology
        ? {
            epoch: this.topology.epoch,
            subtopologies: this.topology.subtopologies.map((s) => ({
              subtopologyId: s.subtopologyId,
              sourceTopics: this.configured?.sourceTopicsOf.get(s.subtopologyId)?.filter((n) => !s.repartitionSourceTopics.some((r) => r.name === n)) ?? s.sourceTopics,
              repartitionSinkTopics: s.repartitionSinkTopics,
              stateChangelogTopics: s.stateChangelogTopics.map(topicInfo),
              repartitionSourceTopics: s.repartitionSourceTopics.map(topicInfo),
            })),
          }
        : null,
      members: [...this.members.values()].map((m) => {
        const target = this.targetAssignment.get(m.memberId);
        return {
          memberId: m.memberId,
          memberEpoch: m.memberEpoch,
          instanceId: m.instanceId,
          rackId: m.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          topologyEpoch: m.topologyEpoch,
          processId: m.processId,
          userEndpoint: m.userEndpoint,
          clientTags: m.clientTags,
          taskOffsets: m.taskOffsets,
          taskEndOffsets: m.taskEndOffsets,
          assignment: assignment(m.assigned, m.standby),
          targetAssignment: assignment(target?.active ?? new Map(), target?.standby ?? new Map()),
          isClassic: false,
        };
      }),
      authorizedOperations: -2147483648,
    };
  }
}


