// One client connection: frames requests, dispatches them, and writes responses strictly in
// request order even when later requests finish first. Memory per connection is bounded:
// reading pauses while too many requests are in flight or the client is not reading responses.
import type { Socket } from 'node:net';
import type { ConnectionQuotas } from './connection-quotas.js';
import type { BufferPool } from './buffer-pool.js';
import { ConnectionSession, PLAINTEXT_LISTENER } from '../security/session.js';

/**
 * What the dispatcher returns for one request: response chunks, or null for "no response"
 * (acks=0). `release` (pooled read buffers of a Fetch) is called once the chunks are written.
 */
export type ResponseChunks = (Buffer[] & { release?: () => void }) | null;

export interface RequestDispatcher {
  /** Handles one complete frame (without its size prefix). Throwing closes the connection. */
  dispatch(frame: Buffer, connection: Connection): Promise<ResponseChunks> | ResponseChunks;
}

export interface ConnectionLimits {
  /** socket.request.max.bytes: larger (or negative) frame sizes close the connection. */
  maxFrameBytes: number;
  /** Requests processed concurrently before reading pauses. */
  maxInFlight: number;
  /** Unsent response bytes before reading pauses. */
  maxQueuedResponseBytes: number;
  /** Broker-wide limits (queued.max.request.bytes, idle timeout), shared by all connections. */
  quotas?: ConnectionQuotas;
}

interface Slot {
  done: boolean;
  chunks: ResponseChunks;
  /** Request bytes counted against queued.max.request.bytes until the request completes. */
  bytes: number;
}

export class Connection {
  readonly id: number;
  readonly remote: string;
  /** Listener, SASL state and principal of this client (set by the listener that accepted it). */
  session = new ConnectionSession(PLAINTEXT_LISTENER, '');
  /** Read buffers for responses carrying file bytes, shared by the listener's connections. */
  readBuffers: BufferPool | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private nextFrameSize = -1;
  private readonly slots: Slot[] = [];
  private inFlight = 0;
  private queuedResponseBytes = 0;
  private paused = false;
  /** KIP-219: after a throttled response the connection reads nothing until this time. */
  private mutedUntil = 0;
  private closed = false;
  /** Last time bytes came in or a response went out (connections.max.idle.ms). */
  lastActivityMs = Date.now();
  private readonly onRoom = () => this.updateFlow();

