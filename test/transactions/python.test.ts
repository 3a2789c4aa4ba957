// confluent-kafka-python (librdkafka) transactions against a real broker: commit/abort with
// send_offsets_to_transaction seen by read_committed and read_uncommitted consumers, fencing by a
// second producer with the same transactional.id, and a consume-transform-produce loop killed
// (kill -9) twice mid-stream that still yields every input exactly once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { repoRoot, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { describeChild, runChild } from '../e2e/run-child.js';

const { Kafka, logLevel } = kafkajs;
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot, 'test', 'transactions', 'python', 'txn_client.py');

async function runScript(bootstrap: string, args: string[]): Promise<Record<string, any>> {
  const r = await runChild(PYTHON, [SCRIPT, '--bootstrap', bootstrap, ...args], { timeoutMs: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let result: Record<string, any>;
  try {
    result = JSON.parse(line);
  } catch {
    assert.fail(`no JSON result line\n${describeChild(r)}`);
  }
  assert.equal(result.ok, true, describeChild(r));
  return result;
}

/** Runs the ctp processor until it has processed `killAfter` more records, then kill -9s it (or lets it finish). */
function runProcessor(bootstrap: string, killAfter: number | null): Promise<{ processed: number; killed: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, '--bootstrap', bootstrap, '--mode', 'ctp', '--topic', 'ctp-in', '--out', 'ctp-out', '--idle', '3'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let processed = 0;
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`processor hung\n${out}`));
    }, 50_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const m of d.toString().matchAll(/"progress": (\d+)/g)) processed = Number(m[1]);
      if (killAfter !== null && processed >= killAfter && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!killed && code !== 0) reject(new Error(`processor failed (${code})\n${out}`));
      else resolve({ processed, killed, output: out });
    });
  });
}

describe('transactions with confluent-kafka-python', () => {
  let broker: TestBroker;
  before(async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} missing: run scripts/setup-test-clients.sh`);
    broker = await startTestBroker({
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
    });
  });
  after(async () => broker?.dispose());

  it('commits, aborts and commits offsets in a transaction', async () => {
    const r = await runScript(broker.bootstrap, ['--mode', 'basic', '--topic', 'py-basic']);
    assert.deepEqual(r.read_committed, ['c0', 'c1', 'c2']);
    assert.deepEqual(r.read_uncommitted, ['c0', 'c1', 'c2', 'a0', 'a1', 'a2']);
    assert.equal(r.committed_offset, 4);
  });

  it('a second producer with the same transactional.id fences the first', async () => {
    const r = await runScript(broker.bootstrap, ['--mode', 'fence', '--topic', 'py-fence']);
    assert.equal(r.fenced, true, r.error);
    assert.match(r.error, /fenced|epoch/i);
    assert.deepEqual(r.read_committed, [], "the zombie's records were aborted");
  });

  it('consume-transform-produce is exactly-once across two kill -9 of the processor', async () => {
    const TOTAL = 6000;
    const kafka = new Kafka({ clientId: 'ctp-feed', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ctp-in', numPartitions: 3 }, { topic: 'ctp-out', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < TOTAL; i += 500) {
      await producer.send({ topic: 'ctp-in', messages: Array.from({ length: 500 }, (_, j) => ({ key: `k${(i + j) % 7}`, value: `v${i + j}` })) });
    }
    await producer.disconnect();

    const first = await runProcessor(broker.bootstrap, 1000);
    assert.ok(first.killed, first.output);
    const second = await runProcessor(broker.bootstrap, 1000);
    assert.ok(second.killed, second.output);
    await runProcessor(broker.bootstrap, null);

    // Close each output partition with a committed END record, then read up to them (read_committed).
    const closer = kafka.producer({ transactionalId: 'ctp-closer', maxInFlightRequests: 1, idempotent: true });
    await closer.connect();
    const t = await closer.transaction();
    await t.send({ topic: 'ctp-out', messages: [0, 1, 2].map((partition) => ({ partition, value: 'END' })) });
    await t.commit();
    await closer.disconnect();
    const consumer = kafka.consumer({ groupId: 'ctp-check', readUncommitted: false, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ctp-out', fromBeginning: true });
    const counts = new Map<string, number>();
    const ended = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`END not reached; ${counts.size} distinct outputs seen`)), 30_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const v = message.value!.toString();
          if (v === 'END') ended.add(partition);
          else counts.set(v, (counts.get(v) ?? 0) + 1);
          if (ended.size === 3) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    const dupes = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(dupes, [], 'no output twice');
    for (let i = 0; i < TOTAL; i++) assert.equal(counts.get(`out-v${i}`), 1, `out-v${i}`);
    assert.equal([...counts.values()].reduce((x, y) => x + y, 0), TOTAL);
  });
});
