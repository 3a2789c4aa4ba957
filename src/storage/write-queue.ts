// The ordered write queue of one partition log: segment writes (adjacent ones coalesced into one
// writev) and tasks that must run between them (a roll's index/snapshot writes, cleaner swaps).
import { isNoSpaceError } from './log-dir-health.js';
import type { LogSegment } from './segment.js';

export interface SegmentWrite {
  seg: LogSegment;
  pos: number;
  bufs: Buffer[];
  bytes: number;
  /** Log end offset once this write is done. */
  endOffset: number;
  messages: number;
}

type WriteOp = SegmentWrite & { kind: 'write' };
type TaskOp = { kind: 'task'; fn: () => Promise<void> };

/** What the queue reports to its log. */
export interface WriteQueueHooks {
  /** A write reached the segment file. */
  segmentWritten(w: SegmentWrite): void;
  /**
   * A write found no space (ENOSPC/EDQUOT): it and every later queued op were dropped; the log
   * rolls back to what is on disk before the queue runs again.
   */
  rollBackToWritten(e: Error): Promise<void>;
  /** Any other I/O error: the log goes offline. */
  fail(e: Error): void;
}

/** Most buffers coalesced into one writev (IOV_MAX is 1024 on Linux). */
const MAX_COALESCED_BUFFERS = 512;

export class WriteQueue {
  private ops: (WriteOp | TaskOp)[] = [];
  private writing = false;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly hooks: WriteQueueHooks) {}

  write(seg: LogSegment, pos: number, bufs: Buffer[], bytes: number, endOffset: number, messages: number): void {
    const last = this.ops[this.ops.length - 1];
    if (last && last.kind === 'write' && last.seg === seg && last.pos + last.bytes === pos && last.bufs.length < MAX_COALESCED_BUFFERS) {
      last.bufs.push(...bufs);
      last.bytes += bytes;
      last.endOffset = endOffset;
      last.messages += messages;
    } else {
      this.ops.push({ kind: 'write', seg, pos, bufs, bytes, endOffset, messages });
    }
    this.kick();
  }

  task(fn: () => Promise<void>): void {
    this.ops.push({ kind: 'task', fn });
    this.kick();
  }

  /** Resolves when every queued write/task has run. */
  drain(): Promise<void> {
    if (!this.writing && this.ops.length === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.ops.length) {
        const op = this.ops.shift()!;
        if (op.kind === 'write') {
          try {
            await op.seg.write(op.bufs, op.pos);
          } catch (e) {
            if (!isNoSpaceError(e)) throw e;
            this.ops = [];
            await this.hooks.rollBackToWritten(e as Error);
            break;
          }
          this.hooks.segmentWritten(op);
        } else {
          try {
            await op.fn();
          } catch (e) {
            // A roll's snapshot or index write that found no space is not fatal: recovery
            // rebuilds both from the log.
            if (!isNoSpaceError(e)) throw e;
          }
        }
      }
    } catch (e) {
      this.hooks.fail(e as Error);
    } finally {
      this.writing = false;
      const d = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of d) f();
    }
  }
}
