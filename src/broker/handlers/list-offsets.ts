import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { ListOffsetsRequest, ListOffsetsResponseInput } from '../../protocol/gen/list-offsets.js';
import { errorCodeOf } from '../errors.js';
import { allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

// Special timestamps of ListOffsets.
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

type TopicOut = NonNullable<ListOffsetsResponseInput['topics']>[number];

export default defineHandler<ListOffsetsRequest, ListOffsetsResponseInput>({
  apiKey: ApiKey.ListOffsets,
  // KIP-896: v0 is gone in Kafka 4.
  minVersion: 1,
  maxVersion: 10,
  async handle(req, ctx) {
    const { broker } = ctx;
    const topics: TopicOut[] = [];
    for (const t of req.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        const partition = broker.replicas.get(t.name, p.partitionIndex);
        const base = { partitionIndex: p.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1 };
        if (!allowedOnTopic(ctx, Op.DESCRIBE, t.name)) {
          partitions.push({ ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
          continue;
        }
        if (!partition) {
          partitions.push({ ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
          continue;
        }
        if (p.currentLeaderEpoch !== -1 && p.currentLeaderEpoch !== partition.leaderEpoch) {
          partitions.push({
            ...base,
            errorCode: p.currentLeaderEpoch > partition.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH,
          });
          continue;
        }
        const log = partition.log;
        const leaderEpoch = partition.leaderEpoch;
        try {
          switch (p.timestamp) {
            case LATEST:
              partitions.push({
                ...base,
                errorCode: ErrorCode.NONE,
                offset: req.isolationLevel === 1 ? log.lastStableOffset : log.highWatermark,
                leaderEpoch,
              });
              break;
            case EARLIEST:
            case EARLIEST_LOCAL:
              partitions.push({ ...base, errorCode: ErrorCode.NONE, offset: log.logStartOffset, leaderEpoch });
              break;
            case LATEST_TIERED:
              // No tiered storage: nothing is tiered.
              partitions.push({ ...base, errorCode: ErrorCode.NONE, offset: -1, leaderEpoch });
              break;
            case MAX_TIMESTAMP: {
              const m = log.maxTimestampOffset();
              partitions.push({ ...base, errorCode: ErrorCode.NONE, offset: m.offset, timestamp: m.timestamp, leaderEpoch });
              break;
            }
            default: {
              if (p.timestamp < 0) {
                partitions.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST });
                break;
              }
              const found = await log.offsetForTimestamp(p.timestamp);
              if (found && found.offset < log.highWatermark) {
                partitions.push({ ...base, errorCode: ErrorCode.NONE, offset: found.offset, timestamp: found.timestamp, leaderEpoch });
              } else {
                partitions.push({ ...base, errorCode: ErrorCode.NONE });
              }
            }
          }
        } catch (err) {
          partitions.push({ ...base, errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR) });
        }
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
});
