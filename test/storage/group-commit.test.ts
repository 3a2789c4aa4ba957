import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { cfg, describe, parseBatches, simpleBatch, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
let n = 0;
const sub = (): string => path.join(tmp.dir, `d${n++}`);

test('group commit: many concurrent appends, few fsyncs, ordered offsets, HW after durability', async () => {
  const sched = new FlushScheduler({ mode: 'group-commit', groupCommitMs: 2 });
  const log = await PartitionLog.open(sub(), 'gc', 0, '', cfg(), sched);
  const hws: number[] = [];
  log.listener = { onHighWatermark: (hw) => hws.push(hw) };
  const ps: Promise<{ baseOffset: number }>[] = [];
  for (let i = 0; i < 2000; i++) {
    const b = simpleBatch(`g${i}`, 2, 100);
    ps.push(log.append(b, describe(b), 0));
    // offsets are assigned synchronously
    assert.equal(log.logEndOffset, (i + 1) * 2);
  }
  assert.equal(log.highWatermark, 0, 'nothing visible before fsync');
  const rs = await Promise.all(ps);
  rs.forEach((r, i) => assert.equal(r.baseOffset, i * 2));
  assert.equal(log.highWatermark, 4000);
  assert.equal(log.recoveryPoint, 4000);
  assert.ok(sched.fsyncCount < 50, `fsyncs: ${sched.fsyncCount}`);
  assert.ok(hws.length >= 1 && hws[hws.length - 1] === 4000);
  const got = parseBatches((await log.read(0, 1 << 30, log.highWatermark, true)).chunks);
  assert.equal(got.length, 2000);
  await log.close();
});

test('group commit keeps acknowledging after a sync that found nothing dirty', async () => {
  // Regression: a sync with no dirty segment finished synchronously and left a settled promise
  // marked as "in progress", so every later append waited forever.
  const sched = new FlushScheduler({ mode: 'group-commit', groupCommitMs: 0 });
  const log = await PartitionLog.open(sub(), 'gc-idle', 0, '', cfg(), sched);
  await log.syncNow();
  await log.syncNow();
  for (let round = 0; round < 50; round++) {
    const b = simpleBatch(`r${round}`);
    const appended = log.append(b, describe(b), 0);
    if (round % 3 === 0) void log.syncNow();
    const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`append ${round} never became durable`)), 5000));
    const r = await Promise.race([appended, timeout]);
    assert.equal(r.baseOffset, round);
  }
  assert.equal(log.highWatermark, 50);
  await log.close();
});

test('interval mode: appends resolve after the write, fsync every flush.messages', async () => {
  const sched = new FlushScheduler({ mode: 'interval' });
  const log = await PartitionLog.open(sub(), 'iv', 0, '', cfg({ flushMessages: 10 }), sched);
  for (let i = 0; i < 25; i++) {
    const b = simpleBatch(`i${i}`);
    await log.append(b, describe(b), 0);
  }
  assert.equal(log.highWatermark, 25);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(sched.fsyncCount >= 2 && sched.fsyncCount <= 3, `fsyncs ${sched.fsyncCount}`);
  assert.ok(log.recoveryPoint >= 20);
  // flush.ms
  const log2 = await PartitionLog.open(sub(), 'iv2', 0, '', cfg({ flushMs: 0 }), sched);
  const b = simpleBatch('x');
  await log2.append(b, describe(b), 0);
  assert.equal(log2.recoveryPoint, 0);
  await log2.maybeFlush(Date.now());
  assert.equal(log2.recoveryPoint, 1);
  await log.close();
  await log2.close();
});

test('LogManager: create, load, checkpoints, clean marker, crash recovery, deleteTopic', async () => {
  const dir = sub();
  let lm = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 1 } });
  await lm.load();
  const a0 = await lm.create('a-topic', 0, 'id-a', cfg({ segmentBytes: 600 }));
  const a1 = await lm.create('a-topic', 1, 'id-a', cfg());
  const b0 = await lm.create('b', 0, 'id-b', cfg());
  for (let i = 0; i < 20; i++) {
    const x = simpleBatch(`a${i}`, 1, 50);
    await a0.append(x, describe(x), 0);
  }
  const y = simpleBatch('y');
  await a1.append(y, describe(y), 0);
  await b0.append(simpleBatch('z'), describe(simpleBatch('z')), 0);
  await lm.close();
  assert.ok(existsSync(path.join(dir, '.kafka_cleanshutdown')));
  const rp = readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8').split('\n');
  assert.equal(rp[0], '0');
  assert.equal(rp[1], '3');
  assert.ok(rp.includes('a-topic 0 20'));

  lm = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 1 }, configFor: () => cfg({ segmentBytes: 600 }) });
  await lm.load();
  assert.equal(lm.lastLoadWasClean, true);
  assert.ok(!existsSync(path.join(dir, '.kafka_cleanshutdown')), 'marker removed after load');
  assert.equal(lm.get('a-topic', 0)!.logEndOffset, 20);
  assert.equal(lm.get('a-topic', 0)!.topicId, 'id-a');
  assert.equal(lm.get('a-topic', 1)!.logEndOffset, 1);
  const more = simpleBatch('more');
  await lm.get('a-topic', 0)!.append(more, describe(more), 0);
  // crash: no close, no marker
  for (const l of lm.all()) await l.abandonForTest();
  lm = new LogManager(dir, { flush: { mode: 'group-commit', groupCommitMs: 1 } });
  await lm.load();
  assert.equal(lm.lastLoadWasClean, false);
  assert.equal(lm.get('a-topic', 0)!.logEndOffset, 21);
  await lm.deleteTopic('a-topic');
  assert.equal(lm.get('a-topic', 0), undefined);
  assert.ok(!existsSync(path.join(dir, 'a-topic-0')));
  assert.equal([...lm.all()].length, 1);
  await lm.close();
});

test('throughput: 16 KiB batches with group commit', async () => {
  const sched = new FlushScheduler({ mode: 'group-commit' });
  const log = await PartitionLog.open(sub(), 'tp', 0, '', cfg(), sched);
  const template = simpleBatch('t', 1, 16 * 1024 - 80);
  const total = 4000;
  const inflight = 256;
  const t0 = process.hrtime.bigint();
  let i = 0;
  const worker = async () => {
    while (i < total) {
      i++;
      const b = Buffer.from(template);
      await log.append(b, describe(b), 0);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = (total * template.length) / (1024 * 1024);
  console.log(`# group commit: ${(mb / secs).toFixed(0)} MB/s, ${(total / secs).toFixed(0)} batches/s, ${sched.fsyncCount} fsyncs for ${total} appends`);
  assert.equal(log.logEndOffset, total);
  await log.close();
});
