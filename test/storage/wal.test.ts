// Write-ahead log (fjord.wal.enable): one fdatasync per round for all partitions, replay after a
// power failure (simulated by cutting the segment files to what was fsynced), torn WAL tails,
// and truncations that WAL replay must not undo.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import * as path from 'node:path';
import { fsError, injectFsFaults } from '../../src/storage/fsio.js';
import { LogManager } from '../../src/storage/log-manager.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { buildBatch, cfg, describe, firstValue, parseBatches, simpleBatch, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
let n = 0;
const sub = (): string => path.join(tmp.dir, `w${n++}`);

async function openManager(dir: string, walFileBytes?: number): Promise<LogManager> {
  const lm = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 0 }, wal: true, walFileBytes, configFor: () => cfg() });
  await lm.load();
  return lm;
}

function append(log: PartitionLog, tag: string): Promise<{ baseOffset: number }> {
  const b = simpleBatch(tag);
  return log.append(b, describe(b), 0);
}

async function values(log: PartitionLog): Promise<string[]> {
  const r = await log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
  return parseBatches(r.chunks).map((b) => firstValue(b.batch).replace(/-0$/, ''));
}

/** A crash: no flush, no snapshot, no clean-shutdown marker. */
async function crash(lm: LogManager): Promise<void> {
  await lm.scheduler.wal?.flush();
  for (const l of lm.all()) await l.abandonForTest();
}

/** A power failure after the crash: the segment files lose everything that was never fsynced (here: all of it). */
function loseSegmentPageCache(dir: string): void {
  for (const d of readdirSync(dir)) {
    if (d === 'wal' || !statSync(path.join(dir, d)).isDirectory()) continue;
    for (const f of readdirSync(path.join(dir, d))) if (f.endsWith('.log')) truncateSync(path.join(dir, d, f), 0);
  }
}

/** A power failure that loses only the active segment of each partition (rolled and cleaned ones were fsynced). */
function loseActiveSegments(dir: string): void {
  for (const d of readdirSync(dir)) {
    if (d === 'wal' || !statSync(path.join(dir, d)).isDirectory()) continue;
    const logs = readdirSync(path.join(dir, d)).filter((f) => f.endsWith('.log')).sort();
    const last = logs[logs.length - 1];
    if (last) truncateSync(path.join(dir, d, last), 0);
  }
}

function walFiles(dir: string): string[] {
  return readdirSync(path.join(dir, 'wal')).filter((f) => f.endsWith('.wal')).sort();
}

test('WAL: one fdatasync per round covers 100 partitions; no segment fsync on the append path', async () => {
  const dir = sub();
  const lm = await openManager(dir);
  const logs: PartitionLog[] = [];
  for (let p = 0; p < 100; p++) logs.push(await lm.create('many', p, 'id-many', cfg()));
  const rounds = lm.wal!.fsyncCount;
  const rs = await Promise.all(logs.map((l, p) => append(l, `v${p}`)));
  rs.forEach((r) => assert.equal(r.baseOffset, 0));
  const used = lm.wal!.fsyncCount - rounds;
  assert.ok(used >= 1 && used <= 3, `WAL fsyncs for 100 partitions: ${used}`);
  assert.equal(lm.scheduler.fsyncCount, 0, 'segment files are not fsynced per round');
  for (const l of logs) assert.equal(l.highWatermark, 1);
  await lm.close();
  assert.deepEqual(walFiles(dir), [], 'a clean shutdown leaves nothing to replay');
});

test('WAL replay brings back every acknowledged batch the segment files lost (power failure)', async () => {
  const dir = sub();
  let lm = await openManager(dir);
  const logs = [await lm.create('pl', 0, 'id-pl', cfg()), await lm.create('pl', 1, 'id-pl', cfg()), await lm.create('pl', 2, 'id-pl', cfg())];
  const expected: string[][] = [[], [], []];
  for (let i = 0; i < 60; i++) {
    const p = i % 3;
    expected[p]!.push(`r${i}`);
    await append(logs[p]!, `r${i}`);
  }
  await crash(lm);
  loseSegmentPageCache(dir);
  lm = await openManager(dir);
  for (let p = 0; p < 3; p++) {
    const log = lm.get('pl', p)!;
    assert.equal(log.logEndOffset, 20);
    assert.deepEqual(await values(log), expected[p]);
  }
  // and it goes on from there; the replayed data is now durable in the segments
  assert.equal((await append(lm.get('pl', 0)!, 'after')).baseOffset, 20);
  await crash(lm);
  lm = await openManager(dir);
  assert.deepEqual(await values(lm.get('pl', 0)!), [...expected[0]!, 'after']);
  await lm.close();
});

