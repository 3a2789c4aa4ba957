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
  /** cleanup.policy: 'delete', 'compact' or 'compact,delete'. Compaction is not implemented yet. */
  cleanupPolicy: string;
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** file.delete.delay.ms: how long a deleted segment's fd stays open for in-flight reads. */
  fileDeleteDelayMs?: number;
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
};
