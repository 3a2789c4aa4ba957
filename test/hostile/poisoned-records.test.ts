// Records are checked before they are appended (Kafka's LogValidator): a batch whose header
// lies about its records, whose record framing runs off the batch, or whose compressed data is a
// decompression bomb is refused with CORRUPT_MESSAGE / INVALID_RECORD. The partition stays
// readable to its end by kcat, and the broker never makes a big allocation for it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch, writeBatchCrc } from '../../src/protocol/records/batch.js';
import { compressSync } from '../../src/protocol/records/compression.js';
import { BASE_TIMESTAMP, Compression, LAST_OFFSET_DELTA, MAX_TIMESTAMP, PRODUCER_ID, RECORD_COUNT, RECORDS } from '../../src/protocol/records/layout.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { runChild } from '../e2e/run-child.js';

/** A valid batch of `n` keyed records whose records section is replaced by `section`. */
async function withSection(codec: Compression, section: Buffer, recordCount: number): Promise<Buffer> {
  const template = await buildBatch({ records: [{ key: 'k', value: 'v' }], compression: Compression.None });
  const b = Buffer.concat([template.subarray(0, RECORDS), section]);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt16BE(codec, 21);
  b.writeInt32BE(recordCount, RECORD_COUNT);
  b.writeInt32BE(recordCount - 1, LAST_OFFSET_DELTA);
  writeBatchCrc(b, 0);
  return b;
}

describe('poisoned record batches', () => {
  let broker: TestBroker;
  let client: RawClient;
  let correlationId = 1;
  const topics = ['poison-plain', 'poison-compact', 'poison-zstd'];

  async function produce(topic: string, records: Buffer): Promise<{ errorCode: number; errorMessage: string | null; baseOffset: number }> {
    const id = correlationId++;
    client.request(ApiKey.Produce, 9, id, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    const res = await client.response(ApiKey.Produce, 9);
    assert.ok(res, 'produce answered');
    assert.equal(res.correlationId, id);
    return res.body.responses[0].partitionResponses[0];
  }

  before(async () => {
    broker = await startTestBroker();
    await broker.broker.topics.create({ name: 'poison-plain', numPartitions: 1, replicationFactor: -1 });
    await broker.broker.topics.create({ name: 'poison-compact', numPartitions: 1, replicationFactor: -1, configs: { 'cleanup.policy': 'compact' } });
    await broker.broker.topics.create({ name: 'poison-zstd', numPartitions: 1, replicationFactor: -1, configs: { 'compression.type': 'zstd' } });
    client = await RawClient.open(broker.port);
  });
  after(async () => {
    client?.close();
    await broker?.dispose();
  });

  it('accepts good batches of every codec', async () => {
    for (const topic of topics) {
      for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
        const batch = await buildBatch({ records: [{ key: 'a', value: 'x'.repeat(200), headers: [{ key: 'h', value: 'v' }] }, { key: 'b', value: null }], compression: codec });
        const r = await produce(topic, batch);
        assert.equal(r.errorCode, ErrorCode.NONE, `${topic} codec ${codec}: ${r.errorMessage}`);
      }
    }
  });

  it('refuses recordCount=2147483647 without moving the end offset', async () => {
    for (const topic of topics) {
      const endBefore = broker.broker.replicas.get(topic, 0)!.log.logEndOffset;
      const good = await buildBatch({ records: [{ key: 'k', value: 'v' }] });
      const bad = await withSection(Compression.None, good.subarray(RECORDS), 2147483647);
      const r = await produce(topic, bad);
      assert.equal(r.errorCode, ErrorCode.INVALID_RECORD, r.errorMessage ?? '');
      assert.equal(broker.broker.replicas.get(topic, 0)!.log.logEndOffset, endBefore);
    }
  });

  it('refuses records whose framing runs past the batch, and trailing bytes', async () => {
    const good = await buildBatch({ records: [{ key: 'k', value: 'value' }, { key: 'k2', value: 'value2' }] });
    const section = Buffer.from(good.subarray(RECORDS));
    const longLength = Buffer.from(section);
    longLength[0] = 0x7e; // record length 63: past the end of the batch
    const truncated = section.subarray(0, section.length - 3);
    const trailing = Buffer.concat([section, Buffer.from([0, 0, 0])]);
    const badKeyLength = Buffer.from(section);
    badKeyLength[4] = 0x7f; // key length -64
    for (const [what, s] of [['long length', longLength], ['truncated', truncated], ['trailing', trailing], ['key length', badKeyLength]] as const) {
      const r = await produce('poison-plain', await withSection(Compression.None, s, 2));
      assert.ok(([ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD] as number[]).includes(r.errorCode), `${what}: got ${r.errorCode}`);
    }
    // A header that says 3 records when 2 are present.
    const r = await produce('poison-plain', await withSection(Compression.None, section, 3));
    assert.equal(r.errorCode, ErrorCode.INVALID_RECORD);
  });

  it('refuses zstd, gzip, lz4 and snappy bombs with CORRUPT_MESSAGE and no big allocation', async () => {
    const zeros = Buffer.alloc(256 * 1024 * 1024);
    const bombs: [string, Compression, Buffer][] = [
      ['zstd', Compression.Zstd, compressSync(Compression.Zstd, zeros, 19)],
      ['gzip', Compression.Gzip, zlib.gzipSync(zeros, { level: 9 })],
      ['lz4', Compression.Lz4, compressSync(Compression.Lz4, zeros.subarray(0, 64 * 1024 * 1024))],
      // Raw snappy whose length preamble claims 4 GiB.
      ['snappy', Compression.Snappy, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41])],
    ];
    const rssBefore = process.memoryUsage().rss;
    for (const topic of topics) {
      for (const [name, codec, data] of bombs) {
        const r = await produce(topic, await withSection(codec, data, 1));
        assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE, `${topic} ${name}: ${r.errorMessage}`);
        assert.match(r.errorMessage ?? '', /limit/, `${name} refused for its size`);
      }
    }
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1048576;
    assert.ok(grownMb < 150, `RSS grew by ${grownMb.toFixed(0)} MB while refusing bombs`);
  });

  it('keeps every partition readable to its end by kcat', async () => {
    for (const topic of topics) {
      const end = broker.broker.replicas.get(topic, 0)!.log.logEndOffset;
      const r = await runChild('kcat', ['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o\n'], { timeoutMs: 20_000 });
      assert.equal(r.timedOut, false);
      assert.equal(r.code, 0, r.stderr);
      const offsets = r.stdout.trim().split('\n').map(Number);
      assert.equal(offsets.length, end, `${topic}: kcat read ${offsets.length} of ${end} records (${r.stderr})`);
      assert.equal(offsets.at(-1), end - 1);
    }
  });
});

