// Durability: kill -9 the broker process in the middle of an acks=all producer run, restart it
// on the same data dir, and find every acknowledged record at its acknowledged offset.
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { freePort, spawnBroker, tempDir } from '../helpers/broker.js';
import { assertAckedPresent, produceThenKill, stopCleanly } from '../helpers/crash-run.js';

describe('crash recovery', () => {
  it('keeps every acknowledged record across kill -9', { timeout: 120_000 }, async () => {
    const dataDir = await tempDir('fjord-crash-');
    const port = await freePort();
    let broker = await spawnBroker(dataDir, port, { 'num.partitions': '3' });
    const acked = await produceThenKill(broker, { topic: 'durable', partitions: 3, minAcked: 2000, timeoutMs: 30_000, batch: 20, keys: 17 });

    broker = await spawnBroker(dataDir, port);
    try {
      await assertAckedPresent(port, 'durable', 3, acked);
    } finally {
      await stopCleanly(broker);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
