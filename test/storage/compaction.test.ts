import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildControlBatch, checkBatchAt, decodeRecords, readBatchHeader } from '../../src/protocol/records/batch.js';
import { DELETE_HORIZON_FLAG } from '../../src/protocol/records/layout.js';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { buildBatch, cfg, describe, tmpDir, type BatchOpts, type TestRecord } from './helpers.js';
import type { LogConfig } from '../../src/storage/config.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
let n = 0;
const sub = (): string => path.join(tmp.dir, `c${n++}`);
const sched = () => new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 });
const T = 1_700_000_000_000;

function ccfg(over: Partial<LogConfig> = {}): LogConfig {
  return cfg({ cleanupPolicy: 'compact', segmentBytes: 1024, retentionMs: -1, deleteRetentionMs: 1000, ...over });
}

async function open(dir: string, config: LogConfig, opts: { cleanShutdown?: boolean } = {}): Promise<PartitionLog> {
  return PartitionLog.open(dir, 'cmp', 0, '', config, sched(), opts);
}

type KV = [string, string | null] | [string, string | null, number];

function kvBatch(pairs: KV[], o: BatchOpts = {}): Buffer {
  const recs: TestRecord[] = pairs.map(([k, v, ts]) => ({
    key: Buffer.from(k),
    value: v === null ? null : Buffer.from(v),
    timestamp: ts ?? T,
  }));
  return buildBatch(recs, o);
}

async function put(log: PartitionLog, pairs: KV[], o: BatchOpts = {}) {
  const b = kvBatch(pairs, o);
  return log.append(b, describe(b), 0);
}

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}
interface BatchView {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  attributes: number;
  baseTimestamp: number;
  records: Rec[];
}

/** Reads every batch from the log start to the HW, checking structure and CRC of each. */
async function readAll(log: PartitionLog): Promise<{ batches: BatchView[]; records: Rec[] }> {
  const batches: BatchView[] = [];
  let off = log.logStartOffset;
  while (off < log.highWatermark) {
    const r = await log.read(off, 1 << 20, log.highWatermark, true);
    if (r.bytes === 0) break;
    for (const chunk of r.chunks) {
      let p = 0;
      while (p < chunk.length) {
        const size = checkBatchAt(chunk, p);
        assert.ok(size > 0, `batch at ${p} must be whole and CRC-valid (${size})`);
        const batch = chunk.subarray(p, p + size);
        const h = readBatchHeader(batch);
        const recs = (await decodeRecords(batch)).map((x) => ({
          offset: x.offset,
          key: x.key ? x.key.toString() : null,
          value: x.value ? x.value.toString() : null,
          timestamp: x.timestamp,
        }));
        assert.equal(recs.length, h.recordCount);
        for (const x of recs) {
          assert.ok(x.offset >= h.baseOffset && x.offset <= h.baseOffset + h.lastOffsetDelta, `record ${x.offset} inside batch ${h.baseOffset}+${h.lastOffsetDelta}`);
        }
        batches.push({
          baseOffset: h.baseOffset,
          lastOffset: h.baseOffset + h.lastOffsetDelta,
          recordCount: h.recordCount,
          attributes: h.attributes,
          baseTimestamp: h.baseTimestamp,
          records: recs,
        });
        off = h.baseOffset + h.lastOffsetDelta + 1;
        p += size;
      }
    }
  }
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.baseOffset > batches[i - 1]!.lastOffset, 'batches ascend');
  return { batches, records: batches.flatMap((b) => b.records) };
}

/** key -> latest offset, as the model of a fully compacted log. */
function latest(written: { offset: number; key: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of written) m.set(w.key, w.offset);
  return m;
}