  constructor(
    readonly socket: Socket,
    id: number,
    private readonly dispatcher: RequestDispatcher,
    private readonly limits: ConnectionLimits,
    private readonly onError: (conn: Connection, err: unknown) => void,
  ) {
    this.id = id;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateFlow());
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
      this.releaseQueued();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether reading is paused for back-pressure (too much work in flight or unsent). */
  get isPaused(): boolean {
    return this.paused;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Mutes reading for `ms` (quota throttling); responses already due still go out. */
  throttle(ms: number): void {
    if (ms <= 0 || this.closed) return;
    this.mutedUntil = Math.max(this.mutedUntil, Date.now() + ms);
    setTimeout(() => this.updateFlow(), ms + 1).unref();
    this.updateFlow();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.releaseQueued();
  }

  /** Idle: nothing in flight and no traffic for `idleMs`. */
  isIdle(now: number, idleMs: number): boolean {
    return this.inFlight === 0 && this.slots.length === 0 && now - this.lastActivityMs > idleMs;
  }

  /** Gives back the queued request bytes of requests that will never complete (closed connection). */
  private releaseQueued(): void {
    const q = this.limits.quotas;
    if (!q) return;
    q.forget(this.onRoom);
    for (const slot of this.slots) {
      if (slot.bytes > 0) {
        q.removeQueued(slot.bytes);
        slot.bytes = 0;
      }
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivityMs = Date.now();
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drainFrames();
  }

  private drainFrames(): void {
    while (!this.closed && !this.paused) {
      if (this.nextFrameSize < 0) {
        if (this.pendingBytes < 4) return;
        const size = this.readSizePrefix();
        if (size <= 0 || size > this.limits.maxFrameBytes) {
          this.onError(this, new Error(`invalid request frame size ${size} from ${this.remote}`));
          this.close();
          return;
        }
        this.nextFrameSize = size;
      }
      if (this.pendingBytes < this.nextFrameSize) return;
      const frame = this.take(this.nextFrameSize);
      this.nextFrameSize = -1;
      this.startRequest(frame);
    }
  }

  private readSizePrefix(): number {
    const head = this.take(4);
    return head.readInt32BE(0);
  }

  /** Removes n bytes from the pending chunks; a slice when they lie in one chunk (the common case). */
  private take(n: number): Buffer {
    const first = this.pending[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      this.pendingBytes -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.pending[0]!;
      const want = n - filled;
      if (chunk.length <= want) {
        chunk.copy(out, filled);
        filled += chunk.length;
        this.pending.shift();
      } else {
        chunk.copy(out, filled, 0, want);
        this.pending[0] = chunk.subarray(want);
        filled += want;
      }
    }
    this.pendingBytes -= n;
    return out;
  }

  private startRequest(frame: Buffer): void {
    const slot: Slot = { done: false, chunks: null, bytes: frame.length };
    this.limits.quotas?.addQueued(frame.length);
    this.slots.push(slot);
    this.inFlight++;
    this.updateFlow();
    let result: Promise<ResponseChunks> | ResponseChunks;
    try {
      result = this.dispatcher.dispatch(frame, this);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (chunks) => this.complete(slot, chunks),
        (err) => this.fail(err),
      );
    } else {
      this.complete(slot, result);
    }
  }

  private complete(slot: Slot, chunks: ResponseChunks): void {
    if (this.closed) return;
    slot.done = true;
    slot.chunks = chunks;
    this.lastActivityMs = Date.now();
    if (slot.bytes > 0) {
      this.limits.quotas?.removeQueued(slot.bytes);
      slot.bytes = 0;
    }
    this.inFlight--;
    // Responses that complete in the same tick (one group commit acknowledges many produce
    // requests, an append wakes several fetches) leave in one writev: one syscall, not one each.
    if (!this.flushScheduled && this.slots[0]?.done) {
      this.flushScheduled = true;
      process.nextTick(this.flushTick);
    }
    this.updateFlow();
  }

  private flushScheduled = false;
  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    if (this.closed) return;
    this.flushReadySlots();
    this.updateFlow();
  };

  private flushReadySlots(): void {
    let corked = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.chunks === null) continue;
      if (!corked) {
        this.socket.cork();
        corked = true;
      }
      const chunks = slot.chunks;
      const last = chunks.length - 1;
      for (let i = 0; i <= last; i++) {
        const c = chunks[i]!;
        this.queuedResponseBytes += c.length;
        // The last chunk's callback runs once every chunk of the response reached the kernel
        // (or the socket was destroyed): the pooled buffers behind them may be reused then.
        if (i === last && chunks.release) this.socket.write(c, chunks.release);
        else this.socket.write(c);
      }
    }
    if (corked) this.socket.uncork();
    this.queuedResponseBytes = this.socket.writableLength;
  }

  private fail(err: unknown): void {
    this.onError(this, err);
    this.close();
  }

  /** Pauses reading while this connection holds too much work; resumes when it drains. */
  private updateFlow(): void {
    if (this.closed) return;
    this.queuedResponseBytes = this.socket.writableLength;
    const queueFull = this.limits.quotas?.queueFull ?? false;
    if (queueFull) this.limits.quotas!.whenRoom(this.onRoom);
    const overloaded =
      queueFull ||
      this.inFlight >= this.limits.maxInFlight ||
      this.queuedResponseBytes >= this.limits.maxQueuedResponseBytes ||
      Date.now() < this.mutedUntil;
    if (overloaded && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!overloaded && this.paused) {
      this.paused = false;
      this.socket.resume();
      this.drainFrames();
    }
  }
}
