import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { cfg, describe, firstValue, parseBatches, simpleBatch, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
const config = cfg({ segmentBytes: 3000, indexIntervalBytes: 150 });
const sched = () => new FlushScheduler({ mode: 'group-commit', groupCommitMs: 0 });

/** Builds a crashed (abandoned) log with several segments; returns batch boundaries. */
async function buildCrashedLog(dir: string) {
  const log = await PartitionLog.open(dir, 'rec', 0, '', config, sched());
  const batches: { base: number; last: number; value: string }[] = [];
  for (let i = 0; i < 60; i++) {
    const n = (i % 4) + 1;
    const b = simpleBatch(`r${i}`, n, 20 + ((i * 37) % 90), { producerId: 7, producerEpoch: 0, baseSequence: batches.reduce((a, x) => a + (x.last - x.base + 1), 0) });
    const r = await log.append(b, describe(b), 2);
    batches.push({ base: r.baseOffset, last: r.lastOffset, value: `r${i}-0` });
  }
  await log.abandonForTest();
  return batches;
}

function segFiles(pdir: string): string[] {
  return readdirSync(pdir).filter((f) => f.endsWith('.log')).sort();
}

async function checkLog(dir: string, expected: { base: number; last: number; value: string }[]) {
  const log = await PartitionLog.open(dir, 'rec', 0, '', config, sched(), { cleanShutdown: false, recoveryPoint: 0 });
  const leo = expected.length ? expected[expected.length - 1]!.last + 1 : 0;
  assert.equal(log.logEndOffset, leo);
  assert.equal(log.highWatermark, leo);
  const got = parseBatches((await log.read(0, 1 << 30, Number.MAX_SAFE_INTEGER, true)).chunks);
  assert.deepEqual(
    got.map((b) => [b.baseOffset, b.lastOffset, firstValue(b.batch)]),
    expected.map((b) => [b.base, b.last, b.value]),
  );
  // a lookup from the middle still works
  if (expected.length > 3) {
    const mid = expected[Math.floor(expected.length / 2)]!;
    const r = parseBatches((await log.read(mid.last, 1, leo, true)).chunks);
    assert.equal(r[0]!.baseOffset, mid.base);
  }
  // appends continue at the right offset, and the producer sequence continues
  const nextSeq = leo;
  const b = simpleBatch('next', 1, 0, { producerId: 7, producerEpoch: 0, baseSequence: nextSeq });
  const res = await log.append(b, describe(b), 3);
  assert.equal(res.baseOffset, leo);
  assert.equal(res.duplicate, undefined);
  await log.close();
  const again = await PartitionLog.open(dir, 'rec', 0, '', config, sched(), { cleanShutdown: true });
  assert.equal(again.logEndOffset, leo + 1);
  await again.close();
}

test('recovery at many cut points of the last segment', async () => {
  const base = path.join(tmp.dir, 'base');
  const batches = await buildCrashedLog(base);
  const pdir = path.join(base, 'rec-0');
  const files = segFiles(pdir);
  assert.ok(files.length >= 3, `segments ${files.length}`);
  const lastFile = files[files.length - 1]!;
  const lastBase = Number(lastFile.slice(0, 20));
  const size = statSync(path.join(pdir, lastFile)).size;
  // batch end positions within the last segment
  const inLast = batches.filter((b) => b.base >= lastBase);
  const buf = readFileSync(path.join(pdir, lastFile));
  const ends: number[] = [];
  for (let p = 0; p < buf.length; ) {
    p += 12 + buf.readInt32BE(p + 8);
    ends.push(p);
  }
  assert.equal(ends.length, inLast.length);
  const cuts = new Set<number>();
  for (let i = 0; i <= 50; i++) cuts.add(Math.floor((size * i) / 50));
  const lastStart = ends.length > 1 ? ends[ends.length - 2]! : 0;
  for (let c = lastStart; c <= size; c++) cuts.add(c); // every byte of the last batch
  let k = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const d = path.join(tmp.dir, `cut${k++}`);
    cpSync(base, d, { recursive: true });
    truncateSync(path.join(d, 'rec-0', lastFile), cut);
    const survivors = inLast.filter((_, i) => ends[i]! <= cut);
    const expected = [...batches.filter((b) => b.base < lastBase), ...survivors];
    await checkLog(d, expected);
    rmSync(d, { recursive: true, force: true });
  }
});

