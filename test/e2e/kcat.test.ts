// kcat (Debian's kcat 1.7.1 on librdkafka 2.0.2) against a real Fjord broker, as child processes:
// metadata listing, keyed produce with headers and every codec, consume-to-end with a format
// string, offsets for times, the idempotent producer, and murmur2 key placement.
// Needs kcat (scripts/setup-test-clients.sh).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { fetchAll } from '../helpers/raw-client.js';
import { murmur2, murmur2Partition } from './murmur2.js';
import { describeChild, haveCommand, runChild } from './run-child.js';
const { Kafka, logLevel } = kafkajs;

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

interface Line {
  key: string;
  value: string;
  partition: number;
  offset: number;
  headers: string;
}

describe('kcat', () => {
  let broker: TestBroker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: ReturnType<InstanceType<typeof Kafka>['admin']>;

  const kcat = async (args: string[], input?: string, timeoutMs = 20_000) => {
    const r = await runChild('kcat', ['-b', broker.bootstrap, '-X', 'socket.connection.setup.timeout.ms=5000', ...args], { input, timeoutMs });
    assert.equal(r.code, 0, `kcat ${args.join(' ')}: ${describeChild(r)}`);
    assert.ok(!/PROTOERR|Protocol parse failure/.test(r.stderr), `kcat reported a protocol error: ${r.stderr.slice(0, 2000)}`);
    return r;
  };

  /** Consumes every partition of `topic` from the beginning to the end (-e) and parses the lines. */
  const consumeAll = async (topic: string, extra: string[] = []): Promise<Line[]> => {
    const r = await kcat(['-C', '-t', topic, '-e', '-o', 'beginning', '-q', '-f', '%k|%s|%p|%o|%h\n', ...extra]);
    return r.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const [key, value, partition, offset, headers] = l.split('|');
        return { key: key!, value: value!, partition: Number(partition), offset: Number(offset), headers: headers ?? '' };
      });
  };

  const createTopic = async (topic: string, numPartitions: number) => {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions }] }), true);
  };

  before(async () => {
    assert.ok(haveCommand('kcat'), 'kcat is not installed: run scripts/setup-test-clients.sh');
    broker = await startTestBroker();
    kafka = new Kafka({ clientId: 'fjord-kcat-e2e', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect();
    await broker?.dispose();
  });

  it('-L lists the broker and topics with their partitions', async () => {
    await createTopic('kcat-meta', 4);
    const plain = await kcat(['-L']);
    assert.match(plain.stdout, new RegExp(`broker 0 at 127\\.0\\.0\\.1:${broker.port}`));
    assert.match(plain.stdout, /topic "kcat-meta" with 4 partitions/);
    const json = JSON.parse((await kcat(['-L', '-J'])).stdout);
    assert.deepEqual(json.brokers, [{ id: 0, name: `127.0.0.1:${broker.port}` }]);
    const t = json.topics.find((x: { topic: string }) => x.topic === 'kcat-meta');
    assert.ok(t, 'kcat-meta listed');
    assert.deepEqual(
      t.partitions.map((p: { partition: number; leader: number }) => [p.partition, p.leader]).sort((a: number[], b: number[]) => a[0]! - b[0]!),
      [[0, 0], [1, 0], [2, 0], [3, 0]],
    );
    const one = JSON.parse((await kcat(['-L', '-J', '-t', 'kcat-meta'])).stdout);
    assert.deepEqual(one.topics.map((x: { topic: string }) => x.topic), ['kcat-meta']);
  });

  for (const codec of CODECS) {
    it(`produces keyed records with headers using -z ${codec} and consumes them all back`, async () => {
      const topic = `kcat-${codec}`;
      const partitions = 3;
      await createTopic(topic, partitions);
      const sent = new Map<number, { key: string; value: string }[]>();
      for (let p = 0; p < partitions; p++) {
        const recs = Array.from({ length: 250 }, (_, i) => ({
          key: `k${p}-${i % 13}`,
          value: `${codec}-p${p}-n${i}-${'abcdefgh'.repeat(i % 40)}`,
        }));
        sent.set(p, recs);
        const input = recs.map((r) => `${r.key}:${r.value}\n`).join('');
        await kcat(['-P', '-t', topic, '-K:', '-H', `codec=${codec}`, '-H', `part=${p}`, '-p', String(p), '-z', codec, '-X', 'linger.ms=2'], input);
      }
      const got = await consumeAll(topic);
      assert.equal(got.length, 250 * partitions);
      for (let p = 0; p < partitions; p++) {
        const mine = got.filter((g) => g.partition === p);
        assert.deepEqual(mine.map((g) => g.offset), mine.map((_, i) => i), `partition ${p}: offsets dense from 0, in order`);
        assert.deepEqual(
          mine.map((g) => ({ key: g.key, value: g.value })),
          sent.get(p),
          `partition ${p}: every record, in produce order`,
        );
        assert.ok(mine.every((g) => g.headers === `codec=${codec},part=${p}`), `partition ${p}: headers ${mine[0]?.headers}`);
      }
      // The broker stored what kcat sent (cross-check with a raw fetch).
      const raw = await fetchAll(broker.port, topic, 1);
      assert.equal(raw.length, 250);
      assert.equal(raw[249]!.value!.toString(), sent.get(1)![249]!.value);
      assert.deepEqual(raw[0]!.headers.map((h) => [h.key, h.value!.toString()]), [['codec', codec], ['part', '1']]);
    });
  }

  it('-Q answers offsets for timestamps, beginning and end', async () => {
    const topic = 'kcat-times';
    await createTopic(topic, 1);
    for (let round = 0; round < 4; round++) {
      const input = Array.from({ length: 5 }, (_, i) => `r${round}:v${i}\n`).join('');
      await kcat(['-P', '-t', topic, '-K:', '-p', '0'], input);
      await new Promise((r) => setTimeout(r, 25));
    }
    const r = await kcat(['-C', '-t', topic, '-e', '-o', 'beginning', '-q', '-f', '%o|%T\n']);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('|').map(Number) as [number, number]);
    assert.equal(rows.length, 20);
    const query = async (ts: number): Promise<number> => {
      const q = await kcat(['-Q', '-t', `${topic}:0:${ts}`]);
      const m = /kcat-times \[0\] offset (-?\d+)/.exec(q.stdout);
      assert.ok(m, `unexpected -Q output: ${q.stdout}`);
      return Number(m[1]);
    };
    const distinct = [...new Set(rows.map(([, ts]) => ts))];
    assert.ok(distinct.length >= 2, `rounds have distinct timestamps: ${distinct}`);
    for (const ts of distinct) {
      const expect = rows.find(([, t]) => t >= ts)![0];
      assert.equal(await query(ts), expect, `offset for ts ${ts}`);
      const next = rows.find(([, t]) => t >= ts + 1);
      assert.equal(await query(ts + 1), next ? next[0] : -1, `offset for ts ${ts + 1}`);
    }
    assert.equal(await query(-2), 0, 'beginning');
    assert.equal(await query(-1), 20, 'end');
    assert.equal(await query(Math.max(...distinct) + 60_000), -1, 'after the last timestamp: -1');
  });

  it('the idempotent producer (-X enable.idempotence=true) writes every record exactly once', async () => {
    const topic = 'kcat-idem';
    await createTopic(topic, 2);
    const count = 2000;
    const input = Array.from({ length: count }, (_, i) => `key-${i % 50}:idem-${i}\n`).join('');
    await kcat(['-P', '-t', topic, '-K:', '-z', 'lz4', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5', '-X', 'batch.num.messages=100'], input);
    const got = await consumeAll(topic);
    assert.equal(got.length, count);
    assert.equal(new Set(got.map((g) => g.value)).size, count, 'no duplicates');
    for (let p = 0; p < 2; p++) {
      const mine = got.filter((g) => g.partition === p);
      assert.deepEqual(mine.map((g) => g.offset), mine.map((_, i) => i));
      // Per partition, records are in produce order.
      const idx = mine.map((g) => Number(g.value.split('-')[1]));
      assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
    }
  });

  it('murmur2 matches the reference vectors (librdkafka/Java)', () => {
    const vectors: [string, number][] = [
      ['kafka', 0xd067cf64],
      ['giberish123456789', 0x8f552b0c],
      ['1234', 0x9fc97b14],
      ['234', 0xe7c009ca],
      ['34', 0x873930da],
      ['4', 0x5a4b5ca1],
      ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x78424f1c],
      ['reAmbleWillBeRemoved,ThePrePartThatIs', 0x4a62b377],
      ['eAmbleWillBeRemoved,ThePrePartThatIs', 0xe0e4e09e],
      ['AmbleWillBeRemoved,ThePrePartThatIs', 0x62b8b43f],
      ['', 0x106e08d9],
    ];
    for (const [key, want] of vectors) assert.equal(murmur2(Buffer.from(key)) >>> 0, want, key);
  });

  it('-X topic.partitioner=murmur2_random places keys like Java clients and kafkajs', async () => {
    const partitions = 6;
    await createTopic('kcat-murmur', partitions);
    await createTopic('kjs-murmur', partitions);
    const keys = Array.from({ length: 120 }, (_, i) => `user-${i * 7919}`);
    await kcat(['-P', '-t', 'kcat-murmur', '-K:', '-X', 'topic.partitioner=murmur2_random'], keys.map((k) => `${k}:v-${k}\n`).join(''));
    const got = await consumeAll('kcat-murmur');
    assert.equal(got.length, keys.length);
    const used = new Set<number>();
    for (const g of got) {
      assert.equal(g.partition, murmur2Partition(g.key, partitions), `key ${g.key}`);
      used.add(g.partition);
    }
    assert.equal(used.size, partitions, 'keys spread over every partition');
    // kafkajs's default partitioner is Java's murmur2 too: same key, same partition.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kjs-murmur', messages: keys.map((k) => ({ key: k, value: `v-${k}` })) });
    await producer.disconnect();
    for (let p = 0; p < partitions; p++) {
      const fromKjs = (await fetchAll(broker.port, 'kjs-murmur', p)).map((r) => r.key!.toString()).sort();
      const fromKcat = got.filter((g) => g.partition === p).map((g) => g.key).sort();
      assert.deepEqual(fromKcat, fromKjs, `partition ${p}`);
    }
  });
});
