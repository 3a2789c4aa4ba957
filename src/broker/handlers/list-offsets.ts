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
const EARLIEST_PENDING_UPLOAD = -6;

/** The first version that may carry each special timestamp (Kafka answers lower ones UNSUPPORTED_VERSION). */
function minVersionFor(timestamp: number): number {
  switch (timestamp) {
    case MAX_TIMESTAMP:
      return 7;
    case EARLIEST_LOCAL:
      return 8;
    case LATEST_TIERED:
      return 9;
    case EARLIEST_PENDING_UPLOAD:
      return 11;
    default:
      return 0;
  }
}

type TopicOut = NonNullable<ListOffsetsResponseInput['topics']>[number];

/**
 * ListOffsets v0: offsets in descending order, at most maxNumOffsets, as Kafka 3.x's
 * fetchOffsetsBefore over a log seen as one segment: latest gives [high watermark, log start],
 * earliest [log start], a timestamp the first offset at or after it (the high watermark if none).
 */
async function legacyOffsets(
  log: { logStartOffset: number; highWatermark: number; offsetForTimestamp(t: number): Promise<{ offset: number } | null | undefined> },
  timestamp: number,
  maxNumOffsets: number,
): Promise<number[]> {
  let offsets: number[];
  if (timestamp === LATEST) offsets = log.highWatermark > log.logStartOffset ? [log.highWatermark, log.logStartOffset] : [log.highWatermark];
  else if (timestamp === EARLIEST) offsets = [log.logStartOffset];
  else if (timestamp < 0) offsets = [];
  else {
    const found = await log.offsetForTimestamp(timestamp);
    offsets = [found && found.offset < log.highWatermark ? found.offset : log.highWatermark];
  }
  return offsets.slice(0, Math.max(0, maxNumOffsets));
}

export default defineHandler<ListOffsetsRequest, ListOffsetsResponseInput>({
  apiKey: ApiKey.ListOffsets,
  // v0 (removed by Kafka 4, KIP-896) answers with a list of offsets (OldStyleOffsets) as 3.x did.
  // v11 adds EARLIEST_PENDING_UPLOAD (-6, KIP-1023): with no tiered storage there is none (-1).
  minVersion: 0,
  maxVersion: 11,
  async handle(req, ctx) {
    const { broker, apiVersion } = ctx;
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
        // Consumers and followers ask the leader; only the debugging consumer (-2) may ask a follower.
        if (req.replicaId !== -2 && (partition.leaderId !== broker.nodeId || !partition.isLeader)) {
          partitions.push({ ...base, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
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
        if (apiVersion < minVersionFor(p.timestamp)) {
          partitions.push({ ...base, errorCode: ErrorCode.UNSUPPORTED_VERSION });
          continue;
        }
        try {
          if (apiVersion === 0) {
            partitions.push({ ...base, errorCode: ErrorCode.NONE, oldStyleOffsets: await legacyOffsets(log, p.timestamp, p.maxNumOffsets) });
            continue;
          }
          switch (p.timestamp) {
            case LATEST:
              partitions.push({
                ...base,
                errorCode: ErrorCode.NONE,
                // A follower (replica id >= 0) learns the leader's log end; clients the high watermark.
                offset: req.replicaId >= 0 ? log.logEndOffset : req.isolationLevel === 1 ? log.lastStableOffset : log.highWatermark,
                leaderEpoch,
              });
              break;
            case EARLIEST:
            case EARLIEST_LOCAL:
              partitions.push({ ...base, errorCode: ErrorCode.NONE, offset: log.logStartOffset, leaderEpoch });
              break;
            case LATEST_TIERED:
            case EARLIEST_PENDING_UPLOAD:
              // No tiered storage: nothing is tiered, nothing waits for upload.
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