test('keeps the latest value per key at its original offset; batches keep baseOffset/lastOffsetDelta', async () => {
  const log = await open(sub(), ccfg());
  const written: { offset: number; key: string; value: string; batchLast: number }[] = [];
  for (let b = 0; b < 20; b++) {
    const pairs: KV[] = [];
    for (let j = 0; j < 3; j++) pairs.push([`k${(b * 3 + j) % 10}`, `v${b}-${j}`]);
    const r = await put(log, pairs);
    pairs.forEach(([k, v], j) => written.push({ offset: r.baseOffset + j, key: k, value: v!, batchLast: r.lastOffset }));
  }
  assert.ok(log.segmentCount >= 3);
  const before = log.segmentCount;
  log.roll();
  const res = await log.compact(T + 10, { force: true });
  assert.equal(res.cleaned, true, res.reason);
  assert.ok(log.segmentCount < before + 1, 'small cleaned segments are merged');
  const { batches, records } = await readAll(log);
  const model = latest(written);
  assert.equal(records.length, 10);
  for (const r of records) {
    assert.equal(model.get(r.key!), r.offset);
    assert.equal(r.value, written[r.offset]!.value);
  }
  for (const b of batches) assert.equal(b.lastOffset, written[b.baseOffset]!.batchLast, 'lastOffsetDelta kept');
  assert.equal(log.logEndOffset, 60);
  assert.equal((await put(log, [['k0', 'new']])).baseOffset, 60);
  // a second pass without new dirty data has nothing to do
  assert.equal((await log.compact(T + 20)).reason, 'below-dirty-ratio');
  await log.close();
  // reopening (indexes from disk) gives the same content
  const again = await open(log.dir.replace(/\/cmp-0$/, ''), ccfg());
  assert.deepEqual((await readAll(again)).records.slice(0, 10), records);
  await again.close();
});

test('the active segment and data above the high watermark are never rewritten', async () => {
  const log = await open(sub(), ccfg());
  for (let i = 0; i < 40; i++) await put(log, [[`k${i % 4}`, `v${i}`]]);
  const activeBase = log.segmentBaseOffsets().at(-1)!;
  assert.ok(activeBase > 0 && activeBase < 39);
  await log.compact(T, { force: true });
  const { records } = await readAll(log);
  const inActive = records.filter((r) => r.offset >= activeBase);
  assert.deepEqual(
    inActive.map((r) => r.offset),
    Array.from({ length: 40 - activeBase }, (_, i) => activeBase + i),
    'every record of the active segment is still there',
  );
  const below = records.filter((r) => r.offset < activeBase);
  assert.ok(below.length <= 4);
  // a replica-style log whose HW lags: nothing at or above the HW is cleaned
  const log2 = await open(sub(), ccfg());
  log2.autoAdvanceHighWatermark = false;
  for (let i = 0; i < 40; i++) void put(log2, [[`k${i % 4}`, `v${i}`]]);
  await log2.flush();
  log2.setHighWatermark(5);
  log2.roll();
  const r2 = await log2.compact(T, { force: true });
  assert.equal(r2.cleaned, false);
  log2.setHighWatermark(log2.logEndOffset);
  const r3 = await log2.compact(T, { force: true });
  assert.equal(r3.cleaned, true);
  assert.equal((await readAll(log2)).records.length, 4);
  await log.close();
  await log2.close();
});

test('tombstones are removed only delete.retention.ms after the cleaner first saw them', async () => {
  const log = await open(sub(), ccfg({ deleteRetentionMs: 5000 }));
  for (let i = 0; i < 30; i++) await put(log, [[`k${i % 3}`, `v${i}`, T + i]]);
  await put(log, [['k0', null, T + 100]]);
  for (let i = 0; i < 20; i++) await put(log, [['pad', `p${i}`, T + 200 + i]]);
  log.roll();
  const now = T + 10_000;
  const r1 = await log.compact(now, { force: true });
  assert.equal(r1.cleaned, true);
  let all = await readAll(log);
  const tomb = all.batches.find((b) => b.records.some((r) => r.key === 'k0'))!;
  assert.equal(tomb.records.length, 1);
  assert.equal(tomb.records[0]!.value, null, 'k0 values are gone, its tombstone stays');
  assert.ok((tomb.attributes & DELETE_HORIZON_FLAG) !== 0, 'delete horizon set');
  assert.equal(tomb.baseTimestamp, now + 5000);
  assert.equal(tomb.records[0]!.timestamp, T + 100, 'record timestamp unchanged');
  assert.equal(r1.nextDeleteHorizon, now + 5000);
  // before the horizon: kept, and no new pass is due
  assert.equal((await log.compact(now + 4999)).reason, 'below-dirty-ratio');
  await log.compact(now + 4999, { force: true });
  all = await readAll(log);
  assert.ok(all.records.some((r) => r.key === 'k0'));
  // after the horizon: the expired horizon alone makes the log due
  const r2 = await log.compact(now + 5001);
  assert.equal(r2.cleaned, true, r2.reason);
  assert.equal(r2.tombstonesRemoved, 1);
  all = await readAll(log);
  assert.ok(!all.records.some((r) => r.key === 'k0'));
  assert.deepEqual(
    all.records.map((r) => r.key).sort(),
    ['k1', 'k2', 'pad'],
  );
  await log.close();
});

