/** Per-partition log settings (Kafka topic configs, already resolved against broker defaults). */
export interface LogConfig {
  /** segment.bytes: roll the active segment when an append would grow it beyond this. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first batch is older than this. */
  segmentMs: number;
  /** retention.ms; -1 = infinite. */
  retentionMs: number;
  /** retention.bytes; -1 = infinite. */
  retentionBytes: number;
  /** flush.messages (only used when the FlushScheduler is in 'interval' mode). */
  flushMessages: number;
  /** flush.ms (only used when the FlushScheduler is in 'interval' mode). */
  flushMs: number;
  /** index.interval.bytes: bytes between sparse index entries. */
  indexIntervalBytes: number;
  /** max.message.bytes (validated by the broker; kept here for the cleaner). */
  maxMessageBytes: number;
  /** cleanup.policy: 'delete', 'compact' or 'compact,delete' (see isCompacted / isDeleteEnabled). */
  cleanupPolicy: string;
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** file.delete.delay.ms: how long a deleted segment's fd stays open for in-flight reads. */
  fileDeleteDelayMs?: number;
  /** delete.retention.ms: how long tombstones survive after the cleaner first saw them (default 86400000). */
  deleteRetentionMs?: number;
  /** min.compaction.lag.ms: segments holding records younger than this are not cleaned (default 0). */
  minCompactionLagMs?: number;
  /** max.compaction.lag.ms: dirty records older than this force a clean regardless of the ratio (default: never). */
  maxCompactionLagMs?: number;
  /** min.cleanable.dirty.ratio: dirty bytes / cleanable bytes needed before a log is cleaned (default 0.5). */
  minCleanableDirtyRatio?: number;
}

/** Kafka's "Long.MAX_VALUE" for flush.messages / flush.ms, i.e. "never flush explicitly". */
export const NEVER = Number.MAX_SAFE_INTEGER;

export const defaultLogConfig: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  flushMessages: NEVER,
  flushMs: NEVER,
  indexIntervalBytes: 4096,
  maxMessageBytes: 1048588,
  cleanupPolicy: 'delete',
  messageTimestampType: 'CreateTime',
  fileDeleteDelayMs: 60000,
  deleteRetentionMs: 86400000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: NEVER,
  minCleanableDirtyRatio: 0.5,
};

function policies(config: Pick<LogConfig, 'cleanupPolicy'>): string[] {
  return config.cleanupPolicy.split(',').map((s) => s.trim().toLowerCase());
}

/** cleanup.policy contains 'compact': the cleaner keeps the latest record per key. */
export function isCompacted(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return policies(config).includes('compact');
}

/** cleanup.policy contains 'delete': retention.ms / retention.bytes delete old segments. */
export function isDeleteEnabled(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return policies(config).includes('delete');
}

/**
 * Whether the produce path must reject records without a key (Kafka answers INVALID_RECORD,
 * "Compacted topic cannot accept message without key"): true for compacted topics. The cleaner
 * drops key-less records it finds anyway.
 */
export function requiresRecordKeys(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return isCompacted(config);
}
