import type { PartitionAssignment, TopicRecord } from '../../cluster/metadata-store.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { MetadataRequest, MetadataResponseInput } from '../../protocol/gen/metadata.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { isInternalTopic } from '../../coordinator/runtime/internal-topics.js';
import type { Broker } from '../broker.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';

type TopicOut = NonNullable<MetadataResponseInput['topics']>[number];


export function describeTopic(broker: Broker, topic: TopicRecord): TopicOut {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((p) => describePartition(broker, topic.name, p)),
  };
}

/** Leader, epoch, replicas and ISR of one partition, as Metadata and DescribeTopicPartitions report them. */
export function describePartition(broker: Broker, topic: string, p: PartitionAssignment) {
  const state = broker.metadata.partitionState(topic, p.partition);
  return {
    errorCode: ErrorCode.NONE,
    partitionIndex: p.partition,
    leaderId: state?.leader ?? -1,
    leaderEpoch: state?.leaderEpoch ?? -1,
    replicaNodes: p.replicas,
    isrNodes: state?.isr ?? [],
    offlineReplicas: [],
  };
}

export default defineHandler<MetadataRequest, MetadataResponseInput>({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, ctx) {
    const { broker, apiVersion } = ctx;
    const topics: TopicOut[] = [];
    // v0: an empty list means all topics; v1+: null means all topics.
    const all = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    if (all) {
      for (const t of broker.metadata.topics()) topics.push(describeTopic(broker, t));
    } else {
      const autoCreate = (apiVersion < 4 || req.allowAutoTopicCreation) && broker.config.autoCreateTopicsEnable;
      for (const requested of req.topics!) {
        let topic: TopicRecord | undefined;
        if (requested.name !== null) topic = broker.metadata.topic(requested.name);
        else if (requested.topicId !== ZERO_UUID) topic = broker.metadata.topicById(requested.topicId);
        if (!topic && requested.name !== null && autoCreate) {
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
      brokers: broker.metadata.brokers().map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: broker.clusterId,
      controllerId: broker.metadata.controllerId(),
      topics,
    };
  },
});