test('min.compaction.lag.ms keeps young segments out of the cleaner; dirty ratio gates passes', async () => {
  const log = await open(sub(), ccfg({ minCompactionLagMs: 60_000, minCleanableDirtyRatio: 0.5 }));
  for (let i = 0; i < 20; i++) await put(log, [['old', `o${i}`, T + i]]);
  log.roll();
  const youngStart = log.logEndOffset;
  for (let i = 0; i < 20; i++) await put(log, [['old', `y${i}`, T + 100_000 + i]]);
  log.roll();
  // at T+100_020 the young segment(s) are only 20 s old
  const r = await log.compact(T + 100_020);
  assert.equal(r.cleaned, true, r.reason);
  assert.equal(r.endOffset, youngStart);
  let recs = (await readAll(log)).records;
  assert.deepEqual(
    recs.map((x) => x.value),
    ['o19', ...Array.from({ length: 20 }, (_, i) => `y${i}`)],
  );
  // nothing dirty below the lag boundary any more
  assert.equal((await log.compact(T + 100_020)).reason, 'below-dirty-ratio');
  // once old enough, the young segment is cleaned as well
  const r2 = await log.compact(T + 200_000);
  assert.equal(r2.cleaned, true);
  recs = (await readAll(log)).records;
  assert.deepEqual(recs.map((x) => x.value), ['y19']);
  await log.close();
});

test('offsetForTimestamp stays sane across cleaned segments', async () => {
  const log = await open(sub(), ccfg());
  const N = 200;
  for (let i = 0; i < N; i += 2) await put(log, [[`k${i % 7}`, `v${i}`, T + i], [`u${i}`, `w${i}`, T + i + 1]]);
  log.roll();
  await log.compact(T + 1000, { force: true });
  const { records } = await readAll(log);
  assert.ok(records.length < N);
  for (let ts = T; ts < T + N; ts += 3) {
    const expect = records.find((r) => r.timestamp >= ts)!;
    const got = await log.offsetForTimestamp(ts);
    assert.ok(got, `lookup ${ts - T}`);
    assert.equal(got.offset, expect.offset, `lookup ${ts - T}`);
    assert.equal(got.timestamp, expect.timestamp);
  }
  assert.equal(await log.offsetForTimestamp(T + N + 10), null);
  await log.close();
});

