import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RecordErrorCode,
  assignOffsets,
  batchPositions,
  buildBatch,
  buildBatchSync,
  buildControlBatch,
  checkBatchAt,
  CorruptRecordError,
  decodeRecords,
  decodeRecordsSync,
  isBatchCrcValid,
  iterateRecords,
  parseControlRecordKey,
  parseEndTxnMarkerValue,
  readBatchHeader,
  setLogAppendTime,
  validateBatches,
  writeBatchCrc,
  type BatchInfo,
  type RecordInput,
} from '../../src/protocol/records/batch.js';
import {
  ATTRIBUTES,
  BATCH_LENGTH,
  CONTROL_FLAG,
  CRC,
  Compression,
  LAST_OFFSET_DELTA,
  MAGIC,
  RECORD_COUNT,
} from '../../src/protocol/records/layout.js';

const CODECS: [string, Compression][] = [
  ['none', Compression.None],
  ['gzip', Compression.Gzip],
  ['snappy', Compression.Snappy],
  ['lz4', Compression.Lz4],
  ['zstd', Compression.Zstd],
];

const T0 = 1_700_000_000_000;

function makeRecords(n: number): RecordInput[] {
  const out: RecordInput[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
      value: i % 11 === 0 ? null : Buffer.from(`value-${i}-`.repeat(1 + (i % 5))),
      headers:
        i % 3 === 0
          ? [
              { key: 'h1', value: Buffer.from([i & 0xff, 0, 255]) },
              { key: 'ключ', value: null },
              { key: 'h1', value: 'dup' },
            ]
          : [],
      timestamp: T0 + i * 3 - (i % 4 === 1 ? 50 : 0), // non-monotonic on purpose
    });
  }
  return out;
}

function ok(r: ReturnType<typeof validateBatches>): BatchInfo[] {
  if ('error' in r) assert.fail(`unexpected error ${r.error}: ${r.message}`);
  return r.batches;
}

function err(r: ReturnType<typeof validateBatches>): number {
  if (!('error' in r)) assert.fail('expected an error');
  return r.error;
}

for (const [name, codec] of CODECS) {
  test(`${name}: build → validate → decode round trip`, async () => {
    const input = makeRecords(500);
    const batch = await buildBatch({
      records: input,
      compression: codec,
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: 17,
      baseOffset: 0,
    });
    const [info] = ok(validateBatches(batch, 1 << 20));
    assert.equal(info!.size, batch.length);
    assert.equal(info!.position, 0);
    assert.equal(info!.compression, codec);
    assert.equal(info!.recordCount, 500);
    assert.equal(info!.lastOffsetDelta, 499);
    assert.equal(info!.producerId, 4242);
    assert.equal(info!.producerEpoch, 3);
    assert.equal(info!.baseSequence, 17);
    assert.equal(info!.isTransactional, false);
    assert.equal(info!.isControl, false);
    assert.equal(info!.baseTimestamp, T0);
    assert.equal(info!.maxTimestamp, Math.max(...input.map((r) => r.timestamp!)));

    assignOffsets(batch, 0, 1000, 7);
    const records = await decodeRecords(batch);
    assert.equal(records.length, 500);
    records.forEach((r, i) => {
      const src = input[i]!;
      assert.equal(r.offset, 1000 + i);
      assert.equal(r.offsetDelta, i);
      assert.equal(r.timestamp, src.timestamp);
      assert.deepEqual(r.key, src.key === null ? null : src.key);
      assert.deepEqual(r.value, src.value);
      assert.equal(r.attributes, 0);
      assert.deepEqual(
        r.headers.map((h) => [h.key, h.value?.toString('latin1') ?? null]),
        (src.headers ?? []).map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString('latin1')]),
      );
    });
    assert.deepEqual(decodeRecordsSync(batch), records);
    const sync = buildBatchSync({ records: input, compression: codec, producerId: 4242, producerEpoch: 3, baseSequence: 17 });
    assert.deepEqual(await iterateRecords(sync), await decodeRecords(await buildBatch({ records: input, compression: codec })));
  });
}

