// The consumer-protocol (KIP-848) side of the group coordinator: validates ConsumerGroupHeartbeat
// requests, finds or creates the ConsumerGroup, and serves ConsumerGroupDescribe. Groups live in
// the coordinator's shared group map (one id → one group of either type) when a registry is given.
import { errorCodeOf } from '../../../protocol/kafka-error.js';
import { ErrorCode } from '../../../protocol/errors.js';
import type {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponseInput,
} from '../../../protocol/gen/consumer-group-heartbeat.js';
import type { ConsumerGroupDescribeResponseDescribedGroupInput } from '../../../protocol/gen/consumer-group-describe.js';
import type { MetadataStore } from '../../../cluster/metadata-store.js';
import { resolveAssignors, type ServerAssignor } from './assignors.js';
import {
  compileTopicRegex,
  ConsumerGroup,
  ConsumerGroupError,
  JOIN_EPOCH,
  LEAVE_EPOCH,
  STATIC_LEAVE_EPOCH,
  type ConsumerGroupListener,
  type ConsumerGroupSettings,
  type HeartbeatContext,
  type TopicView,
} from './consumer-group.js';

/** The part of the coordinator's group map this service needs. */
export interface GroupRegistry {
  getGroup(groupId: string): { readonly type: string } | undefined;
  putGroup(group: ConsumerGroup): void;
  removeGroup?(groupId: string): void;
  /** NONE when this broker coordinates the group (the GroupCoordinator has it). */
  checkCoordinator?(groupId: string): Promise<number>;
}

/** A registry of consumer groups only (tests, or before a coordinator exists). */
export class LocalGroupRegistry implements GroupRegistry {
  readonly groups = new Map<string, ConsumerGroup>();
  getGroup(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }
  putGroup(group: ConsumerGroup): void {
    this.groups.set(group.groupId, group);
  }
}

/** Adapts the cluster metadata store to what groups need, with a change counter. */
export function topicViewOf(store: Pick<MetadataStore, 'topic' | 'topicById' | 'topics' | 'onChange'>): TopicView {
  let version = 0;
  store.onChange((c) => {
    if (c.kind !== 'partition-state') version++;
  });
  return {
    byName(name) {
      const t = store.topic(name);
      return t ? { topicId: t.topicId, partitions: t.partitions.length } : undefined;
    },
    byId(id) {
      const t = store.topicById(id);
      return t ? { name: t.name, partitions: t.partitions.length } : undefined;
    },
    *names() {
      for (const t of store.topics()) yield t.name;
    },
    version: () => version,
  };
}

export interface ConsumerGroupServiceOptions {
  settings: ConsumerGroupSettings;
  topics: TopicView;
  registry?: GroupRegistry;
  listener?: ConsumerGroupListener;
  /** Makes the changes of the last call durable (records to __consumer_offsets). */
  flush?: (groupId: string) => Promise<void>;
}

/** Settings from the broker config (`group.consumer.*`). */
export function settingsFromConfig(config: {
  groupConsumerHeartbeatIntervalMs: number;
  groupConsumerSessionTimeoutMs: number;
  groupConsumerMaxSize: number;
  groupConsumerAssignors: string[];
}): ConsumerGroupSettings {
  return {
    heartbeatIntervalMs: config.groupConsumerHeartbeatIntervalMs,
    sessionTimeoutMs: config.groupConsumerSessionTimeoutMs,
    maxSize: config.groupConsumerMaxSize,
    assignors: resolveAssignors(config.groupConsumerAssignors),
  };
}

export class ConsumerGroupService {
  readonly registry: GroupRegistry;

  constructor(private readonly options: ConsumerGroupServiceOptions) {
    this.registry = options.registry ?? new LocalGroupRegistry();
  }

  get assignors(): readonly ServerAssignor[] {
    return this.options.settings.assignors;
  }

  group(groupId: string): ConsumerGroup | undefined {
    const g = this.registry.getGroup(groupId);
    return g instanceof ConsumerGroup ? g : undefined;
  }

