// Write-ahead log (fjord.wal.enable): one fdatasync per round for all partitions, replay after a
// power failure (simulated by cutting the segment files to what was fsynced), torn WAL tails,
// and truncations that WAL replay must not undo.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import * as path from 'node:path';
import { LogManager } from '../../src/storage/log-manager.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { cfg, describe, firstValue, parseBatches, simpleBatch, tmpDir } from './helpers.js';

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
