// Produce v0-2 carry message sets v0/v1 whose wrapper messages hold a compressed inner message
// set. Up-conversion inflates them with the same bound as v2 batches (a ratio limit capped by a
// multiple of max.message.bytes): a hand-built gzip wrapper that inflates to 256 MiB is refused
// with CORRUPT_MESSAGE before it is inflated, RSS stays put, and the broker keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32 } from '@node-rs/crc32';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { upconvertMessageSet } from '../../src/protocol/records/legacy.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const GZIP = 1;

/** One v1 message with its offset and size prefix. */
function messageV1(offset: number, attributes: number, key: Buffer | null, value: Buffer | null): Buffer {
  const size = 4 + 1 + 1 + 8 + 4 + (key?.length ?? 0) + 4 + (value?.length ?? 0);
  const out = Buffer.alloc(12 + size);
  out.writeBigInt64BE(BigInt(offset), 0);
  out.writeInt32BE(size, 8);
  let p = 16;
  out.writeInt8(1, p++); // magic
  out.writeInt8(attributes, p++);
  out.writeBigInt64BE(BigInt(Date.now()), p);
  p += 8;
  for (const b of [key, value]) {
    out.writeInt32BE(b === null ? -1 : b.length, p);
    p += 4;
    if (b) p += b.copy(out, p);
  }
  out.writeUInt32BE(crc32(out.subarray(16)) >>> 0, 12);
  return out;
}

/** Gzip of `total` zero bytes (a zero-filled allocation: its pages are only read, never touched). */
function gzipZeros(total: number): Buffer {
  return zlib.gzipSync(Buffer.alloc(total), { level: 9 });
}

describe('legacy message-set bombs (Produce v2)', () => {
  let broker: TestBroker;
  let client: RawClient;
  let correlationId = 1;
  const topic = 'legacy-bomb';

  async function produceV2(records: Buffer): Promise<{ errorCode: number; errorMessage?: string | null; baseOffset: number }> {
    const id = correlationId++;
    client.request(ApiKey.Produce, 2, id, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    const res = await client.response(ApiKey.Produce, 2);
    assert.ok(res, 'produce answered');
    assert.equal(res.correlationId, id);
    return res.body.responses[0].partitionResponses[0];
  }

  before(async () => {
    broker = await startTestBroker();
    await broker.broker.topics.create({ name: topic, numPartitions: 1, replicationFactor: -1 });
    client = await RawClient.open(broker.port);
  });
  after(async () => {
    client?.close();
    await broker?.dispose();
  });

  it('accepts a gzip wrapper of ordinary size', async () => {
    const inner = Buffer.concat([messageV1(0, 0, Buffer.from('k0'), Buffer.from('v0')), messageV1(1, 0, Buffer.from('k1'), Buffer.from('v1'))]);
    const r = await produceV2(messageV1(1, GZIP, null, zlib.gzipSync(inner)));
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    assert.equal(broker.broker.replicas.get(topic, 0)!.log.logEndOffset, 2);
  });

  it('refuses a gzip wrapper inflating to 256 MiB with CORRUPT_MESSAGE, without inflating it', async () => {
    const inflated = 256 * 1024 * 1024;
    const bomb = gzipZeros(inflated);
    assert.ok(bomb.length < 1024 * 1024, `bomb is ${bomb.length} bytes`);
    const single = messageV1(0, GZIP, null, bomb);
    // Many wrappers in one set: each alone under the bound, together far over it.
    const wrapper = zlib.gzipSync(messageV1(0, 0, null, Buffer.alloc(8 * 1024 * 1024)), { level: 9 });
    const many = Buffer.concat(Array.from({ length: 16 }, (_, i) => messageV1(i, GZIP, null, wrapper)));
    const rssBefore = process.memoryUsage().rss;
    for (const [what, set] of [['one wrapper', single], ['16 wrappers', many]] as const) {
      for (let i = 0; i < 3; i++) {
        const r = await produceV2(set);
        assert.ok(([ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD] as number[]).includes(r.errorCode), `${what}: got ${r.errorCode} ${r.errorMessage}`);
      }
      // Produce v2 has no error message: the reason is checked on the converter itself.
      assert.throws(() => upconvertMessageSet(set, 1024 * 1024), /limit/, `${what} refused for its size`);
    }
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1048576;
    assert.ok(grownMb < 100, `RSS grew by ${grownMb.toFixed(0)} MB while refusing ${inflated / 1048576} MiB bombs`);
    assert.equal(broker.broker.replicas.get(topic, 0)!.log.logEndOffset, 2, 'nothing appended');
  });

  it('keeps serving: a good v1 produce and a fetch afterwards', async () => {
    const r = await produceV2(messageV1(0, 0, Buffer.from('after'), Buffer.from('bomb')));
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    assert.equal(r.baseOffset, 2);
    const id = correlationId++;
    client.request(ApiKey.Fetch, 4, id, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    const res = await client.response(ApiKey.Fetch, 4);
    assert.ok(res);
    const p = res.body.responses[0].partitions[0];
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(Number(p.highWatermark), 3);
  });
});
