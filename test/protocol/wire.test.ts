// Hand-built wire fixtures (flexible versions, tagged fields, headers) and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, Writer, ProtocolError, ZERO_UUID } from '../../src/protocol/primitives.js';
import {
  ApiKey,
  decodeRequestHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  decodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/gen/index.js';
import { apiSpecs } from '../../src/protocol/gen/specs.js';
import { decodeApiVersionsRequest, decodeApiVersionsResponse, encodeApiVersionsResponse } from '../../src/protocol/gen/api-versions.js';
import { decodeMetadataRequest, encodeMetadataRequest } from '../../src/protocol/gen/metadata.js';
import { decodeProduceRequest, encodeProduceRequest } from '../../src/protocol/gen/produce.js';
import { decodeFetchRequest, encodeFetchRequest } from '../../src/protocol/gen/fetch.js';
import { ErrorCode, errorName, isRetriable } from '../../src/protocol/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('request header v2 keeps client_id as an int16 string; ApiVersions v3 body is compact', () => {
  // header: key 18, version 3, correlation 7, client_id "ab" (int16 length), no tags
  // body: compact "kc" (len+1 = 3), compact "1.0" (4), no tags
  const frame = hex('0012 0003 00000007 0002 6162 00   03 6b63 04 312e30 00');
  const r = new Reader(frame);
  const h = decodeRequestHeader(r, requestHeaderVersion(18, 3));
  assert.deepEqual(h, { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: 'ab' });
  const body = decodeApiVersionsRequest(r, 3);
  assert.deepEqual(body, { clientSoftwareName: 'kc', clientSoftwareVersion: '1.0', clusterId: null, nodeId: -1 });
  assert.equal(r.remaining(), 0);

  const w = new Writer();
  encodeRequestHeader(w, 2, h);
  assert.deepEqual(w.toBuffer(), frame.subarray(0, 13));
  // null client id
  const w2 = new Writer();
  encodeRequestHeader(w2, 1, { requestApiKey: 3, requestApiVersion: 1, correlationId: 1, clientId: null });
  assert.deepEqual(w2.toBuffer(), hex('0003 0001 00000001 ffff'));
});

test('header versions', () => {
  assert.equal(requestHeaderVersion(7, 0), 0); // ControlledShutdown v0 (removed in Kafka 4, no spec left)
  assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 9), 1);
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 8), 0);
  const spec = apiSpecs.get(ApiKey.Fetch)!;
  assert.equal(spec.name, 'Fetch');
  assert.equal(spec.firstFlexibleVersion, 12);
  assert.ok(spec.maxVersion >= 16);
  assert.equal(apiSpecs.get(ApiKey.SaslHandshake)!.firstFlexibleVersion, Infinity);

  const w = new Writer();
  encodeResponseHeader(w, 1, { correlationId: 99 });
  assert.deepEqual(w.toBuffer(), hex('00000063 00'));
  assert.deepEqual(decodeResponseHeader(new Reader(hex('00000063')), 0), { correlationId: 99 });
});

