// kill -9 of the broker (a child process) in the middle of 20 concurrent transactions, then a
// restart: every transaction ends all-or-nothing for read_committed consumers, every commit the
// client saw acknowledged is there, and the hanging ones are aborted by their timeout.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { describeChild, runChild } from '../e2e/run-child.js';
import { freePort, spawnBroker, tempDir } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;
const PRODUCERS = 20;
const PARTITIONS = 3;
const PER_PARTITION = 3;
const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
};

describe('transactions across kill -9', () => {
  it('20 concurrent transactions are each all-or-nothing after kill -9 and restart', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    let child = await spawnBroker(dataDir, port, CONFIG);
    try {
      const kafka = new Kafka({
        clientId: 'crash-txn',
        brokers: [child.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 200 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'crash-txn', numPartitions: PARTITIONS }] });
      await admin.disconnect();

      const acknowledged = new Set<string>();
      let commits = 0;
      let stop = false;
      const loops = Array.from({ length: PRODUCERS }, async (_, id) => {
        const producer = kafka.producer({ transactionalId: `crash-${id}`, maxInFlightRequests: 1, idempotent: true, transactionTimeout: 3000 });
        try {
          await producer.connect();
          for (let n = 0; !stop && n < 1000; n++) {
            const txn = await producer.transaction();
            for (let p = 0; p < PARTITIONS; p++) {
              await txn.send({
                topic: 'crash-txn',
                messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ partition: p, key: `crash-${id}-${n}`, value: `crash-${id}-${n}-${p}-${i}` })),
              });
            }
            await txn.commit();
            acknowledged.add(`crash-${id}-${n}`);
            commits++;
          }
        } catch {
          // the broker died under us
        } finally {
          await producer.disconnect().catch(() => undefined);
        }
      });
      const deadline = Date.now() + 20_000;
      while (commits < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(commits >= 40, `only ${commits} transactions committed before the kill`);
      child.child.kill('SIGKILL');
      await child.exited;
      stop = true;
      await Promise.all(loops);

      child = await spawnBroker(dataDir, port, CONFIG);
      const kafka2 = new Kafka({ clientId: 'crash-check', brokers: [child.bootstrap], logLevel: logLevel.NOTHING });
      // A committed END on every partition; read_committed readers reach it only once every
      // transaction before it has ended (timed-out ones are aborted by the coordinator).
      const closer = kafka2.producer({ transactionalId: 'crash-closer', maxInFlightRequests: 1, idempotent: true });
      await closer.connect();
      const t = await closer.transaction();
      await t.send({ topic: 'crash-txn', messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: 'END' })) });
      await t.commit();
      await closer.disconnect();

      // Wait until a read_committed reader reaches END on every partition: every transaction
      // before it has then ended (timed-out ones aborted by the coordinator).
      const consumer = kafka2.consumer({ groupId: 'crash-reader', readUncommitted: false, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'crash-txn', fromBeginning: true });
      const ended = new Set<number>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`END not reached on every partition (${[...ended]})`)), 30_000);
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            if (message.value!.toString() === 'END') ended.add(partition);
            if (ended.size === PARTITIONS) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
      // What read_committed sees, read with librdkafka (kcat). kafkajs's own aborted-transaction
      // filter activates at most one aborted transaction per record, so with many transactions
      // aborted close together it shows their first records; it is only used above to wait.
      const read = await runChild(
        'kcat',
        ['-b', child.bootstrap, '-C', '-t', 'crash-txn', '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%k|%s\n'],
        { timeoutMs: 30_000 },
      );
      assert.equal(read.code, 0, describeChild(read));
      const byTxn = new Map<string, Set<string>>();
      for (const line of read.stdout.split('\n')) {
        const [key, value] = line.split('|');
        if (!key || !value || value === 'END') continue;
        let set = byTxn.get(key);
        if (!set) byTxn.set(key, (set = new Set()));
        set.add(value);
      }
      for (const [key, values] of byTxn) assert.equal(values.size, PARTITIONS * PER_PARTITION, `transaction ${key} is partly visible: ${[...values].sort().join(",")} (acknowledged: ${acknowledged.has(key)})`);
      for (const key of acknowledged) assert.ok(byTxn.has(key), `acknowledged commit ${key} is missing`);
      assert.ok(byTxn.size >= acknowledged.size);
    } finally {
      child.child.kill('SIGKILL');
      await child.exited;
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });
});
