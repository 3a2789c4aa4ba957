// ListPartitionReassignments (v0): the partitions with a reassignment in flight (recorded in the
// topic by AlterPartitionReassignments until the new replicas joined the ISR), with their current
// replicas and the ones being added and removed. Null topics = all; unknown partitions are skipped.
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type {
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponseInput,
} from '../../protocol/gen/list-partition-reassignments.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type TopicOut = NonNullable<ListPartitionReassignmentsResponseInput['topics']>[number];

export default defineHandler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponseInput>({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    if (!allowedOnCluster(ctx, Op.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics: [] };
    }
    const { metadata } = ctx.broker;
    const wanted = req.topics === null ? null : new Map(req.topics.map((t) => [t.name, new Set(t.partitionIndexes)]));
    const topics: TopicOut[] = [];
    const records = wanted === null ? [...metadata.topics()] : [...wanted.keys()].map((n) => metadata.topic(n)).filter((t) => t !== undefined);
    for (const record of records) {
      const only = wanted?.get(record.name);
      const partitions = record.partitions
        .filter((p) => p.addingReplicas !== undefined && (!only || only.has(p.partition)))
        .map((p) => ({ partitionIndex: p.partition, replicas: p.replicas, addingReplicas: p.addingReplicas ?? [], removingReplicas: p.removingReplicas ?? [] }));
      if (partitions.length) topics.push({ name: record.name, partitions });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics };
  },
});
