// ElectLeaders (v0-2). Preferred election moves leadership to the first replica; unclean
// election picks any live replica when the ISR is empty. With one broker every partition already
// has its only replica as leader, so the answer is ELECTION_NOT_NEEDED (unknown partitions:
// UNKNOWN_TOPIC_OR_PARTITION). A null partition list means "all partitions that need it" (none).
import { ErrorCode } from '../../protocol/errors.js';
import type { ElectLeadersRequest, ElectLeadersResponseInput } from '../../protocol/gen/elect-leaders.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type TopicOut = NonNullable<ElectLeadersResponseInput['replicaElectionResults']>[number];
type PartitionOut = NonNullable<TopicOut['partitionResult']>[number];

const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

function electOne(broker: BrokerServices, topic: string, index: number, electionType: number): PartitionOut {
  const record = broker.metadata.topic(topic);
  const assignment = record?.partitions.find((p) => p.partition === index);
  if (!record || !assignment) {
    return { partitionId: index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
  }
  const state = broker.metadata.partitionState(topic, index);
  const live = new Set(broker.metadata.brokers().map((b) => b.nodeId));
  const leader = state?.leader ?? -1;
  if (electionType === ElectionType.PREFERRED) {
    const preferred = assignment.replicas[0];
    if (leader === preferred) {
      return { partitionId: index, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
    }
    return {
      partitionId: index,
      errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
      errorMessage: `Failed to elect leader for partition ${topic}-${index} under strategy PreferredReplicaPartitionLeaderElectionStrategy`,
    };
  }
  if (leader >= 0 && live.has(leader)) {
    return { partitionId: index, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
  }
  return {
    partitionId: index,
    errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
    errorMessage: `Failed to elect leader for partition ${topic}-${index} under strategy UncleanLeaderElectionStrategy`,
  };
}

export default defineHandler<ElectLeadersRequest, ElectLeadersResponseInput>({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    const { broker } = ctx;
    if (!allowedOnCluster(ctx, Op.ALTER)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: [] };
    if (req.electionType !== ElectionType.PREFERRED && req.electionType !== ElectionType.UNCLEAN) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
    }
    const results: TopicOut[] = [];
    if (req.topicPartitions === null) {
      // All partitions: report only those where an election was attempted (none need one here).
      for (const t of broker.metadata.topics()) {
        const partitionResult = t.partitions
          .map((p) => electOne(broker, t.name, p.partition, req.electionType))
          .filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED);
        if (partitionResult.length) results.push({ topic: t.name, partitionResult });
      }
    } else {
      for (const t of req.topicPartitions) {
        results.push({ topic: t.topic, partitionResult: t.partitions.map((p) => electOne(broker, t.topic, p, req.electionType)) });
      }
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
  },
});
