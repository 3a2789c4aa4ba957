// Reusable read buffers for responses that carry file bytes (Fetch). A fresh 1 MiB Buffer per
// partition per fetch costs page faults on first touch and GC work on release, several times
// the read itself; a buffer from the pool is already mapped. A buffer goes back to the pool only
// once the response that carries it has been handed to the kernel (Connection calls the
// response's release), so no byte on its way to a client is overwritten. A lease that is never
// released (closed connection, handler error) simply leaves its buffers to the GC.

/** Smallest pooled capacity; smaller requests are rounded up to it. */
const MIN_CLASS = 64 * 1024;
/** Larger requests are not pooled (a plain allocation, left to the GC). */
const MAX_CLASS = 16 * 1024 * 1024;

export class BufferPool {
  /** Free buffers by capacity (a power of two from MIN_CLASS to MAX_CLASS). */
  private readonly free = new Map<number, Buffer[]>();
  private retainedBytes = 0;

  /** @param maxRetainedBytes free bytes kept for reuse; more are dropped (left to the GC). */
  constructor(private readonly maxRetainedBytes = 32 * 1024 * 1024) {}

  /** A buffer of at least `size` bytes (its length is the capacity class). */
  acquire(size: number): Buffer {
    if (size > MAX_CLASS) return Buffer.allocUnsafeSlow(size);
    let cap = MIN_CLASS;
    while (cap < size) cap *= 2;
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
    if (cap < MIN_CLASS || cap > MAX_CLASS || (cap & (cap - 1)) !== 0) return;
    if (this.retainedBytes + cap > this.maxRetainedBytes) return;
    let list = this.free.get(cap);
    if (!list) this.free.set(cap, (list = []));
    list.push(b);
    this.retainedBytes += cap;
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
