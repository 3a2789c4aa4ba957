// The share-group service (KIP-932) of one broker: ShareGroupHeartbeat / ShareGroupDescribe on the
// group side (groups live in the GroupCoordinator's map, their epoch persisted as
// ShareGroupMetadata records in __consumer_offsets), ShareFetch / ShareAcknowledge with share
// sessions on the partition side, and the share-group offset admin APIs. Handlers only translate.
import type { BrokerConfig } from '../../config/config.js';
import type { MetadataStore } from '../../cluster/metadata-store.js';
import { errorCodeOf } from '../../protocol/kafka-error.js';
import type { Partition } from '../../cluster/partition.js';
import { ErrorCode } from '../../protocol/errors.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { decodeShareGroupMetadataKey } from '../../protocol/gen/internal/share-group-metadata-key.js';
import { decodeShareGroupMetadataValue, encodeShareGroupMetadataValue } from '../../protocol/gen/internal/share-group-metadata-value.js';
import { topicViewOf } from '../group/consumer-protocol/service.js';
import { ConsumerGroupError, type TopicView } from '../group/consumer-protocol/consumer-group.js';
import type { CoordinatorRecord, CoordinatorRuntimeDeps } from '../runtime/runtime.js';
import type { GroupLike } from '../group/group.js';
import { AckError, AckType } from './share-partition.js';
import { SharePartitions, type AutoOffsetReset, type SharePartitionHandle } from './share-partitions.js';
import type { GroupConfigs } from '../../config/group-config.js';
import { ShareGroup, JOIN_EPOCH, LEAVE_EPOCH, shareGroupMetadataKey, type ShareGroupSettings } from './share-group.js';
import { ShareStateStore, type InterBrokerRequester, type ShareStateKey } from './share-state-topic.js';
import { ShareStateApi } from './state-api.js';

const FINAL_SESSION_EPOCH = -1;
/** Kafka error 133 (newer than the vendored errors table). */
const SHARE_SESSION_LIMIT_REACHED = 133;

// ------------------------------------------------------------------ request/response shapes

export interface AckBatchIn {
  firstOffset: number;
  lastOffset: number;
  acknowledgeTypes: number[];
}
export interface ShareFetchIn {
  groupId: string | null;
  memberId: string | null;
  shareSessionEpoch: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxRecords: number;
  batchSize: number;
  shareAcquireMode: number;
  isRenewAck: boolean;
  topics: { topicId: string; partitions: { partitionIndex: number; acknowledgementBatches: AckBatchIn[] }[] }[];
  forgottenTopicsData: { topicId: string; partitions: number[] }[];
}
export interface ShareFetchPartitionOut {
  partitionIndex: number;
  errorCode: number;
  errorMessage: string | null;
  acknowledgeErrorCode: number;
  acknowledgeErrorMessage: string | null;
  currentLeader: { leaderId: number; leaderEpoch: number };
  records: Buffer[] | Buffer;
  acquiredRecords: { firstOffset: number; lastOffset: number; deliveryCount: number }[];
}
export interface ShareFetchOut {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  acquisitionLockTimeoutMs: number;
  responses: { topicId: string; partitions: ShareFetchPartitionOut[] }[];
  nodeEndpoints: { nodeId: number; host: string; port: number; rack: string | null }[];
}
export interface ShareAckIn {
  groupId: string | null;
  memberId: string | null;
  shareSessionEpoch: number;
  isRenewAck: boolean;
  topics: { topicId: string; partitions: { partitionIndex: number; acknowledgementBatches: AckBatchIn[] }[] }[];
}
export interface ShareAckPartitionOut {
  partitionIndex: number;
  errorCode: number;
  errorMessage: string | null;
  currentLeader: { leaderId: number; leaderEpoch: number };
}
export interface ShareAckOut {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  acquisitionLockTimeoutMs: number;
  responses: { topicId: string; partitions: ShareAckPartitionOut[] }[];
  nodeEndpoints: { nodeId: number; host: string; port: number; rack: string | null }[];
}

interface ShareSession {
  epoch: number;
  /** Last request (ms); idle sessions past the member session timeout make room for new ones. */
  lastUsed: number;
  /** "topicId:partition" */
  partitions: Set<string>;
}

export interface ShareServiceSettings extends ShareGroupSettings {
  enabled: boolean;
  deliveryCountLimit: number;
  lockDurationMs: number;
  maxRecordLocks: number;
  maxSessions: number;
}