test('aborted transactions are removed, committed ones compacted, markers kept', async () => {
  const log = await open(sub(), ccfg());
  await put(log, [['a', 'orig-a'], ['b', 'orig-b']]);
  await put(log, [['a', 'aborted-a']], { producerId: 5, producerEpoch: 0, baseSequence: 0, transactional: true });
  await put(log, [['b', 'committed-b']], { producerId: 6, producerEpoch: 0, baseSequence: 0, transactional: true });
  const abort = buildControlBatch({ producerId: 5, producerEpoch: 0, commit: false, coordinatorEpoch: 1, timestamp: T });
  await log.append(abort, describe(abort), 0);
  const commit = buildControlBatch({ producerId: 6, producerEpoch: 0, commit: true, coordinatorEpoch: 1, timestamp: T });
  await log.append(commit, describe(commit), 0);
  // an undecided transaction (no marker yet) stays out of the cleaner's reach via the LSO
  for (let i = 0; i < 15; i++) await put(log, [[`pad${i}`, 'x'.repeat(60)]]);
  const open8 = await put(log, [['b', 'undecided-b']], { producerId: 8, producerEpoch: 0, baseSequence: 0, transactional: true });
  for (let i = 0; i < 15; i++) await put(log, [[`pad${i}`, 'y'.repeat(60)]]);
  log.roll();
  assert.equal(log.lastStableOffset, open8.baseOffset);
  const r = await log.compact(T + 10, { force: true });
  assert.equal(r.cleaned, true);
  assert.ok(r.endOffset <= open8.baseOffset, 'nothing at or above the LSO is cleaned');
  assert.equal(r.abortedRecordsRemoved, 1);
  const { batches } = await readAll(log);
  assert.equal(batches.filter((b) => b.baseOffset >= open8.baseOffset).length, 1 + 15, 'untouched above the LSO');
  const data = batches.flatMap((b) => ((b.attributes & 0x20) === 0 && b.baseOffset < r.endOffset ? b.records : []));
  const byKey = new Map(data.map((x) => [x.key, x.value]));
  assert.equal(byKey.get('a'), 'orig-a');
  assert.equal(byKey.get('b'), 'committed-b');
  assert.equal(batches.filter((b) => (b.attributes & 0x20) !== 0).length, 2, 'both markers kept');
  await log.close();
});

test('idempotent producer state survives cleaning (in memory, snapshot and replay)', async () => {
  const dir = sub();
  const log = await open(dir, ccfg());
  const pid = 7;
  const bases: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await put(log, [[`p${i}`, 'a'], [`q${i}`, 'b']], { producerId: pid, producerEpoch: 0, baseSequence: i * 2 });
    bases.push(r.baseOffset);
  }
  // overwrite every key the producer wrote (by a non-idempotent producer)
  for (let i = 0; i < 5; i++) await put(log, [[`p${i}`, 'later'], [`q${i}`, 'later']]);
  log.roll();
  const r = await log.compact(T + 10, { force: true });
  assert.equal(r.cleaned, true);
  const { batches } = await readAll(log);
  const kept = batches.filter((b) => b.baseOffset < 10);
  assert.deepEqual(
    kept.map((b) => [b.baseOffset, b.lastOffset, b.recordCount]),
    [[8, 9, 0]],
    "only the producer's last batch survives, as an empty batch",
  );
  const retry = async (l: PartitionLog, seq: number) =>
    put(l, [[`p${seq / 2}`, 'a'], [`q${seq / 2}`, 'b']], { producerId: pid, producerEpoch: 0, baseSequence: seq });
  let d = await retry(log, 8);
  assert.equal(d.duplicate, true);
  assert.equal(d.baseOffset, 8);
  d = await retry(log, 2);
  assert.equal(d.duplicate, true);
  assert.equal(d.baseOffset, bases[1]);
  await log.close();
  // clean reopen: snapshot
  let l2 = await open(dir, ccfg());
  d = await retry(l2, 8);
  assert.equal(d.duplicate, true);
  assert.equal(d.baseOffset, 8);
  await l2.close();
  // reopen without snapshots: producer state is replayed from the batch headers
  for (const f of fs.readdirSync(path.join(dir, 'cmp-0'))) if (f.endsWith('.snapshot')) fs.rmSync(path.join(dir, 'cmp-0', f));
  l2 = await open(dir, ccfg(), { cleanShutdown: false });
  d = await retry(l2, 8);
  assert.equal(d.duplicate, true);
  assert.equal(d.baseOffset, 8);
  const next = await put(l2, [['p9', 'z']], { producerId: pid, producerEpoch: 0, baseSequence: 10 });
  assert.equal(next.duplicate, undefined);
  assert.equal(next.baseOffset, l2.logEndOffset - 1);
  await l2.close();
});

