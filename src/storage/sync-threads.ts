// fdatasync on Fjord's own threads instead of libuv's shared pool. A process that embeds the
// broker (startBroker() in a test) may fill libuv's four threads with blocking work of its own —
// librdkafka's consume() waits there for up to its timeout — and every acks=all append would
// queue behind it for seconds. Each thread runs one fdatasync at a time; threads start on demand
// (up to MAX_THREADS; each costs ~10 MB of RSS for its V8 isolate, so all but the first end after
// IDLE_MS without work) and hold the event loop open only while an fdatasync is in flight.
import { Worker } from 'node:worker_threads';

const MAX_THREADS = 4;
/** Threads beyond the first end after this long without work (their RSS goes back). */
const IDLE_MS = 5000;

// CommonJS source of each thread: fdatasync the fd it is sent, answer null or the error's fields.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
parentPort.on('message', (fd) => {
  try {
    fdatasyncSync(fd);
    parentPort.postMessage(null);
  } catch (e) {
    parentPort.postMessage({ code: e.code, errno: e.errno, syscall: e.syscall, message: e.message });
  }
});
`;

interface SyncRequest {
  fd: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

interface SyncThread {
  worker: Worker;
  current: SyncRequest | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

interface ThreadError {
  code?: string;
  errno?: number;
  syscall?: string;
  message: string;
}

function toError(e: ThreadError): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(e.message);
  if (e.code !== undefined) err.code = e.code;
  if (e.errno !== undefined) err.errno = e.errno;
  if (e.syscall !== undefined) err.syscall = e.syscall;
  return err;
}

class SyncThreads {
  private readonly threads: SyncThread[] = [];
  private readonly queue: SyncRequest[] = [];
  /** Thread creation failed (no worker_threads here): fall back to libuv's pool. */
  private unavailable = false;

  fdatasync(fd: number, fallback: (fd: number) => Promise<void>): Promise<void> {
    if (this.unavailable) return fallback(fd);
    return new Promise((resolve, reject) => {
      const req = { fd, resolve, reject };
      const idle = this.threads.find((t) => t.current === undefined) ?? this.spawn();
      if (idle) this.run(idle, req);
      else if (this.unavailable) fallback(fd).then(resolve, reject);
      else this.queue.push(req);
    });
  }

  private spawn(): SyncThread | undefined {
    if (this.threads.length >= MAX_THREADS) return undefined;
    let worker: Worker;
    try {
      worker = new Worker(THREAD_SOURCE, {
        eval: true,
        stdout: false,
        stderr: false,
      });
    } catch {
      this.unavailable = this.threads.length === 0;
      return undefined;
    }
    const thread: SyncThread = { worker, current: undefined, idleTimer: undefined };
    worker.unref();
    worker.on('message', (msg: ThreadError | null) => {
      const req = thread.current;
      thread.current = undefined;
      const next = this.queue.shift();
      if (next) this.run(thread, next);
      else this.idle(thread);
      if (!req) return;
      if (msg === null) req.resolve();
      else req.reject(toError(msg));
    });
    const lost = (why: Error) => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      const req = thread.current;
      thread.current = undefined;
      req?.reject(why);
      // whatever was queued for lack of threads gets a new one
      const next = this.queue.shift();
      if (next) {
        const t = this.spawn();
        if (t) this.run(t, next);
        else this.queue.unshift(next);
      }
    };
    worker.on('error', (e: Error) => lost(e));
    worker.on('exit', (code) => lost(new Error(`fdatasync thread exited (code ${code})`)));
    this.threads.push(thread);
    return thread;
  }

  private idle(thread: SyncThread): void {
    thread.worker.unref();
    if (this.threads[0] === thread) return;
    thread.idleTimer = setTimeout(() => {
      thread.idleTimer = undefined;
      if (thread.current !== undefined) return;
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      void thread.worker.terminate();
    }, IDLE_MS);
    thread.idleTimer.unref();
  }

  private run(thread: SyncThread, req: SyncRequest): void {
    if (thread.idleTimer !== undefined) {
      clearTimeout(thread.idleTimer);
      thread.idleTimer = undefined;
    }
    thread.current = req;
    thread.worker.ref();
    thread.worker.postMessage(req.fd);
  }
}

/** Process-wide, like libuv's pool: the threads hold no broker state, only run fdatasync. */
export const syncThreads = new SyncThreads();
