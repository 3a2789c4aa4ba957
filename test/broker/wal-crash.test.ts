// Durability through the write-ahead log: kill -9 the broker during an acks=all producer run,
// then — as a power failure would — drop everything the segment files of the topic hold (with
// the WAL on they are not fsynced per append), restart, and find every acknowledged record at
// its acknowledged offset, rebuilt from the WAL. With 1 and with 100 partitions.
import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { freePort, spawnBroker, tempDir } from '../helpers/broker.js';
import { assertAckedPresent, produceThenKill, stopCleanly } from '../helpers/crash-run.js';

// The write-ahead log is opt-in: turned on explicitly here.
const WAL = { 'fjord.wal.enable': 'true' };

/** Cuts every segment file of the topic's partitions to nothing (the page cache is gone). */
function dropUnsyncedSegments(dataDir: string, topic: string): number {
  let cut = 0;
  for (const d of readdirSync(dataDir)) {
    if (!d.startsWith(`${topic}-`)) continue;
    for (const f of readdirSync(path.join(dataDir, d))) {
      if (!f.endsWith('.log')) continue;
      cut += statSync(path.join(dataDir, d, f)).size;
      truncateSync(path.join(dataDir, d, f), 0);
    }
  }
  return cut;
}

describe('WAL crash recovery', () => {
  for (const partitions of [1, 100]) {
    it(`keeps every acknowledged record across kill -9 and lost segment writes, ${partitions} partition(s)`, { timeout: 90_000 }, async () => {
      const dataDir = await tempDir('fjord-wal-crash-');
      const port = await freePort();
      const topic = `walcrash${partitions}`;
      let broker = await spawnBroker(dataDir, port, WAL);
      const acked = await produceThenKill(broker, { topic, partitions, minAcked: 2000, timeoutMs: 20_000, batch: 25 });
      const walBytes = readdirSync(path.join(dataDir, 'wal')).reduce((s, f) => s + statSync(path.join(dataDir, 'wal', f)).size, 0);
      assert.ok(walBytes > 0, 'the WAL holds the acknowledged batches');
      assert.ok(dropUnsyncedSegments(dataDir, topic) > 0, 'segment data was dropped');

      broker = await spawnBroker(dataDir, port, WAL);
      try {
        await assertAckedPresent(port, topic, partitions, acked);
      } finally {
        await stopCleanly(broker);
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
