// The chaos checker itself: it must flag every kind of violation it claims to detect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChaosLedger, checkChaos, type FinalLog } from './chaos/checker.js';

function healthy(): { ledger: ChaosLedger; log: FinalLog } {
  const ledger = new ChaosLedger();
  const log: FinalLog = new Map([
    [0, ['w0:0', 'w0:1', 'w0:2', 'w0:3']],
    [1, ['w1:0', 'w1:1']],
  ]);
  for (const [p, values] of log) values.forEach((value, offset) => ledger.acked.push({ partition: p, offset, value: value! }));
  for (const c of ['c0', 'c1']) for (const [p, values] of log) values.forEach((value, offset) => ledger.recordConsumed(c, { partition: p, offset, value: value! }));
  for (const o of [0, 2, 4]) ledger.recordCommitted('g', 0, o);
  return { ledger, log };
}

test('a clean run has no violations, re-deliveries after a rewind included', () => {
  const { ledger, log } = healthy();
  ledger.recordConsumed('c0', { partition: 0, offset: 2, value: 'w0:2' });
  ledger.recordConsumed('c0', { partition: 0, offset: 3, value: 'w0:3' });
  assert.deepEqual(checkChaos(ledger, log), []);
});

test('an acknowledged record missing from the log is reported', () => {
  const { ledger, log } = healthy();
  log.set(0, ['w0:0', 'w0:1', 'w0:3']);
  const v = checkChaos(ledger, log);
  assert.ok(v.some((l) => /acked record lost: w0:2/.test(l)), v.join('\n'));
});

test('duplicates, reordering, divergent reads, skips and backward commits are reported', () => {
  const { ledger, log } = healthy();
  log.get(1)!.push('w1:0'); // duplicate and out of order
  ledger.recordConsumed('c1', { partition: 0, offset: 1, value: 'w0:9' }); // read a record that is not there
  ledger.recordConsumed('c0', { partition: 1, offset: 0, value: 'w1:0' });
  ledger.recordConsumed('c0', { partition: 1, offset: 2, value: 'w1:0' }); // skipped offset 1
  ledger.recordCommitted('g', 0, 3); // moved back from 4
  const v = checkChaos(ledger, log).join('\n');
  assert.match(v, /duplicate record w1:0/);
  assert.match(v, /out of order: w1:0/);
  assert.match(v, /c1 read w0:9 at partition 0 offset 1; the log has w0:1/);
  assert.match(v, /c0 skipped 1 record\(s\) in partition 1/);
  assert.match(v, /committed offset moved back from 4 to 3/);
});
