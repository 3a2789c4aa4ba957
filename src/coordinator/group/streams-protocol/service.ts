// The streams-protocol (KIP-1071) side of the group coordinator: validates StreamsGroupHeartbeat
// requests, finds or creates the StreamsGroup in the coordinator's group map, asks for the internal
// topics to be created, and serves StreamsGroupDescribe.
import { ErrorCode } from '../../../protocol/errors.js';
import { errorCodeOf } from '../../../protocol/kafka-error.js';
import type {
  StreamsGroupHeartbeatRequest,
  StreamsGroupHeartbeatResponseInput,
} from '../../../protocol/gen/streams-group-heartbeat.js';
import type { StreamsGroupDescribeResponseDescribedGroupInput } from '../../../protocol/gen/streams-group-describe.js';
import { ConsumerGroupError, JOIN_EPOCH, LEAVE_EPOCH, STATIC_LEAVE_EPOCH, type TopicView } from '../consumer-protocol/consumer-group.js';
import type { GroupLike } from '../group.js';
import { StreamsGroup, type StreamsGroupListener, type StreamsGroupSettings } from './streams-group.js';
import type { ConfiguredTopology } from './topology.js';

export interface StreamsGroupRegistry {
  getGroup(groupId: string): GroupLike | undefined;
  putGroup(group: GroupLike): void;
  checkCoordinator?(groupId: string): Promise<number>;
}

/** Creates one internal topic (name, partitions, replication factor -1 = default, configs). */
export type InternalTopicCreator = (topic: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string> }) => Promise<void>;

export class StreamsGroupService {
  /** Internal topics being created, so concurrent heartbeats do not create them twice. */
  private readonly creating = new Set<string>();

  constructor(
    private readonly registry: StreamsGroupRegistry,
    private readonly topics: TopicView,
    private readonly settings: StreamsGroupSettings,
    private readonly log: (msg: string) => void = () => {},
    private readonly listener: StreamsGroupListener = {},
    /** Makes the changes of the last call durable (records to __consumer_offsets). */
    private readonly flush?: (groupId: string) => Promise<void>,
  ) {}

  group(groupId: string): StreamsGroup | undefined {
    const g = this.registry.getGroup(groupId);
    return g instanceof StreamsGroup ? g : undefined;
  }

  async heartbeat(
    req: StreamsGroupHeartbeatRequest,
    ctx: { clientId: string; clientHost: string },
    createTopic?: InternalTopicCreator,
  ): Promise<StreamsGroupHeartbeatResponseInput> {
    if (req.groupId !== '' && this.registry.checkCoordinator) {
      const code = await this.registry.checkCoordinator(req.groupId);
      if (code !== ErrorCode.NONE) return errorResponse(code, null);
    }
    try {
      validateStreamsHeartbeat(req);
      const existing = this.registry.getGroup(req.groupId);
      let group = existing instanceof StreamsGroup ? existing : undefined;
      if (existing && !group) {
        // A classic or consumer group owns the id; an empty one (offsets only) becomes a streams group.
        if (!(req.memberEpoch === JOIN_EPOCH && existing.isEmpty())) {
          throw new ConsumerGroupError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `Group ${req.groupId} is a ${existing.type} group, not a streams group.`);
        }
      }
      if ((req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === STATIC_LEAVE_EPOCH) && !group) {
        throw new ConsumerGroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`);
      }
      if (!group) {
        if (req.memberEpoch !== JOIN_EPOCH) throw new ConsumerGroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} not found.`);
        existing?.close();
        group = this.newGroup(req.groupId);
      }
      if (req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === STATIC_LEAVE_EPOCH) return await this.durable(req.groupId, group.leave(req));
      const outcome = group.heartbeat(req, ctx);
      if (createTopic) this.createInternalTopics(outcome.topicsToCreate, createTopic);
      return await this.durable(req.groupId, outcome.response);
    } catch (err) {
      if (err instanceof ConsumerGroupError) return errorResponse(err.code, err.message);
      throw err;
    }
  }

  /** Creates a group and adds it to the registry (also used when replaying the log). */
  newGroup(groupId: string): StreamsGroup {
    const group = new StreamsGroup(groupId, this.topics, this.settings, this.listener);
    this.registry.putGroup(group);
    return group;
  }

  /** Answers only once the heartbeat's records are written, like Kafka. */
  private async durable(groupId: string, res: StreamsGroupHeartbeatResponseInput): Promise<StreamsGroupHeartbeatResponseInput> {
    if (!this.flush) return res;
    try {
      await this.flush(groupId);
    } catch (err) {
      return errorResponse(errorCodeOf(err, ErrorCode.COORDINATOR_NOT_AVAILABLE), (err as Error).message);
    }
    return res;
  }

  /** Started in the background: the member hears MISSING_INTERNAL_TOPICS until they exist. */
  private createInternalTopics(topics: ConfiguredTopology['missingInternalTopics'], create: InternalTopicCreator): void {
    for (const t of topics) {
      if (this.creating.has(t.name)) continue;
      this.creating.add(t.name);
      const configs: Record<string, string> = { 'cleanup.policy': t.cleanupPolicy };
      for (const c of t.configs) configs[c.key] = c.value;
      create({ name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor > 0 ? t.replicationFactor : -1, configs })
        .catch((err) => this.log(`streams group: creating internal topic ${t.name} failed: ${(err as Error).message}`))
        .finally(() => this.creating.delete(t.name));
    }
  }

  async describe(groupIds: readonly string[]): Promise<StreamsGroupDescribeResponseDescribedGroupInput[]> {
    const out: StreamsGroupDescribeResponseDescribedGroupInput[] = [];
    for (const groupId of groupIds) {
      if (groupId === '') {
        out.push(describeError(groupId, ErrorCode.INVALID_GROUP_ID, 'Group id can not be empty.'));
        continue;
      }
      const code = this.registry.checkCoordinator ? await this.registry.checkCoordinator(groupId) : ErrorCode.NONE;
      if (code !== ErrorCode.NONE) {
        out.push(describeError(groupId, code, null));
        continue;
      }
      const g = this.registry.getGroup(groupId);
      if (g instanceof StreamsGroup) out.push(g.describe());
      else out.push(describeError(groupId, ErrorCode.GROUP_ID_NOT_FOUND, g ? `Group ${groupId} is not a streams group.` : `Group ${groupId} not found.`));
    }
    return out;
  }
}

