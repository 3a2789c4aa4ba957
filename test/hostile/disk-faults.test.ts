// Disk full and I/O errors, through the fault seam under the storage's file layer
// (src/storage/fsio.ts) in a real broker, plus a real small tmpfs when this process may mount one.
//  - ENOSPC / EDQUOT on a write: the append fails with a retriable KAFKA_STORAGE_ERROR, the
//    partial write is cut off, the log end rolls back to what is on disk, fetches and
//    DeleteRecords go on, and appends resume by themselves once space returns.
//  - fjord.storage.min.free.bytes refuses appends before the disk is full.
//  - A failed fsync or EIO is never acknowledged and takes the partition offline until reload.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { fsError, injectFsFaults } from '../../src/storage/fsio.js';
import { fetchAll, RawClient } from '../helpers/raw-client.js';
import { tempDir, waitFor } from '../helpers/broker.js';

interface Started {
  b: RunningBroker;
  dir: string;
  lines: string[];
  client: RawClient;
}

const opened: Started[] = [];
let correlationId = 1;

async function start(config: Record<string, string> = {}, dir?: string): Promise<Started> {
  const dataDir = dir ?? (await tempDir());
  const lines: string[] = [];
  const b = await startBroker({ dataDir, port: 0, config: { 'fjord.storage.min.free.bytes': '0', ...config }, logger: (m) => lines.push(m) });
  const s = { b, dir: dataDir, lines, client: await RawClient.open(b.port) };
  opened.push(s);
  return s;
}

async function stop(s: Started): Promise<void> {
  s.client.close();
  await s.b.close();
  opened.splice(opened.indexOf(s), 1);
}

