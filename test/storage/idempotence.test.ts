import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as path from 'node:path';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { StorageError } from '../../src/storage/errors.js';
import { cfg, describe, simpleBatch, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
let n = 0;
const sub = (): string => path.join(tmp.dir, `d${n++}`);
const sched = () => new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 });

function pb(pid: number, epoch: number, seq: number, count = 1, tag = `p${pid}e${epoch}s${seq}`) {
  const b = simpleBatch(tag, count, 0, { producerId: pid, producerEpoch: epoch, baseSequence: seq });
  return { buf: b, batches: describe(b) };
}
async function send(log: PartitionLog, pid: number, epoch: number, seq: number, count = 1) {
  const { buf, batches } = pb(pid, epoch, seq, count);
  return log.append(buf, batches, 0);
}
const code = (c: number) => (e: unknown) => e instanceof StorageError && e.code === c;

async function exerciseDuplicates(log: PartitionLog, pid: number, expectBase: number[]) {
  // retries of each of the last 5 batches return the original offsets
  for (let i = 0; i < 5; i++) {
    const r = await send(log, pid, 0, i * 3 + 3, 3);
    assert.equal(r.duplicate, true);
    assert.equal(r.baseOffset, expectBase[i + 1]);
    assert.equal(r.lastOffset, expectBase[i + 1]! + 2);
  }
}

test('duplicates, gaps, stale epochs', async () => {
  const log = await PartitionLog.open(sub(), 'idem', 0, '', cfg(), sched());
  const leo0 = log.logEndOffset;
  const bases: number[] = [];
  for (let i = 0; i < 6; i++) bases.push((await send(log, 1, 0, i * 3, 3)).baseOffset);
  assert.deepEqual(bases, [0, 3, 6, 9, 12, 15].map((x) => x + leo0));
  await exerciseDuplicates(log, 1, bases);
  // the oldest (6th from last) batch is no longer remembered: a seq below the window is out of order
  await assert.rejects(send(log, 1, 0, 0, 3), code(45));
  // gap
  await assert.rejects(send(log, 1, 0, 19, 1), code(45));
  // nothing was appended by the failures
  assert.equal(log.logEndOffset, 18);
  // in order continues
  assert.equal((await send(log, 1, 0, 18, 1)).baseOffset, 18);
  // new epoch must start at 0
  await assert.rejects(send(log, 1, 1, 5), code(45));
  assert.equal((await send(log, 1, 1, 0)).baseOffset, 19);
  // stale epoch
  await assert.rejects(send(log, 1, 0, 19), code(47));
  // unknown producer may start anywhere; other producers are independent
  assert.equal((await send(log, 2, 4, 1000)).baseOffset, 20);
  assert.equal((await send(log, 2, 4, 1001)).baseOffset, 21);
  const states = [...log.producerStates()].sort((a, b) => a.producerId - b.producerId);
  assert.deepEqual(
    states.map((s) => [s.producerId, s.producerEpoch, s.lastSequence, s.lastOffset]),
    [
      [1, 1, 0, 19],
      [2, 4, 1001, 21],
    ],
  );
  await log.close();
});

test('sequence numbers wrap at int32 max', async () => {
  const log = await PartitionLog.open(sub(), 'wrap', 0, '', cfg(), sched());
  await send(log, 9, 0, 0x7fffffff - 2, 3); // seqs MAX-2..MAX
  const r = await send(log, 9, 0, 0, 2);
  assert.equal(r.baseOffset, 3);
  const dup = await send(log, 9, 0, 0x7fffffff - 2, 3);
  assert.equal(dup.duplicate, true);
  await assert.rejects(send(log, 9, 0, 5), code(45));
  // a batch that itself wraps
  const log2 = await PartitionLog.open(sub(), 'wrap2', 0, '', cfg(), sched());
  await send(log2, 9, 0, 0x7fffffff - 1, 4); // MAX-1, MAX, 0, 1
  assert.equal((await send(log2, 9, 0, 2)).baseOffset, 4);
  await log.close();
  await log2.close();
});

test('duplicate detection survives close/reopen and a crash', async () => {
  for (const mode of ['clean', 'crash', 'crash-after-roll'] as const) {
    const dir = sub();
    const config = cfg({ segmentBytes: mode === 'crash-after-roll' ? 300 : 1 << 30 });
    let log = await PartitionLog.open(dir, 'idem', 0, '', config, sched());
    const bases: number[] = [];
    for (let i = 0; i < 6; i++) bases.push((await send(log, 1, 0, i * 3, 3)).baseOffset);
    await send(log, 5, 2, 0);
    if (mode === 'clean') await log.close();
    else await log.abandonForTest();
    log = await PartitionLog.open(dir, 'idem', 0, '', config, sched(), { cleanShutdown: mode === 'clean' });
    if (mode === 'crash-after-roll') assert.ok(log.segmentCount > 2);
    await exerciseDuplicates(log, 1, bases);
    await assert.rejects(send(log, 1, 0, 19, 1), code(45), mode);
    await assert.rejects(send(log, 5, 1, 1), code(47), mode);
    assert.equal((await send(log, 1, 0, 18)).baseOffset, 19, mode);
    await log.close();
  }
});

test('transactions: open transaction holds the last stable offset', async () => {
  const log = await PartitionLog.open(sub(), 'txn', 0, '', cfg(), sched());
  await send(log, 1, 0, 0, 2);
  const t = simpleBatch('t', 2, 0, { producerId: 3, producerEpoch: 0, baseSequence: 0, transactional: true });
  await log.append(t, describe(t), 0);
  await send(log, 1, 0, 2, 2);
  assert.equal(log.highWatermark, 6);
  assert.equal(log.lastStableOffset, 2);
  assert.equal([...log.producerStates()].find((s) => s.producerId === 3)!.txnStartOffset, 2);
  // commit marker: control record key = version 0, type 1; value = version 0, coordinatorEpoch 7
  const key = Buffer.from([0, 0, 0, 1]);
  const value = Buffer.from([0, 0, 0, 0, 0, 7]);
  const { buildBatch } = await import('./helpers.js');
  const m = buildBatch([{ key, value }], { producerId: 3, producerEpoch: 0, baseSequence: -1, transactional: true, control: true });
  await log.append(m, describe(m), 0);
  assert.equal(log.lastStableOffset, 7);
  const st = [...log.producerStates()].find((s) => s.producerId === 3)!;
  assert.equal(st.txnStartOffset, -1);
  assert.equal(st.coordinatorEpoch, 7);
  await log.close();
});
