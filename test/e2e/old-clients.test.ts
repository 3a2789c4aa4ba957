// Clients of the Kafka 0.9 / 0.10 era (what Kafka 4 stopped serving, KIP-896) against a real
// Fjord broker: kafka-python 2.0.2 pinned to api_version (0,9) and (0,10), kcat with
// api.version.request=false and broker.version.fallback 0.9.0 / 0.10.0 — produce (message
// formats v0/v1, compressed wrapper messages), consume in groups, commit. Plus raw checks of the
// conversion, ListOffsets v0 and the topic configs Kafka 4 removed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from '@node-rs/crc32';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { repoRoot } from '../helpers/broker.js';
import { fetchAll, RawClient } from '../helpers/raw-client.js';
import { describeChild, runChild } from './run-child.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot, 'test', 'e2e', 'python', 'old_client.py');

/** One uncompressed message of format v0/v1 with its offset and size prefix. */
function legacyMessage(magic: 0 | 1, key: string, value: string, breakCrc = false): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const body = Buffer.alloc(1 + 1 + (magic ? 8 : 0) + 4 + k.length + 4 + v.length);
  let p = 0;
  body.writeInt8(magic, p++);
  body.writeInt8(0, p++);
  if (magic) {
    body.writeBigInt64BE(BigInt(Date.now()), p);
    p += 8;
  }
  body.writeInt32BE(k.length, p);
  k.copy(body, p + 4);
  p += 4 + k.length;
  body.writeInt32BE(v.length, p);
  v.copy(body, p + 4);
  const out = Buffer.alloc(12 + 4 + body.length);
  out.writeInt32BE(4 + body.length, 8);
  out.writeUInt32BE((crc32(body) ^ (breakCrc ? 1 : 0)) >>> 0, 12);
  body.copy(out, 16);
  return out;
}