// readInt64 turns Long.MAX into 2^63 (the nearest double); every place that writes such a value
// back (producer-state snapshot at a roll and at shutdown, time index, aborted-txn index) must
// not throw, or one client's batch makes the partition's rolls and the broker's shutdown fail.
describe('int64 extremes in batch headers', () => {
  it('a producer id and timestamps of Long.MAX survive a roll, a clean shutdown and a restart', async () => {
    let broker = await startTestBroker();
    const dataDir = broker.dataDir;
    const topic = 'extremes';
    await broker.broker.topics.create({ name: topic, numPartitions: 1, replicationFactor: -1, configs: { 'message.timestamp.after.max.ms': '9223372036854775807' } });
    const produce = async (port: number, seq: number, id: number): Promise<number> => {
      const b = await buildBatch({ records: [{ key: 'k', value: `v${seq}` }], producerId: 1, producerEpoch: 0, baseSequence: seq });
      b.writeBigInt64BE(0x7fffffffffffffffn, PRODUCER_ID);
      b.writeBigInt64BE(0x7fffffffffffffffn, BASE_TIMESTAMP);
      b.writeBigInt64BE(0x7fffffffffffffffn, MAX_TIMESTAMP);
      writeBatchCrc(b, 0);
      const c = await RawClient.open(port);
      try {
        c.request(ApiKey.Produce, 9, id, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: b }] }] });
        const res = await c.response(ApiKey.Produce, 9);
        return res!.body.responses[0].partitionResponses[0].errorCode;
      } finally {
        c.close();
      }
    };
    try {
      assert.equal(await produce(broker.port, 0, 1), ErrorCode.NONE);
      broker.broker.replicas.get(topic, 0)!.log.roll(); // serializes the producer state
      assert.equal(await produce(broker.port, 1, 2), ErrorCode.NONE);
      await broker.close(); // the shutdown snapshot and index writes
      broker = await startTestBroker({}, dataDir);
      // The restarted broker knows the producer: sequence 2 is next, a replay of 1 is a duplicate.
      assert.equal(await produce(broker.port, 2, 3), ErrorCode.NONE);
      const r = await runChild('kcat', ['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\n'], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['0 v0', '1 v1', '2 v2']);
    } finally {
      await broker.dispose();
    }
  });
});