test('header fields, defaults and readBatchHeader', async () => {
  const b = buildBatchSync({ records: [{ key: 'k', value: 'v', timestamp: T0 }] });
  const h = readBatchHeader(b, 0);
  assert.deepEqual(
    { ...h, crc: 0 },
    {
      baseOffset: 0,
      batchLength: b.length - 12,
      partitionLeaderEpoch: -1,
      magic: 2,
      crc: 0,
      attributes: 0,
      lastOffsetDelta: 0,
      baseTimestamp: T0,
      maxTimestamp: T0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: 1,
    },
  );
  assert.ok(isBatchCrcValid(b));
  // large offsets survive int64 round trip
  assignOffsets(b, 0, 2 ** 40 + 5, 123456);
  const h2 = readBatchHeader(b);
  assert.equal(h2.baseOffset, 2 ** 40 + 5);
  assert.equal(h2.partitionLeaderEpoch, 123456);
  assert.equal((await decodeRecords(b))[0]!.offset, 2 ** 40 + 5);
});

test('empty and sparse batches (compaction shapes)', async () => {
  const sparse = await buildBatch({
    records: [
      { key: 'a', value: '1', offsetDelta: 0, timestamp: T0 },
      { key: 'b', value: '2', offsetDelta: 5, timestamp: T0 + 1 },
    ],
    lastOffsetDelta: 9,
  });
  const recs = await decodeRecords(sparse);
  assert.deepEqual(recs.map((r) => r.offsetDelta), [0, 5]);
  assert.equal(readBatchHeader(sparse).lastOffsetDelta, 9);
  assert.equal(checkBatchAt(sparse, 0), sparse.length);
  const empty = buildBatchSync({ records: [], lastOffsetDelta: 3, baseTimestamp: T0, maxTimestamp: T0 });
  assert.equal(readBatchHeader(empty).recordCount, 0);
  assert.deepEqual(await decodeRecords(empty), []);
  // produce validation rejects both (lastOffsetDelta != recordCount - 1 / empty)
  assert.equal(err(validateBatches(sparse, 1 << 20)), RecordErrorCode.INVALID_RECORD);
  assert.equal(err(validateBatches(empty, 1 << 20)), RecordErrorCode.INVALID_RECORD);
});

test('validateBatches walks several batches', async () => {
  const parts = [
    buildBatchSync({ records: makeRecords(3) }),
    await buildBatch({ records: makeRecords(10), compression: Compression.Zstd }),
    buildBatchSync({ records: makeRecords(1), compression: Compression.Gzip, isTransactional: true, producerId: 9, producerEpoch: 0, baseSequence: 0 }),
  ];
  const buf = Buffer.concat(parts);
  const infos = ok(validateBatches(buf, 1 << 20));
  assert.deepEqual(infos.map((i) => i.position), [0, parts[0]!.length, parts[0]!.length + parts[1]!.length]);
  assert.deepEqual(infos.map((i) => i.recordCount), [3, 10, 1]);
  assert.deepEqual(infos.map((i) => i.isTransactional), [false, false, true]);
  assert.deepEqual([...batchPositions(buf)].map(([p]) => p), infos.map((i) => i.position));
  // offsets assigned consecutively across batches, CRC untouched
  let next = 100;
  for (const i of infos) next = assignOffsets(buf, i.position, next, 2) + 1;
  assert.equal(next, 114);
  ok(validateBatches(buf, 1 << 20));
  const offsets = (await Promise.all(infos.map((i) => decodeRecords(buf, i.position)))).flat().map((r) => r.offset);
  assert.deepEqual(offsets, Array.from({ length: 14 }, (_, i) => 100 + i));
});

test('corruption: flipped CRC byte, flipped payload byte → CORRUPT_MESSAGE', () => {
  const good = buildBatchSync({ records: makeRecords(20) });
  const a = Buffer.from(good);
  a[CRC + 2]! ^= 0x01;
  assert.equal(err(validateBatches(a, 1 << 20)), RecordErrorCode.CORRUPT_MESSAGE);
  assert.equal(checkBatchAt(a, 0), -2);
  const b = Buffer.from(good);
  b[b.length - 5]! ^= 0x80;
  assert.equal(err(validateBatches(b, 1 << 20)), RecordErrorCode.CORRUPT_MESSAGE);
  // attributes are under the CRC too
  const c = Buffer.from(good);
  c[ATTRIBUTES + 1]! |= 0x10;
  assert.equal(err(validateBatches(c, 1 << 20)), RecordErrorCode.CORRUPT_MESSAGE);
});

