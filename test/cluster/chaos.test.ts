// The short chaos run in `npm test` (the long one is `npm run chaos -- --minutes N`): etcd + 3
// broker processes, RF=3 and min.insync.replicas=2, idempotent acks=all kafkajs producers and
// read_committed consumers throughout, while every fault kind is injected once: kill -9 of a
// leader and of a follower, SIGSTOP/SIGCONT, a broker cut off from etcd and the other brokers,
// an etcd restart, and kill -9 of every broker at once. The checker must find no violation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS, runChaos } from './chaos/harness.js';

test('chaos: no acknowledged record lost, duplicated or reordered across every fault', { timeout: 240_000 }, async () => {
  const lines: string[] = [];
  const report = await runChaos({
    durationMs: 50_000,
    calmMs: 1500,
    sessionTimeoutMs: 3000,
    log: (line) => lines.push(line),
  });
  const summary = JSON.stringify({ ...report, violations: report.violations.length });
  console.log(`chaos report: ${summary}`);
  assert.deepEqual(report.violations, [], `${report.violations.join('\n')}\n--- log ---\n${lines.join('\n')}`);
  for (const kind of FAULT_KINDS) assert.ok((report.faults[kind] ?? 0) >= 1, `fault ${kind} was injected (${summary})`);
  assert.ok(report.recordsAcked > 500, `producers kept making progress (${summary})`);
  assert.ok(report.leaderChanges >= 2, `leadership moved (${summary})`);
  for (const [consumer, count] of Object.entries(report.recordsConsumed)) {
    assert.ok(count >= report.recordsAcked, `${consumer} read every acknowledged record at least once (${count} < ${report.recordsAcked})`);
  }
});
