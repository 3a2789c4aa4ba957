// DescribeProducers (v0): the active idempotent/transactional producers of each partition.
import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeProducersRequest, DescribeProducersResponseInput } from '../../protocol/gen/describe-producers.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowedOnTopic, Op } from '../../security/authz.js';

type TopicOut = NonNullable<DescribeProducersResponseInput['topics']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

export default defineHandler<DescribeProducersRequest, DescribeProducersResponseInput>({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    const { broker } = ctx;
    const topics: TopicOut[] = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((index): PartitionOut => {
        if (!allowedOnTopic(ctx, Op.READ, t.name)) {
          return { partitionIndex: index, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null, activeProducers: [] };
        }
        const partition = broker.replicas.get(t.name, index);
        if (!partition) {
          return {
            partitionIndex: index,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'This server does not host this topic-partition.',
            activeProducers: [],
          };
        }
        if (partition.leaderId !== broker.nodeId) {
          return { partitionIndex: index, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: null, activeProducers: [] };
        }
        const activeProducers = [...partition.log.producerStates()].map((s) => ({
          producerId: s.producerId,
          producerEpoch: s.producerEpoch,
          lastSequence: s.lastSequence,
          lastTimestamp: s.lastTimestamp,
          coordinatorEpoch: s.coordinatorEpoch,
          currentTxnStartOffset: s.txnStartOffset,
        }));
        return { partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
