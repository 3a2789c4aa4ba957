// The kill -9 durability check shared by the crash tests: idempotent acks=all producers run
// against a broker child process until enough records are acknowledged, the broker is killed
// mid-flight, and after a restart every acknowledged record must be at its acknowledged offset.
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { ChildBroker } from './broker.js';
import { fetchAll } from './raw-client.js';

const { Kafka, logLevel } = kafkajs;

export type AckedRecords = Map<string, { partition: number; offset: number }>;

export interface CrashRunOptions {
  topic: string;
  partitions: number;
  /** Records acknowledged before the kill. */
  minAcked: number;
  /** Give up producing after this long. */
  timeoutMs: number;
  /** Records per send (spread over the partitions round-robin). */
  batch: number;
  /** Keys cycle through this many values; no keys when absent. */
  keys?: number;
}

/** Creates the topic, produces with 4 concurrent senders until `minAcked`, then kill -9s the broker. */
export async function produceThenKill(broker: ChildBroker, o: CrashRunOptions): Promise<AckedRecords> {
  const kafka = new Kafka({
    clientId: 'crash-test',
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: o.topic, numPartitions: o.partitions }] });
  await admin.disconnect();

  const acked: AckedRecords = new Map();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let seq = 0;
  let killed = false;
  const deadline = Date.now() + o.timeoutMs;
  // Several concurrent senders so that the kill lands mid-flight.
  const senders = Array.from({ length: 4 }, async () => {
    while (!killed && Date.now() < deadline) {
      const batch = Array.from({ length: o.batch }, () => {
        const n = seq++;
        return { key: o.keys ? `k${n % o.keys}` : undefined, value: `value-${n}`, partition: n % o.partitions };
      });
      try {
        const res = await producer.send({ topic: o.topic, acks: -1, messages: batch });
        // kafkajs reports the base offset of each partition's batch; map our messages onto it.
        const byPartition = new Map<number, string[]>();
        for (const m of batch) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.value]);
        for (const r of res) {
          (byPartition.get(r.partition) ?? []).forEach((v, i) => acked.set(v, { partition: r.partition, offset: Number(r.baseOffset) + i }));
        }
      } catch {
        return; // the broker died under us: unacknowledged, may or may not be there
      }
    }
  });
  while (acked.size < o.minAcked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  broker.child.kill('SIGKILL');
  killed = true;
  await broker.exited;
  await Promise.allSettled(senders);
  await producer.disconnect().catch(() => {});
  assert.ok(acked.size >= o.minAcked, `only ${acked.size} records were acknowledged before the kill`);
  return acked;
}

/** Reads every partition back from the restarted broker: each acknowledged record at its offset. */
export async function assertAckedPresent(port: number, topic: string, partitions: number, acked: AckedRecords): Promise<void> {
  const found: AckedRecords = new Map();
  for (let p = 0; p < partitions; p++) {
    for (const r of await fetchAll(port, topic, p)) found.set(r.value!.toString(), { partition: p, offset: r.offset });
  }
  let missing = 0;
  for (const [value, where] of acked) {
    const got = found.get(value);
    if (!got || got.partition !== where.partition || got.offset !== where.offset) missing++;
  }
  assert.equal(missing, 0, `${missing} of ${acked.size} acknowledged records missing or moved`);
}

/** SIGTERM; a clean shutdown exits 0. */
export async function stopCleanly(broker: ChildBroker): Promise<void> {
  broker.child.kill('SIGTERM');
  const exit = await broker.exited;
  assert.equal(exit.code, 0, `clean shutdown exits 0:\n${broker.output()}`);
}