test('corruption: truncated batches and bad lengths → CORRUPT_MESSAGE', () => {
  const good = buildBatchSync({ records: makeRecords(20) });
  for (const cut of [1, 10, 16, 17, 30, 61, good.length - 1]) {
    const r = validateBatches(good.subarray(0, cut), 1 << 20);
    assert.equal(err(r), RecordErrorCode.CORRUPT_MESSAGE, `cut at ${cut}`);
  }
  // second batch truncated
  const two = Buffer.concat([good, good.subarray(0, 40)]);
  const r = validateBatches(two, 1 << 20);
  assert.equal(err(r), RecordErrorCode.CORRUPT_MESSAGE);
  assert.equal((r as { position: number }).position, good.length);
  assert.equal(checkBatchAt(two, good.length), -1);
  // batchLength below header size / negative
  for (const len of [0, 48, -5]) {
    const x = Buffer.from(good);
    x.writeInt32BE(len, BATCH_LENGTH);
    assert.equal(err(validateBatches(x, 1 << 20)), RecordErrorCode.CORRUPT_MESSAGE, `len ${len}`);
  }
  assert.equal(err(validateBatches(Buffer.alloc(0), 1 << 20)), RecordErrorCode.INVALID_RECORD);
});

test('magic ≠ 2 → INVALID_RECORD (as Kafka answers Produce v3+)', () => {
  const good = buildBatchSync({ records: makeRecords(2) });
  for (const magic of [0, 1, 3]) {
    const x = Buffer.from(good);
    x[MAGIC] = magic;
    assert.equal(err(validateBatches(x, 1 << 20)), RecordErrorCode.INVALID_RECORD);
  }
  // a real legacy v1 message: offset, size, crc, magic=1, attributes, timestamp, key, value
  const v1 = Buffer.alloc(12 + 22 + 3);
  v1.writeInt32BE(25, 8);
  v1[16] = 1;
  v1.writeInt32BE(-1, 26);
  v1.writeInt32BE(3, 30);
  assert.equal(err(validateBatches(v1, 1 << 20)), RecordErrorCode.INVALID_RECORD);
});