test('WAL: a torn tail is cut off at the last whole record; garbage after it is ignored', async () => {
  const dir = sub();
  let lm = await openManager(dir);
  const log = await lm.create('torn', 0, 'id-torn', cfg());
  for (let i = 0; i < 10; i++) await append(log, `t${i}`);
  await crash(lm);
  loseSegmentPageCache(dir);
  const [file] = walFiles(dir);
  const walPath = path.join(dir, 'wal', file!);
  const size = statSync(walPath).size;
  truncateSync(walPath, size - 7); // the last record is torn
  appendFileSync(walPath, Buffer.from([0, 0, 0, 40, 1, 2, 3])); // and followed by junk
  lm = await openManager(dir);
  const again = lm.get('torn', 0)!;
  assert.equal(again.logEndOffset, 9, 'the torn (never acknowledged) record is gone, the others are back');
  assert.deepEqual(await values(again), ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8']);
  assert.equal((await append(again, 'next')).baseOffset, 9);
  await lm.close();
});

test('WAL replay after truncation never brings truncated batches back', async () => {
  for (const powerLoss of [false, true]) {
    const dir = sub();
    let lm = await openManager(dir);
    const log = await lm.create('trunc', 0, 'id-trunc', cfg());
    const full = await lm.create('trunc', 1, 'id-trunc', cfg());
    for (let i = 0; i < 10; i++) await append(log, `old${i}`);
    await log.truncateTo(5); // follower truncation to the leader's epoch end
    for (let i = 0; i < 3; i++) await append(log, `new${i}`);
    for (let i = 0; i < 4; i++) await append(full, `gone${i}`);
    await full.truncateFullyAndStartAt(100); // a follower far behind the leader's log start
    await append(full, 'at100');
    await crash(lm);
    if (powerLoss) loseSegmentPageCache(dir);
    lm = await openManager(dir);
    const a = lm.get('trunc', 0)!;
    assert.equal(a.logEndOffset, 8, `power loss ${powerLoss}`);
    assert.deepEqual(await values(a), ['old0', 'old1', 'old2', 'old3', 'old4', 'new0', 'new1', 'new2']);
    const b = lm.get('trunc', 1)!;
    assert.equal(b.logStartOffset, 100);
    assert.equal(b.logEndOffset, 101);
    assert.deepEqual(await values(b), ['at100']);
    await lm.close();
  }
});

test('WAL checkpoints: full files are deleted once the segments are fsynced; a crash after that loses nothing', async () => {
  const dir = sub();
  let lm = await openManager(dir, 64 * 1024);
  const logs = [await lm.create('cp', 0, 'id-cp', cfg()), await lm.create('cp', 1, 'id-cp', cfg())];
  for (let i = 0; i < 400; i++) {
    const b = simpleBatch(`c${i}`, 1, 1000);
    await logs[i % 2]!.append(b, describe(b), 0);
  }
  const wal = lm.wal!;
  const deadline = Date.now() + 10_000;
  while (wal.checkpoints < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(wal.checkpoints >= 3, `checkpoints: ${wal.checkpoints}`);
  assert.ok(walFiles(dir).length <= 3, `WAL files left: ${walFiles(dir).join(', ')}`);
  assert.ok(logs[0]!.recoveryPoint > 0, 'a checkpoint moves the recovery point');
  await crash(lm);
  lm = await openManager(dir, 64 * 1024);
  assert.equal(lm.get('cp', 0)!.logEndOffset, 200);
  assert.equal(lm.get('cp', 1)!.logEndOffset, 200);
  assert.equal((await values(lm.get('cp', 1)!))[199], 'c399');
  await lm.close();
});

test('WAL disabled after a crash: the next start still replays what the WAL acknowledged', async () => {
  const dir = sub();
  const lm = await openManager(dir);
  const log = await lm.create('off', 0, 'id-off', cfg());
  for (let i = 0; i < 5; i++) await append(log, `o${i}`);
  await crash(lm);
  loseSegmentPageCache(dir);
  const plain = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 0 }, configFor: () => cfg() });
  await plain.load();
  assert.deepEqual(await values(plain.get('off', 0)!), ['o0', 'o1', 'o2', 'o3', 'o4']);
  assert.equal(plain.wal, undefined);
  await plain.close();
});

/** A control batch: abort (type 0) or commit (type 1) marker of a producer's transaction. */
function marker(producerId: number, commit: boolean): Buffer {
  const key = Buffer.from([0, 0, 0, commit ? 1 : 0]);
  const value = Buffer.from([0, 0, 0, 0, 0, 0]);
  return buildBatch([{ key, value }], { producerId, producerEpoch: 0, baseSequence: -1, transactional: true, control: true });
}

