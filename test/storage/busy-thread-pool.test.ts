// An embedding process that keeps libuv's thread pool busy must not stall acknowledgements.
// librdkafka's consume() in the same process (startBroker() inside a test that also runs
// @confluentinc/kafka-javascript) blocks pool threads for up to its timeout; acks=all used to
// wait behind that for its fdatasync (seconds, up to client request timeouts). Here every pool
// thread is held by an open() of a FIFO that has no writer yet, so any storage operation left on
// the pool would wait until the test lets them go.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, open, openSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;
// libuv's default pool size; the test runner does not change UV_THREADPOOL_SIZE
const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** Occupies every libuv pool thread until release() is called. */
async function occupyThreadPool(): Promise<{ release: () => Promise<void> }> {
  const dir = await tempDir('fjord-fifo-');
  const fifos: string[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < POOL_THREADS; i++) {
    const f = join(dir, `f${i}`);
    execFileSync('mkfifo', [f]);
    fifos.push(f);
    opened.push(
      new Promise((resolve) =>
        open(f, 'r', (_e, fd) => {
          if (fd !== undefined) closeSync(fd);
          resolve();
        }),
      ),
    );
  }
  return {
    async release() {
      // a non-blocking writer lets each blocked reader's open() return
      for (const f of fifos) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      await Promise.all(opened);
    },
  };
}

describe('acks=all with libuv thread pool fully occupied by the embedding process', () => {
  for (const wal of ['false', 'true']) {
    describe(`fjord.wal.enable=${wal}`, () => {
      let broker: TestBroker;
      before(async () => {
        broker = await startTestBroker({ 'fjord.wal.enable': wal });
      });
      after(async () => broker?.dispose());

      it('produces are acknowledged while every pool thread is blocked', async () => {
        // short timeouts and no retries: a stalled acknowledgement fails the test in seconds
        const kafka = new Kafka({ clientId: 'busy-pool', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, requestTimeout: 8000, retry: { retries: 0 } });
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: 'busy', numPartitions: 2 }] });
        await admin.disconnect();
        const producer = kafka.producer({ allowAutoTopicCreation: false });
        await producer.connect();
        // the first send opens nothing new afterwards: segments exist from topic creation
        await producer.send({ topic: 'busy', acks: -1, messages: [{ value: 'warm-up' }] });

        const pool = await occupyThreadPool();
        let released = false;
        try {
          const started = Date.now();
          for (let i = 0; i < 20; i++) {
            const [meta] = await producer.send({ topic: 'busy', acks: -1, timeout: 5000, messages: [{ key: `k${i}`, value: `v${i}` }] });
            assert.equal(meta?.errorCode, 0);
          }
          const ms = Date.now() - started;
          // with the pool blocked nothing on the pool completes at all: finishing proves independence
          assert.ok(ms < 10_000, `20 acks=all sends took ${ms} ms`);
          await pool.release();
          released = true;
        } finally {
          if (!released) await pool.release();
          await producer.disconnect();
        }
      });
    });
  }
});