async function produce(s: Started, topic: string, values: string[]): Promise<{ errorCode: number; errorMessage: string | null; baseOffset: number }> {
  const id = correlationId++;
  const records = await buildBatch({ records: values.map((v) => ({ key: 'k', value: v })) });
  s.client.request(ApiKey.Produce, 9, id, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const res = await s.client.response(ApiKey.Produce, 9);
  assert.ok(res, 'produce answered');
  return res.body.responses[0].partitionResponses[0];
}

async function values(s: Started, topic: string): Promise<string[]> {
  const from = s.b.broker.logs.get(topic, 0)!.logStartOffset;
  return (await fetchAll(s.b.port, topic, 0, from)).map((r) => r.value!.toString());
}

afterEach(() => injectFsFaults(undefined));
after(async () => {
  injectFsFaults(undefined);
  for (const s of [...opened]) await stop(s).catch(() => undefined);
});

describe('disk faults', () => {
  it('ENOSPC with a partial write: retriable error, rollback to disk, fetch and DeleteRecords go on, writes resume', async () => {
    const s = await start();
    await s.b.broker.topics.create({ name: 'full', numPartitions: 1, replicationFactor: -1 });
    for (let i = 0; i < 3; i++) assert.equal((await produce(s, 'full', [`a${i}`])).errorCode, ErrorCode.NONE);
    const log = s.b.broker.logs.get('full', 0)!;
    const segFile = join(s.dir, 'full-0', '00000000000000000000.log');
    const sizeBefore = (await stat(segFile)).size;

    // The disk is full: writes fail after 20 bytes, and statfs says nothing is free.
    let diskFull = true;
    injectFsFaults({
      write: (file) => (diskFull && file.includes('full-0') ? { error: fsError('ENOSPC', 'write', file), partialBytes: 20 } : undefined),
      freeBytes: () => (diskFull ? 0 : undefined),
    });
    const r = await produce(s, 'full', ['lost-1', 'lost-2']);
    assert.equal(r.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, r.errorMessage ?? '');
    await waitFor(() => log.logEndOffset === 3, 5000, 'rollback of the log end');
    assert.equal((await stat(segFile)).size, sizeBefore, 'the partial write was cut off');
    assert.ok(s.lines.some((l) => /low on space|ENOSPC/.test(l)), s.lines.join('\n'));
    assert.ok(s.lines.some((l) => /rolled back to offset 3/.test(l)), s.lines.join('\n'));
    // While full: appends refused (retriable), fetches served, DeleteRecords works.
    assert.equal((await produce(s, 'full', ['refused'])).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.deepEqual(await values(s, 'full'), ['a0', 'a1', 'a2']);
    s.client.request(ApiKey.DeleteRecords, 2, correlationId++, { topics: [{ name: 'full', partitions: [{ partitionIndex: 0, offset: 1 }] }], timeoutMs: 5000 });
    const del = await s.client.response(ApiKey.DeleteRecords, 2);
    assert.equal(del!.body.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    assert.equal(del!.body.topics[0].partitions[0].lowWatermark, 1);
    const linesWhileFull = s.lines.length;

    // Space returns: appends resume by themselves, offsets continue where the disk ended.
    diskFull = false;
    const ok = await waitFor(async () => {
      const p = await produce(s, 'full', ['b0']);
      return p.errorCode === ErrorCode.NONE ? p : undefined;
    }, 10_000, 'appends to resume');
    assert.equal(ok!.baseOffset, 3);
    assert.ok(s.lines.slice(linesWhileFull).some((l) => /appends resume/.test(l)), s.lines.join('\n'));
    assert.equal((await produce(s, 'full', ['b1'])).baseOffset, 4);
    assert.deepEqual(await values(s, 'full'), ['a1', 'a2', 'b0', 'b1']);

    // And the log on disk is intact after a restart.
    const dir = s.dir;
    await stop(s);
    const again = await start({}, dir);
    assert.deepEqual(await values(again, 'full'), ['a1', 'a2', 'b0', 'b1']);
    await stop(again);
    await rm(dir, { recursive: true, force: true });
  });

  it('fjord.storage.min.free.bytes refuses appends before the disk is full', async () => {
    const s = await start({ 'fjord.storage.min.free.bytes': '1000000' });
    await s.b.broker.topics.create({ name: 'floor', numPartitions: 1, replicationFactor: -1 });
    assert.equal((await produce(s, 'floor', ['x'])).errorCode, ErrorCode.NONE);
    injectFsFaults({ freeBytes: () => 999_999 });
    await waitFor(() => !s.b.broker.logs.health.acceptingAppends, 5000, 'low-space state');
    const r = await produce(s, 'floor', ['y']);
    assert.equal(r.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.match(r.errorMessage ?? '', /fjord\.storage\.min\.free\.bytes/);
    assert.equal(s.lines.filter((l) => /below fjord\.storage\.min\.free\.bytes/.test(l)).length, 1, 'one log line per state change');
    injectFsFaults(undefined);
    await waitFor(async () => (await produce(s, 'floor', ['z'])).errorCode === ErrorCode.NONE, 10_000, 'appends to resume');
    assert.deepEqual(await values(s, 'floor'), ['x', 'z']);
    const dir = s.dir;
    await stop(s);
    await rm(dir, { recursive: true, force: true });
  });

  // 'fsync': the segment's own fdatasync (fjord.wal.enable=false); 'WAL fsync': the write-ahead
  // log's fdatasync of the round holding the append (fjord.wal.enable=true).
  for (const fault of ['fsync', 'WAL fsync', 'EIO write'] as const) {
    it(`a failed ${fault} is never acknowledged, takes the partition offline, and it reloads by itself once the disk is healthy`, async () => {
      const s = await start(fault === 'fsync' ? { 'fjord.wal.enable': 'false' } : fault === 'WAL fsync' ? { 'fjord.wal.enable': 'true' } : {});
      await s.b.broker.topics.create({ name: 'eio', numPartitions: 1, replicationFactor: -1 });
      await s.b.broker.topics.create({ name: 'healthy', numPartitions: 1, replicationFactor: -1 });
      assert.equal((await produce(s, 'eio', ['ok-0'])).errorCode, ErrorCode.NONE);
      injectFsFaults(
        fault === 'fsync'
          ? { sync: (file) => (file.includes('eio-0') ? fsError('EIO', 'fdatasync', file) : undefined) }
          : fault === 'WAL fsync'
            ? { sync: (file) => (file.includes(`${sep}wal${sep}`) ? fsError('EIO', 'fdatasync', file) : undefined) }
            : { write: (file) => (file.includes('eio-0') ? { error: fsError('EIO', 'write', file) } : undefined) },
      );
      const r = await produce(s, 'eio', ['never-acked']);
      assert.equal(r.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      injectFsFaults(undefined);
      // Offline: still refused once the fault is gone; other partitions are unaffected.
      assert.equal((await produce(s, 'eio', ['still-offline'])).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.equal((await produce(s, 'healthy', ['fine'])).errorCode, ErrorCode.NONE);
      assert.equal(s.lines.filter((l) => /eio-0 is offline after an I\/O error/.test(l)).length, 1, s.lines.join('\n'));
      // Reloaded from disk by the broker itself (the fault is gone): it serves again, truncated to
      // what was durable before the error — the acknowledged record, never the unacknowledged one.
      await waitFor(() => s.lines.some((l) => /eio-0 reloaded from disk/.test(l)), 10_000);
      assert.equal((await produce(s, 'eio', ['after-reload'])).errorCode, ErrorCode.NONE);
      assert.deepEqual(await values(s, 'eio'), ['ok-0', 'after-reload']);
      // And it survives a restart as it is.
      const dir = s.dir;
      await stop(s);
      const again = await start({}, dir);
      assert.deepEqual(await values(again, 'eio'), ['ok-0', 'after-reload']);
      await stop(again);
      await rm(dir, { recursive: true, force: true });
    });
  }

  it('a real 4 MiB tmpfs: fills up, refuses with a retriable error, resumes after growing', async (t) => {
    const mnt = await mkdtemp(join(tmpdir(), 'fjord-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      await rm(mnt, { recursive: true, force: true });
      const reason = `cannot mount a tmpfs here (${String((err as Error).message).split('\n')[0]})`;
      process.stdout.write(`# skipped tmpfs part: ${reason}\n`);
      t.skip(reason);
      return;
    }
    try {
      const s = await start({ 'log.segment.bytes': '1048576' }, mnt);
      await s.b.broker.topics.create({ name: 'tmpfs', numPartitions: 1, replicationFactor: -1 });
      const big = 'x'.repeat(60_000);
      let acked = 0;
      let refused: { errorCode: number; errorMessage: string | null } | undefined;
      for (let i = 0; i < 200 && !refused; i++) {
        const r = await produce(s, 'tmpfs', [`${i}:${big}`]);
        if (r.errorCode === ErrorCode.NONE) acked++;
        else refused = r;
      }
      assert.ok(refused, 'the disk filled up');
      assert.equal(refused.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, refused.errorMessage ?? '');
      assert.ok(acked > 10, `acked ${acked}`);
      assert.equal((await values(s, 'tmpfs')).length, acked, 'every acknowledged record is readable');
      execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
      await waitFor(async () => (await produce(s, 'tmpfs', ['after-grow'])).errorCode === ErrorCode.NONE, 10_000, 'appends to resume');
      const all = await values(s, 'tmpfs');
      assert.equal(all.length, acked + 1);
      assert.equal(all.at(-1), 'after-grow');
      await stop(s);
    } finally {
      execFileSync('umount', ['-l', mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  });
});
