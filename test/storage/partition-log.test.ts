import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { StorageError } from '../../src/storage/errors.js';
import { buildBatch, cfg, describe, firstValue, parseBatches, simpleBatch, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
let n = 0;
const sub = (): string => path.join(tmp.dir, `d${n++}`);

async function appendOne(log: PartitionLog, buf: Buffer, epoch = 0) {
  return log.append(buf, describe(buf), epoch);
}

async function readAll(log: PartitionLog, from = log.logStartOffset) {
  const r = await log.read(from, 1 << 30, log.highWatermark, true);
  return parseBatches(r.chunks);
}

test('append/read round trip across many segment rolls, Kafka file layout', async () => {
  const dir = sub();
  const sched = new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 });
  const log = await PartitionLog.open(dir, 'orders', 0, 'AAAAAAAAAAAAAAAAAAAAAA', cfg({ segmentBytes: 4000, indexIntervalBytes: 200 }), sched);
  const expected: { base: number; value: string }[] = [];
  const ps: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    const recs = (i % 3) + 1;
    const b = simpleBatch(`m${i}`, recs, 40);
    expected.push({ base: log.logEndOffset, value: `m${i}-0` });
    ps.push(appendOne(log, b, 3));
  }
  const results = (await Promise.all(ps)) as { baseOffset: number }[];
  results.forEach((r, i) => assert.equal(r.baseOffset, expected[i]!.base));
  assert.ok(log.segmentCount > 10, `segments: ${log.segmentCount}`);
  assert.equal(log.highWatermark, log.logEndOffset);
  const all = await readAll(log);
  assert.equal(all.length, 300);
  all.forEach((b, i) => {
    assert.equal(b.baseOffset, expected[i]!.base);
    assert.equal(firstValue(b.batch), expected[i]!.value);
    assert.equal(b.batch.readInt32BE(12), 3, 'partition leader epoch rewritten');
  });
  // lookups from the middle of every batch
  for (let i = 0; i < 300; i += 7) {
    const target = expected[i]!.base + (i % 3);
    const r = parseBatches((await log.read(target, 1, log.highWatermark, true)).chunks);
    assert.equal(r.length, 1);
    assert.equal(r[0]!.baseOffset, expected[i]!.base, `offset ${target}`);
  }
  await log.close();
  const files = readdirSync(path.join(dir, 'orders-0'));
  assert.ok(files.includes('00000000000000000000.log'));
  assert.ok(files.includes('00000000000000000000.index'));
  assert.ok(files.includes('00000000000000000000.timeindex'));
  assert.ok(files.includes('leader-epoch-checkpoint'));
  assert.equal(readFileSync(path.join(dir, 'orders-0', 'partition.metadata'), 'utf8'), 'version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n');
  assert.equal(readFileSync(path.join(dir, 'orders-0', 'leader-epoch-checkpoint'), 'utf8'), '0\n1\n3 0\n');
  // index files are non-empty for rolled segments and hold 8-byte entries
  const idx = readFileSync(path.join(dir, 'orders-0', '00000000000000000000.index'));
  assert.ok(idx.length > 0 && idx.length % 8 === 0);
  const tidx = readFileSync(path.join(dir, 'orders-0', '00000000000000000000.timeindex'));
  assert.ok(tidx.length > 0 && tidx.length % 12 === 0);
});

test('maxBytes, minOneBatch, maxOffset, OFFSET_OUT_OF_RANGE', async () => {
  const dir = sub();
  const log = await PartitionLog.open(dir, 't', 1, '', cfg(), new FlushScheduler({ mode: 'group-commit' }));
  const sizes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const b = simpleBatch(`v${i}`, 2, 100);
    sizes.push(b.length);
    await appendOne(log, b);
  }
  assert.equal(log.logEndOffset, 20);
  // exactly two batches fit
  let r = await log.read(0, sizes[0]! * 2 + 5, 20, false);
  assert.equal(parseBatches(r.chunks).length, 2);
  assert.equal(r.bytes, sizes[0]! * 2);
  // too small, minOneBatch false -> nothing; true -> the whole first batch
  r = await log.read(4, 10, 20, false);
  assert.equal(r.bytes, 0);
  r = await log.read(4, 10, 20, true);
  const one = parseBatches(r.chunks);
  assert.equal(one.length, 1);
  assert.equal(one[0]!.baseOffset, 4);
  // maxOffset bound (exclusive)
  r = await log.read(0, 1 << 20, 6, true);
  assert.deepEqual(parseBatches(r.chunks).map((b) => b.baseOffset), [0, 2, 4]);
  r = await log.read(6, 1 << 20, 6, true);
  assert.equal(r.bytes, 0);
  // reading at the log end is empty, beyond it is out of range
  r = await log.read(20, 1000, 20, true);
  assert.equal(r.bytes, 0);
  await assert.rejects(log.read(21, 1000, 20, true), (e: unknown) => e instanceof StorageError && e.code === 1);
  await log.deleteRecordsBefore(4);
  await assert.rejects(log.read(3, 1000, 20, true), (e: unknown) => e instanceof StorageError && e.code === 1);
  await log.close();
});

