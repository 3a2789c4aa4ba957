// AlterPartitionReassignments (v0-1). Targets are validated against the live brokers. A target
// equal to the current replica set completes at once (no data moves); Fjord has no replica
// movement yet, so any other target is refused with INVALID_REPLICA_ASSIGNMENT. Cancelling
// (null replicas) answers NO_REASSIGNMENT_IN_PROGRESS, as nothing is ever in flight.
import { ErrorCode } from '../../protocol/errors.js';
import type {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponseInput,
} from '../../protocol/gen/alter-partition-reassignments.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type TopicOut = NonNullable<AlterPartitionReassignmentsResponseInput['responses']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

export default defineHandler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponseInput>({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const { broker } = ctx;
    if (!allowedOnCluster(ctx, Op.ALTER)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const live = new Set([broker.nodeId, ...broker.metadata.brokers().map((b) => b.nodeId)]);
    const responses: TopicOut[] = req.topics.map((t) => {
      const record = broker.metadata.topic(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p): PartitionOut => {
          const out = (errorCode: number, errorMessage: string | null = null): PartitionOut => ({
            partitionIndex: p.partitionIndex,
            errorCode,
            errorMessage,
          });
          const assignment = record?.partitions.find((a) => a.partition === p.partitionIndex);
          if (!record || !assignment) return out(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.');
          if (p.replicas === null) return out(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, `No ongoing reassignment for partition ${t.name}-${p.partitionIndex}.`);
          if (p.replicas.length === 0) return out(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The replica list cannot be empty.');
          if (new Set(p.replicas).size !== p.replicas.length) {
            return out(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The replica list ${JSON.stringify(p.replicas)} contains duplicates.`);
          }
          // v1 (KIP-860): the client can forbid a change of replication factor.
          if (!req.allowReplicationFactorChange && p.replicas.length !== assignment.replicas.length) {
            return out(
              ErrorCode.INVALID_REPLICATION_FACTOR,
              `The replication factor is changed from ${assignment.replicas.length} to ${p.replicas.length} but allowReplicationFactorChange is false.`,
            );
          }
          const unknown = p.replicas.filter((r) => !live.has(r));
          if (unknown.length) {
            return out(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker(s) ${unknown.join(', ')} that are not registered.`);
          }
          const current = new Set(assignment.replicas);
          if (p.replicas.length !== current.size || p.replicas.some((r) => !current.has(r))) {
            return out(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Moving replicas between brokers is not supported by this broker yet.');
          }
          return out(ErrorCode.NONE);
        }),
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
});
