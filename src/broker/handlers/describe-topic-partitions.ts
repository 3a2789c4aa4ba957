// DescribeTopicPartitions (v0, KIP-966): topic metadata with cursor pagination. Topics are
// answered in name order; at most responsePartitionLimit partitions (capped at 2000) per response,
// and nextCursor says where to continue. An empty topic list means every topic.
import { ErrorCode } from '../../protocol/errors.js';
import type {
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponseInput,
} from '../../protocol/gen/describe-topic-partitions.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { defineHandler } from '../handler.js';
import { allowedOnTopic, Op } from '../../security/authz.js';
import { isInternalTopic } from '../../coordinator/runtime/internal-topics.js';
import { describePartition } from './metadata.js';

type TopicOut = NonNullable<DescribeTopicPartitionsResponseInput['topics']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

/** Kafka's max.request.partition.size.limit default. */
const MAX_RESPONSE_PARTITIONS = 2000;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export default defineHandler<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponseInput>({
  apiKey: ApiKey.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    const { broker } = ctx;
    // Listing all topics hides the ones the principal may not describe; named ones are refused.
    const names =
      req.topics.length === 0
        ? [...broker.metadata.topics()].map((t) => t.name).filter((name) => allowedOnTopic(ctx, Op.DESCRIBE, name))
        : [...new Set(req.topics.map((t) => t.name))];
    names.sort();
    const cursor = req.cursor;
    const limit = Math.max(1, Math.min(req.responsePartitionLimit, MAX_RESPONSE_PARTITIONS));
    let remaining = limit;
    const topics: TopicOut[] = [];
    let nextCursor: { topicName: string; partitionIndex: number } | null = null;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (cursor && name < cursor.topicName) continue;
      const record = broker.metadata.topic(name);
      const authorized = allowedOnTopic(ctx, Op.DESCRIBE, name);
      if (!record || !authorized) {
        topics.push({
          errorCode: authorized ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        });
        continue;
      }
      if (remaining === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const first = cursor && name === cursor.topicName ? Math.max(0, cursor.partitionIndex) : 0;
      const sorted = [...record.partitions].sort((a, b) => a.partition - b.partition).filter((p) => p.partition >= first);
      const partitions: PartitionOut[] = [];
      for (const p of sorted) {
        if (remaining === 0) {
          nextCursor = { topicName: name, partitionIndex: p.partition };
          break;
        }
        partitions.push({ ...describePartition(broker, name, p), eligibleLeaderReplicas: [], lastKnownElr: [] });
        remaining--;
      }
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: record.topicId,
        isInternal: isInternalTopic(name),
        partitions,
        topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      });
      if (nextCursor) break;
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
});