test('ApiVersionsResponse v3 tagged fields: known tags decode, unknown tags are skipped', () => {
  const bytes = hex(
    [
      '0000', // error code
      '02 0012 0000 0004 00', // compact array of 1 api: key 18, 0..4, no tags
      '00000000', // throttle
      '03', // 3 tagged fields
      '01 08 0000000000000005', // tag 1 FinalizedFeaturesEpoch = 5
      '02 0b 02 05 6d657461 0007 0001 00', // tag 2 FinalizedFeatures, 11 bytes: [{name "meta", max 7, min 1, no tags}]
      '09 03 aabbcc', // unknown tag 9, 3 bytes
    ].join(''),
  );
  const r = new Reader(bytes);
  const m = decodeApiVersionsResponse(r, 3);
  assert.equal(r.remaining(), 0);
  assert.deepEqual(m.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
  assert.equal(m.finalizedFeaturesEpoch, 5);
  assert.deepEqual(m.finalizedFeatures, [{ name: 'meta', maxVersionLevel: 7, minVersionLevel: 1 }]);
  assert.deepEqual(m.supportedFeatures, []);
  assert.equal(m.zkMigrationReady, false);

  // Re-encode: only non-default tags, ascending; the unknown tag is dropped.
  const w = new Writer();
  encodeApiVersionsResponse(w, 3, m);
  const expected = Buffer.concat([bytes.subarray(0, 14), hex('02'), bytes.subarray(15, 15 + 10 + 13)]);
  assert.deepEqual(w.toBuffer(), expected);

  // A default-valued tagged field is not written at all.
  const w2 = new Writer();
  encodeApiVersionsResponse(w2, 3, { apiKeys: [], finalizedFeaturesEpoch: -1, zkMigrationReady: false });
  assert.deepEqual(w2.toBuffer(), hex('0000 01 00000000 00'));
  // A bool tag round-trips.
  const w3 = new Writer();
  encodeApiVersionsResponse(w3, 4, { zkMigrationReady: true });
  assert.deepEqual(w3.toBuffer(), hex('0000 01 00000000 01 03 01 01'));
  assert.equal(decodeApiVersionsResponse(new Reader(w3.toBuffer()), 4).zkMigrationReady, true);
});

test('unknown tags inside nested structs are skipped', () => {
  const w = new Writer();
  encodeMetadataRequest(w, 12, { topics: [{ topicId: ZERO_UUID, name: 'abc' }], allowAutoTopicCreation: true });
  const plain = w.toBuffer();
  // layout: compact array (02) | uuid(16) | compact string 04 'abc' | topic tags 00 | bool | bool | tags 00
  assert.deepEqual(plain, hex(`02 ${'00'.repeat(16)} 04 616263 00 01 00 00`));
  const withTags = Buffer.concat([
    plain.subarray(0, 1 + 16 + 4),
    hex('02 05 02 dead 07 00'), // two unknown tags in the topic struct
    plain.subarray(22, 24),
    hex('01 1f 04 01020304'), // unknown tag 31 at top level
  ]);
  const r = new Reader(withTags);
  const m = decodeMetadataRequest(r, 12);
  assert.equal(r.remaining(), 0);
  assert.deepEqual(m.topics, [{ topicId: ZERO_UUID, name: 'abc' }]);
  assert.equal(m.allowAutoTopicCreation, true);
});

test('null vs empty compact arrays and nullable strings', () => {
  const w = new Writer();
  encodeMetadataRequest(w, 12, { topics: null });
  assert.equal(w.toBuffer()[0], 0);
  assert.equal(decodeMetadataRequest(new Reader(w.toBuffer()), 12).topics, null);
  const w2 = new Writer();
  encodeMetadataRequest(w2, 0, { topics: null }); // not nullable at v0: written empty
  assert.deepEqual(w2.toBuffer(), hex('00000000'));
  const w3 = new Writer();
  encodeMetadataRequest(w3, 1, {}); // default is an empty list (null must be explicit)
  assert.deepEqual(w3.toBuffer(), hex('00000000'));
  const w4 = new Writer();
  encodeMetadataRequest(w4, 1, { topics: null });
  assert.deepEqual(w4.toBuffer(), hex('ffffffff'));
});

test('records: chunk list written without concatenation, decoded as a slice', () => {
  const big = Buffer.alloc(4096, 7);
  const small = Buffer.from([1, 2, 3]);
  for (const v of [3, 9]) {
    const w = new Writer();
    encodeProduceRequest(w, v, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records: [small, big, small] }] }],
    });
    const chunks = w.toChunks();
    assert.ok(chunks.includes(big), 'large chunk is referenced, not copied');
    const buf = w.toBuffer();
    const m = decodeProduceRequest(new Reader(buf), v);
    const rec = m.topicData[0]!.partitionData[0]!.records!;
    assert.equal(rec.length, 4102);
    assert.equal(rec.buffer, buf.buffer);
    assert.deepEqual(rec, Buffer.concat([small, big, small]));
  }
  // null records
  const w = new Writer();
  encodeProduceRequest(w, 9, { topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }] });
  assert.equal(decodeProduceRequest(new Reader(w.toBuffer()), 9).topicData[0]!.partitionData[0]!.records, null);
});

