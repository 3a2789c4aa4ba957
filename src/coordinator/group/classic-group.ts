// A classic-protocol group (JoinGroup / SyncGroup / Heartbeat / LeaveGroup), Kafka's state machine:
//
//   Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
//     ▲                  ▲      │ (no members left → Empty)                       │ leader SyncGroup
//     │                  └──────┴──── member joins/leaves/expires/changes ◀──── Stable ◀┘
//
// Requests that must wait (JoinGroup until the join phase completes, SyncGroup until the leader's
// assignment is durable) get a promise that a later event resolves. Every member has a session
// timer; a member that neither heartbeats nor waits in a join/sync phase is removed.
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import { decodeConsumerProtocolSubscription } from '../../protocol/gen/consumer-protocol-subscription.js';
import type { GroupMetadataValue, GroupMetadataValueInput } from '../../protocol/gen/internal/group-metadata-value.js';
import { Reader } from '../../protocol/primitives.js';
import { groupMetadataKey } from './records.js';
import type { ErrorCodeValue, GroupLike } from './group.js';

export type ClassicState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

const EMPTY = Buffer.alloc(0);

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinParams {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+ requires a known member id (MEMBER_ID_REQUIRED round). */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader may skip the assignment. */
  supportsSkipAssignment: boolean;
}

export interface JoinResult {
  errorCode: ErrorCodeValue;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: ErrorCodeValue;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface ClassicMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  assignment: Buffer;
  awaitingJoin?: ((r: JoinResult) => void) | undefined;
  supportsSkipAssignment: boolean;
  awaitingSync?: ((r: SyncResult) => void) | undefined;
  heartbeatTimer?: NodeJS.Timeout | undefined;
}

/** What a group needs from its coordinator. */
export interface ClassicGroupHost {
  readonly initialRebalanceDelayMs: number;
  readonly maxSize: number;
  /** Appends the group's GroupMetadata record; resolves when durable. */
  persist(group: ClassicGroup): Promise<void>;
  log(msg: string): void;
}

function joinError(errorCode: ErrorCodeValue, memberId = ''): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

function syncError(errorCode: ErrorCodeValue): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

function unref(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref?.();
  return t;
}

export class ClassicGroup implements GroupLike {
  readonly type = 'classic' as const;
  private _state: ClassicState = 'Empty';
  /** When the group entered its current state (GroupMetadataValue.currentStateTimestamp). */
  stateTimestamp = Date.now();
  generationId = 0;
  protocolType = '';
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** group.instance.id → member id */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, waiting for the member's second JoinGroup. */
  private readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members that got a JoinGroup response but have not synced yet. */
  private readonly pendingSync = new Set<string>();
  private joinTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private initialDelay: { deadline: number; joinedSince: boolean } | undefined;
  private closed = false;

  constructor(
    readonly groupId: string,
    private readonly host: ClassicGroupHost,
  ) {}

  get state(): ClassicState {
    return this._state;
  }

  private transition(s: ClassicState): void {
    this._state = s;
    this.stateTimestamp = Date.now();
  }

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** Members handed an id by MEMBER_ID_REQUIRED that have not rejoined yet. */
  get pendingMemberCount(): number {
    return this.pendingMembers.size;
  }

  // ------------------------------------------------------------------ GroupLike