describe('clients of the 0.9 / 0.10 era', { timeout: 240_000 }, () => {
  let broker: RunningBroker;
  let dir: string;
  const logLines: string[] = [];
  let cid = 1;
  async function call(apiKey: number, version: number, body: unknown): Promise<any> {
    const c = await RawClient.open(broker.port);
    try {
      c.request(apiKey, version, cid++, body);
      const res = await c.response(apiKey, version);
      assert.ok(res, `no response to api ${apiKey} v${version}`);
      return res.body;
    } finally {
      c.close();
    }
  }
  const createTopic = (name: string, partitions: number) => broker.broker.topics.create({ name, numPartitions: partitions, replicationFactor: -1 });

  before(async () => {
    const check = await runChild(PYTHON, ['-c', 'import kafka, lz4, snappy, xxhash'], { timeoutMs: 20_000 });
    assert.equal(check.code, 0, `kafka-python or its codecs missing (run scripts/setup-test-clients.sh)\n${describeChild(check)}`);
    dir = await mkdtemp(join(tmpdir(), 'fjord-old-'));
    broker = await startBroker({ port: 0, dataDir: dir, logger: (m) => logLines.push(m) });
  });
  after(async () => {
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const pythonRuns: [string, string][] = [
    ['0.9', 'none'],
    ['0.9', 'gzip'],
    ['0.9', 'snappy'],
    ['0.9', 'lz4'],
    ['0.10', 'gzip'],
    ['0.10', 'lz4'],
  ];
  for (const [api, codec] of pythonRuns) {
    it(`kafka-python at api_version ${api} produces ${codec} and consumes in a group`, async () => {
      const topic = `py-old-${api.replace('.', '')}-${codec}`;
      await createTopic(topic, 2);
      const r = await runChild(PYTHON, [SCRIPT, '--bootstrap', broker.bootstrap, '--topic', topic, '--api-version', api, '--compression', codec, '--count', '60', '--group', `g-${topic}`, '--timeout', '20'], { timeoutMs: 90_000 });
      const result = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
      assert.equal(result.ok, true, describeChild(r));
      assert.equal(result.consumed, 60);
      // Stored as record batch v2 with dense offsets from 0.
      let total = 0;
      for (const p of [0, 1]) {
        const records = await fetchAll(broker.port, topic, p);
        assert.deepEqual(records.map((x) => x.offset), records.map((_, i) => i));
        total += records.length;
      }
      assert.equal(total, 60);
    });
  }

  for (const fallback of ['0.9.0', '0.10.0']) {
    it(`kcat with broker.version.fallback=${fallback} produces compressed and consumes with a group`, async () => {
      const topic = `kcat-old-${fallback.replace(/\./g, '')}`;
      await createTopic(topic, 3);
      const old = ['-b', broker.bootstrap, '-X', 'api.version.request=false', '-X', `broker.version.fallback=${fallback}`];
      const input = Array.from({ length: 40 }, (_, i) => `key-${i}:value-${i}`).join('\n') + '\n';
      const produced = await runChild('kcat', [...old, '-P', '-t', topic, '-K:', '-z', 'snappy'], { input, timeoutMs: 30_000 });
      assert.equal(produced.code, 0, describeChild(produced));
      const consume = () =>
        runChild('kcat', [...old, '-G', `g-${topic}`, '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%k=%s\n', topic], { timeoutMs: 60_000 });
      const first = await consume();
      assert.equal(first.code, 0, describeChild(first));
      const lines = first.stdout.trim().split('\n').filter(Boolean).sort();
      assert.deepEqual(lines, Array.from({ length: 40 }, (_, i) => `key-${i}=value-${i}`).sort());
      // The group committed: a second run finds nothing new.
      const second = await consume();
      assert.equal(second.code, 0, describeChild(second));
      assert.equal(second.stdout.trim(), '');
    });
  }

  it('converts message sets both ways: Produce v2 in, Fetch v0 / v2 out, bad CRCs refused', async () => {
    await createTopic('raw-old', 1);
    const set = Buffer.concat([legacyMessage(1, 'a', 'one'), legacyMessage(1, 'b', 'two')]);
    const produce = (records: Buffer) =>
      call(ApiKey.Produce, 2, { acks: -1, timeoutMs: 5000, topicData: [{ name: 'raw-old', partitionData: [{ index: 0, records }] }] });
    const ok = await produce(set);
    assert.deepEqual([ok.responses[0].partitionResponses[0].errorCode, ok.responses[0].partitionResponses[0].baseOffset], [ErrorCode.NONE, 0]);
    const bad = await produce(legacyMessage(0, 'c', 'three', true));
    assert.equal(bad.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);

    for (const [version, magic] of [
      [0, 0],
      [2, 1],
    ] as const) {
      const res = await call(ApiKey.Fetch, version, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        topics: [{ topic: 'raw-old', partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20 }] }],
      });
      const p = res.responses[0].partitions[0];
      assert.equal(p.errorCode, ErrorCode.NONE);
      const buf: Buffer = p.records;
      // One message (offset 1, "b" = "two") in the old format, with a valid CRC-32.
      assert.equal(Number(buf.readBigInt64BE(0)), 1);
      const size = buf.readInt32BE(8);
      assert.equal(buf.length, 12 + size);
      assert.equal(buf.readInt8(16), magic);
      assert.equal(buf.readUInt32BE(12), crc32(buf.subarray(16)) >>> 0);
      assert.ok(buf.subarray(16).includes(Buffer.from('two')));
    }
  });

  it('ListOffsets v0 answers with old-style offset lists', async () => {
    await createTopic('raw-list', 1);
    const set = Buffer.concat([legacyMessage(0, 'a', '1'), legacyMessage(0, 'b', '2'), legacyMessage(0, 'c', '3')]);
    await call(ApiKey.Produce, 0, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'raw-list', partitionData: [{ index: 0, records: set }] }] });
    const list = async (timestamp: number, maxNumOffsets: number) =>
      (await call(ApiKey.ListOffsets, 0, { replicaId: -1, topics: [{ name: 'raw-list', partitions: [{ partitionIndex: 0, timestamp, maxNumOffsets }] }] }))
        .topics[0].partitions[0];
    assert.deepEqual((await list(-1, 1)).oldStyleOffsets, [3]);
    assert.deepEqual((await list(-1, 10)).oldStyleOffsets, [3, 0]);
    assert.deepEqual((await list(-2, 1)).oldStyleOffsets, [0]);
  });

  it('accepts the topic configs Kafka 4 removed, documents them as ignored and logs a warning', async () => {
    const res = await call(ApiKey.CreateTopics, 1, {
      topics: [
        {
          name: 'old-configs',
          numPartitions: 1,
          replicationFactor: 1,
          assignments: [],
          configs: [
            { name: 'message.format.version', value: '0.10.0' },
            { name: 'message.downconversion.enable', value: 'true' },
            { name: 'segment.bytes', value: '1000' },
          ],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(res.topics[0].errorCode, ErrorCode.NONE, JSON.stringify(res.topics[0]));
    const described = await call(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: 'old-configs', configurationKeys: ['message.format.version', 'segment.bytes'] }],
      includeSynonyms: false,
      includeDocumentation: true,
    });
    const byName = new Map<string, any>(described.results[0].configs.map((c: any) => [c.name, c]));
    assert.equal(byName.get('message.format.version').value, '0.10.0');
    assert.match(byName.get('message.format.version').documentation, /Removed in Kafka 4\.0.*ignored/);
    assert.equal(byName.get('segment.bytes').value, '1000');
    assert.ok(logLines.some((l) => /old-configs: config message\.format\.version was removed in Kafka 4\.0/.test(l)), logLines.join('\n'));
  });
});