export function shareSettingsFromConfig(config: BrokerConfig): ShareServiceSettings {
  return {
    enabled: config.getBool('group.share.enable'),
    heartbeatIntervalMs: config.getInt('group.share.heartbeat.interval.ms'),
    sessionTimeoutMs: config.getInt('group.share.session.timeout.ms'),
    maxSize: config.getInt('group.share.max.size'),
    deliveryCountLimit: config.getInt('group.share.delivery.count.limit'),
    lockDurationMs: config.getInt('group.share.record.lock.duration.ms'),
    maxRecordLocks: config.getInt('group.share.partition.max.record.locks'),
    maxSessions: 2000,
  };
}

/** What share groups need from the broker: the runtime's services plus configs and topics. */
export interface ShareGroupDeps extends CoordinatorRuntimeDeps {
  readonly config: BrokerConfig;
  /** Per-group overrides (share.auto.offset.reset, share.isolation.level, ...). */
  readonly groupConfigs: GroupConfigs;
  /** Share-state requests to the coordinator of a key led by another broker (clusters). */
  readonly interBroker?: InterBrokerRequester;
  readonly metadata: CoordinatorRuntimeDeps['metadata'] & Pick<MetadataStore, 'topicById' | 'topics'>;
}

/** The group coordinator's side: the shared group map and __consumer_offsets appends. */
export interface ShareGroupRegistry {
  getGroup(groupId: string): GroupLike | undefined;
  putGroup(group: GroupLike): void;
  removeGroup(groupId: string): void;
  checkCoordinator(groupId: string): Promise<number>;
  appendRecords(groupId: string, records: CoordinatorRecord[]): Promise<void>;
}

const tp = (topicId: string, partition: number) => `${topicId}:${partition}`;

export class ShareGroupService {
  readonly topics: TopicView;
  readonly partitions: SharePartitions;
  /** The share coordinator's store in `__share_group_state`. */
  readonly store: ShareStateStore;
  readonly settings: ShareServiceSettings;
  /** Initialize / Read / Write / Delete ShareGroupState and the summary, as the share coordinator. */
  readonly stateApi: ShareStateApi;
  private readonly sessions = new Map<string, ShareSession>();
  private closed = false;

  constructor(
    private readonly deps: ShareGroupDeps,
    readonly coordinator: ShareGroupRegistry,
  ) {
    const settings = (this.settings = shareSettingsFromConfig(deps.config));
    this.topics = topicViewOf(deps.metadata);
    this.store = new ShareStateStore(deps, {
      numPartitions: () => deps.config.getInt('share.coordinator.state.topic.num.partitions'),
      replicationFactor: () => deps.config.getInt('share.coordinator.state.topic.replication.factor'),
      interBroker: deps.interBroker,
    });
    this.partitions = new SharePartitions({
      settings: (groupId) => ({
        deliveryCountLimit: settings.deliveryCountLimit,
        lockDurationMs: deps.groupConfigs.getInt(groupId, 'share.record.lock.duration.ms'),
        maxInFlight: settings.maxRecordLocks,
      }),
      autoOffsetReset: (groupId) => this.autoOffsetReset(groupId),
      readCommitted: (groupId) => deps.groupConfigs.readCommitted(groupId),
      store: this.store,
      partitions: deps.partitions,
      log: (msg) => deps.log(msg),
    });
    this.stateApi = new ShareStateApi({
      store: this.store,
      partitions: this.partitions,
      partitionCount: (topicId) => deps.metadata.topicById(topicId)?.partitions.length,
    });
  }

  /** Loads the `__share_group_state` partitions this broker leads. */
  async start(): Promise<void> {
    if (this.settings.enabled) await this.store.runtime.start();
  }

  close(): void {
    this.closed = true;
    this.partitions.close();
    this.store.runtime.close();
  }

  autoOffsetReset(groupId: string): AutoOffsetReset {
    return this.deps.groupConfigs.autoOffsetReset(groupId);
  }

  group(groupId: string): ShareGroup | undefined {
    const g = this.coordinator.getGroup(groupId);
    return g instanceof ShareGroup ? g : undefined;
  }

  newGroup(groupId: string): ShareGroup {
    const configs = this.deps.groupConfigs;
    const base = this.settings;
    // Session timeout and heartbeat interval are group configs, read when used.
    const settings: ShareGroupSettings = {
      get heartbeatIntervalMs() {
        return configs.getInt(groupId, 'share.heartbeat.interval.ms');
      },
      get sessionTimeoutMs() {
        return configs.getInt(groupId, 'share.session.timeout.ms');
      },
      get maxSize() {
        return base.maxSize;
      },
    };
    const g = new ShareGroup(groupId, this.topics, settings, {
      memberRemoved: (group, memberId) => this.onMemberRemoved(group.groupId, memberId),
    });
    this.coordinator.putGroup(g);
    return g;
  }

