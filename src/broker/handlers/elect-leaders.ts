// ElectLeaders (v0-2). Preferred election moves leadership to the first replica when it is live
// and in the ISR; unclean election gives a partition without a live leader to a live ISR member,
// else to any live replica. In a cluster the election is a compare-and-set in etcd (the receiving
// broker does it, as the controller would). With one broker every partition already has its only
// replica as leader: ELECTION_NOT_NEEDED. A null partition list means "all partitions that need it".
import { ErrorCode } from '../../protocol/errors.js';
import type { ElectLeadersRequest, ElectLeadersResponseInput } from '../../protocol/gen/elect-leaders.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type TopicOut = NonNullable<ElectLeadersResponseInput['replicaElectionResults']>[number];
type PartitionOut = NonNullable<TopicOut['partitionResult']>[number];

const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

async function electOne(broker: BrokerServices, topic: string, index: number, electionType: number): Promise<PartitionOut> {
  const record = broker.metadata.topic(topic);
  const assignment = record?.partitions.find((p) => p.partition === index);
  if (!record || !assignment) {
    return { partitionId: index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
  }
  const strategy = electionType === ElectionType.PREFERRED ? 'PreferredReplicaPartitionLeaderElectionStrategy' : 'UncleanLeaderElectionStrategy';
  if (broker.controller) {
    // Cluster: a compare-and-set on the partition state in etcd, like the controller's own elections.
    const out = await broker.controller.elect(topic, index, electionType === ElectionType.PREFERRED ? 'preferred' : 'unclean');
    switch (out.kind) {
      case 'elected':
        return { partitionId: index, errorCode: ErrorCode.NONE, errorMessage: null };
      case 'not-needed':
        return { partitionId: index, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
      case 'unknown-partition':
        return { partitionId: index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
      default:
        return {
          partitionId: index,
          errorCode: electionType === ElectionType.PREFERRED ? ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE : ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
          errorMessage: out.message,
        };
    }
  }
  const state = broker.metadata.partitionState(topic, index);
  const live = new Set(broker.metadata.brokers().map((b) => b.nodeId));
  const leader = state?.leader ?? -1;
  if (electionType === ElectionType.PREFERRED) {
    const preferred = assignment.replicas[0];
    if (leader === preferred) {
      return { partitionId: index, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
    }
    return { partitionId: index, errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `Failed to elect leader for partition ${topic}-${index} under strategy ${strategy}` };
  }
  if (leader >= 0 && live.has(leader)) {
    return { partitionId: index, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
  }
  return { partitionId: index, errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: `Failed to elect leader for partition ${topic}-${index} under strategy ${strategy}` };
}

export default defineHandler<ElectLeadersRequest, ElectLeadersResponseInput>({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const { broker } = ctx;
    if (!allowedOnCluster(ctx, Op.ALTER)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: [] };
    if (req.electionType !== ElectionType.PREFERRED && req.electionType !== ElectionType.UNCLEAN) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
    }
    const results: TopicOut[] = [];
    if (req.topicPartitions === null) {
      // All partitions: report only those where an election was attempted (none need one here).
      for (const t of broker.metadata.topics()) {
        const partitionResult: PartitionOut[] = [];
        for (const p of t.partitions) {
          // All partitions: only those whose leader is not already the one the election would pick.
          const r = await electOne(broker, t.name, p.partition, req.electionType);
          if (r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED) partitionResult.push(r);
        }
        if (partitionResult.length) results.push({ topic: t.name, partitionResult });
      }
    } else {
      for (const t of req.topicPartitions) {
        const partitionResult: PartitionOut[] = [];
        for (const p of t.partitions) partitionResult.push(await electOne(broker, t.topic, p, req.electionType));
        results.push({ topic: t.topic, partitionResult });
      }
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
  },
});
