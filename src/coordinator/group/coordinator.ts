// The group coordinator service (`broker.groups`): hosts the groups whose `__consumer_offsets`
// partition this broker leads, stores committed offsets (shared by every group type), persists
// both to `__consumer_offsets` in Kafka's formats through the coordinator runtime (which replays
// a partition when its leadership arrives and unloads it when it leaves), and expires empty
// groups' offsets per offsets.retention.minutes. One method per API; handlers only translate.
import type { GroupConfigs } from '../../config/group-config.js';
import type { InterBrokerRequester } from '../share/share-state-topic.js';
import type { BrokerConfig } from '../../config/config.js';
import { errorCodeOf } from '../../protocol/kafka-error.js';
import type { MetadataStore } from '../../cluster/metadata-store.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CONSUMER_OFFSETS_TOPIC } from '../runtime/internal-topics.js';
import { partitionForKey } from '../runtime/placement.js';
import {
  CoordinatorRuntime,
  type CoordinatorLocation,
  type CoordinatorRecord,
  type CoordinatorRuntimeDeps,
  type CoordinatorShard,
} from '../runtime/runtime.js';
import { ClassicGroup, type ClassicGroupHost, type JoinParams, type JoinResult, type SyncResult } from './classic-group.js';
import { ConsumerGroup } from './consumer-protocol/consumer-group.js';
import { CONSUMER_GROUP_KEY_VERSIONS, ConsumerGroupRecordWriter, replayRecord } from './consumer-protocol/records.js';
import { ConsumerGroupService, settingsFromConfig, topicViewOf } from './consumer-protocol/service.js';
import type { ErrorCodeValue, GroupLike } from './group.js';
import { StreamsGroupService } from './streams-protocol/service.js';
import { StreamsGroup } from './streams-protocol/streams-group.js';
import { replayStreamsRecord, STREAMS_GROUP_KEY_VERSIONS, StreamsGroupRecordWriter } from './streams-protocol/records.js';
import { SHARE_GROUP_METADATA_KEY_TYPE, ShareGroupService } from '../share/index.js';
import { type DecodedCoordinatorRecord, decodeCoordinatorRecord, groupMetadataKey, groupMetadataValue, offsetCommitKey, offsetCommitValue } from './records.js';

export interface OffsetEntry {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  expireTimestamp: number;
}

export interface CommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

