// Durability through the write-ahead log: kill -9 the broker during an acks=all producer run,
// then — as a power failure would — drop everything the segment files of the topic hold (with
// the WAL on they are not fsynced per append), restart, and find every acknowledged record at
// its acknowledged offset, rebuilt from the WAL. With 1 and with 100 partitions.
import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { freePort, spawnBroker, tempDir } from '../helpers/broker.js';

// The write-ahead log is opt-in (see README: a classic-group stall with it on is not fixed yet).
const WAL = { 'fjord.wal.enable': 'true' };
import { fetchAll } from '../helpers/raw-client.js';

const { Kafka, logLevel } = kafkajs;

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
      const kafka = new Kafka({
        clientId: 'wal-crash-test',
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
      await admin.disconnect();

      const acked = new Map<string, { partition: number; offset: number }>();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      let seq = 0;
      let killed = false;
      const deadline = Date.now() + 20_000;
      const senders = Array.from({ length: 4 }, async () => {
        while (!killed && Date.now() < deadline) {
          const batch = Array.from({ length: 25 }, () => {
            const n = seq++;
            return { value: `value-${n}`, partition: n % partitions };
          });
          try {
            const res = await producer.send({ topic, acks: -1, messages: batch });
            const byPartition = new Map<number, string[]>();
            for (const m of batch) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.value]);
            for (const r of res) {
              (byPartition.get(r.partition) ?? []).forEach((v, i) => acked.set(v, { partition: r.partition, offset: Number(r.baseOffset) + i }));
            }
          } catch {
            return; // the broker died under us: unacknowledged
          }
        }
      });
      while (acked.size < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      broker.child.kill('SIGKILL');
      killed = true;
      await broker.exited;
      await Promise.allSettled(senders);
      await producer.disconnect().catch(() => {});
      assert.ok(acked.size >= 2000, `only ${acked.size} records were acknowledged before the kill`);
      const walBytes = readdirSync(path.join(dataDir, 'wal')).reduce((s, f) => s + statSync(path.join(dataDir, 'wal', f)).size, 0);
      assert.ok(walBytes > 0, 'the WAL holds the acknowledged batches');
      assert.ok(dropUnsyncedSegments(dataDir, topic) > 0, 'segment data was dropped');

      broker = await spawnBroker(dataDir, port, WAL);
      try {
        const found = new Map<string, { partition: number; offset: number }>();
        for (let p = 0; p < partitions; p++) {
          for (const r of await fetchAll(port, topic, p)) found.set(r.value!.toString(), { partition: p, offset: r.offset });
        }
        let missing = 0;
        for (const [value, where] of acked) {
          const got = found.get(value);
          if (!got || got.partition !== where.partition || got.offset !== where.offset) missing++;
        }
        assert.equal(missing, 0, `${missing} of ${acked.size} acknowledged records missing or moved`);
      } finally {
        broker.child.kill('SIGTERM');
        const exit = await broker.exited;
        assert.equal(exit.code, 0, `clean shutdown exits 0:\n${broker.output()}`);
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