test('large log: 20k records over 100 keys end as 100 live records', async () => {
  const log = await open(sub(), ccfg({ segmentBytes: 64 * 1024 }));
  const last = new Map<string, string>();
  let seq = 0;
  for (let b = 0; b < 200; b++) {
    const pairs: KV[] = [];
    for (let j = 0; j < 100; j++) {
      const k = `key-${(seq * 37) % 100}`;
      const v = `val-${seq}`;
      pairs.push([k, v, T + seq]);
      last.set(k, v);
      seq++;
    }
    void put(log, pairs);
  }
  await log.flush();
  log.roll();
  const segsBefore = log.segmentCount;
  // two passes with data in between: the second one re-cleans the clean part
  const r1 = await log.compact(T + seq, { force: true });
  assert.equal(r1.cleaned, true);
  const r = await log.compact(T + seq);
  assert.equal(r.reason, 'below-dirty-ratio');
  const { records } = await readAll(log);
  assert.equal(records.length, 100);
  for (const x of records) assert.equal(last.get(x.key!), x.value);
  assert.ok(log.segmentCount < segsBefore, `${log.segmentCount} < ${segsBefore}`);
  assert.equal(log.logEndOffset, 20000);
  await log.close();
});

test('reads running during cleaner swaps never fail and stay consistent', async () => {
  const log = await open(sub(), ccfg({ fileDeleteDelayMs: 0, segmentBytes: 2048 }));
  for (let i = 0; i < 600; i++) void put(log, [[`k${i % 20}`, `v${i}`]]);
  await log.flush();
  log.roll();
  let stop = false;
  let reads = 0;
  const reader = (async () => {
    while (!stop) {
      const { records } = await readAll(log);
      for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset);
      const model = new Map<string, string>();
      for (const x of records) model.set(x.key!, x.value!);
      for (let k = 0; k < 20; k++) assert.equal(model.get(`k${k}`), `v${580 + k}`, 'latest values always visible');
      reads++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  const readsBefore = reads;
  const res = await log.compact(T, { force: true });
  const readsDuring = reads - readsBefore;
  await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await reader;
  assert.equal(res.cleaned, true);
  assert.ok(readsDuring > 0, 'reads overlapped the cleaning pass');
  assert.equal((await readAll(log)).records.length, 20);
  await log.close();
});

test('crash mid-swap: .cleaned is discarded, a committed .swap is completed', async () => {
  // Build a multi-segment log, clean a copy of it, then plant the copy's output in the original
  // directory as an interrupted swap.
  const root = sub();
  const log = await open(root, ccfg());
  for (let i = 0; i < 60; i++) await put(log, [[`k${i % 6}`, `v${i}`]]);
  log.roll();
  const original = (await readAll(log)).records;
  await log.close();
  const bases = log.segmentBaseOffsets().slice(0, -1);
  assert.ok(bases.length >= 3);

  const copyRoot = sub();
  fs.cpSync(root, copyRoot, { recursive: true });
  const copy = await open(copyRoot, ccfg());
  await copy.compact(T, { force: true });
  const cleaned = (await readAll(copy)).records;
  await copy.close();
  const cdir = path.join(copyRoot, 'cmp-0');
  assert.deepEqual(copy.segmentBaseOffsets().slice(0, 1), [0]);

  // 1. leftovers of an uncommitted swap: ignored and removed
  const crash1 = sub();
  fs.cpSync(root, crash1, { recursive: true });
  const d1 = path.join(crash1, 'cmp-0');
  fs.copyFileSync(path.join(cdir, '00000000000000000000.log'), path.join(d1, '00000000000000000000.log.cleaned'));
  fs.copyFileSync(path.join(cdir, '00000000000000000000.index'), path.join(d1, '00000000000000000000.index.swap'));
  let l = await open(crash1, ccfg(), { cleanShutdown: false });
  assert.deepEqual((await readAll(l)).records, original);
  assert.deepEqual(fs.readdirSync(d1).filter((f) => /\.(cleaned|swap)$/.test(f)), []);
  await l.close();

  // 2. committed swap, crash after some old segments were already deleted
  const crash2 = sub();
  fs.cpSync(root, crash2, { recursive: true });
  const d2 = path.join(crash2, 'cmp-0');
  fs.copyFileSync(path.join(cdir, '00000000000000000000.log'), path.join(d2, '00000000000000000000.log.swap'));
  fs.copyFileSync(path.join(cdir, '00000000000000000000.timeindex'), path.join(d2, '00000000000000000000.timeindex.swap'));
  for (const suffix of ['.log', '.index', '.timeindex']) {
    fs.rmSync(path.join(d2, String(bases[1]).padStart(20, '0') + suffix));
  }
  l = await open(crash2, ccfg(), { cleanShutdown: false });
  assert.deepEqual((await readAll(l)).records, cleaned);
  assert.deepEqual(fs.readdirSync(d2).filter((f) => /\.(cleaned|swap)$/.test(f)), []);
  // the log keeps working
  assert.equal((await put(l, [['k0', 'after']])).baseOffset, 60);
  await l.close();

  // 3. committed swap, crash before anything else happened; clean-shutdown marker present
  const crash3 = sub();
  fs.cpSync(root, crash3, { recursive: true });
  const d3 = path.join(crash3, 'cmp-0');
  for (const suffix of ['.log', '.index', '.timeindex']) {
    fs.copyFileSync(path.join(cdir, '00000000000000000000' + suffix), path.join(d3, '00000000000000000000' + suffix + '.swap'));
  }
  l = await open(crash3, ccfg(), { cleanShutdown: true });
  assert.deepEqual((await readAll(l)).records, cleaned);
  await l.close();
});

test('compact,delete: retention deletes old segments and the cleaner compacts the rest', async () => {
  const log = await open(sub(), ccfg({ cleanupPolicy: 'compact,delete', retentionMs: 50_000 }));
  for (let i = 0; i < 30; i++) await put(log, [[`k${i % 3}`, `old${i}`, T + i]]);
  log.roll();
  const mid = log.logEndOffset;
  for (let i = 0; i < 30; i++) await put(log, [[`k${i % 3}`, `new${i}`, T + 100_000 + i]]);
  log.roll();
  const removed = await log.applyRetention(T + 100_100);
  assert.ok(removed > 0);
  assert.equal(log.logStartOffset, mid);
  const r = await log.compact(T + 100_100, { force: true });
  assert.equal(r.cleaned, true);
  assert.deepEqual(
    (await readAll(log)).records.map((x) => x.value),
    ['new27', 'new28', 'new29'],
  );
  // plain 'compact' never deletes by time
  const log2 = await open(sub(), ccfg({ retentionMs: 1 }));
  for (let i = 0; i < 30; i++) await put(log2, [[`k${i}`, `v${i}`]]);
  log2.roll();
  assert.equal(await log2.applyRetention(T + 10_000_000), 0);
  await log.close();
  await log2.close();
});

test('LogManager runs the cleaner in the background and checkpoints its progress', async () => {
  const dataDir = sub();
  const config = ccfg({ minCleanableDirtyRatio: 0.1 });
  const mgr = new LogManager(dataDir, { configFor: () => config, cleanerBackoffMs: 20 });
  await mgr.load();
  const log = await mgr.create('bg', 0, '', config);
  const plain = await mgr.create('plain', 0, '', cfg({ segmentBytes: 1024 }));
  for (let i = 0; i < 50; i++) {
    await put(log, [[`k${i % 2}`, `v${i}`]]);
    await put(plain, [[`k${i % 2}`, `v${i}`]]);
  }
  log.roll();
  plain.roll();
  mgr.startBackgroundTasks();
  const deadline = Date.now() + 5000;
  while (log.cleanerCheckpoint < 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(log.cleanerCheckpoint, 50);
  assert.equal((await readAll(log)).records.length, 2);
  assert.equal((await readAll(plain)).records.length, 50, 'delete-policy logs are not compacted');
  await mgr.runCleaner(Date.now()); // joins a pass still running, if any
  const results = await mgr.runCleaner(Date.now());
  assert.equal(results.get('bg-0')?.reason, 'below-dirty-ratio');
  assert.equal(results.has('plain-0'), false);
  await mgr.close();
  const text = fs.readFileSync(path.join(dataDir, 'cleaner-offset-checkpoint'), 'utf8');
  assert.equal(text, '0\n1\nbg 0 50\n');
  const mgr2 = new LogManager(dataDir, { configFor: () => config });
  await mgr2.load();
  assert.equal(mgr2.get('bg', 0)!.cleanerCheckpoint, 50);
  await mgr2.close();
});