/** What the group coordinator needs from the broker: the runtime's services, topics and configs. */
export interface GroupCoordinatorDeps extends CoordinatorRuntimeDeps {
  readonly config: BrokerConfig;
  readonly groupConfigs: GroupConfigs;
  readonly interBroker?: InterBrokerRequester;
  readonly metadata: CoordinatorRuntimeDeps['metadata'] & Pick<MetadataStore, 'topicById' | 'topics'>;
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class GroupCoordinator implements CoordinatorShard {
  /** The runtime of `__consumer_offsets`. */
  readonly offsetsTopic: CoordinatorRuntime;
  /** KIP-848 consumer groups (ConsumerGroupHeartbeat / ConsumerGroupDescribe). */
  readonly consumerGroups: ConsumerGroupService;
  /** KIP-1071 streams groups (StreamsGroupHeartbeat / StreamsGroupDescribe; in memory only). */
  readonly streamsGroups: StreamsGroupService;
  /** KIP-932 share groups (ShareGroupHeartbeat, ShareFetch, ...; state in __share_group_state). */
  readonly shareGroups: ShareGroupService;
  private readonly groups = new Map<string, GroupLike>();
  /** groupId → (topic, partition) → committed offset. */
  readonly offsets = new Map<string, Map<string, OffsetEntry>>();
  private closed = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly classicHost: ClassicGroupHost;
  private readonly config: BrokerConfig;
  private readonly log: (msg: string) => void;

  constructor(private readonly deps: GroupCoordinatorDeps) {
    const config = (this.config = deps.config);
    this.log = deps.log;
    this.offsetsTopic = new CoordinatorRuntime(
      deps,
      {
        name: CONSUMER_OFFSETS_TOPIC,
        numPartitions: () => config.offsetsTopicNumPartitions,
        replicationFactor: () => config.offsetsTopicReplicationFactor,
        configs: () => ({
          'cleanup.policy': 'compact',
          'compression.type': 'producer',
          'segment.bytes': String(config.offsetsTopicSegmentBytes),
        }),
        loadBufferBytes: () => config.getInt('offsets.load.buffer.size'),
      },
      this,
    );
    this.classicHost = {
      get initialRebalanceDelayMs() {
        return config.groupInitialRebalanceDelayMs;
      },
      get maxSize() {
        return config.groupMaxSize;
      },
      persist: (group) =>
        this.appendRecords(group.groupId, [{ key: groupMetadataKey(group.groupId), value: groupMetadataValue(group.toRecord()) }]),
      log: (msg) => deps.log(msg),
    };
    const writer = new ConsumerGroupRecordWriter(
      (groupId, records) => this.appendRecords(groupId, records),
      (msg) => deps.log(msg),
    );
    this.consumerGroups = new ConsumerGroupService({
      settings: settingsFromConfig(config),
      topics: topicViewOf(deps.metadata),
      registry: this,
      listener: writer,
      flush: (groupId) => writer.flush(groupId),
    });
    this.shareGroups = new ShareGroupService(deps, this);
    const groupConfigs = deps.groupConfigs;
    const streamsWriter = new StreamsGroupRecordWriter(
      (groupId, records) => this.appendRecords(groupId, records),
      (msg) => deps.log(msg),
    );
    this.streamsGroups = new StreamsGroupService(
      this,
      topicViewOf(deps.metadata),
      {
        sessionTimeoutMs: (groupId) => groupConfigs.getInt(groupId, 'streams.session.timeout.ms'),
        heartbeatIntervalMs: (groupId) => groupConfigs.getInt(groupId, 'streams.heartbeat.interval.ms'),
        numStandbyReplicas: (groupId) => groupConfigs.getInt(groupId, 'streams.num.standby.replicas'),
        get maxSize() {
          return config.getInt('group.streams.max.size');
        },
      },
      (msg) => deps.log(msg),
      streamsWriter,
      (groupId) => streamsWriter.flush(groupId),
    );
  }

  // ------------------------------------------------------------------ the group map

  getGroup(groupId: string): GroupLike | undefined {
    return this.groups.get(groupId);
  }

  putGroup(group: GroupLike): void {
    this.groups.set(group.groupId, group);
  }

  removeGroup(groupId: string): void {
    this.groups.delete(groupId);
  }

  appendRecords(groupId: string, records: CoordinatorRecord[]): Promise<void> {
    return this.offsetsTopic.append(groupId, records);
  }

  /** Creates a classic group (used by JoinGroup and simple offset commits). */
  createClassicGroup(groupId: string): ClassicGroup {
    const g = new ClassicGroup(groupId, this.classicHost);
    this.groups.set(groupId, g);
    return g;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Loads the `__consumer_offsets` partitions this broker leads and starts offset expiry. */
  async start(): Promise<void> {
    await this.offsetsTopic.start();
    await this.shareGroups.start();
    const interval = Math.max(1000, this.config.offsetsRetentionCheckIntervalMs);
    this.expiryTimer = setInterval(() => {
      this.runExpiration(Date.now()).catch((err) => this.log(`offset expiration failed: ${(err as Error).message}`));
    }, interval);
    this.expiryTimer.unref?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.expiryTimer);
    this.offsetsTopic.close();
    this.shareGroups.close();
    for (const g of this.groups.values()) g.close();
  }

  private partitionOf(groupId: string): number {
    return partitionForKey(groupId, this.offsetsTopic.numPartitions);
  }

  /** CoordinatorShard: one `__consumer_offsets` record of a loading partition. */
  replay(_partition: number, key: Buffer, value: Buffer | null): void {
    let rec: DecodedCoordinatorRecord;
    try {
      rec = decodeCoordinatorRecord(key, value);
    } catch (err) {
      this.log(`__consumer_offsets: skipping undecodable record: ${(err as Error).message}`);
      return;
    }
    if (rec.kind === 'offset') {
      const { group, topic, partition } = rec.key;
      if (rec.value === null) {
        this.offsets.get(group)?.delete(tpKey(topic, partition));
        if (this.offsets.get(group)?.size === 0) this.offsets.delete(group);
      } else {
        this.storeOffset(group, {
          topic,
          partition,
          offset: rec.value.offset,
          leaderEpoch: rec.value.leaderEpoch,
          metadata: rec.value.metadata,
          commitTimestamp: rec.value.commitTimestamp,
          expireTimestamp: rec.value.expireTimestamp,
        });
      }
    } else if (rec.kind === 'group') {
      const existing = this.groups.get(rec.group);
      if (rec.value === null) {
        if (existing?.type === 'classic') this.groups.delete(rec.group);
      } else {
        this.groups.set(rec.group, ClassicGroup.fromRecord(rec.group, rec.value, this.classicHost));
      }
    } else if (rec.keyVersion === SHARE_GROUP_METADATA_KEY_TYPE) {
      this.shareGroups.replay(rec.key, rec.value);
    } else if (STREAMS_GROUP_KEY_VERSIONS.includes(rec.keyVersion)) {
      const service = this.streamsGroups;
      replayStreamsRecord(
        rec.keyVersion,
        rec.key,
        rec.value,
        (groupId) => service.group(groupId) ?? service.newGroup(groupId),
        (groupId) => {
          const g = service.group(groupId);
          if (!g) return;
          g.close();
          this.groups.delete(groupId);
        },
      );
    } else if ((CONSUMER_GROUP_KEY_VERSIONS as readonly number[]).includes(rec.keyVersion)) {
      const service = this.consumerGroups;
      replayRecord(
        rec.keyVersion,
        rec.key,
        rec.value,
        (groupId) => service.group(groupId) ?? service.newGroup(groupId),
        (groupId) => {
          const g = service.group(groupId);
          if (!g) return;
          g.close();
          this.groups.delete(groupId);
        },
      );
    }
  }

  /** CoordinatorShard: the partition's groups are complete; start their timers. */
  loaded(partition: number): void {
    // Offsets without group metadata belong to "simple" (offset-only) classic groups.
    for (const groupId of this.offsets.keys()) {
      if (!this.groups.has(groupId) && this.partitionOf(groupId) === partition) this.createClassicGroup(groupId);
    }
    for (const g of this.groups.values()) {
      if (this.partitionOf(g.groupId) !== partition) continue;
      if (g instanceof ClassicGroup) g.startSessionTimers();
      else if (g instanceof ConsumerGroup) g.finishRestore();
      else if (g instanceof StreamsGroup) g.finishRestore();
    }
  }

  /** CoordinatorShard: leadership of the partition left; forget its groups and offsets. */
  unloaded(partition: number): void {
    for (const g of [...this.groups.values()]) {
      if (this.partitionOf(g.groupId) !== partition) continue;
      g.close();
      this.groups.delete(g.groupId);
    }
    for (const groupId of [...this.offsets.keys()]) if (this.partitionOf(groupId) === partition) this.offsets.delete(groupId);
  }

  // ------------------------------------------------------------------ placement

  /**
   * NONE when this broker coordinates the group; NOT_COORDINATOR when another broker does;
   * COORDINATOR_LOAD_IN_PROGRESS before the replay finished; INVALID_GROUP_ID for ''.
   */
  checkCoordinator(groupId: string): Promise<ErrorCodeValue> {
    return this.offsetsTopic.status(groupId);
  }

  /** FindCoordinator for a group key: the leader of the group's `__consumer_offsets` partition. */
  findGroupCoordinator(groupId: string): Promise<CoordinatorLocation> {
    return this.offsetsTopic.locate(groupId);
  }

  // ------------------------------------------------------------------ classic protocol

  async joinGroup(groupId: string, p: JoinParams): Promise<JoinResult> {
    const fail = (errorCode: number): JoinResult => ({
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: p.memberId,
      members: [],
    });
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const err = await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return fail(err);
    const cfg = this.config;
    if (p.sessionTimeoutMs < cfg.groupMinSessionTimeoutMs || p.sessionTimeoutMs > cfg.groupMaxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    let group = this.groups.get(groupId);
    if (group && group.type !== 'classic') {
      if (!group.isEmpty()) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      // An empty consumer-protocol group converts to a classic one (like Kafka's migration).
      group.close();
      this.groups.delete(groupId);
      group = undefined;
    }
    if (!group) {
      if (p.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      group = this.createClassicGroup(groupId);
    }
    return (group as ClassicGroup).join(p);
  }

  private async classicGroupFor(groupId: string): Promise<ClassicGroup | ErrorCodeValue> {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const err = await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return err;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!(group instanceof ClassicGroup)) return ErrorCode.GROUP_ID_NOT_FOUND;
    return group;
  }

  async syncGroup(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    protocolType: string | null,
    protocolName: string | null,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncResult> {
    const g = await this.classicGroupFor(groupId);
    if (typeof g === 'number') return { errorCode: g, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
    return g.sync(memberId, groupInstanceId, generationId, protocolType, protocolName, assignments);
  }

  async heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): Promise<ErrorCodeValue> {
    const g = await this.classicGroupFor(groupId);
    if (typeof g === 'number') return g;
    return g.heartbeat(memberId, groupInstanceId, generationId);
  }

  async leaveGroup(
    groupId: string,
    members: { memberId: string; groupInstanceId: string | null }[],
  ): Promise<{ errorCode: ErrorCodeValue; members: ErrorCodeValue[] }> {
    const g = await this.classicGroupFor(groupId);
    if (typeof g === 'number') return { errorCode: g, members: members.map(() => g) };
    return { errorCode: ErrorCode.NONE, members: g.leave(members) };
  }

  // ------------------------------------------------------------------ offsets

  private storeOffset(groupId: string, e: OffsetEntry): void {
    let m = this.offsets.get(groupId);
    if (!m) this.offsets.set(groupId, (m = new Map()));
    m.set(tpKey(e.topic, e.partition), e);
  }

  /** OffsetCommit: validates against the group, appends durably, then updates memory. */
  /**
   * Checks each partition of an offset commit and builds its `__consumer_offsets` records: the
   * per-partition answer, the entries to apply once durable, and the records to append. Shared by
   * OffsetCommit and TxnOffsetCommit.
   */
  planOffsetCommit(
    groupId: string,
    topics: readonly { name: string; partitions: readonly CommitPartition[] }[],
    now: number,
  ): { result: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]; entries: OffsetEntry[]; records: CoordinatorRecord[] } {
    const maxMeta = this.config.offsetMetadataMaxBytes;
    const records: CoordinatorRecord[] = [];
    const entries: OffsetEntry[] = [];
    const result = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const meta = p.committedMetadata ?? '';
        let code: number = ErrorCode.NONE;
        const topic = this.deps.metadata.topic(t.name);
        if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions.length) code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (Buffer.byteLength(meta) > maxMeta) code = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        else {
          const e: OffsetEntry = {
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: meta,
            commitTimestamp: now,
            expireTimestamp: -1,
          };
          entries.push(e);
          records.push({
            key: offsetCommitKey(groupId, t.name, p.partitionIndex),
            value: offsetCommitValue({ offset: e.offset, leaderEpoch: e.leaderEpoch, metadata: meta, commitTimestamp: now }),
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode: code };
      }),
    }));
    return { result, entries, records };
  }

  async commitOffsets(
    groupId: string,
    memberId: string,
    generationIdOrMemberEpoch: number,
    groupInstanceId: string | null,
    topics: { name: string; partitions: CommitPartition[] }[],
    apiVersion: number,
  ): Promise<{ name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]> {
    const all = (code: number) => topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    const err = await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return all(err);
    let group = this.groups.get(groupId);
    if (!group) {
      if (generationIdOrMemberEpoch >= 0) {
        return all(apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      group = this.createClassicGroup(groupId);
    }
    const verdict = group.validateOffsetCommit(memberId, generationIdOrMemberEpoch, groupInstanceId);
    if (verdict !== ErrorCode.NONE) return all(verdict);
    const { result, entries, records } = this.planOffsetCommit(groupId, topics, Date.now());
    if (records.length === 0) return result;
    try {
      await this.appendRecords(groupId, records);
    } catch (e) {
      const code = errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      for (const t of result) for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) p.errorCode = code;
      return result;
    }
    // The group may have been deleted meanwhile (DeleteGroups); the commit still stands, like Kafka.
    if (!this.groups.has(groupId)) this.createClassicGroup(groupId);
    for (const e of entries) this.storeOffset(groupId, e);
    return result;
  }

  /** OffsetFetch for one group; topics null = every committed offset. */
  async fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    memberId: string | null,
    memberEpoch: number,
  ): Promise<{ errorCode: number; topics: { name: string; partitions: FetchedOffset[] }[] }> {
    const err = groupId === '' ? ErrorCode.INVALID_GROUP_ID : await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return { errorCode: err, topics: [] };
    const group = this.groups.get(groupId);
    if (group) {
      const v = group.validateOffsetFetch(memberId, memberEpoch);
      if (v !== ErrorCode.NONE) return { errorCode: v, topics: [] };
    } else if (memberId !== null && memberEpoch >= 0) {
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    }
    const stored = this.offsets.get(groupId);
    if (topics === null) {
      const byTopic = new Map<string, FetchedOffset[]>();
      for (const e of stored?.values() ?? []) {
        let list = byTopic.get(e.topic);
        if (!list) byTopic.set(e.topic, (list = []));
        list.push({ partitionIndex: e.partition, committedOffset: e.offset, committedLeaderEpoch: e.leaderEpoch, metadata: e.metadata, errorCode: ErrorCode.NONE });
      }
      return {
        errorCode: ErrorCode.NONE,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex) })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((i) => {
          const e = stored?.get(tpKey(t.name, i));
          return e
            ? { partitionIndex: i, committedOffset: e.offset, committedLeaderEpoch: e.leaderEpoch, metadata: e.metadata, errorCode: ErrorCode.NONE }
            : { partitionIndex: i, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
        }),
      })),
    };
  }

  /** OffsetDelete. */
  async deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }> {
    const err = groupId === '' ? ErrorCode.INVALID_GROUP_ID : await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return { errorCode: err, topics: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    const v = group.validateOffsetDelete();
    if (v !== ErrorCode.NONE) return { errorCode: v, topics: [] };
    const stored = this.offsets.get(groupId);
    const records: CoordinatorRecord[] = [];
    const toDelete: string[] = [];
    const out = topics.map((t) => {
      const subscribed = !group.isEmpty() && group.isSubscribedToTopic(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((partitionIndex) => {
          if (subscribed) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          const k = tpKey(t.name, partitionIndex);
          if (stored?.has(k)) {
            toDelete.push(k);
            records.push({ key: offsetCommitKey(groupId, t.name, partitionIndex), value: null });
          }
          return { partitionIndex, errorCode: ErrorCode.NONE };
        }),
      };
    });
    if (records.length > 0) {
      try {
        await this.appendRecords(groupId, records);
      } catch (e) {
        return { errorCode: errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE), topics: [] };
      }
      for (const k of toDelete) stored?.delete(k);
      if (stored?.size === 0) this.offsets.delete(groupId);
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  // ------------------------------------------------------------------ admin

  listGroups(statesFilter: string[], typesFilter: string[]): { groupId: string; protocolType: string; groupState: string; groupType: string }[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out = [];
    for (const g of this.groups.values()) {
      if (!this.offsetsTopic.ownsKey(g.groupId)) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(g.type)) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.type });
    }
    return out;
  }

  async describeGroup(groupId: string): Promise<DescribedGroup> {
    const base = { groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    const err = await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return { errorCode: err, ...base };
    const g = this.groups.get(groupId);
    if (!(g instanceof ClassicGroup)) return { errorCode: ErrorCode.NONE, ...base };
    const stable = g.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType,
      protocolData: stable ? (g.protocolName ?? '') : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? (m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? Buffer.alloc(0)) : Buffer.alloc(0),
        memberAssignment: stable ? m.assignment : Buffer.alloc(0),
      })),
    };
  }

  async deleteGroup(groupId: string): Promise<ErrorCodeValue> {
    const err = groupId === '' ? ErrorCode.INVALID_GROUP_ID : await this.checkCoordinator(groupId);
    if (err !== ErrorCode.NONE) return err;
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!g.isEmpty()) return ErrorCode.NON_EMPTY_GROUP;
    return this.removeGroupDurably(g);
  }

  private async removeGroupDurably(g: GroupLike): Promise<ErrorCodeValue> {
    const stored = this.offsets.get(g.groupId);
    const records: CoordinatorRecord[] = [];
    for (const e of stored?.values() ?? []) records.push({ key: offsetCommitKey(g.groupId, e.topic, e.partition), value: null });
    for (const key of g.tombstones()) records.push({ key, value: null });
    try {
      await this.appendRecords(g.groupId, records);
    } catch (e) {
      return errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    if (this.groups.get(g.groupId) === g) {
      if (g instanceof ClassicGroup) g.markDead();
      else g.close();
      this.groups.delete(g.groupId);
    }
    this.offsets.delete(g.groupId);
    return ErrorCode.NONE;
  }

  /** Deletes expired offsets and empty groups left without offsets. Returns offsets removed. */
  async runExpiration(now: number): Promise<number> {
    const retentionMs = this.config.offsetsRetentionMs;
    let removed = 0;
    for (const g of [...this.groups.values()]) {
      if (!this.offsetsTopic.ownsKey(g.groupId)) continue;
      const stored = this.offsets.get(g.groupId);
      const expired: OffsetEntry[] = [];
      for (const e of stored?.values() ?? []) {
        const base = g.offsetExpirationBaseTimestamp(e.commitTimestamp);
        if (base === null) continue;
        const gone = e.expireTimestamp >= 0 ? now >= e.expireTimestamp : now - base >= retentionMs;
        if (gone) expired.push(e);
      }
      if (expired.length > 0) {
        try {
          await this.appendRecords(
            g.groupId,
            expired.map((e) => ({ key: offsetCommitKey(g.groupId, e.topic, e.partition), value: null })),
          );
        } catch (err) {
          this.log(`expiring offsets of ${g.groupId} failed: ${(err as Error).message}`);
          continue;
        }
        for (const e of expired) stored?.delete(tpKey(e.topic, e.partition));
        removed += expired.length;
        if (stored?.size === 0) this.offsets.delete(g.groupId);
      }
      const pending = g instanceof ClassicGroup ? g.pendingMemberCount : 0;
      if (g.isEmpty() && pending === 0 && !this.offsets.has(g.groupId) && g.state === 'Empty' && this.groups.get(g.groupId) === g) {
        await this.removeGroupDurably(g);
      }
    }
    return removed;
  }
}
