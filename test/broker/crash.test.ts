// Durability: kill -9 the broker process in the middle of an acks=all producer run, restart it
// on the same data dir, and find every acknowledged record at its acknowledged offset.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { freePort, spawnBroker, tempDir } from '../helpers/broker.js';
import { fetchAll } from '../helpers/raw-client.js';

const { Kafka, logLevel } = kafkajs;

describe('crash recovery', () => {
  it('keeps every acknowledged record across kill -9', { timeout: 120_000 }, async () => {
    const dataDir = await tempDir('fjord-crash-');
    const port = await freePort();
    let broker = await spawnBroker(dataDir, port, { 'num.partitions': '3' });
    const kafka = new Kafka({
      clientId: 'crash-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3 }] });
    await admin.disconnect();

    const acked = new Map<string, { partition: number; offset: number }>();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let seq = 0;
    let killed = false;
    const deadline = Date.now() + 30_000;
    // Several concurrent senders so that a kill lands mid-flight.
    const senders = Array.from({ length: 4 }, async () => {
      while (!killed && Date.now() < deadline) {
        const batch = Array.from({ length: 20 }, () => {
          const n = seq++;
          return { key: `k${n % 17}`, value: `value-${n}`, partition: n % 3 };
        });
        try {
          const res = await producer.send({ topic: 'durable', acks: -1, messages: batch });
          // kafkajs reports the base offset of each partition's batch; map our messages onto it.
          const byPartition = new Map<number, string[]>();
          for (const m of batch) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.value]);
          for (const r of res) {
            const values = byPartition.get(r.partition) ?? [];
            values.forEach((v, i) => acked.set(v, { partition: r.partition, offset: Number(r.baseOffset) + i }));
          }
        } catch {
          return; // the broker died under us: unacknowledged, may or may not be there
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

    broker = await spawnBroker(dataDir, port);
    try {
      const found = new Map<string, { partition: number; offset: number }>();
      for (let p = 0; p < 3; p++) {
        for (const r of await fetchAll(port, 'durable', p)) found.set(r.value!.toString(), { partition: p, offset: r.offset });
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
});
