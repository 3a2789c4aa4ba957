// Gives memory back when a busy broker process goes quiet (`fjord broker`, `fjord dev`).
// Under load V8 grows its young generation to 2 x 16 MiB and keeps old-space garbage and the
// native buffers it holds; it gives them back at a GC that sees a low allocation rate, which an
// idle broker, allocating little, may not run for minutes (the fuzz run's broker held 30+ MiB of
// it). Node gives the embedder no idle notification, so the CLI watches its own CPU use: once a
// busy process has been quiet for IDLE_WINDOWS windows it runs one full GC (a second one if the
// young generation stayed large): V8 compacts the old space and, the allocation rate since the
// previous GC being low, shrinks the young generation. The embedding API
// (startBroker) leaves the host process's heap alone.
import v8 from 'node:v8';
import vm from 'node:vm';

const WINDOW_MS = 5000;
/** A window using at least this share of one core marks the process busy. */
const BUSY_CPU = 0.1;
/** ...and one using at most this share is quiet. */
const IDLE_CPU = 0.02;
/** Quiet windows in a row before the GC (the allocation rate since the last GC must be low). */
const IDLE_WINDOWS = 3;
/** GCs per busy period: one more when the first left the young generation large. */
const MAX_GCS = 2;
const SMALL_NEW_SPACE = 8 * 1048576;

export interface IdleState {
  busy: boolean;
  quiet: number;
  gcs: number;
}

/**
 * One window's decision: whether to run the GC now. `cpuShare` is the CPU the process used over
 * the window as a share of one core; `newSpaceBytes` the young generation's size.
 */
export function idleStep(s: IdleState, cpuShare: number, newSpaceBytes: number): boolean {
  if (cpuShare >= BUSY_CPU) {
    s.busy = true;
    s.quiet = 0;
    s.gcs = 0;
    return false;
  }
  if (!s.busy) return false;
  if (cpuShare > IDLE_CPU) {
    s.quiet = 0;
    return false;
  }
  if (++s.quiet < IDLE_WINDOWS) return false;
  s.quiet = 0;
  if (s.gcs > 0 && newSpaceBytes <= SMALL_NEW_SPACE) {
    s.busy = false;
    return false;
  }
  if (++s.gcs >= MAX_GCS) s.busy = false;
  return true;
}

function newSpaceBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/** Starts watching; returns a function that stops it. FJORD_IDLE_GC=0 turns it off. */
export function releaseMemoryWhenIdle(): () => void {
  if (process.env.FJORD_IDLE_GC === '0') return () => undefined;
  let gc: (() => void) | undefined;
  try {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as typeof gc;
  } catch {
    gc = undefined;
  }
  if (typeof gc !== 'function') return () => undefined;
  const runGc = gc;
  const state: IdleState = { busy: false, quiet: 0, gcs: 0 };
  let last = process.cpuUsage();
  const timer = setInterval(() => {
    const now = process.cpuUsage(last);
    last = process.cpuUsage();
    if (idleStep(state, (now.user + now.system) / 1000 / WINDOW_MS, newSpaceBytes())) runGc();
  }, WINDOW_MS);
  timer.unref();
  return () => clearInterval(timer);
}