test('offsetForTimestamp and maxTimestampOffset', async () => {
  const dir = sub();
  const log = await PartitionLog.open(dir, 'ts', 0, '', cfg({ segmentBytes: 2000, indexIntervalBytes: 100 }), new FlushScheduler({ mode: 'group-commit' }));
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 100; i++) {
    // 3 records per batch with timestamps t0 + 30i, +10, +20
    const b = buildBatch([
      { value: Buffer.from(`a${i}`), timestamp: t0 + 30 * i },
      { value: Buffer.from(`b${i}`), timestamp: t0 + 30 * i + 10 },
      { value: Buffer.from(`c${i}`), timestamp: t0 + 30 * i + 20 },
    ]);
    await appendOne(log, b);
  }
  assert.ok(log.segmentCount > 3);
  for (const [ts, off] of [
    [t0 - 5, 0],
    [t0, 0],
    [t0 + 1, 1],
    [t0 + 10, 1],
    [t0 + 25, 3],
    [t0 + 30 * 57 + 15, 57 * 3 + 2],
    [t0 + 30 * 99 + 20, 299],
  ] as const) {
    const r = await log.offsetForTimestamp(ts);
    assert.ok(r, `ts ${ts}`);
    assert.equal(r.offset, off, `ts ${ts - t0}`);
  }
  assert.equal(await log.offsetForTimestamp(t0 + 30 * 99 + 21), null);
  assert.deepEqual(log.maxTimestampOffset(), { offset: 299, timestamp: t0 + 30 * 99 + 20 });
  await log.close();
  // same answers after reopen (from the .timeindex files)
  const log2 = await PartitionLog.open(dir, 'ts', 0, '', cfg({ segmentBytes: 2000, indexIntervalBytes: 100 }), new FlushScheduler({ mode: 'group-commit' }), { cleanShutdown: true });
  assert.equal((await log2.offsetForTimestamp(t0 + 30 * 57 + 15))!.offset, 57 * 3 + 2);
  assert.deepEqual(log2.maxTimestampOffset(), { offset: 299, timestamp: t0 + 30 * 99 + 20 });
  await log2.close();
});

test('retention.ms, retention.bytes, deleteRecordsBefore', async () => {
  const dir = sub();
  const now = 1_800_000_000_000;
  const config = cfg({ segmentBytes: 1000, retentionMs: -1, retentionBytes: -1 });
  const log = await PartitionLog.open(dir, 'r', 0, '', config, new FlushScheduler({ mode: 'group-commit' }));
  for (let i = 0; i < 60; i++) {
    const ts = i < 30 ? now - 10 * 3600_000 : now - 1000; // first half old
    await appendOne(log, buildBatch([{ value: Buffer.alloc(150, 97), timestamp: ts }]));
  }
  const segs = log.segmentCount;
  assert.ok(segs >= 10);
  assert.equal(await log.applyRetention(now), 0, 'infinite retention deletes nothing');
  log.updateConfig({ ...config, retentionMs: 3600_000 });
  const deleted = await log.applyRetention(now);
  assert.ok(deleted > 0);
  const bases = log.segmentBaseOffsets();
  assert.equal(log.logStartOffset, bases[0]);
  assert.ok(log.logStartOffset <= 30 && log.logStartOffset > 20, `lso ${log.logStartOffset}`);
  // every remaining old record still readable; deleted ones out of range
  await assert.rejects(log.read(0, 100, 60, true));
  assert.equal(parseBatches((await log.read(log.logStartOffset, 1 << 20, 60, true)).chunks).length, 60 - log.logStartOffset);
  // files of deleted segments are gone
  assert.ok(!existsSync(path.join(dir, 'r-0', '00000000000000000000.log')));

  // retention.bytes keeps at least retentionBytes
  log.updateConfig({ ...config, retentionBytes: 2500 });
  await log.applyRetention(now);
  assert.ok(log.sizeBytes >= 2500 - 1000 && log.sizeBytes <= 2500 + 1000, `size ${log.sizeBytes}`);
  assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0]);

  // deleteRecordsBefore: moves the start inside a segment, deletes whole segments below it
  const target = log.logEndOffset - 3;
  assert.equal(await log.deleteRecordsBefore(target), target);
  assert.equal(log.logStartOffset, target);
  assert.ok(log.segmentBaseOffsets()[0]! <= target);
  const rest = parseBatches((await log.read(target, 1 << 20, 60, true)).chunks);
  assert.deepEqual(rest.map((b) => b.baseOffset), [57, 58, 59]);
  await assert.rejects(log.deleteRecordsBefore(61), (e: unknown) => (e as StorageError).code === 1);
  await log.close();
  // log start offset survives reopen when given from the checkpoint
  const log2 = await PartitionLog.open(dir, 'r', 0, '', config, new FlushScheduler({ mode: 'group-commit' }), { cleanShutdown: true, logStartOffset: target });
  assert.equal(log2.logStartOffset, target);
  assert.equal(log2.logEndOffset, 60);
  await log2.close();
});

