import type { PartitionAssignment, TopicRecord } from '../../cluster/metadata-store.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { MetadataRequest, MetadataResponseInput } from '../../protocol/gen/metadata.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { isInternalTopic } from '../../coordinator/runtime/internal-topics.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { allowedOnCluster, allowedOnTopic, Op } from '../../security/authz.js';
import { brokerEndpoints, reportedControllerId } from '../endpoints.js';

type TopicOut = NonNullable<MetadataResponseInput['topics']>[number];


export function describeTopic(broker: BrokerServices, topic: TopicRecord): TopicOut {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((p) => describePartition(broker, topic.name, p)),
  };
}

/** Leader, epoch, replicas and ISR of one partition, as Metadata and DescribeTopicPartitions report them. */
export function describePartition(broker: BrokerServices, topic: string, p: PartitionAssignment) {
  const state = broker.metadata.partitionState(topic, p.partition);
  const leader = state?.leader ?? -1;
  // Replicas on brokers that are not registered (dead, or not started yet) are offline.
  const live = broker.metadata.brokers();
  const offline = live.length === 0 ? [] : p.replicas.filter((r) => !live.some((b) => b.nodeId === r));
  return {
    // An offline partition (no leader) answers LEADER_NOT_AVAILABLE, as Kafka does: clients retry.
    errorCode: leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
    partitionIndex: p.partition,
    leaderId: leader,
    leaderEpoch: state?.leaderEpoch ?? -1,
    replicaNodes: p.replicas,
    isrNodes: state?.isr ?? [],
    offlineReplicas: offline,
  };
}

export default defineHandler<MetadataRequest, MetadataResponseInput>({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 13, // v13: top-level ErrorCode (always NONE: no request-level error applies here)
  async handle(req, ctx) {
    const { broker, apiVersion } = ctx;
    const topics: TopicOut[] = [];
    // v0: an empty list means all topics; v1+: null means all topics.
    const all = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    if (all) {
      // Topics the principal may not describe are left out of "all topics", as Kafka does.
      for (const t of broker.metadata.topics()) if (allowedOnTopic(ctx, Op.DESCRIBE, t.name)) topics.push(describeTopic(broker, t));
    } else {
      const autoCreate = (apiVersion < 4 || req.allowAutoTopicCreation) && broker.config.autoCreateTopicsEnable;
      for (const requested of req.topics!) {
        let topic: TopicRecord | undefined;
        if (requested.name !== null) topic = broker.metadata.topic(requested.name);
        else if (requested.topicId !== ZERO_UUID) topic = broker.metadata.topicById(requested.topicId);
        const name = topic?.name ?? requested.name;
        if (name !== null && !allowedOnTopic(ctx, Op.DESCRIBE, name)) {
          topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: requested.topicId, partitions: [] });
          continue;
        }
        // Auto topic creation needs CREATE on the cluster or on the topic.
        const mayCreate = requested.name !== null && (allowedOnCluster(ctx, Op.CREATE) || allowedOnTopic(ctx, Op.CREATE, requested.name));
        if (!topic && requested.name !== null && autoCreate && mayCreate) {
          try {
            topic = await broker.topics.autoCreate(requested.name);
          } catch (err) {
            topic = broker.metadata.topic(requested.name); // created concurrently by another request
            if (!topic) {
              topics.push({ errorCode: errorCodeOf(err), name: requested.name, topicId: ZERO_UUID, partitions: [] });
              continue;
            }
          }
        }
        if (topic) topics.push(describeTopic(broker, topic));
        else {
          topics.push({
            errorCode: requested.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            name: requested.name,
            topicId: requested.topicId,
            partitions: [],
          });
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: brokerEndpoints(broker.metadata, ctx.connection.session.listener.name),
      clusterId: broker.clusterId,
      controllerId: reportedControllerId(broker.metadata, broker.nodeId),
      topics,
    };
  },
});
