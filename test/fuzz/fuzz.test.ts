// Short fuzz pass in the suite: mutated frames of the main APIs (including produce to plain,
// compacted and zstd topics) over many connections; the broker must stay up and answer the
// liveness check between rounds, and every partition stays readable to its end by kcat.
// `npm run fuzz -- --frames N` runs a long pass.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fuzz } from './fuzzer.js';
import { kcatReadsToEnd, startFuzzTarget, type FuzzTarget } from './harness.js';

let target: FuzzTarget;
before(async () => {
  target = await startFuzzTarget();
});
after(async () => {
  await target?.dispose();
});

test('3000 mutated frames over 8 connections: no crash, no hang, partitions readable', async () => {
  const report = await fuzz({
    port: target.broker.port,
    pid: target.broker.child.pid!,
    frames: 3000,
    connections: 8,
    roundFrames: 500,
    seed: 18,
    frameTimeoutMs: 1000,
    isAlive: target.alive,
    deadline: Date.now() + 12_000,
  });
  assert.equal(report.crashes, 0, target.broker.output().slice(-2000));
  assert.equal(report.hangs, 0);
  assert.ok(report.frames >= 500, `sent ${report.frames} frames`);
  assert.ok(report.answered > 0 && report.closedByBroker > 0, 'both answers and closes seen');
  for (const r of await kcatReadsToEnd(target)) assert.ok(r.ok, `${r.topic}: ${r.detail}`);
});