  /** ConsumerGroupHeartbeat: checks placement, applies the heartbeat, waits until it is durable. */
  async heartbeat(req: ConsumerGroupHeartbeatRequest, ctx: HeartbeatContext): Promise<ConsumerGroupHeartbeatResponseInput> {
    if (req.groupId !== '' && this.registry.checkCoordinator) {
      const code = await this.registry.checkCoordinator(req.groupId);
      if (code !== ErrorCode.NONE) return errorResponse(code, null);
    }
    const res = this.heartbeatSync(req, ctx);
    if (this.options.flush && req.groupId !== '') {
      try {
        await this.options.flush(req.groupId);
      } catch (err) {
        // The write failed (e.g. the __consumer_offsets partition moved or is not ready): the
        // member retries; Kafka answers such heartbeats with the write's (retriable) error too.
        return errorResponse(errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE), (err as Error).message);
      }
    }
    return res;
  }

  /** The state change of a heartbeat, without placement checks or persistence. */
  heartbeatSync(req: ConsumerGroupHeartbeatRequest, ctx: HeartbeatContext): ConsumerGroupHeartbeatResponseInput {
    try {
      validateHeartbeat(req, ctx.apiVersion, this.assignors);
      const existing = this.registry.getGroup(req.groupId);
      let group = existing instanceof ConsumerGroup ? existing : undefined;
      if (existing && !group) {
        // A classic group with the same id: an empty one (offsets only) becomes a consumer group
        // on the first join; a live one is not converted (no online migration in Fjord yet).
        const empty = (existing as { isEmpty?: () => boolean }).isEmpty?.() === true;
        if (!(req.memberEpoch === JOIN_EPOCH && empty)) {
          throw new ConsumerGroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
        }
      }
      if (req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === STATIC_LEAVE_EPOCH) {
        if (!group) throw new ConsumerGroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`);
        return group.leave(req);
      }
      if (!group) {
        if (req.memberEpoch !== JOIN_EPOCH) {
          throw new ConsumerGroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`);
        }
        group = this.newGroup(req.groupId);
      }
      return group.heartbeat(req, ctx);
    } catch (err) {
      if (err instanceof ConsumerGroupError) return errorResponse(err.code, err.message);
      throw err;
    }
  }

  /** Creates a group and adds it to the registry (also used when replaying the log). */
  newGroup(groupId: string): ConsumerGroup {
    const group = new ConsumerGroup(groupId, this.options.topics, this.options.settings, this.options.listener);
    this.registry.putGroup(group);
    return group;
  }

  /** ConsumerGroupDescribe with placement checks. */
  async describeGroups(groupIds: readonly string[]): Promise<ConsumerGroupDescribeResponseDescribedGroupInput[]> {
    const out: ConsumerGroupDescribeResponseDescribedGroupInput[] = [];
    for (const groupId of groupIds) {
      const code = groupId !== '' && this.registry.checkCoordinator ? await this.registry.checkCoordinator(groupId) : ErrorCode.NONE;
      if (code !== ErrorCode.NONE) out.push(describeError(groupId, code, null));
      else out.push(this.describe([groupId])[0]!);
    }
    return out;
  }

  describe(groupIds: readonly string[]): ConsumerGroupDescribeResponseDescribedGroupInput[] {
    return groupIds.map((groupId) => {
      const g = this.registry.getGroup(groupId);
      if (g instanceof ConsumerGroup) return g.describe();
      const errorCode = groupId === '' ? ErrorCode.INVALID_GROUP_ID : ErrorCode.GROUP_ID_NOT_FOUND;
      return describeError(groupId, errorCode, g ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`);
    });
  }

  /** Clears every group's timers (standalone use; the GroupCoordinator closes its own groups). */
  close(): void {
    if (this.registry instanceof LocalGroupRegistry) for (const g of this.registry.groups.values()) g.close();
  }
}

function errorResponse(code: number, message: string | null): ConsumerGroupHeartbeatResponseInput {
  return { throttleTimeMs: 0, errorCode: code, errorMessage: message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

function describeError(groupId: string, errorCode: number, errorMessage: string | null): ConsumerGroupDescribeResponseDescribedGroupInput {
  return {
    errorCode,
    errorMessage,
    groupId,
    groupState: '',
    groupEpoch: 0,
    assignmentEpoch: 0,
    assignorName: '',
    members: [],
    authorizedOperations: -2147483648,
  };
}

/** Kafka's request checks for ConsumerGroupHeartbeat. Throws ConsumerGroupError. */
export function validateHeartbeat(req: ConsumerGroupHeartbeatRequest, apiVersion: number, assignors: readonly ServerAssignor[]): void {
  const invalid = (msg: string) => new ConsumerGroupError(ErrorCode.INVALID_REQUEST, msg);
  if (req.groupId === '') throw invalid("GroupId can't be empty.");
  if (req.instanceId !== null && req.instanceId === '') throw invalid("InstanceId can't be empty.");
  if (req.rackId !== null && req.rackId === '') throw invalid("RackId can't be empty.");
  if (apiVersion >= 1) {
    if (req.memberId === '') throw invalid("MemberId can't be empty.");
  } else if (req.memberEpoch !== JOIN_EPOCH && req.memberId === '') {
    throw invalid("MemberId can't be empty.");
  }
  if (req.memberEpoch < STATIC_LEAVE_EPOCH) throw invalid(`MemberEpoch ${req.memberEpoch} is invalid.`);
  if (req.memberEpoch === JOIN_EPOCH) {
    if (req.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
    if (req.topicPartitions === null || req.topicPartitions.length > 0) {
      throw invalid('TopicPartitions must be empty when (re-)joining.');
    }
    if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
      throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
    }
  } else if (req.memberEpoch === STATIC_LEAVE_EPOCH) {
    if (req.instanceId === null) throw invalid("InstanceId can't be null.");
  }
  if (req.subscribedTopicNames !== null && req.subscribedTopicNames.length > 0 && req.subscribedTopicRegex) {
    throw invalid('SubscribedTopicNames and SubscribedTopicRegex cannot be used together.');
  }
  if (req.subscribedTopicRegex) {
    try {
      compileTopicRegex(req.subscribedTopicRegex);
    } catch {
      throw new ConsumerGroupError(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression.`);
    }
  }
  if (req.serverAssignor !== null && !assignors.some((a) => a.name === req.serverAssignor)) {
    throw new ConsumerGroupError(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${assignors.map((a) => a.name).join(', ')}.`);
  }
}
