// Segment reads: PartitionLog.read as Fetch uses it (index lookup, file chunks up to maxBytes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatch, validateBatches } from '../../dist/src/protocol/records/batch.js';
import { FlushScheduler } from '../../dist/src/storage/flush-scheduler.js';
import { defaultLogConfig } from '../../dist/src/storage/config.js';
import { PartitionLog } from '../../dist/src/storage/partition-log.js';
import { run } from './harness.mjs';

const dir = mkdtempSync(join(tmpdir(), 'fjord-micro-'));
const scheduler = new FlushScheduler({ mode: 'group-commit', groupCommitMs: 1 });
const log = await PartitionLog.open(dir, 'bench', 0, '', { ...defaultLogConfig, segmentBytes: 8 * 1024 * 1024 }, scheduler);
const value = Buffer.alloc(1024, 'v');
// ~32 MiB in 16-record batches across several segments; bounded in count.
for (let b = 0; b < 2000; b++) {
  const batch = await buildBatch({ records: Array.from({ length: 16 }, (_, i) => ({ key: null, value, timestamp: 1_700_000_000_000 + i })) });
  const checked = validateBatches(batch, Number.MAX_SAFE_INTEGER);
  await log.append(batch, checked.batches, 0);
}
const end = log.highWatermark;
let cursor = 0;
const next = (step) => {
  cursor = (cursor + step) % (end - 16);
  return cursor;
};

try {
  await run('segment reads (PartitionLog.read)', [
    { name: 'tail read, 64 KiB', fn: () => log.read(end - 64, 64 * 1024, end, true), bytes: 64 * 1024 },
    { name: 'random offset, 1 MiB', fn: () => log.read(next(7919), 1024 * 1024, end, true), bytes: 1024 * 1024 },
    { name: 'random offset, 1 batch (minOneBatch, 1 byte)', fn: () => log.read(next(104_729), 1, end, true) },
  ]);
} finally {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