  validateOffsetCommit(memberId: string, generationId: number, groupInstanceId: string | null): ErrorCodeValue {
    if (this._state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Admin clients and "simple" consumers commit with generation -1: only into empty groups.
    if (generationId < 0 && this._state === 'Empty') return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const err = this.validateMember(memberId, groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (this._state !== 'Empty') {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (this._state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  validateOffsetFetch(): ErrorCodeValue {
    return this._state === 'Dead' ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE;
  }

  validateOffsetDelete(): ErrorCodeValue {
    if (this._state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!this.isEmpty() && this.protocolType !== 'consumer') return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  /** Topics the members subscribe to (consumer protocol only; empty for other protocol types). */
  subscribedTopics(): Set<string> {
    const topics = new Set<string>();
    if (this.protocolType !== 'consumer' || this.protocolName === null) return topics;
    for (const m of this.members.values()) {
      const meta = m.protocols.find((p) => p.name === this.protocolName)?.metadata;
      if (!meta || meta.length < 2) continue;
      try {
        const r = new Reader(meta);
        const version = Math.min(r.int16(), 3);
        for (const t of decodeConsumerProtocolSubscription(r, version).topics) topics.add(t);
      } catch {
        // Undecodable subscription: treat as subscribing to nothing we can name.
      }
    }
    return topics;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics().has(topic);
  }

  offsetExpirationBaseTimestamp(commitTimestamp: number): number | null {
    if (!this.isEmpty()) return null;
    // Groups that used group management expire offsets from when they became empty (KIP-211).
    return this.protocolType !== '' ? this.stateTimestamp : commitTimestamp;
  }

  tombstones(): Buffer[] {
    return [groupMetadataKey(this.groupId)];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.joinTimer);
    clearTimeout(this.syncTimer);
    for (const t of this.pendingMembers.values()) clearTimeout(t);
    this.pendingMembers.clear();
    for (const m of this.members.values()) {
      clearTimeout(m.heartbeatTimer);
      m.awaitingJoin?.(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, m.memberId));
      m.awaitingJoin = undefined;
      m.awaitingSync?.(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      m.awaitingSync = undefined;
    }
  }

  /** Marks the group deleted (DeleteGroups / expiry). */
  markDead(): void {
    this.close();
    this.transition('Dead');
  }

  // ------------------------------------------------------------------ persistence

  toRecord(): GroupMetadataValueInput {
    const stable = this._state !== 'Empty' && this._state !== 'Dead';
    return {
      protocolType: this.protocolType,
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: this.stateTimestamp,
      members: stable
        ? [...this.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeout: m.rebalanceTimeoutMs,
            sessionTimeout: m.sessionTimeoutMs,
            subscription: this.metadataOf(m),
            assignment: m.assignment,
          }))
        : [],
    };
  }

  /** Rebuilds the group from its latest GroupMetadata record (replay at startup). */
  static fromRecord(groupId: string, v: GroupMetadataValue, host: ClassicGroupHost): ClassicGroup {
    const g = new ClassicGroup(groupId, host);
    g.protocolType = v.protocolType;
    g.generationId = v.generation;
    g.protocolName = v.protocol;
    g.leaderId = v.leader;
    for (const m of v.members) {
      g.members.set(m.memberId, {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeout,
        rebalanceTimeoutMs: m.rebalanceTimeout,
        protocolType: v.protocolType,
        protocols: [{ name: v.protocol ?? '', metadata: m.subscription }],
        assignment: m.assignment,
        supportsSkipAssignment: false,
      });
      if (m.groupInstanceId !== null) g.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    g._state = g.members.size > 0 ? 'Stable' : 'Empty';
    g.stateTimestamp = v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : Date.now();
    if (g.leaderId !== null && !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value ?? null;
    return g;
  }

  /** After loading: members must heartbeat within their session timeout. */
  startSessionTimers(): void {
    for (const m of this.members.values()) this.scheduleHeartbeat(m);
  }

  // ------------------------------------------------------------------ JoinGroup

  join(p: JoinParams): JoinResult | Promise<JoinResult> {
    if (this._state === 'Dead') return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, p.memberId);
    if (!this.supportsProtocols(p.protocolType, p.protocols, p.memberId)) {
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, p.memberId);
    }
    return p.memberId === '' ? this.joinUnknownMember(p) : this.joinKnownMember(p);
  }

  private supportsProtocols(protocolType: string, protocols: Protocol[], memberId: string): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    const others = [...this.members.values()].filter((m) => m.memberId !== memberId);
    if (others.length === 0) return true;
    if (protocolType !== this.protocolType) return false;
    return protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  private joinUnknownMember(p: JoinParams): JoinResult | Promise<JoinResult> {
    if (p.groupInstanceId !== null) {
      const newId = `${p.groupInstanceId}-${randomUUID()}`;
      const existing = this.staticMembers.get(p.groupInstanceId);
      if (existing !== undefined && this.members.has(existing)) return this.replaceStaticMember(existing, newId, p);
      if (this.members.size >= this.host.maxSize) return joinError(ErrorCode.GROUP_MAX_SIZE_REACHED);
      return this.addMemberAndRebalance(newId, p);
    }
    if (this.members.size + this.pendingMembers.size >= this.host.maxSize) return joinError(ErrorCode.GROUP_MAX_SIZE_REACHED);
    const newId = `${p.clientId}-${randomUUID()}`;
    if (p.requireKnownMemberId) {
      // KIP-394: hand out the id first; the member rejoins with it within its session timeout.
      this.pendingMembers.set(
        newId,
        unref(
          setTimeout(() => {
            this.pendingMembers.delete(newId);
            if (this._state === 'PreparingRebalance') this.maybeCompleteJoin();
          }, p.sessionTimeoutMs),
        ),
      );
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, newId);
    }
    return this.addMemberAndRebalance(newId, p);
  }

  private joinKnownMember(p: JoinParams): JoinResult | Promise<JoinResult> {
    const pending = this.pendingMembers.get(p.memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.pendingMembers.delete(p.memberId);
      if (p.groupInstanceId !== null && this.staticMembers.has(p.groupInstanceId)) {
        return this.replaceStaticMember(this.staticMembers.get(p.groupInstanceId)!, p.memberId, p);
      }
      return this.addMemberAndRebalance(p.memberId, p);
    }
    const err = this.validateMember(p.memberId, p.groupInstanceId);
    if (err !== ErrorCode.NONE) return joinError(err, p.memberId);
    const member = this.members.get(p.memberId)!;
    switch (this._state) {
      case 'PreparingRebalance':
        return this.updateMemberAndAwaitJoin(member, p);
      case 'CompletingRebalance':
        if (sameProtocols(member.protocols, p.protocols)) {
          // A duplicate JoinGroup (lost response): answer with the current generation again.
          this.scheduleHeartbeat(member);
          return this.joinResponseFor(member, false);
        }
        return this.updateMemberAndRebalance(member, p, 'member changed its protocols');
      case 'Stable':
        if (member.memberId === this.leaderId || !sameProtocols(member.protocols, p.protocols)) {
          return this.updateMemberAndRebalance(member, p, 'leader or changed member rejoined');
        }
        this.scheduleHeartbeat(member);
        return this.joinResponseFor(member, false);
      default:
        return joinError(ErrorCode.UNKNOWN_MEMBER_ID, p.memberId);
    }
  }

  private newMember(memberId: string, p: JoinParams): ClassicMember {
    return {
      memberId,
      groupInstanceId: p.groupInstanceId,
      clientId: p.clientId,
      clientHost: p.clientHost,
      sessionTimeoutMs: p.sessionTimeoutMs,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs,
      protocolType: p.protocolType,
      protocols: p.protocols,
      assignment: EMPTY,
      supportsSkipAssignment: p.supportsSkipAssignment,
    };
  }

  private addMemberAndRebalance(memberId: string, p: JoinParams): Promise<JoinResult> {
    const member = this.newMember(memberId, p);
    if (this.members.size === 0) this.protocolType = p.protocolType;
    this.members.set(memberId, member);
    if (p.groupInstanceId !== null) this.staticMembers.set(p.groupInstanceId, memberId);
    this.leaderId ??= memberId;
    if (this.initialDelay) this.initialDelay.joinedSince = true;
    const promise = this.awaitJoin(member);
    this.scheduleHeartbeat(member);
    if (this._state === 'PreparingRebalance') this.maybeCompleteJoin();
    else this.prepareRebalance(`new member ${memberId} joined`);
    return promise;
  }

  private updateMember(member: ClassicMember, p: JoinParams): void {
    member.protocols = p.protocols;
    member.protocolType = p.protocolType;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    member.supportsSkipAssignment = p.supportsSkipAssignment;
  }

  private updateMemberAndAwaitJoin(member: ClassicMember, p: JoinParams): Promise<JoinResult> {
    this.updateMember(member, p);
    const promise = this.awaitJoin(member);
    this.scheduleHeartbeat(member);
    this.maybeCompleteJoin();
    return promise;
  }

  private updateMemberAndRebalance(member: ClassicMember, p: JoinParams, reason: string): Promise<JoinResult> {
    this.updateMember(member, p);
    const promise = this.awaitJoin(member);
    this.scheduleHeartbeat(member);
    this.prepareRebalance(reason);
    return promise;
  }

  private awaitJoin(member: ClassicMember): Promise<JoinResult> {
    // A second JoinGroup from the same member replaces the first one (which learns to rejoin).
    member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    return new Promise((resolve) => (member.awaitingJoin = resolve));
  }

  /** KIP-345: a static member rejoined with a new member id; the old id is fenced. */
  private replaceStaticMember(oldId: string, newId: string, p: JoinParams): JoinResult | Promise<JoinResult> {
    const member = this.members.get(oldId)!;
    member.awaitingJoin?.(joinError(ErrorCode.FENCED_INSTANCE_ID, oldId));
    member.awaitingJoin = undefined;
    member.awaitingSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    member.awaitingSync = undefined;
    const oldProtocols = member.protocols;
    const oldSelected = this.protocolName;
    this.members.delete(oldId);
    member.memberId = newId;
    this.members.set(newId, member);
    this.staticMembers.set(p.groupInstanceId!, newId);
    if (this.leaderId === oldId) this.leaderId = newId;
    if (this.pendingSync.delete(oldId)) this.pendingSync.add(newId);
    this.updateMember(member, p);
    this.scheduleHeartbeat(member);
    switch (this._state) {
      case 'Stable': {
        if (this.selectProtocol() !== oldSelected) {
          const promise = this.awaitJoin(member);
          this.prepareRebalance(`static member ${p.groupInstanceId} rejoined with other protocols`);
          return promise;
        }
        // Same protocols: no rebalance; the member keeps its assignment (it syncs with the new id).
        const generation = this.generationId;
        return this.host.persist(this).then(
          () => {
            if (this.members.get(newId) !== member || this.generationId !== generation) {
              return joinError(ErrorCode.REBALANCE_IN_PROGRESS, newId);
            }
            const isLeader = newId === this.leaderId;
            const skip = isLeader && p.supportsSkipAssignment;
            return {
              ...this.joinResponseFor(member, false),
              members: skip ? this.memberList() : [],
              skipAssignment: skip,
            };
          },
          () => {
            // Revert the replacement so the old member stays valid.
            this.members.delete(newId);
            member.memberId = oldId;
            member.protocols = oldProtocols;
            this.members.set(oldId, member);
            this.staticMembers.set(p.groupInstanceId!, oldId);
            if (this.leaderId === newId) this.leaderId = oldId;
            return joinError(ErrorCode.UNKNOWN_SERVER_ERROR, newId);
          },
        );
      }
      case 'CompletingRebalance': {
        const promise = this.awaitJoin(member);
        this.prepareRebalance(`static member ${p.groupInstanceId} rejoined during the sync phase`);
        return promise;
      }
      default: {
        const promise = this.awaitJoin(member);
        this.maybeCompleteJoin();
        return promise;
      }
    }
  }

  private memberList(): JoinResult['members'] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: this.metadataOf(m),
    }));
  }

  private metadataOf(m: ClassicMember): Buffer {
    return m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY;
  }

  private joinResponseFor(member: ClassicMember, withMembers: boolean): JoinResult {
    const isLeader = member.memberId === this.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: isLeader || withMembers ? this.memberList() : [],
    };
  }

  /** Each member votes for its most preferred protocol among those every member supports. */
  private selectProtocol(): string | null {
    const members = [...this.members.values()];
    if (members.length === 0) return null;
    const candidates = members[0]!.protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((q) => q.name === name)));
    if (candidates.length === 0) return null;
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = candidates[0]!;
    for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
    return best;
  }

  // ------------------------------------------------------------------ rebalance

  prepareRebalance(reason: string): void {
    if (this._state === 'Dead' || this.closed) return;
    this.host.log(`group ${this.groupId}: preparing rebalance (${reason})`);
    if (this._state === 'CompletingRebalance') this.resetAssignments(ErrorCode.REBALANCE_IN_PROGRESS);
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.pendingSync.clear();
    const wasEmpty = this._state === 'Empty';
    if (this._state === 'PreparingRebalance') return;
    this.transition('PreparingRebalance');
    const rebalanceTimeout = this.maxRebalanceTimeout();
    clearTimeout(this.joinTimer);
    const delay = this.host.initialRebalanceDelayMs;
    if (wasEmpty && delay > 0) {
      // group.initial.rebalance.delay.ms: wait for more members before the first generation.
      const deadline = Date.now() + rebalanceTimeout;
      this.initialDelay = { deadline, joinedSince: false };
      const arm = (ms: number) => {
        this.joinTimer = unref(
          setTimeout(() => {
            const d = this.initialDelay;
            const remaining = d ? d.deadline - Date.now() : 0;
            if (d?.joinedSince && remaining > 0) {
              d.joinedSince = false;
              arm(Math.min(delay, remaining));
            } else {
              this.initialDelay = undefined;
              this.completeJoin();
            }
          }, ms),
        );
      };
      arm(Math.min(delay, rebalanceTimeout));
      return;
    }
    this.initialDelay = undefined;
    this.joinTimer = unref(setTimeout(() => this.completeJoin(), rebalanceTimeout));
    this.maybeCompleteJoin();
  }

  private maxRebalanceTimeout(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  private maybeCompleteJoin(): void {
    if (this._state !== 'PreparingRebalance' || this.initialDelay) return;
    if (this.pendingMembers.size > 0) return;
    for (const m of this.members.values()) if (!m.awaitingJoin) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    if (this._state !== 'PreparingRebalance' || this.closed) return;
    // Dynamic members that did not rejoin in time are out (static members keep their slot).
    for (const m of [...this.members.values()]) {
      if (!m.awaitingJoin && m.groupInstanceId === null) this.removeMemberOnly(m, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    const joined = [...this.members.values()].filter((m) => m.awaitingJoin);
    if (joined.length === 0) for (const m of [...this.members.values()]) this.removeMemberOnly(m, ErrorCode.UNKNOWN_MEMBER_ID);
    if (this.leaderId === null || !this.members.get(this.leaderId)?.awaitingJoin) this.leaderId = joined[0]?.memberId ?? null;
    this.generationId++;
    if (this.members.size === 0) {
      this.protocolName = null;
      this.leaderId = null;
      this.transition('Empty');
      this.host.persist(this).catch((err) => this.host.log(`group ${this.groupId}: persist failed: ${(err as Error).message}`));
      return;
    }
    this.protocolName = this.selectProtocol();
    this.transition('CompletingRebalance');
    this.host.log(`group ${this.groupId}: generation ${this.generationId} with ${this.members.size} members`);
    for (const m of this.members.values()) {
      const resolve = m.awaitingJoin;
      m.awaitingJoin = undefined;
      this.pendingSync.add(m.memberId);
      this.scheduleHeartbeat(m);
      resolve?.(this.joinResponseFor(m, false));
    }
    // Members that do not sync within the rebalance timeout are removed (Kafka's pending sync).
    const generation = this.generationId;
    this.syncTimer = unref(
      setTimeout(() => {
        if (this.generationId !== generation || this.pendingSync.size === 0) return;
        if (this._state !== 'CompletingRebalance' && this._state !== 'Stable') return;
        for (const id of [...this.pendingSync]) {
          const m = this.members.get(id);
          if (m) this.removeMemberOnly(m, ErrorCode.UNKNOWN_MEMBER_ID);
        }
        this.pendingSync.clear();
        this.prepareRebalance('members did not sync in time');
      }, this.maxRebalanceTimeout()),
    );
  }

  private resetAssignments(errorCode: ErrorCodeValue): void {
    for (const m of this.members.values()) {
      m.assignment = EMPTY;
      const resolve = m.awaitingSync;
      m.awaitingSync = undefined;
      resolve?.(syncError(errorCode));
    }
  }

  // ------------------------------------------------------------------ SyncGroup

  sync(
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    protocolType: string | null,
    protocolName: string | null,
    assignments: { memberId: string; assignment: Buffer }[],
  ): SyncResult | Promise<SyncResult> {
    if (this._state === 'Dead') return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const err = this.validateMember(memberId, groupInstanceId);
    if (err !== ErrorCode.NONE) return syncError(err);
    if (generationId !== this.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if ((protocolType !== null && protocolType !== this.protocolType) || (protocolName !== null && protocolName !== this.protocolName)) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = this.members.get(memberId)!;
    switch (this._state) {
      case 'Empty':
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'CompletingRebalance': {
        member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        const promise = new Promise<SyncResult>((resolve) => (member.awaitingSync = resolve));
        this.pendingSync.delete(memberId);
        this.scheduleHeartbeat(member);
        if (memberId === this.leaderId) {
          const given = new Map(assignments.map((a) => [a.memberId, a.assignment]));
          for (const m of this.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY;
          const generation = this.generationId;
          this.host.persist(this).then(
            () => {
              if (this._state !== 'CompletingRebalance' || this.generationId !== generation) return;
              this.transition('Stable');
              for (const m of this.members.values()) {
                const resolve = m.awaitingSync;
                m.awaitingSync = undefined;
                resolve?.(this.syncResponseFor(m));
              }
            },
            (e: unknown) => {
              this.host.log(`group ${this.groupId}: persisting assignment failed: ${(e as Error).message}`);
              if (this._state !== 'CompletingRebalance' || this.generationId !== generation) return;
              this.resetAssignments(ErrorCode.COORDINATOR_NOT_AVAILABLE);
              this.prepareRebalance('failed to persist the assignment');
            },
          );
        }
        return promise;
      }
      case 'Stable':
        this.pendingSync.delete(memberId);
        this.scheduleHeartbeat(member);
        return this.syncResponseFor(member);
    }
  }

  private syncResponseFor(m: ClassicMember): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: this.protocolType, protocolName: this.protocolName, assignment: m.assignment };
  }

  // ------------------------------------------------------------------ Heartbeat / LeaveGroup

  heartbeat(memberId: string, groupInstanceId: string | null, generationId: number): ErrorCodeValue {
    if (this._state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this._state === 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID;
    const err = this.validateMember(memberId, groupInstanceId);
    if (err !== ErrorCode.NONE) return err;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.scheduleHeartbeat(this.members.get(memberId)!);
    return this._state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** Removes the members; returns one error code per member (LeaveGroup v3+ semantics). */
  leave(members: { memberId: string; groupInstanceId: string | null }[]): ErrorCodeValue[] {
    const out: ErrorCodeValue[] = [];
    let removed = 0;
    for (const { memberId, groupInstanceId } of members) {
      if (this._state === 'Dead') {
        out.push(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        continue;
      }
      if (groupInstanceId !== null) {
        const id = this.staticMembers.get(groupInstanceId);
        if (id === undefined || !this.members.has(id)) out.push(ErrorCode.UNKNOWN_MEMBER_ID);
        else if (memberId !== '' && memberId !== id) out.push(ErrorCode.FENCED_INSTANCE_ID);
        else {
          this.removeMemberOnly(this.members.get(id)!, ErrorCode.UNKNOWN_MEMBER_ID);
          removed++;
          out.push(ErrorCode.NONE);
        }
        continue;
      }
      const pending = this.pendingMembers.get(memberId);
      if (pending !== undefined) {
        clearTimeout(pending);
        this.pendingMembers.delete(memberId);
        removed++;
        out.push(ErrorCode.NONE);
        continue;
      }
      const m = this.members.get(memberId);
      if (!m) {
        out.push(ErrorCode.UNKNOWN_MEMBER_ID);
        continue;
      }
      this.removeMemberOnly(m, ErrorCode.UNKNOWN_MEMBER_ID);
      removed++;
      out.push(ErrorCode.NONE);
    }
    if (removed > 0) this.afterMemberRemoval('members left the group');
    return out;
  }

  private afterMemberRemoval(reason: string): void {
    switch (this._state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(reason);
        break;
      case 'PreparingRebalance':
        this.maybeCompleteJoin();
        break;
      default:
        break;
    }
  }

  private removeMemberOnly(m: ClassicMember, errorCode: ErrorCodeValue): void {
    clearTimeout(m.heartbeatTimer);
    this.members.delete(m.memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === m.memberId) {
      this.staticMembers.delete(m.groupInstanceId);
    }
    this.pendingSync.delete(m.memberId);
    const j = m.awaitingJoin;
    m.awaitingJoin = undefined;
    j?.(joinError(errorCode, m.memberId));
    const s = m.awaitingSync;
    m.awaitingSync = undefined;
    s?.(syncError(errorCode));
    if (this.leaderId === m.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private validateMember(memberId: string, groupInstanceId: string | null): ErrorCodeValue {
    if (groupInstanceId !== null) {
      const id = this.staticMembers.get(groupInstanceId);
      if (id === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (id !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return ErrorCode.NONE;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  private scheduleHeartbeat(m: ClassicMember): void {
    clearTimeout(m.heartbeatTimer);
    if (this.closed) return;
    m.heartbeatTimer = unref(setTimeout(() => this.onSessionExpired(m), m.sessionTimeoutMs));
  }

  private onSessionExpired(m: ClassicMember): void {
    if (this.members.get(m.memberId) !== m || this.closed) return;
    // Members parked in JoinGroup/SyncGroup are alive: the coordinator owes them an answer.
    if ((this._state === 'PreparingRebalance' && m.awaitingJoin) || (this._state === 'CompletingRebalance' && m.awaitingSync)) {
      this.scheduleHeartbeat(m);
      return;
    }
    this.host.log(`group ${this.groupId}: member ${m.memberId} session expired`);
    this.removeMemberOnly(m, ErrorCode.UNKNOWN_MEMBER_ID);
    this.afterMemberRemoval(`member ${m.memberId} session expired`);
  }
}
