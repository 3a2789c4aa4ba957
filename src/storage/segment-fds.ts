// A broker-wide bound on open segment files (fjord.log.max.open.segment.files): an LRU over the
// segments that hold an fd, owned by the LogManager (one per broker, never a module global).
// Segments open their log file on first use (LogSegment.ensureFd / openForAppend) and tell the
// cache; when more fds are open than the bound, the least recently used segments whose fd is
// safe to close lose it (LogSegment.fdClosable: no read, write or sync in flight, nothing written
// but not yet fsynced — after a writeback error a later-opened fd would not see the error). A
// segment that is not safe to close stays open, so the bound can be exceeded by segments with
// unsynced data or reads in flight; they are closed once they are clean and the cache is over.
//
// The list is intrusive (fields on LogSegment): a touch on the read/write path is O(1) and
// allocates nothing.
import type { LogSegment } from './segment.js';

/** Most segments one eviction looks at (segments it cannot close are moved to the front). */
const EVICT_SCAN = 16;
/** Most segments one idle sweep closes or looks at. */
const SWEEP_SCAN = 1024;

export class SegmentFdCache {
  /** Most recently used. */
  private head: LogSegment | undefined;
  /** Least recently used. */
  private tail: LogSegment | undefined;
  /** Segments in the list (each holds an open fd). */
  size = 0;
  /** Opens under way (reserved: room was made for them before the open). */
  private opening = 0;
  /** Coarse clock (ms) stamped on touches; advanced by sweepIdle() (no Date.now() per touch). */
  private clock = Date.now();
  /** fds closed by eviction or the idle sweep (diagnostics, tests). */
  closedCount = 0;

  constructor(
    /** fjord.log.max.open.segment.files */
    public maxOpen: number,
    /** A clean segment unused this long loses its fd at the next sweep (0: never). */
    public idleMs = 0,
  ) {}

  /**
   * Before a segment opens its file: makes room (closes LRU fds) so that the open does not take
   * the count past the bound. Followed by opened() or openFailed().
   */
  reserve(keep?: LogSegment): void {
    this.opening++;
    if (this.size + this.opening > this.maxOpen) this.evict(keep);
  }

  opened(seg: LogSegment): void {
    this.opening--;
    this.touch(seg);
  }

  openFailed(): void {
    this.opening--;
  }

  /** The segment used its fd (opened it, read, wrote): moves it to the front, closing others when over the bound. */
  touch(seg: LogSegment): void {
    seg.lruUsed = this.clock;
    if (seg.lruIn) {
      if (this.head === seg) return;
      this.unlinkNode(seg);
      this.pushHead(seg);
      return;
    }
    seg.lruIn = true;
    this.pushHead(seg);
    this.size++;
    if (this.size + this.opening > this.maxOpen) this.evict(seg);
  }

  /** The segment's fd was closed (or is being closed): it leaves the list. */
  remove(seg: LogSegment): void {
    if (!seg.lruIn) return;
    this.unlinkNode(seg);
    seg.lruIn = false;
    this.size--;
  }

  get overBound(): boolean {
    return this.size + this.opening > this.maxOpen;
  }

  /**
   * Closes least recently used fds that are safe to close until the bound holds, looking at
   * EVICT_SCAN segments more than it must close (those it cannot close move to the front).
   * `keep` is never closed.
   */
  evict(keep?: LogSegment): void {
    // each segment over the bound, plus a few that cannot be closed now
    let budget = Math.min(this.size, this.size + this.opening - this.maxOpen + EVICT_SCAN);
    while (this.size + this.opening > this.maxOpen && budget-- > 0) {
      const seg = this.tail;
      if (seg === undefined) return;
      if (seg !== keep && seg.fdClosable()) {
        this.remove(seg);
        this.closedCount++;
        seg.dropFd();
      } else {
        this.unlinkNode(seg);
        this.pushHead(seg);
      }
    }
  }

  /** Advances the clock and closes clean fds unused for idleMs (called by the LogManager's tick). */
  sweepIdle(now: number): number {
    this.clock = now;
    if (this.idleMs <= 0) return 0;
    const cutoff = now - this.idleMs;
    let closed = 0;
    let seg = this.tail;
    for (let n = 0; seg !== undefined && n < SWEEP_SCAN && seg.lruUsed < cutoff; n++) {
      const prev = seg.lruPrev;
      if (seg.fdClosable()) {
        this.remove(seg);
        this.closedCount++;
        seg.dropFd();
        closed++;
      }
      seg = prev;
    }
    return closed;
  }

  private pushHead(seg: LogSegment): void {
    seg.lruPrev = undefined;
    seg.lruNext = this.head;
    if (this.head) this.head.lruPrev = seg;
    this.head = seg;
    this.tail ??= seg;
  }

  private unlinkNode(seg: LogSegment): void {
    const { lruPrev: p, lruNext: n } = seg;
    if (p) p.lruNext = n;
    else this.head = n;
    if (n) n.lruPrev = p;
    else this.tail = p;
    seg.lruPrev = seg.lruNext = undefined;
  }
}
