// The Python clients Debian ships (kafka-python 2.0.2, confluent-kafka-python on librdkafka) against
// a real Fjord broker: test/e2e/python/produce_consume.py creates a topic, produces keyed records
// with headers using each codec, reads every partition back by assignment and checks everything.
// Needs scripts/setup-test-clients.sh (python3-kafka, python3-confluent-kafka, codec modules).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { fetchAll } from '../helpers/raw-client.js';
import { describeChild, runChild } from './run-child.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot, 'test', 'e2e', 'python', 'produce_consume.py');
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

async function runScript(bootstrap: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await runChild(PYTHON, [SCRIPT, '--bootstrap', bootstrap, '--timeout', '15', ...args], { timeoutMs: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(line);
  } catch {
    assert.fail(`no JSON result line\n${describeChild(r)}`);
  }
  assert.equal(r.code, 0, describeChild(r));
  assert.equal(result.ok, true, describeChild(r));
  return result;
}

describe('python clients', () => {
  let broker: TestBroker;
  before(async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} missing: run scripts/setup-test-clients.sh`);
    const check = await runChild(PYTHON, ['-c', 'import kafka, confluent_kafka, lz4, snappy, zstandard'], { timeoutMs: 20_000 });
    assert.equal(check.code, 0, `python Kafka clients missing (run scripts/setup-test-clients.sh)\n${describeChild(check)}`);
    broker = await startTestBroker({ 'num.partitions': '2' });
  });
  after(async () => broker?.dispose());

  for (const client of ['kafka-python', 'confluent'] as const) {
    for (const codec of CODECS) {
      it(`${client} round trip with ${codec} over 3 partitions`, async () => {
        const topic = `py-${client}-${codec}`;
        const res = await runScript(broker.bootstrap, [
          '--client', client, '--topic', topic, '--compression', codec, '--partitions', '3', '--count', '150', '--value-size', '300',
        ]);
        assert.equal(res.produced, 150);
        assert.equal(res.consumed, 150);
        // Cross-check on the broker side: every record landed once, offsets dense from 0.
        let total = 0;
        for (let p = 0; p < 3; p++) {
          const records = await fetchAll(broker.port, topic, p);
          assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i));
          total += records.length;
        }
        assert.equal(total, 150);
      });
    }
  }

  it('confluent idempotent producer', async () => {
    const res = await runScript(broker.bootstrap, ['--client', 'confluent', '--topic', 'py-idem', '--compression', 'lz4', '--partitions', '2', '--idempotent']);
    assert.equal(res.consumed, 100);
  });

  for (const client of ['kafka-python', 'confluent'] as const) {
    it(`${client} with --no-create: the topic is auto-created with num.partitions`, async () => {
      const topic = `py-auto-${client}`;
      const res = await runScript(broker.bootstrap, ['--client', client, '--topic', topic, '--compression', 'snappy', '--no-create']);
      assert.equal(res.consumed, 100);
      const counts = [0, 1].map(async (p) => (await fetchAll(broker.port, topic, p)).length);
      const [a, b] = await Promise.all(counts);
      assert.equal(a! + b!, 100);
    });
  }
});
