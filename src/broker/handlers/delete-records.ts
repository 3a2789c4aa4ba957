// DeleteRecords (v0-2): moves a partition's log start offset (offset -1 = the high watermark);
// segments wholly below it are deleted. Returns the new low watermark.
import { ErrorCode } from '../../protocol/errors.js';
import type { DeleteRecordsRequest, DeleteRecordsResponseInput } from '../../protocol/gen/delete-records.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler } from '../handler.js';
import { allowedOnTopic, Op } from '../../security/authz.js';

type TopicOut = NonNullable<DeleteRecordsResponseInput['topics']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

export default defineHandler<DeleteRecordsRequest, DeleteRecordsResponseInput>({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const { broker } = ctx;
    const topics: TopicOut[] = [];
    /** Answers whose log start moved: they succeed only once the checkpoint is durable. */
    const moved: PartitionOut[] = [];
    for (const t of req.topics) {
      const partitions: PartitionOut[] = [];
      for (const p of t.partitions) {
        const fail = (errorCode: number): PartitionOut => ({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode });
        if (!allowedOnTopic(ctx, Op.DELETE, t.name)) {
          partitions.push(fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        const partition = broker.replicas.get(t.name, p.partitionIndex);
        if (!partition) {
          partitions.push(fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
          continue;
        }
        if (partition.leaderId !== broker.nodeId) {
          partitions.push(fail(ErrorCode.NOT_LEADER_OR_FOLLOWER));
          continue;
        }
        // Kafka: records of a compact-only topic cannot be deleted by offset.
        if (!partition.settings.cleanupPolicy.split(',').map((s) => s.trim()).includes('delete')) {
          partitions.push(fail(ErrorCode.POLICY_VIOLATION));
          continue;
        }
        const target = p.offset === -1 ? partition.log.highWatermark : p.offset;
        if (target < 0 || target > partition.log.highWatermark) {
          partitions.push(fail(ErrorCode.OFFSET_OUT_OF_RANGE));
          continue;
        }
        try {
          const before = partition.log.logStartOffset;
          const low = await partition.log.deleteRecordsBefore(target);
          const out = { partitionIndex: p.partitionIndex, lowWatermark: low, errorCode: ErrorCode.NONE as number };
          if (low !== before) moved.push(out);
          partitions.push(out);
        } catch (err) {
          partitions.push(fail(errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR)));
        }
      }
      topics.push({ name: t.name, partitions });
    }
    // Make the new log start offsets survive a crash; if that fails, the deletion is not durable
    // and the client must not be told it succeeded.
    if (moved.length > 0) {
      try {
        await broker.logs.checkpointRecoveryPoints();
      } catch {
        for (const out of moved) {
          out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          out.lowWatermark = -1;
        }
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
