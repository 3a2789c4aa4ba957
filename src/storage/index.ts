export {
  type LogConfig,
  defaultLogConfig,
  NEVER,
  isCompacted,
  isDeleteEnabled,
  requiresRecordKeys,
} from './config.js';
export { ErrorCode, StorageError } from './errors.js';
export { FlushScheduler, type FlushSchedulerOptions } from './flush-scheduler.js';
export { LeaderEpochCache, type EpochEntry } from './leader-epoch-cache.js';
export { LogManager, type LogManagerOptions, CLEANER_OFFSET_CHECKPOINT } from './log-manager.js';
export {
  PartitionLog,
  CLEAN_SHUTDOWN_FILE,
  type AppendBatch,
  type AppendResult,
  type CompactOptions,
  type OpenOptions,
  type PartitionLogListener,
  type ReadResult,
} from './partition-log.js';
export { type CleanResult, hasRecordWithoutKey } from './cleaner.js';
export type { ProducerStateView } from './producer-state.js';