test('malformed input throws ProtocolError', () => {
  // Every truncation of a valid request must throw ProtocolError (never RangeError).
  const w = new Writer();
  encodeFetchRequest(w, 13, {
    replicaId: -1,
    maxWaitMs: 500,
    topics: [{ topicId: Buffer.alloc(16, 1).toString('base64url'), partitions: [{ partition: 0, fetchOffset: 10 }] }],
    forgottenTopicsData: [{ topicId: ZERO_UUID, partitions: [1, 2] }],
    rackId: 'r',
    clusterId: 'c',
  });
  const full = w.toBuffer();
  assert.doesNotThrow(() => decodeFetchRequest(new Reader(full), 13));
  for (let n = 0; n < full.length; n++) {
    assert.throws(() => decodeFetchRequest(new Reader(full.subarray(0, n)), 13), ProtocolError, `cut at ${n}`);
  }
  const w2 = new Writer();
  encodeProduceRequest(w2, 3, { transactionalId: 'tx', acks: -1, topicData: [{ name: 'x', partitionData: [{ index: 1, records: Buffer.alloc(10) }] }] });
  const p = w2.toBuffer();
  for (let n = 0; n < p.length; n++) {
    assert.throws(() => decodeProduceRequest(new Reader(p.subarray(0, n)), 3), ProtocolError, `cut at ${n}`);
  }

  // bad lengths
  assert.throws(() => new Reader(hex('fffe')).nullableString(), ProtocolError);
  assert.throws(() => new Reader(hex('fffffffe')).nullableBytes(), ProtocolError);
  assert.throws(() => new Reader(hex('7fffffff')).bytes(), ProtocolError);
  assert.throws(() => new Reader(hex('0005 6162')).string(), ProtocolError);
  assert.throws(() => new Reader(hex('ffffffff ff')).uvarint(), ProtocolError);
  assert.throws(() => new Reader(hex('80 80')).uvarint(), ProtocolError);
  assert.throws(() => new Reader(hex('0010')).uuid(), ProtocolError);
  // array claiming more elements than bytes left
  assert.throws(() => decodeMetadataRequest(new Reader(hex('7fffffff 00')), 1), ProtocolError);
  assert.throws(() => decodeMetadataRequest(new Reader(hex('fffffffe')), 1), ProtocolError);
  assert.throws(() => decodeMetadataRequest(new Reader(hex('ffffffff0f')), 12), ProtocolError);
  // tagged field whose size runs past the buffer
  assert.throws(() => decodeApiVersionsRequest(new Reader(hex('01 01 01 05 10 aa')), 3), ProtocolError);
  // invalid uuid text on encode
  assert.throws(() => new Writer().uuid('not-a-uuid'), ProtocolError);
});

test('primitives: integers, varints, uuid, strings', () => {
  const w = new Writer(4);
  w.int8(-2);
  w.int16(-300);
  w.uint16(65535);
  w.int32(-5);
  w.uint32(4294967295);
  w.int64(-1);
  w.int64(2 ** 53 - 1);
  w.int64(-(2 ** 53) + 1);
  w.int64(9223372036854775807);
  w.float64(-1.5);
  w.bool(true);
  w.uvarint(300);
  w.varint(-1);
  w.varint(-2147483648);
  w.varlong(-(2 ** 40));
  w.uuid('AQIDBAUGBwgJCgsMDQ4PEA');
  w.string('héllo');
  w.compactString('x'.repeat(200));
  w.compactNullableString(null);
  w.nullableBytes(null);
  const h = w.reserveInt32();
  w.raw(Buffer.alloc(1000, 9));
  w.int8(1);
  w.patchInt32(h, 0x01020304);
  const r = new Reader(w.toBuffer());
  assert.equal(r.int8(), -2);
  assert.equal(r.int16(), -300);
  assert.equal(r.uint16(), 65535);
  assert.equal(r.int32(), -5);
  assert.equal(r.uint32(), 4294967295);
  assert.equal(r.int64(), -1);
  assert.equal(r.int64(), 2 ** 53 - 1);
  assert.equal(r.int64(), -(2 ** 53) + 1);
  assert.equal(r.int64(), 2 ** 63);
  assert.equal(r.float64(), -1.5);
  assert.equal(r.bool(), true);
  assert.equal(r.uvarint(), 300);
  assert.equal(r.varint(), -1);
  assert.equal(r.varint(), -2147483648);
  assert.equal(r.varlong(), -(2 ** 40));
  assert.equal(r.uuid(), 'AQIDBAUGBwgJCgsMDQ4PEA');
  assert.equal(r.string(), 'héllo');
  assert.equal(r.compactString(), 'x'.repeat(200));
  assert.equal(r.compactNullableString(), null);
  assert.equal(r.nullableBytes(), null);
  assert.equal(r.int32(), 0x01020304);
  assert.deepEqual(r.slice(1000), Buffer.alloc(1000, 9));
  assert.equal(r.int8(), 1);
  assert.equal(r.remaining(), 0);
  assert.equal(ZERO_UUID, Buffer.alloc(16).toString('base64url'));
});

test('errors table', () => {
  assert.equal(ErrorCode.NONE, 0);
  assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(errorName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER), true);
  assert.equal(isRetriable(ErrorCode.TOPIC_AUTHORIZATION_FAILED), false);
});
