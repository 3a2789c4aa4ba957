// The state of one log dir's disk, as a small state machine the appends consult:
//
//   online ──(free < fjord.storage.min.free.bytes, or a write failed with ENOSPC/EDQUOT)──▶ low-space
//   low-space ──(free ≥ max(floor, 1 MiB) again: retention, DeleteRecords or the operator freed space)──▶ online
//
// In low-space, appends are refused before touching the disk with a retriable
// KAFKA_STORAGE_ERROR; fetches, retention and DeleteRecords go on (they free space). Free space is
// probed with statfs once a second. Each change of state is logged once.
// (I/O errors other than "no space", and failed fsyncs, take a single partition offline instead;
// see PartitionLog.)
import { ErrorCode, StorageError } from './errors.js';
import { pFreeBytes } from './fsio.js';

export type LogDirState = 'online' | 'low-space';

/** Error codes of writes that failed for lack of space (the append can be retried later). */
export function isNoSpaceError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

const RESUME_MIN_FREE = 1024 * 1024;

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export class LogDirHealth {
  state: LogDirState = 'online';
  /** Last probed free bytes (Infinity before the first probe). */
  freeBytes = Infinity;
  /** Times the state changed (tests, metrics). */
  transitions = 0;
  private why = '';

  constructor(
    readonly dir: string,
    public minFreeBytes: number,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  get acceptingAppends(): boolean {
    return this.state === 'online';
  }

  /** The retriable error an append gets while the dir is low on space. */
  refusal(): StorageError {
    return new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `Log dir ${this.dir} is low on space (${this.why}); appends resume by themselves once space is freed.`);
  }

  /** Probes free space and moves between states. */
  async probe(): Promise<void> {
    let free: number;
    try {
      free = await pFreeBytes(this.dir);
    } catch {
      return; // the dir may be going away (shutdown); keep the last state
    }
    this.freeBytes = free;
    if (this.state === 'online' && this.minFreeBytes > 0 && free < this.minFreeBytes) {
      this.enter('low-space', `${mb(free)} free, below fjord.storage.min.free.bytes (${mb(this.minFreeBytes)})`);
    } else if (this.state === 'low-space' && free >= Math.max(this.minFreeBytes, RESUME_MIN_FREE)) {
      this.state = 'online';
      this.transitions++;
      this.log(`log dir ${this.dir}: ${mb(free)} free again; appends resume`);
    }
  }

  /** A write failed for lack of space: refuse appends until the next probe sees room. */
  noSpace(partition: string, err: Error, rolledBackTo: number): void {
    this.enter('low-space', `${(err as NodeJS.ErrnoException).code ?? 'no space'} writing ${partition}`);
    this.log(`log dir ${this.dir}: ${partition} rolled back to offset ${rolledBackTo} (what is on disk) after ${err.message}`);
  }

  private enter(state: LogDirState, why: string): void {
    this.why = why;
    if (this.state === state) return;
    this.state = state;
    this.transitions++;
    this.log(`log dir ${this.dir}: ${why}; appends are refused with a retriable KAFKA_STORAGE_ERROR until space returns (fetches, retention and DeleteRecords go on)`);
  }
}