test('corrupt CRC in the tail truncates there and drops later segments', async () => {
  const base = path.join(tmp.dir, 'crc');
  const batches = await buildCrashedLog(base);
  const pdir = path.join(base, 'rec-0');
  const files = segFiles(pdir);
  const victimFile = files[files.length - 2]!; // second-to-last segment
  const victimBase = Number(victimFile.slice(0, 20));
  const buf = readFileSync(path.join(pdir, victimFile));
  // corrupt a payload byte of the 3rd batch of that segment
  let p = 0;
  for (let i = 0; i < 2; i++) p += 12 + buf.readInt32BE(p + 8);
  buf[p + 70] = buf[p + 70]! ^ 0xff;
  writeFileSync(path.join(pdir, victimFile), buf);
  const inVictim = batches.filter((b) => b.base >= victimBase);
  const expected = [...batches.filter((b) => b.base < victimBase), ...inVictim.slice(0, 2)];
  // recovery point before the victim segment so it is scanned
  const log = await PartitionLog.open(base, 'rec', 0, '', config, sched(), { cleanShutdown: false, recoveryPoint: victimBase });
  assert.equal(log.logEndOffset, expected[expected.length - 1]!.last + 1);
  const got = parseBatches((await log.read(0, 1 << 30, Number.MAX_SAFE_INTEGER, true)).chunks);
  assert.deepEqual(got.map((b) => b.baseOffset), expected.map((b) => b.base));
  assert.equal(segFiles(pdir).length, files.length - 1);
  await log.close();
});

test('missing and corrupt index files are rebuilt; lookups stay right', async () => {
  const base = path.join(tmp.dir, 'idx');
  const batches = await buildCrashedLog(base);
  const pdir = path.join(base, 'rec-0');
  // first a clean open+close so that every segment has index files
  let log = await PartitionLog.open(base, 'rec', 0, '', config, sched(), { cleanShutdown: false });
  await log.close();
  const idxFiles = readdirSync(pdir).filter((f) => f.endsWith('.index'));
  rmSync(path.join(pdir, idxFiles[0]!));
  rmSync(path.join(pdir, readdirSync(pdir).filter((f) => f.endsWith('.timeindex'))[1]!));
  writeFileSync(path.join(pdir, idxFiles[2]!), Buffer.from('garbage!garbage!garbage'));
  // 8-aligned garbage with decreasing offsets
  const g = Buffer.alloc(16);
  g.writeInt32BE(5, 0);
  g.writeInt32BE(10, 4);
  g.writeInt32BE(3, 8);
  g.writeInt32BE(20, 12);
  writeFileSync(path.join(pdir, idxFiles[1]!), g);
  log = await PartitionLog.open(base, 'rec', 0, '', config, sched(), { cleanShutdown: true });
  assert.equal(log.logEndOffset, batches[batches.length - 1]!.last + 1);
  for (const b of batches) {
    const r = parseBatches((await log.read(b.last, 1, log.highWatermark, true)).chunks);
    assert.equal(r[0]!.baseOffset, b.base, `lookup ${b.last}`);
    assert.equal(firstValue(r[0]!.batch), b.value);
  }
  await log.close();
  for (const f of idxFiles) assert.ok(statSync(path.join(pdir, f)).size % 8 === 0);
});

test('clean shutdown skips the scan but restores the same state', async () => {
  const base = path.join(tmp.dir, 'clean');
  const batches = await buildCrashedLog(base);
  let log = await PartitionLog.open(base, 'rec', 0, '', config, sched(), { cleanShutdown: false });
  await log.close();
  log = await PartitionLog.open(base, 'rec', 0, '', config, sched(), { cleanShutdown: true });
  assert.equal(log.logEndOffset, batches[batches.length - 1]!.last + 1);
  const got = parseBatches((await log.read(0, 1 << 30, log.highWatermark, true)).chunks);
  assert.equal(got.length, batches.length);
  const st = [...log.producerStates()];
  assert.equal(st.length, 1);
  assert.equal(st[0]!.lastSequence, log.logEndOffset - 1);
  await log.close();
});