  private onMemberRemoved(groupId: string, memberId: string): void {
    this.sessions.delete(`${groupId}\0${memberId}`);
    this.partitions.releaseMember(groupId, memberId);
  }

  // ------------------------------------------------------------------ group metadata records

  private persistGroup(group: ShareGroup): Promise<void> {
    const w = new Writer(16);
    w.int16(0);
    encodeShareGroupMetadataValue(w, 0, { epoch: group.groupEpoch });
    return this.coordinator.appendRecords(group.groupId, [{ key: shareGroupMetadataKey(group.groupId), value: w.toBuffer() }]);
  }

  /** Replays a ShareGroupMetadata record of __consumer_offsets. */
  replay(key: Buffer, value: Buffer | null): void {
    try {
      this.replayMetadata(key, value);
    } catch (err) {
      this.deps.log(`__consumer_offsets: skipping undecodable share group record: ${(err as Error).message}`);
    }
  }

  private replayMetadata(key: Buffer, value: Buffer | null): void {
    const kr = new Reader(key);
    kr.int16();
    const { groupId } = decodeShareGroupMetadataKey(kr, 0);
    if (value === null) {
      const g = this.group(groupId);
      if (g) {
        g.close();
        this.coordinator.removeGroup(groupId);
      }
      return;
    }
    const vr = new Reader(value);
    const epoch = decodeShareGroupMetadataValue(vr, vr.int16()).epoch;
    (this.group(groupId) ?? this.newGroup(groupId)).restoreEpoch(epoch);
  }

  // ------------------------------------------------------------------ ShareGroupHeartbeat

