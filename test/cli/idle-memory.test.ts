// The quiet-process detector behind the CLI's idle GC (src/cli/idle-memory.ts): one full GC after
// a busy period once the process has been quiet for three windows, a second only when the young
// generation stayed large, and nothing for a process that was never busy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idleStep, type IdleState } from '../../src/cli/idle-memory.js';

const MB = 1048576;

/** Runs windows of CPU share through the detector; returns the windows (0-based) that ran a GC. */
function gcWindows(shares: number[], newSpace: (window: number) => number = () => 32 * MB): number[] {
  const s: IdleState = { busy: false, quiet: 0, gcs: 0 };
  const out: number[] = [];
  shares.forEach((share, i) => {
    if (idleStep(s, share, newSpace(i))) out.push(i);
  });
  return out;
}

describe('idle GC detector', () => {
  it('never collects in a process that was never busy', () => {
    assert.deepEqual(gcWindows([0.01, 0, 0.05, 0.01, 0, 0, 0, 0, 0]), []);
  });

  it('collects once after three quiet windows following a busy one', () => {
    assert.deepEqual(gcWindows([0.9, 0.5, 0.01, 0.0, 0.01], () => 1 * MB), [4]);
  });

  it('a window between quiet and busy restarts the count', () => {
    assert.deepEqual(gcWindows([0.9, 0.01, 0.01, 0.05, 0.01, 0.01, 0.01], () => 1 * MB), [6]);
  });

  it('collects a second time only while the young generation stays large, then stops', () => {
    const quiet = Array(9).fill(0.01);
    // The first GC left the young generation at 1 MiB: no second one.
    assert.deepEqual(gcWindows([0.9, ...quiet], (i) => (i <= 3 ? 32 * MB : 1 * MB)), [3]);
    // It stayed at 32 MiB: one more after three more quiet windows, then no more.
    assert.deepEqual(gcWindows([0.9, ...quiet]), [3, 6]);
  });

  it('a new busy period arms it again', () => {
    assert.deepEqual(gcWindows([0.9, 0, 0, 0, 0.5, 0, 0, 0], () => 1 * MB), [3, 7]);
  });
});
