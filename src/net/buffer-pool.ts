// Reusable read buffers for responses that carry file bytes (Fetch). A fresh 1 MiB Buffer per
// partition per fetch costs page faults on first touch and GC work on release, several times
// the read itself; a buffer from the pool is already mapped. A buffer goes back to the pool only
// once the response that carries it has been handed to the kernel (Connection calls the
// response's release), so no byte on its way to a client is overwritten. A lease that is never
// released (closed connection, handler error) simply leaves its buffers to the GC.

/** Smallest pooled capacity; smaller requests are rounded up to it. */
const MIN_CLASS = 64 * 1024;
/** Above this, capacities are whole multiples of it (not powers of two, which would waste up to half). */
const STEP = 1024 * 1024;
/** Larger requests are not pooled (a plain allocation, left to the GC). */
const MAX_CLASS = 17 * 1024 * 1024;
/** Free buffers are dropped when the pool was not used for this long (RSS goes back after a burst). */
const IDLE_DROP_MS = 10_000;

/** Capacity class of a request: powers of two from MIN_CLASS to STEP, then multiples of STEP. */
function classOf(size: number): number {
  if (size > STEP) return Math.ceil(size / STEP) * STEP;
  let cap = MIN_CLASS;
  while (cap < size) cap *= 2;
  return cap;
}

export class BufferPool {
  /** Free buffers by capacity (a power of two from MIN_CLASS to MAX_CLASS). */
  private readonly free = new Map<number, Buffer[]>();
  private retainedBytes = 0;

  private lastUse = 0;
  private idleSweep: NodeJS.Timeout | undefined;

  /**
   * @param maxRetainedBytes free bytes kept for reuse; more are dropped (left to the GC). The
   * default holds one Fetch of librdkafka's defaults over ~12 partitions (4 MiB windows).
   */
  constructor(private readonly maxRetainedBytes = 64 * 1024 * 1024) {}

  /** A buffer of at least `size` bytes (its length is the capacity class). */
  acquire(size: number): Buffer {
    if (size > MAX_CLASS) return Buffer.allocUnsafeSlow(size);
    this.lastUse = Date.now();
    const cap = classOf(size);
    const list = this.free.get(cap);
    const b = list?.pop();
    if (b) {
      this.retainedBytes -= cap;
      return b;
    }
    return Buffer.allocUnsafeSlow(cap);
  }

  /** Gives a buffer from acquire() back; it must no longer be referenced by anything in flight. */
  release(b: Buffer): void {
    const cap = b.length;
    if (cap < MIN_CLASS || cap > MAX_CLASS || classOf(cap) !== cap) return;
    if (this.retainedBytes + cap > this.maxRetainedBytes) return;
    let list = this.free.get(cap);
    if (!list) this.free.set(cap, (list = []));
    list.push(b);
    this.retainedBytes += cap;
    this.scheduleIdleDrop();
  }

  private scheduleIdleDrop(): void {
    if (this.idleSweep) return;
    this.idleSweep = setTimeout(() => {
      this.idleSweep = undefined;
      if (Date.now() - this.lastUse >= IDLE_DROP_MS) {
        this.free.clear();
        this.retainedBytes = 0;
      } else if (this.retainedBytes > 0) this.scheduleIdleDrop();
    }, IDLE_DROP_MS);
    this.idleSweep.unref();
  }

  /** Buffers for one response: taken one by one, all given back at once. */
  lease(): BufferLease {
    return new BufferLease(this);
  }

  /** Free bytes currently kept for reuse (tests, metrics). */
  get retained(): number {
    return this.retainedBytes;
  }
}

export class BufferLease {
  private readonly taken: Buffer[] = [];
  private released = false;
  constructor(private readonly pool: BufferPool) {}

  /** Allocation function for readers: a pooled buffer of at least `size` bytes. */
  readonly alloc = (size: number): Buffer => {
    const b = this.pool.acquire(size);
    // After release, buffers are no longer tracked: a late reader keeps a private buffer.
    if (!this.released) this.taken.push(b);
    return b;
  };

  /** Returns every buffer taken; call only once nothing references them any more. */
  readonly release = (): void => {
    if (this.released) return;
    this.released = true;
    for (const b of this.taken) this.pool.release(b);
    this.taken.length = 0;
  };
}
