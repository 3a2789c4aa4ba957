// log.cleaner.dedupe.buffer.size bounds the cleaner's key map: a pass cleans only the segments
// whose keys fit (whole segments, like Kafka's SkimpyOffsetMap); later passes finish the job.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { offsetMapCapacity } from '../../src/storage/cleaner.js';
import { buildBatch, cfg, describe, tmpDir } from './helpers.js';

const tmp = tmpDir();
after(() => tmp.cleanup());
const T = 1_700_000_000_000;

async function filledLog(name: string): Promise<PartitionLog> {
  const log = await PartitionLog.open(
    path.join(tmp.dir, name),
    'dd',
    0,
    '',
    cfg({ cleanupPolicy: 'compact', segmentBytes: 1024, retentionMs: -1 }),
    new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 }),
  );
  for (let round = 0; round < 2; round++) {
    for (let k = 0; k < 30; k++) {
      const b = buildBatch([{ key: Buffer.from(`key-${k}`), value: Buffer.from(`value-${round}-${k}`), timestamp: T }]);
      await log.append(b, describe(b), 0);
    }
  }
  log.roll();
  return log;
}

test('the key map holds whole segments up to the buffer size; further passes finish the cleaning', async () => {
  assert.equal(offsetMapCapacity(534), 20);
  const unbounded = await filledLog('unbounded');
  const full = await unbounded.compact(T + 10, { force: true });
  assert.equal(full.cleaned, true, full.reason);

  const bounded = await filledLog('bounded');
  bounded.cleanerDedupeBufferBytes = () => 534; // 20 keys: fewer than the 30 distinct keys
  const first = await bounded.compact(T + 10, { force: true });
  assert.ok(first.endOffset > first.firstDirtyOffset, 'the first pass made progress');
  assert.ok(first.endOffset < full.endOffset, `stopped at ${first.endOffset}, before ${full.endOffset}`);
  let passes = 1;
  while (bounded.cleanerCheckpoint < full.endOffset && passes < 20) {
    await bounded.compact(T + 10, { force: true });
    passes++;
  }
  assert.ok(passes > 1, 'needed more than one pass');
  assert.equal(bounded.cleanerCheckpoint, full.endOffset);
  await unbounded.close();
  await bounded.close();
});

test('a buffer too small for one segment cleans nothing and says why', async () => {
  const log = await filledLog('tiny');
  log.cleanerDedupeBufferBytes = () => 24;
  const r = await log.compact(T + 10, { force: true });
  assert.equal(r.reason, 'dedupe-buffer-too-small');
  assert.equal(r.cleaned, false);
  await log.close();
});
