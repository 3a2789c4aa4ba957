// The open-segment-file bound (segment-fds.ts) at the storage level: which fds it may close.
// Real files, real fsyncs; the fd table of this process tells which segment files are open.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { fsError, injectFsFaults } from '../../src/storage/fsio.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { SegmentFdCache } from '../../src/storage/segment-fds.js';
import { buildBatch, cfg, describe, firstValue, openFds, parseBatches, simpleBatch, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
let n = 0;
const sub = (): string => path.join(tmp.dir, `d${n++}`);

async function readValues(log: PartitionLog): Promise<string[]> {
  const r = await log.read(log.logStartOffset, 1 << 30, log.highWatermark, true);
  return parseBatches(r.chunks).map((b) => firstValue(b.batch));
}

async function appendOne(log: PartitionLog, tag: string): Promise<void> {
  const b = simpleBatch(tag, 1, 100);
  await log.append(b, describe(b), 0);
}

test('fds with unsynced data stay open over the bound until fsynced; a closed active segment reopens on append', async () => {
  const dir = sub();
  const cache = new SegmentFdCache(2);
  const sched = new FlushScheduler({ mode: 'interval' }); // flush.ms / flush.messages: never
  const logs: PartitionLog[] = [];
  for (let p = 0; p < 6; p++) logs.push(await PartitionLog.open(dir, 't', p, '', cfg(), sched, { fdCache: cache }));
  for (const [p, log] of logs.entries()) await appendOne(log, `p${p}-0`);
  // written, not fsynced: none of the six may be closed, whatever the bound says
  assert.equal(openFds(dir).segmentFiles.length, 6);
  assert.equal(cache.size, 6);
  for (const log of logs) await log.flush();
  assert.ok(openFds(dir).segmentFiles.length <= 2, `after fsync: ${openFds(dir).segmentFiles.length} open`);
  assert.equal(cache.size, openFds(dir).segmentFiles.length);
  // appends to closed active segments reopen them (synchronously) and land in order
  for (const [p, log] of logs.entries()) await appendOne(log, `p${p}-1`);
  for (const log of logs) await log.flush();
  for (const [p, log] of logs.entries()) assert.deepEqual(await readValues(log), [`p${p}-0-0`, `p${p}-1-0`]);
  assert.ok(openFds(dir).segmentFiles.length <= 2);
  for (const log of logs) await log.close();
  assert.equal(cache.size, 0);
  assert.equal(openFds(dir).segmentFiles.length, 0);
});

test('an fd whose fsync failed is never closed by the bound (a later fd would not see the error)', async () => {
  const dir = sub();
  const cache = new SegmentFdCache(1);
  const sched = new FlushScheduler({ mode: 'interval' });
  const bad = await PartitionLog.open(dir, 'bad', 0, '', cfg(), sched, { fdCache: cache });
  await appendOne(bad, 'x');
  injectFsFaults({ sync: (file) => (file.includes(`${path.sep}bad-0${path.sep}`) ? fsError('EIO', 'fdatasync', file) : undefined) });
  try {
    await assert.rejects(bad.flush());
  } finally {
    injectFsFaults(undefined);
  }
  assert.equal(bad.offline, true);
  // other logs use the cache; the failed segment's fd must stay open regardless
  const others: PartitionLog[] = [];
  for (let p = 0; p < 4; p++) {
    const log = await PartitionLog.open(dir, 'ok', p, '', cfg(), sched, { fdCache: cache });
    await appendOne(log, `ok${p}`);
    await log.flush();
    others.push(log);
  }
  const open = openFds(dir).segmentFiles;
  assert.ok(
    open.some((f) => f.includes(`${path.sep}bad-0${path.sep}`)),
    `the failed segment is still open: ${open.join(', ')}`,
  );
  for (const log of [bad, ...others]) await log.close();
});

test('reads of old segments reopen them; the cleaner swap works with one open file allowed', async () => {
  const dir = sub();
  const cache = new SegmentFdCache(1);
  const sched = new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 });
  const config = cfg({ cleanupPolicy: 'compact', segmentBytes: 600, retentionMs: -1 });
  const log = await PartitionLog.open(dir, 'cmp', 0, '', config, sched, { fdCache: cache });
  const T = Date.now();
  for (let i = 0; i < 40; i++) {
    const b = buildBatch([{ key: Buffer.from(`k${i % 5}`), value: Buffer.from(`v${i}`.padEnd(60, '.')), timestamp: T }]);
    await log.append(b, describe(b), 0);
  }
  assert.ok(log.segmentCount > 5, `segments: ${log.segmentCount}`);
  const before = await readValues(log);
  assert.equal(before.length, 40);
  assert.ok(openFds(dir).segmentFiles.length <= 1, `open: ${openFds(dir).segmentFiles.length}`);
  log.roll();
  const res = await log.compact(T + 10, { force: true });
  assert.equal(res.cleaned, true, res.reason);
  const after = await readValues(log);
  assert.deepEqual(
    after.map((v) => v.replace(/\.+$/, '')),
    ['v35', 'v36', 'v37', 'v38', 'v39'],
  );
  assert.ok(openFds(dir).segmentFiles.length <= 1, `open after compaction: ${openFds(dir).segmentFiles.length}`);
  await log.close();
  // and after a restart with the same bound
  const again = await PartitionLog.open(dir, 'cmp', 0, '', config, sched, { fdCache: cache });
  assert.deepEqual((await readValues(again)).map((v) => v.replace(/\.+$/, '')), ['v35', 'v36', 'v37', 'v38', 'v39']);
  assert.ok(openFds(dir).segmentFiles.length <= 1);
  await again.close();
});
