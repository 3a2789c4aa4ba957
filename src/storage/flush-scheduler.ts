import type { WriteAheadLog } from './wal.js';

/** Something with written-but-not-fsynced data (a PartitionLog). */
export interface Syncable {
  syncNow(): Promise<void>;
}

export interface FlushSchedulerOptions {
  /**
   * 'group-commit' (single-node default): appends resolve only after an fdatasync that covers
   * them; one fsync per log per window, shared by every append of that window.
   * 'interval': Kafka's flush.messages / flush.ms; appends resolve after the write.
   */
  mode: 'group-commit' | 'interval';
  /** Group-commit window in ms, starting at the first pending write (default 2; 0 = next tick). */
  groupCommitMs?: number;
}

/** Batches fsyncs of all logs of one broker. */
export class FlushScheduler {
  readonly mode: 'group-commit' | 'interval';
  readonly groupCommitMs: number;
  /** Number of fdatasync calls issued by logs using this scheduler (tests, metrics). */
  fsyncCount = 0;
  /** Number of group-commit windows that ran. */
  rounds = 0;
  /**
   * The data dir's write-ahead log, when enabled: appends then become durable through its one
   * fdatasync per round instead of an fdatasync of each partition's segment (see wal.ts).
   */
  wal: WriteAheadLog | undefined;
  private pending = new Set<Syncable>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(opts: FlushSchedulerOptions = { mode: 'group-commit' }) {
    this.mode = opts.mode;
    this.groupCommitMs = opts.groupCommitMs ?? 2;
  }

  get groupCommit(): boolean {
    return this.mode === 'group-commit';
  }

  /** A log has new written data; fsync it at the end of the current window. */
  request(log: Syncable): void {
    this.pending.add(log);
    if (this.timer === undefined) {
      this.timer = this.groupCommitMs > 0 ? setTimeout(this.run, this.groupCommitMs) : setImmediate(this.run);
    }
  }

  /** Forgets a log (closed/deleted). */
  cancel(log: Syncable): void {
    this.pending.delete(log);
  }

  private run = (): void => {
    this.timer = undefined;
    this.rounds++;
    const logs = [...this.pending];
    this.pending.clear();
    for (const l of logs) void l.syncNow().catch(() => undefined); // errors are handled by the log
  };

  /** Syncs everything pending now. */
  async flushAll(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const logs = [...this.pending];
    this.pending.clear();
    await Promise.all(logs.map((l) => l.syncNow()));
    await this.wal?.flush();
  }
}
