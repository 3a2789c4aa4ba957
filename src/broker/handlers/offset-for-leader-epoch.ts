// OffsetForLeaderEpoch (v0-4): the end offset of a leader epoch, from the leader-epoch cache.
// Used by followers for truncation and by consumers to detect log truncation (KIP-320).
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponseInput,
} from '../../protocol/gen/offset-for-leader-epoch.js';
import { allowedOnCluster, allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

type TopicOut = NonNullable<OffsetForLeaderEpochResponseInput['topics']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

export default defineHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponseInput>({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const { broker } = ctx;
    const topics: TopicOut[] = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p): PartitionOut => {
        const fail = (errorCode: number): PartitionOut => ({ errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1 });
        // Followers (replica id >= 0) need CLUSTER_ACTION; consumers DESCRIBE on the topic.
        const permitted = req.replicaId >= 0 ? allowedOnCluster(ctx, Op.CLUSTER_ACTION) : allowedOnTopic(ctx, Op.DESCRIBE, t.topic);
        if (!permitted) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const partition = broker.replicas.get(t.topic, p.partition);
        if (!partition) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (partition.leaderId !== broker.nodeId || !partition.isLeader) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        if (p.currentLeaderEpoch >= 0) {
          if (p.currentLeaderEpoch < partition.leaderEpoch) return fail(ErrorCode.FENCED_LEADER_EPOCH);
          if (p.currentLeaderEpoch > partition.leaderEpoch) return fail(ErrorCode.UNKNOWN_LEADER_EPOCH);
        }
        const r = partition.log.endOffsetForEpoch(p.leaderEpoch);
        return { errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch: r.epoch, endOffset: r.endOffset };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