test('segment.ms rolls; relative offsets never overflow', async () => {
  const dir = sub();
  const log = await PartitionLog.open(dir, 'ms', 0, '', cfg({ segmentMs: 50 }), new FlushScheduler({ mode: 'group-commit' }));
  await appendOne(log, simpleBatch('a'));
  assert.equal(log.maybeRoll(Date.now()), false);
  assert.equal(log.maybeRoll(Date.now() + 100), true);
  await appendOne(log, simpleBatch('b'));
  assert.deepEqual(log.segmentBaseOffsets(), [0, 1]);
  await log.close();
});

test('truncateTo and leader epochs', async () => {
  const dir = sub();
  const log = await PartitionLog.open(dir, 'tr', 0, '', cfg({ segmentBytes: 500 }), new FlushScheduler({ mode: 'group-commit' }));
  for (let i = 0; i < 30; i++) await appendOne(log, simpleBatch(`x${i}`, 1, 50), i < 10 ? 1 : i < 20 ? 2 : 4);
  assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 10 });
  assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 2, endOffset: 20 });
  assert.deepEqual(log.endOffsetForEpoch(4), { epoch: 4, endOffset: 30 });
  assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, endOffset: 0 });
  assert.deepEqual(log.endOffsetForEpoch(5), { epoch: -1, endOffset: -1 });
  await log.truncateTo(15);
  assert.equal(log.logEndOffset, 15);
  assert.equal(log.highWatermark, 15);
  assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 15 });
  const r = await appendOne(log, simpleBatch('after'), 5);
  assert.equal(r.baseOffset, 15);
  const all = await readAll(log);
  assert.equal(all.length, 16);
  assert.equal(firstValue(all[15]!.batch), 'after-0');
  assert.equal(firstValue(all[14]!.batch), 'x14-0');
  await log.close();
});

test('delete removes the directory', async () => {
  const dir = sub();
  const log = await PartitionLog.open(dir, 'gone', 0, '', cfg(), new FlushScheduler({ mode: 'group-commit' }));
  await appendOne(log, simpleBatch('a'));
  await log.delete();
  assert.ok(!existsSync(path.join(dir, 'gone-0')));
});

test('LogAppendTime topics report the append time and index it', async () => {
  const dir = sub();
  const log = await PartitionLog.open(dir, 'lat', 0, '', cfg({ messageTimestampType: 'LogAppendTime' }), new FlushScheduler({ mode: 'group-commit' }));
  const b = simpleBatch('a', 2);
  const r = await log.append(b, describe(b), 0, { logAppendTime: 1_900_000_000_000 });
  assert.equal(r.logAppendTime, 1_900_000_000_000);
  assert.deepEqual(log.maxTimestampOffset(), { offset: 1, timestamp: 1_900_000_000_000 });
  const log2 = await PartitionLog.open(dir, 'ct', 0, '', cfg(), new FlushScheduler({ mode: 'group-commit' }));
  const r2 = await log2.append(simpleBatch('b'), describe(simpleBatch('b')), 0, { logAppendTime: 5 });
  assert.equal(r2.logAppendTime, -1);
  await log.close();
  await log2.close();
});

test('reads from every offset find the batch holding it, with every batch indexed and with a sparse index', async () => {
  // A read starts at the index entry after the one lookup finds when that entry's batch holds
  // the offset (one read, no hop); with a sparse index that guess is wrong and the read hops.
  for (const indexIntervalBytes of [1, 700]) {
    const dir = sub();
    const sched = new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 });
    const log = await PartitionLog.open(dir, 'reads', 0, 'AAAAAAAAAAAAAAAAAAAAAA', cfg({ segmentBytes: 1 << 20, indexIntervalBytes }), sched);
    const bases: number[] = [];
    for (let i = 0; i < 120; i++) {
      bases.push(log.logEndOffset);
      await appendOne(log, simpleBatch(`b${i}`, (i % 4) + 1, 60 + (i % 5) * 40));
    }
    for (let i = 0; i < bases.length; i++) {
      const last = (bases[i + 1] ?? log.logEndOffset) - 1;
      for (const target of new Set([bases[i]!, last])) {
        const r = parseBatches((await log.read(target, 3000, log.highWatermark, true)).chunks);
        assert.ok(r.length >= 1, `interval ${indexIntervalBytes}, offset ${target}: nothing read`);
        assert.equal(r[0]!.baseOffset, bases[i], `interval ${indexIntervalBytes}, offset ${target}`);
        r.forEach((b, k) => assert.equal(b.baseOffset, bases[i + k], 'consecutive batches'));
      }
    }
    await log.close();
  }
});