test('singleBatch and apiVersion options', async () => {
  const one = buildBatchSync({ records: makeRecords(2) });
  const two = Buffer.concat([one, one]);
  ok(validateBatches(two, 1 << 20));
  ok(validateBatches(one, 1 << 20, { singleBatch: true }));
  const r = validateBatches(two, 1 << 20, { singleBatch: true });
  assert.equal(err(r), RecordErrorCode.INVALID_RECORD);
  assert.equal((r as { position: number }).position, one.length);
  const z = await buildBatch({ records: makeRecords(2), compression: Compression.Zstd });
  ok(validateBatches(z, 1 << 20, { apiVersion: 7 }));
  assert.equal(err(validateBatches(z, 1 << 20, { apiVersion: 6 })), RecordErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
});

test('oversize batch → MESSAGE_TOO_LARGE; exactly at the limit passes', () => {
  const b = buildBatchSync({ records: makeRecords(50) });
  assert.equal(err(validateBatches(b, b.length - 1)), RecordErrorCode.MESSAGE_TOO_LARGE);
  ok(validateBatches(b, b.length));
});

test('inconsistent counts, client control batches, bad codec → errors', () => {
  const b = buildBatchSync({ records: makeRecords(5) });
  const lod = Buffer.from(b);
  lod.writeInt32BE(3, LAST_OFFSET_DELTA);
  writeBatchCrc(lod);
  assert.equal(err(validateBatches(lod, 1 << 20)), RecordErrorCode.INVALID_RECORD);
  const cnt = Buffer.from(b);
  cnt.writeInt32BE(-1, RECORD_COUNT);
  writeBatchCrc(cnt);
  assert.equal(err(validateBatches(cnt, 1 << 20)), RecordErrorCode.INVALID_RECORD);
  const ctl = buildControlBatch({ producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: 0 });
  assert.equal(err(validateBatches(ctl, 1 << 20)), RecordErrorCode.INVALID_RECORD);
  const codec = Buffer.from(b);
  codec.writeInt16BE(5, ATTRIBUTES);
  writeBatchCrc(codec);
  assert.equal(err(validateBatches(codec, 1 << 20)), RecordErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  const txn = buildBatchSync({ records: makeRecords(1), isTransactional: true });
  assert.equal(err(validateBatches(txn, 1 << 20)), RecordErrorCode.INVALID_RECORD);
});

test('assignOffsets keeps the CRC valid', () => {
  const b = buildBatchSync({ records: makeRecords(10), compression: Compression.Lz4 });
  const crc = b.readUInt32BE(CRC);
  assert.equal(assignOffsets(b, 0, 123_456_789_012, 42), 123_456_789_012 + 9);
  assert.equal(b.readUInt32BE(CRC), crc);
  assert.ok(isBatchCrcValid(b));
  ok(validateBatches(b, 1 << 20));
});

test('setLogAppendTime sets the flag and maxTimestamp and recomputes the CRC', async () => {
  const b = await buildBatch({ records: makeRecords(10), compression: Compression.Snappy });
  const before = b.readUInt32BE(CRC);
  setLogAppendTime(b, 0, T0 + 99_999);
  assert.notEqual(b.readUInt32BE(CRC), before);
  assert.ok(isBatchCrcValid(b));
  const [info] = ok(validateBatches(b, 1 << 20));
  assert.equal(info!.maxTimestamp, T0 + 99_999);
  assert.equal(info!.attributes & 0x08, 0x08);
  for (const r of await decodeRecords(b)) assert.equal(r.timestamp, T0 + 99_999);
  // works at a non-zero position too
  const two = Buffer.concat([buildBatchSync({ records: makeRecords(2) }), buildBatchSync({ records: makeRecords(2) })]);
  const second = readBatchHeader(two).batchLength + 12;
  setLogAppendTime(two, second, 5);
  ok(validateBatches(two, 1 << 20));
  assert.equal(readBatchHeader(two, second).maxTimestamp, 5);
});

test('control batches: commit/abort markers', async () => {
  for (const commit of [true, false]) {
    const b = buildControlBatch({
      producerId: 77,
      producerEpoch: 4,
      commit,
      coordinatorEpoch: 12,
      baseOffset: 500,
      timestamp: T0,
      partitionLeaderEpoch: 3,
    });
    assert.equal(checkBatchAt(b, 0), b.length);
    const h = readBatchHeader(b);
    assert.equal(h.attributes, 0x10 | CONTROL_FLAG);
    assert.equal(h.producerId, 77);
    assert.equal(h.producerEpoch, 4);
    assert.equal(h.baseSequence, -1);
    assert.equal(h.baseOffset, 500);
    assert.equal(h.partitionLeaderEpoch, 3);
    const [rec] = await decodeRecords(b);
    assert.equal(rec!.offset, 500);
    assert.deepEqual(parseControlRecordKey(rec!.key!), { version: 0, type: commit ? 1 : 0 });
    assert.deepEqual(parseEndTxnMarkerValue(rec!.value!), { version: 0, coordinatorEpoch: 12 });
  }
  assert.throws(() => parseControlRecordKey(Buffer.alloc(2)), CorruptRecordError);
});

test('decodeRecords rejects malformed record sections', async () => {
  const good = buildBatchSync({ records: makeRecords(3) });
  // claim one more record than present
  const more = Buffer.from(good);
  more.writeInt32BE(4, RECORD_COUNT);
  await assert.rejects(decodeRecords(more), CorruptRecordError);
  // claim fewer: trailing data
  const fewer = Buffer.from(good);
  fewer.writeInt32BE(2, RECORD_COUNT);
  await assert.rejects(decodeRecords(fewer), CorruptRecordError);
  // garbage in the middle of the records
  const junk = Buffer.from(good);
  junk.fill(0xff, 70, 80);
  await assert.rejects(decodeRecords(junk), CorruptRecordError);
  await assert.rejects(decodeRecords(good.subarray(0, 40)), CorruptRecordError);
  // corrupt compressed payload
  const gz = buildBatchSync({ records: makeRecords(3), compression: Compression.Gzip });
  gz.fill(0, 70, 90);
  await assert.rejects(decodeRecords(gz));
});

test('string keys/values/headers are UTF-8 encoded', async () => {
  const b = buildBatchSync({ records: [{ key: 'ключ', value: '值', headers: [{ key: 'k', value: 'ü' }] }] });
  const [r] = await decodeRecords(b);
  assert.equal(r!.key!.toString(), 'ключ');
  assert.equal(r!.value!.toString(), '值');
  assert.equal(r!.headers[0]!.value!.toString(), 'ü');
});
