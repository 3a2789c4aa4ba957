import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  VarReader,
  VarintError,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from '../../src/protocol/records/varint.js';
import { crc32c } from '../../src/protocol/records/crc.js';

test('varint: zig-zag encodings of known values', () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [-2, [0x03]],
    [63, [0x7e]],
    [-64, [0x7f]],
    [64, [0x80, 0x01]],
    [300, [0xd8, 0x04]],
    [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [v, bytes] of cases) {
    const buf = Buffer.alloc(10);
    const end = writeVarint(buf, 0, v);
    assert.deepEqual([...buf.subarray(0, end)], bytes, `encode ${v}`);
    assert.equal(sizeOfVarint(v), bytes.length);
    const r = new VarReader(buf, 0, end);
    assert.equal(r.varint(), v);
    assert.equal(r.pos, end);
  }
});

test('varint/varlong: round trip over a range of values', () => {
  const buf = Buffer.alloc(16);
  const ints = [0, 1, -1, 127, 128, -129, 16383, 16384, 1 << 20, -(1 << 27), 2 ** 31 - 1, -(2 ** 31)];
  for (const v of ints) {
    const end = writeVarint(buf, 0, v);
    assert.equal(end, sizeOfVarint(v));
    assert.equal(new VarReader(buf).varint(), v);
  }
  const longs = [
    ...ints,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 35 + 7,
    -(2 ** 40) - 3,
    1_700_000_000_000,
    -1_700_000_000_000,
    Number.MAX_SAFE_INTEGER >> 0,
    2 ** 52 - 1,
    -(2 ** 52),
  ];
  for (const v of longs) {
    const end = writeVarlong(buf, 0, v);
    assert.equal(end, sizeOfVarlong(v), `size of ${v}`);
    const r = new VarReader(buf);
    assert.equal(r.varlong(), v, `varlong ${v}`);
    assert.equal(r.pos, end);
  }
});

test('varlong matches a BigInt reference encoder', () => {
  const ref = (v: bigint): number[] => {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const out: number[] = [];
    while (u >= 0x80n) {
      out.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    out.push(Number(u));
    return out;
  };
  const buf = Buffer.alloc(16);
  for (let i = 0; i < 2000; i++) {
    const mag = Math.floor(Math.random() * 2 ** (Math.floor(Math.random() * 52)));
    const v = Math.random() < 0.5 && mag !== 0 ? -mag : mag;
    const end = writeVarlong(buf, 0, v);
    assert.deepEqual([...buf.subarray(0, end)], ref(BigInt(v)), `value ${v}`);
    assert.equal(new VarReader(buf).varlong(), v);
  }
  // -1 as the 10-byte form some encoders emit for int64 zig-zag of large values
  const max = Buffer.from(ref(-(2n ** 62n)));
  assert.equal(new VarReader(max).varlong(), -(2 ** 62));
});

test('varint: truncated and overlong input throw', () => {
  assert.throws(() => new VarReader(Buffer.from([0x80])).varint(), VarintError);
  assert.throws(() => new VarReader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).varint(), VarintError);
  assert.throws(() => new VarReader(Buffer.from([0xff, 0xff])).varlong(), VarintError);
  assert.throws(() => new VarReader(Buffer.alloc(11, 0xff)).varlong(), VarintError);
  // end bound is respected
  assert.throws(() => new VarReader(Buffer.from([0x80, 0x01]), 0, 1).varint(), VarintError);
});

test('crc32c: known vectors and ranges', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  const b = Buffer.from('xx123456789yy');
  assert.equal(crc32c(b, 2, 11), 0xe3069283);
  assert.equal(crc32c(b, 5, 5), 0);
});