export function errorResponse(code: number, message: string | null): StreamsGroupHeartbeatResponseInput {
  return { errorCode: code, errorMessage: message, memberId: '', memberEpoch: 0, heartbeatIntervalMs: 0 };
}

function describeError(groupId: string, errorCode: number, errorMessage: string | null): StreamsGroupDescribeResponseDescribedGroupInput {
  return { errorCode, errorMessage, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, topology: null, members: [], authorizedOperations: -2147483648 };
}

/** Kafka's request checks for StreamsGroupHeartbeat. Throws ConsumerGroupError (INVALID_REQUEST). */
function validateStreamsHeartbeat(req: StreamsGroupHeartbeatRequest): void {
  const invalid = (msg: string) => new ConsumerGroupError(ErrorCode.INVALID_REQUEST, msg);
  if (req.groupId === '') throw invalid("GroupId can't be empty.");
  if (req.memberId === '') throw invalid("MemberId can't be empty.");
  if (req.instanceId !== null && req.instanceId === '') throw invalid("InstanceId can't be empty.");
  if (req.rackId !== null && req.rackId === '') throw invalid("RackId can't be empty.");
  if (req.memberEpoch < STATIC_LEAVE_EPOCH) throw invalid(`MemberEpoch is ${req.memberEpoch}, but must be greater than or equal to -2.`);
  if (req.memberEpoch === JOIN_EPOCH) {
    if (req.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
    if (req.topology === null) throw invalid('Topology must be non-null when (re-)joining.');
    if (req.processId === null || req.processId === '') throw invalid('ProcessId must be provided in first request.');
    if (req.activeTasks === null || req.activeTasks.length > 0) throw invalid('ActiveTasks must be empty when (re-)joining.');
    if (req.standbyTasks === null || req.standbyTasks.length > 0) throw invalid('StandbyTasks must be empty when (re-)joining.');
    if (req.warmupTasks === null || req.warmupTasks.length > 0) throw invalid('WarmupTasks must be empty when (re-)joining.');
  } else if (req.memberEpoch === STATIC_LEAVE_EPOCH && req.instanceId === null) {
    throw invalid("InstanceId can't be null.");
  }
  if (req.memberEpoch > 0 && req.topology !== null) throw invalid('Topology can only be provided when (re-)joining.');
  if ((req.activeTasks === null) !== (req.standbyTasks === null) || (req.activeTasks === null) !== (req.warmupTasks === null)) {
    throw invalid('If one of ActiveTasks, StandbyTasks and WarmupTasks is null, all must be null.');
  }
  if (req.processId !== null && req.processId === '') throw invalid("ProcessId can't be empty.");
}