  async heartbeat(
    req: { groupId: string; memberId: string; memberEpoch: number; rackId: string | null; subscribedTopicNames: string[] | null },
    client: { clientId: string; clientHost: string },
  ): Promise<{ errorCode: number; errorMessage: string | null; memberId: string | null; memberEpoch: number; heartbeatIntervalMs: number; assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null }> {
    const fail = (errorCode: number, errorMessage: string | null) => ({ errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null });
    if (!this.settings.enabled) return fail(ErrorCode.UNSUPPORTED_VERSION, 'Share groups are disabled (group.share.enable=false).');
    if (req.groupId === '') return fail(ErrorCode.INVALID_REQUEST, 'GroupId can not be empty.');
    if (req.memberId === '' || req.memberId.length > 36 * 4) return fail(ErrorCode.INVALID_REQUEST, 'MemberId must be a non-empty client-generated id.');
    if (req.memberEpoch < LEAVE_EPOCH) return fail(ErrorCode.INVALID_REQUEST, `MemberEpoch ${req.memberEpoch} is invalid.`);
    if (req.memberEpoch === JOIN_EPOCH && (!req.subscribedTopicNames || req.subscribedTopicNames.length === 0)) {
      return fail(ErrorCode.INVALID_REQUEST, 'SubscribedTopicNames must be set in the first request.');
    }
    const placement = await this.coordinator.checkCoordinator(req.groupId);
    if (placement !== ErrorCode.NONE) return fail(placement, null);
    const existing = this.coordinator.getGroup(req.groupId);
    if (existing && !(existing instanceof ShareGroup)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `Group ${req.groupId} is a ${existing.type} group, not a share group.`);
    }
    let group = existing as ShareGroup | undefined;
    try {
      if (req.memberEpoch === LEAVE_EPOCH) {
        if (!group) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`);
        group.leave(req.memberId);
        await this.persistGroup(group);
        return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: req.memberId, memberEpoch: LEAVE_EPOCH, heartbeatIntervalMs: 0, assignment: null };
      }
      if (!group) {
        if (req.memberEpoch !== JOIN_EPOCH) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`);
        group = this.newGroup(req.groupId);
      }
      const epochBefore = group.groupEpoch;
      const res = group.heartbeat(req, client);
      if (group.groupEpoch !== epochBefore) await this.persistGroup(group);
      return { errorCode: ErrorCode.NONE, errorMessage: null, ...res };
    } catch (err) {
      if (err instanceof ConsumerGroupError) return fail(err.code, err.message);
      return fail(errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE), (err as Error).message);
    }
  }

  // ------------------------------------------------------------------ ShareGroupDescribe

  async describe(groupIds: readonly string[]) {
    const out = [];
    for (const groupId of groupIds) {
      const base = { groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [], authorizedOperations: -2147483648 };
      const code = groupId === '' ? ErrorCode.INVALID_GROUP_ID : await this.coordinator.checkCoordinator(groupId);
      if (code !== ErrorCode.NONE) {
        out.push({ ...base, errorCode: code, errorMessage: null });
        continue;
      }
      const g = this.coordinator.getGroup(groupId);
      if (!(g instanceof ShareGroup)) {
        out.push({ ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: g ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.` });
        continue;
      }
      out.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null, ...g.describe() });
    }
    return out;
  }

  // ------------------------------------------------------------------ sessions

  private sessionError(req: { groupId: string | null; memberId: string | null; shareSessionEpoch: number }, allowOpen: boolean): { code: number; message: string } | ShareSession | 'final' {
    const key = `${req.groupId}\0${req.memberId}`;
    const epoch = req.shareSessionEpoch;
    if (epoch === 0) {
      if (!allowOpen) return { code: ErrorCode.INVALID_SHARE_SESSION_EPOCH, message: 'ShareAcknowledge cannot open a share session.' };
      if (!this.sessions.has(key) && this.sessions.size >= this.settings.maxSessions && !this.evictIdleSession()) {
        return { code: SHARE_SESSION_LIMIT_REACHED, message: 'Too many share sessions.' };
      }
      const s = { epoch: 1, lastUsed: Date.now(), partitions: new Set<string>() };
      this.sessions.set(key, s);
      return s;
    }
    const s = this.sessions.get(key);
    if (epoch === FINAL_SESSION_EPOCH) return s ?? 'final';
    if (!s) return { code: ErrorCode.SHARE_SESSION_NOT_FOUND, message: `No share session for member ${req.memberId}.` };
    if (epoch !== s.epoch) return { code: ErrorCode.INVALID_SHARE_SESSION_EPOCH, message: `Share session epoch ${epoch} is not the expected ${s.epoch}.` };
    s.lastUsed = Date.now();
    s.epoch = s.epoch === 0x7fffffff ? 1 : s.epoch + 1;
    return s;
  }

  /** Drops the least recently used session idle for longer than a member session timeout. */
  private evictIdleSession(): boolean {
    let oldest: [string, ShareSession] | undefined;
    for (const e of this.sessions) if (!oldest || e[1].lastUsed < oldest[1].lastUsed) oldest = e;
    if (!oldest || Date.now() - oldest[1].lastUsed < this.settings.sessionTimeoutMs) return false;
    this.sessions.delete(oldest[0]);
    return true;
  }

  private resolvePartition(topicId: string, index: number): { partition: Partition; topicName: string } | { code: number } {
    const topic = this.deps.metadata.topicById(topicId);
    if (!topic) return { code: ErrorCode.UNKNOWN_TOPIC_ID };
    const partition = this.deps.partitions.get(topic.name, index);
    if (!partition) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    if (partition.leaderId !== this.deps.nodeId) return { code: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    return { partition, topicName: topic.name };
  }

  /** Applies one partition's acknowledgements; resolves once durable. Returns the error code. */
  private async acknowledgePartition(groupId: string, memberId: string, topicId: string, index: number, batches: AckBatchIn[], renewAllowed: boolean): Promise<{ code: number; message: string | null }> {
    return this.applyAcknowledgements(groupId, memberId, topicId, index, batches, renewAllowed);
  }

  /**
   * Applies one partition's acknowledgements to the in-memory state at once (so they can free
   * records for a fetch in the same request) and returns the result, or a promise of it when a
   * state write has to become durable first.
   */
  private applyAcknowledgements(groupId: string, memberId: string, topicId: string, index: number, batches: AckBatchIn[], renewAllowed: boolean): { code: number; message: string | null } | Promise<{ code: number; message: string | null }> {
    const resolved = this.resolvePartition(topicId, index);
    if ('code' in resolved) return { code: resolved.code, message: null };
    const key: ShareStateKey = { groupId, topicId, partition: index };
    const h = this.partitions.get(key);
    if (!h) return { code: ErrorCode.INVALID_RECORD_STATE, message: 'No records of this partition are acquired.' };
    let result: { code: number; message: string | null } = { code: ErrorCode.NONE, message: null };
    let changed = false;
    const now = Date.now();
    for (const b of batches) {
      if (!renewAllowed && b.acknowledgeTypes.includes(AckType.RENEW)) {
        result = { code: ErrorCode.INVALID_REQUEST, message: 'Renew acknowledgements need IsRenewAck (v2).' };
        break;
      }
      try {
        if (h.sp.acknowledge(memberId, b.firstOffset, b.lastOffset, b.acknowledgeTypes, now)) changed = true;
      } catch (err) {
        if (!(err instanceof AckError)) throw err;
        result = { code: err.code === 'INVALID_REQUEST' ? ErrorCode.INVALID_REQUEST : ErrorCode.INVALID_RECORD_STATE, message: err.message };
        break;
      }
    }
    if (batches.some((b) => b.acknowledgeTypes.includes(AckType.RENEW))) this.partitions.scheduleLockTimer(h, resolved.partition);
    if (changed) {
      h.wake();
      return this.partitions.persist(h, resolved.partition.leaderEpoch).then(
        () => result,
        (err) => ({ code: errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE), message: (err as Error).message }),
      );
    }
    return result;
  }

  private groupCheck(groupId: string | null, memberId: string | null): { code: number; message: string } | null {
    if (!this.settings.enabled) return { code: ErrorCode.UNSUPPORTED_VERSION, message: 'Share groups are disabled.' };
    if (!groupId) return { code: ErrorCode.INVALID_GROUP_ID, message: 'GroupId can not be empty.' };
    if (!memberId) return { code: ErrorCode.INVALID_REQUEST, message: 'MemberId can not be empty.' };
    const g = this.coordinator.getGroup(groupId);
    if (g && !(g instanceof ShareGroup)) return { code: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, message: `Group ${groupId} is not a share group.` };
    return null;
  }

  // ------------------------------------------------------------------ ShareFetch

  /**
   * @param alloc where log reads put their bytes (the connection's pooled read buffers, given
   * back once the response is written); fresh buffers when absent.
   */
  async shareFetch(req: ShareFetchIn, apiVersion: number, alloc?: (size: number) => Buffer): Promise<ShareFetchOut> {
    const lockMs = req.groupId ? this.deps.groupConfigs.getInt(req.groupId, 'share.record.lock.duration.ms') : this.settings.lockDurationMs;
    const top = (code: number, message: string | null): ShareFetchOut => ({
      throttleTimeMs: 0, errorCode: code, errorMessage: message, acquisitionLockTimeoutMs: lockMs, responses: [], nodeEndpoints: [],
    });
    const bad = this.groupCheck(req.groupId, req.memberId);
    if (bad) return top(bad.code, bad.message);
    const groupId = req.groupId!;
    const memberId = req.memberId!;
    const hasAcks = req.topics.some((t) => t.partitions.some((p) => p.acknowledgementBatches.length > 0));
    if (req.shareSessionEpoch === 0 && hasAcks) return top(ErrorCode.INVALID_REQUEST, 'Acknowledgements cannot be sent when opening a share session.');
    const session = this.sessionError(req, true);
    if (typeof session === 'object' && 'code' in session) return top(session.code, session.message);

    const outs = new Map<string, ShareFetchPartitionOut>();
    const outFor = (topicId: string, index: number): ShareFetchPartitionOut => {
      let o = outs.get(tp(topicId, index));
      if (!o) {
        o = {
          partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, acknowledgeErrorCode: ErrorCode.NONE, acknowledgeErrorMessage: null,
          currentLeader: { leaderId: this.deps.nodeId, leaderEpoch: 0 }, records: [], acquiredRecords: [],
        };
        outs.set(tp(topicId, index), o);
      }
      return o;
    };

    // Piggy-backed acknowledgements first: applied in memory now, they may free records for this
    // very fetch; their state writes become durable while the fetch runs, and the response waits
    // for both (one fsync wait overlaps the fetch instead of preceding it).
    const ackWrites: Promise<void>[] = [];
    for (const t of req.topics) {
      for (const p of t.partitions) {
        if (p.acknowledgementBatches.length === 0) continue;
        const o = outFor(t.topicId, p.partitionIndex);
        const set = (r: { code: number; message: string | null }) => {
          o.acknowledgeErrorCode = r.code;
          o.acknowledgeErrorMessage = r.message;
        };
        const r = this.applyAcknowledgements(groupId, memberId, t.topicId, p.partitionIndex, p.acknowledgementBatches, apiVersion >= 2 && req.isRenewAck);
        if (r instanceof Promise) ackWrites.push(r.then(set));
        else set(r);
      }
    }
    const acksDurable = () => (ackWrites.length > 0 ? Promise.all(ackWrites) : undefined);

    if (session === 'final' || req.shareSessionEpoch === FINAL_SESSION_EPOCH) {
      // The member closes its session: what it still holds goes back to the pool.
      const held = session === 'final' ? undefined : session.partitions;
      this.sessions.delete(`${groupId}\0${memberId}`);
      this.partitions.releaseMember(groupId, memberId, held);
      await acksDurable();
      return this.fetchResponse(top(ErrorCode.NONE, null), outs);
    }

    for (const f of req.forgottenTopicsData) for (const p of f.partitions) session.partitions.delete(tp(f.topicId, p));
    for (const t of req.topics) for (const p of t.partitions) session.partitions.add(tp(t.topicId, p.partitionIndex));

    // A renew-only request (v2 IsRenewAck) fetches nothing.
    if (!(apiVersion >= 2 && req.isRenewAck) && req.maxRecords !== 0) {
      await this.fetchInto(groupId, memberId, session, req, outFor, alloc);
    }
    await acksDurable();
    // Only partitions listed in the request or with data are reported.
    for (const t of req.topics) for (const p of t.partitions) outFor(t.topicId, p.partitionIndex);
    return this.fetchResponse(top(ErrorCode.NONE, null), outs);
  }

  private fetchResponse(base: ShareFetchOut, outs: Map<string, ShareFetchPartitionOut>): ShareFetchOut {
    const byTopic = new Map<string, ShareFetchPartitionOut[]>();
    for (const [k, o] of outs) {
      const topicId = k.slice(0, k.lastIndexOf(':'));
      let list = byTopic.get(topicId);
      if (!list) byTopic.set(topicId, (list = []));
      list.push(o);
    }
    base.responses = [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions }));
    return base;
  }

  private async fetchInto(
    groupId: string,
    memberId: string,
    session: ShareSession,
    req: ShareFetchIn,
    outFor: (topicId: string, index: number) => ShareFetchPartitionOut,
    alloc: ((size: number) => Buffer) | undefined,
  ): Promise<void> {
    const maxRecords = req.maxRecords > 0 ? req.maxRecords : 500;
    const strict = req.shareAcquireMode === 1;
    const maxBytes = req.maxBytes > 0 ? Math.min(req.maxBytes, this.deps.config.fetchMaxBytes) : this.deps.config.fetchMaxBytes;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    const targets: { topicId: string; index: number; handle: SharePartitionHandle; partition: Partition }[] = [];
    for (const key of session.partitions) {
      const sep = key.lastIndexOf(':');
      const topicId = key.slice(0, sep);
      const index = Number(key.slice(sep + 1));
      const resolved = this.resolvePartition(topicId, index);
      if ('code' in resolved) {
        outFor(topicId, index).errorCode = resolved.code;
        continue;
      }
      try {
        const handle = await this.partitions.open({ groupId, topicId, partition: index }, resolved.partition);
        targets.push({ topicId, index, handle, partition: resolved.partition });
      } catch (err) {
        outFor(topicId, index).errorCode = errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
    }
    if (targets.length === 0) return;
    // Rotate the starting partition so one busy partition does not starve the others.
    const start = session.epoch % targets.length;
    const ordered = [...targets.slice(start), ...targets.slice(0, start)];
    for (;;) {
      let remaining = maxRecords;
      let bytesLeft = maxBytes;
      let got = 0;
      for (const t of ordered) {
        if (remaining <= 0 || bytesLeft <= 0) break;
        const o = outFor(t.topicId, t.index);
        o.currentLeader = { leaderId: t.partition.leaderId, leaderEpoch: t.partition.leaderEpoch };
        try {
          const r = await this.partitions.acquire(t.handle, t.partition, memberId, remaining, bytesLeft, strict, alloc);
          if (r.ranges.length === 0) continue;
          (o.records as Buffer[]).push(...r.records);
          o.acquiredRecords.push(...r.ranges);
          for (const range of r.ranges) remaining -= range.lastOffset - range.firstOffset + 1;
          bytesLeft -= r.bytes;
          got++;
        } catch (err) {
          o.errorCode = errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR);
          o.errorMessage = (err as Error).message;
        }
      }
      const wait = deadline - Date.now();
      if (got > 0 || wait <= 0 || this.closed) return;
      await this.waitForWork(ordered, wait);
      if (this.closed) return;
    }
  }

  /** Parks until a partition gets new records, records are released, or the time is up. */
  private waitForWork(targets: { handle: SharePartitionHandle; partition: Partition }[], timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const cancels: (() => void)[] = [];
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const c of cancels) c();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      for (const t of targets) {
        cancels.push(t.partition.onNextAdvance(finish));
        t.handle.waiters.add(finish);
        cancels.push(() => t.handle.waiters.delete(finish));
      }
    });
  }

  // ------------------------------------------------------------------ ShareAcknowledge

  async shareAcknowledge(req: ShareAckIn, apiVersion: number): Promise<ShareAckOut> {
    const top = (code: number, message: string | null): ShareAckOut => ({
      throttleTimeMs: 0, errorCode: code, errorMessage: message, acquisitionLockTimeoutMs: req.groupId ? this.deps.groupConfigs.getInt(req.groupId, 'share.record.lock.duration.ms') : this.settings.lockDurationMs, responses: [], nodeEndpoints: [],
    });
    const bad = this.groupCheck(req.groupId, req.memberId);
    if (bad) return top(bad.code, bad.message);
    const session = this.sessionError(req, false);
    if (typeof session === 'object' && 'code' in session) return top(session.code, session.message);
    const groupId = req.groupId!;
    const memberId = req.memberId!;
    const res = top(ErrorCode.NONE, null);
    res.responses = await Promise.all(
      req.topics.map(async (t) => ({
        topicId: t.topicId,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            const r = await this.acknowledgePartition(groupId, memberId, t.topicId, p.partitionIndex, p.acknowledgementBatches, apiVersion >= 2 && req.isRenewAck);
            const partition = this.deps.metadata.topicById(t.topicId);
            const leader = partition ? this.deps.partitions.get(partition.name, p.partitionIndex) : undefined;
            return {
              partitionIndex: p.partitionIndex,
              errorCode: r.code,
              errorMessage: r.message,
              currentLeader: { leaderId: leader?.leaderId ?? -1, leaderEpoch: leader?.leaderEpoch ?? -1 },
            };
          }),
        ),
      })),
    );
    if (req.shareSessionEpoch === FINAL_SESSION_EPOCH) {
      const held = session === 'final' ? undefined : session.partitions;
      this.sessions.delete(`${groupId}\0${memberId}`);
      this.partitions.releaseMember(groupId, memberId, held);
    }
    return res;
  }

  // ------------------------------------------------------------------ share-group offsets

  /** DescribeShareGroupOffsets: start offsets and lag; topics null = every topic with state. */
  async describeOffsets(groupId: string, topics: { topicName: string; partitions: number[] }[] | null) {
    const code = groupId === '' ? ErrorCode.INVALID_GROUP_ID : await this.coordinator.checkCoordinator(groupId);
    if (code !== ErrorCode.NONE) return { groupId, topics: [], errorCode: code, errorMessage: null };
    const g = this.coordinator.getGroup(groupId);
    if (!(g instanceof ShareGroup)) {
      return { groupId, topics: [], errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: g ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.` };
    }
    let wanted = topics;
    if (wanted === null) {
      const byTopic = new Map<string, number[]>();
      for (const k of this.partitions.keysOfGroup(groupId)) {
        const name = this.deps.metadata.topicById(k.topicId)?.name;
        if (!name) continue;
        let list = byTopic.get(name);
        if (!list) byTopic.set(name, (list = []));
        list.push(k.partition);
      }
      wanted = [...byTopic].map(([topicName, partitions]) => ({ topicName, partitions: partitions.sort((a, b) => a - b) }));
    }
    return {
      groupId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: wanted.map((t) => {
        const topic = this.deps.metadata.topic(t.topicName);
        return {
          topicName: t.topicName,
          topicId: topic?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: t.partitions.map((index) => {
            if (!topic) return { partitionIndex: index, startOffset: -1, leaderEpoch: -1, lag: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
            const state = this.partitions.peek({ groupId, topicId: topic.topicId, partition: index });
            const partition = this.deps.partitions.get(topic.name, index);
            if (!state || !partition) return { partitionIndex: index, startOffset: -1, leaderEpoch: -1, lag: -1, errorCode: ErrorCode.NONE, errorMessage: null };
            const lag = Math.max(0, partition.highWatermark - state.startOffset - state.completeInFlight);
            return { partitionIndex: index, startOffset: state.startOffset, leaderEpoch: partition.leaderEpoch, lag, errorCode: ErrorCode.NONE, errorMessage: null };
          }),
        };
      }),
    };
  }

  /** ReadShareGroupState (Kafka's internal share-coordinator API; the CLI's in-flight counts). */
  readState(groupId: string, topics: { topicId: string; partitions: { partition: number; leaderEpoch?: number }[] }[]) {
    return this.stateApi.read(groupId, topics);
  }

  /** Details for the CLI/describe: per share-partition start offset and in-flight counts. */
  inFlightOf(groupId: string) {
    return this.partitions.keysOfGroup(groupId).map((k) => ({ ...k, topic: this.deps.metadata.topicById(k.topicId)?.name ?? '', ...this.partitions.peek(k)! }));
  }

  private async emptyShareGroup(groupId: string, create: boolean): Promise<ShareGroup | { code: number; message: string | null }> {
    if (!this.settings.enabled) return { code: ErrorCode.UNSUPPORTED_VERSION, message: 'Share groups are disabled.' };
    const code = groupId === '' ? ErrorCode.INVALID_GROUP_ID : await this.coordinator.checkCoordinator(groupId);
    if (code !== ErrorCode.NONE) return { code, message: null };
    const g = this.coordinator.getGroup(groupId);
    if (g && !(g instanceof ShareGroup)) return { code: ErrorCode.GROUP_ID_NOT_FOUND, message: `Group ${groupId} is not a share group.` };
    if (!g) {
      if (!create) return { code: ErrorCode.GROUP_ID_NOT_FOUND, message: `Group ${groupId} not found.` };
      const created = this.newGroup(groupId);
      await this.persistGroup(created);
      return created;
    }
    if (!g.isEmpty()) return { code: ErrorCode.NON_EMPTY_GROUP, message: `Share group ${groupId} has active members.` };
    return g;
  }

  /** AlterShareGroupOffsets: only while the group has no members (like Kafka). */
  async alterOffsets(groupId: string, topics: { topicName: string; partitions: { partitionIndex: number; startOffset: number }[] }[]) {
    const g = await this.emptyShareGroup(groupId, true);
    if (!(g instanceof ShareGroup)) return { errorCode: g.code, errorMessage: g.message, responses: [] };
    const responses = [];
    for (const t of topics) {
      const topic = this.deps.metadata.topic(t.topicName);
      const partitions = [];
      for (const p of t.partitions) {
        const partition = topic ? this.deps.partitions.get(topic.name, p.partitionIndex) : undefined;
        if (!topic || !partition) {
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null });
          continue;
        }
        const log = partition.log;
        // -1 = latest, -2 = earliest (Kafka's sentinel values); others are clamped to the log.
        let offset = p.startOffset === -1 ? log.highWatermark : p.startOffset === -2 ? log.logStartOffset : p.startOffset;
        if (offset < 0) {
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Start offset ${p.startOffset} is invalid.` });
          continue;
        }
        offset = Math.min(Math.max(offset, log.logStartOffset), log.highWatermark);
        try {
          await this.partitions.setStartOffset({ groupId, topicId: topic.topicId, partition: p.partitionIndex }, topic.name, offset, partition.leaderEpoch);
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null });
        } catch (err) {
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE), errorMessage: (err as Error).message });
        }
      }
      responses.push({ topicName: t.topicName, topicId: topic?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA', partitions });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, responses };
  }

  /** DeleteShareGroupOffsets: forgets the group's state for whole topics (group must be empty). */
  async deleteOffsets(groupId: string, topicNames: string[]) {
    const g = await this.emptyShareGroup(groupId, false);
    if (!(g instanceof ShareGroup)) return { errorCode: g.code, errorMessage: g.message, responses: [] };
    const responses = [];
    for (const name of topicNames) {
      const topic = this.deps.metadata.topic(name);
      if (!topic) {
        responses.push({ topicName: name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null });
        continue;
      }
      try {
        await this.partitions.delete(this.partitions.keysOfGroup(groupId).filter((k) => k.topicId === topic.topicId));
        responses.push({ topicName: name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        responses.push({ topicName: name, topicId: topic.topicId, errorCode: errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE), errorMessage: (err as Error).message });
      }
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, responses };
  }

  /** After DeleteGroups removed a share group: its share-partition state goes too. */
  async deleteGroupState(groupId: string): Promise<void> {
    const keys = this.partitions.keysOfGroup(groupId);
    if (keys.length > 0) await this.partitions.delete(keys);
  }
}
