// AlterPartitionReassignments (v0-1). Targets are validated against the live brokers. In an etcd
// cluster the controller logic records the reassignment (replicas = target + the ones leaving,
// addingReplicas / removingReplicas); the new replicas replicate from the leader and, once all
// are in the ISR, the controller drops the leaving ones (moving leadership if needed). Null
// replicas cancel an ongoing reassignment. Single node: only the current replica set is accepted.
import { ErrorCode } from '../../protocol/errors.js';
import type {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponseInput,
} from '../../protocol/gen/alter-partition-reassignments.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type TopicOut = NonNullable<AlterPartitionReassignmentsResponseInput['responses']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

export default defineHandler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponseInput>({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const { broker } = ctx;
    if (!allowedOnCluster(ctx, Op.ALTER)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const controller = broker.controller;
    const live = controller ? controller.eligibleBrokers() : new Set([broker.nodeId, ...broker.metadata.brokers().map((b) => b.nodeId)]);
    const responses: TopicOut[] = [];
    for (const t of req.topics) {
      const partitions: PartitionOut[] = [];
      for (const p of t.partitions) {
        const out = (errorCode: number, errorMessage: string | null = null): PartitionOut => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage });
        const record = broker.metadata.topic(t.name);
        const assignment = record?.partitions.find((a) => a.partition === p.partitionIndex);
        if (!record || !assignment) {
          partitions.push(out(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.'));
          continue;
        }
        if (p.replicas !== null) {
          const error = validateTarget(p.replicas, assignment.replicas.filter((r) => !(assignment.addingReplicas ?? []).includes(r)), live, req.allowReplicationFactorChange, t.name, p.partitionIndex);
          if (error) {
            partitions.push(out(error[0], error[1]));
            continue;
          }
        }
        if (!controller) {
          if (p.replicas === null) partitions.push(out(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, `No ongoing reassignment for partition ${t.name}-${p.partitionIndex}.`));
          else if (!sameSet(p.replicas, assignment.replicas)) partitions.push(out(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'A single broker has no other broker to move replicas to.'));
          else partitions.push(out(ErrorCode.NONE));
          continue;
        }
        try {
          const result = await controller.reassign(t.name, p.partitionIndex, p.replicas);
          if (result.code === 'unknown') partitions.push(out(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.'));
          else if (result.code === 'no-reassignment') partitions.push(out(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, result.message ?? null));
          else partitions.push(out(ErrorCode.NONE));
        } catch (err) {
          partitions.push(out(errorCodeOf(err), (err as Error).message));
        }
      }
      responses.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
});

function sameSet(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function validateTarget(
  target: number[],
  current: number[],
  live: Set<number>,
  allowReplicationFactorChange: boolean,
  topic: string,
  partition: number,
): [number, string] | undefined {
  if (target.length === 0) return [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The replica list cannot be empty.'];
  if (new Set(target).size !== target.length) return [ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The replica list ${JSON.stringify(target)} contains duplicates.`];
  // v1 (KIP-860): the client can forbid a change of replication factor.
  if (!allowReplicationFactorChange && target.length !== current.length) {
    return [ErrorCode.INVALID_REPLICATION_FACTOR, `The replication factor is changed from ${current.length} to ${target.length} but allowReplicationFactorChange is false.`];
  }
  const unknown = target.filter((r) => !live.has(r));
  if (unknown.length) {
    return [ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker(s) ${unknown.join(', ')} that are not registered (partition ${topic}-${partition}).`];
  }
  return undefined;
}