function txnBatch(producerId: number, seq: number, tag: string): Buffer {
  return buildBatch([{ value: Buffer.from(tag) }], { producerId, producerEpoch: 0, baseSequence: seq, transactional: true });
}

test('WAL replay restores transaction state: aborted ranges, open transactions, the last stable offset', async () => {
  const dir = sub();
  let lm = await openManager(dir);
  const log = await lm.create('txn', 0, 'id-txn', cfg());
  const put = (b: Buffer): Promise<{ baseOffset: number }> => log.append(b, describe(b), 0);
  await put(txnBatch(7, 0, 'aborted')); // 0
  await put(marker(7, false)); // 1: abort
  await put(txnBatch(8, 0, 'committed')); // 2
  await put(marker(8, true)); // 3: commit
  await put(simpleBatch('plain')); // 4
  await put(txnBatch(9, 0, 'open')); // 5: still open at the crash
  assert.equal(log.lastStableOffset, 5);
  await crash(lm);
  loseSegmentPageCache(dir);
  lm = await openManager(dir);
  const again = lm.get('txn', 0)!;
  assert.equal(again.logEndOffset, 6);
  assert.deepEqual(again.abortedTransactions(0, 6), [{ producerId: 7, firstOffset: 0 }]);
  assert.equal(again.lastStableOffset, 5, 'the open transaction of producer 9 still bounds read_committed');
  assert.equal(again.openTransactionEpoch(9), 0);
  assert.equal(again.openTransactionEpoch(7), -1);
  // the producer state came back too: a retry of producer 9's open batch is a duplicate, not a new record
  const retry = txnBatch(9, 0, 'open');
  const r = await again.append(retry, describe(retry), 0);
  assert.equal(r.duplicate, true);
  assert.equal(r.baseOffset, 5);
  await lm.close();
});

test('WAL replay keeps the effect of compaction, retention and DeleteRecords', async () => {
  const dir = sub();
  const config = cfg({ cleanupPolicy: 'compact,delete', segmentBytes: 400, minCleanableDirtyRatio: 0 });
  let lm = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 0 }, wal: true, configFor: () => config });
  await lm.load();
  const log = await lm.create('cmp', 0, 'id-cmp', config);
  for (let i = 0; i < 40; i++) {
    const b = buildBatch([{ key: Buffer.from(`k${i % 4}`), value: Buffer.from(`v${i}`) }]);
    await log.append(b, describe(b), 0);
  }
  const cleaned = await log.compact(Date.now(), { force: true });
  assert.equal(cleaned.cleaned, true, cleaned.reason);
  await log.deleteRecordsBefore(6);
  await lm.checkpointRecoveryPoints(); // as the DeleteRecords handler does
  const before = await values(log);
  const start = log.logStartOffset;
  await crash(lm);
  loseActiveSegments(dir);
  lm = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 0 }, wal: true, configFor: () => config });
  await lm.load();
  const again = lm.get('cmp', 0)!;
  assert.equal(again.logEndOffset, 40);
  assert.equal(again.logStartOffset, start);
  assert.deepEqual(await values(again), before, 'cleaned-away records and deleted ones stay gone; the active segment is back');
  await lm.close();
});

test('WAL: a failed fdatasync fails only its round, the WAL moves to a new file, and replay keeps the rounds acknowledged after it', async () => {
  const dir = sub();
  let lm = await openManager(dir);
  const a = await lm.create('fault', 0, 'id-fault', cfg());
  const b = await lm.create('fault', 1, 'id-fault', cfg());
  await append(a, 'a0');
  await append(b, 'b0');
  injectFsFaults({ sync: (file) => (file.includes(`${path.sep}wal${path.sep}`) ? fsError('EIO', 'fdatasync', file) : undefined) });
  try {
    await assert.rejects(append(b, 'b1-never-acked'), /EIO/);
  } finally {
    injectFsFaults(undefined);
  }
  assert.equal(b.offline, true);
  assert.equal(a.offline, false, 'a partition without records in the failed round is unaffected');
  for (let i = 1; i <= 5; i++) await append(a, `a${i}`);
  assert.equal(walFiles(dir).length, 2, 'the rounds after the failure went to a new file');
  await crash(lm);
  loseSegmentPageCache(dir);
  // what the failed round left in the first file is unknown: here, junk after its last record
  appendFileSync(path.join(dir, 'wal', walFiles(dir)[0]!), Buffer.from([0, 0, 1, 0, 9, 9, 9, 9]));
  lm = await openManager(dir);
  assert.deepEqual(await values(lm.get('fault', 0)!), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
  assert.equal((await values(lm.get('fault', 1)!))[0], 'b0');
  await lm.close();
});
