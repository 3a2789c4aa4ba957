import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as snappy from 'snappy';
import {
  CompressionError,
  XERIAL_BLOCK_SIZE,
  compress,
  compressSync,
  decompress,
  decompressSync,
  isXerial,
  snappyCompressSync,
  snappyDecompress,
  snappyDecompressSync,
  zstdImplementation,
} from '../../src/protocol/records/compression.js';
import { Compression } from '../../src/protocol/records/layout.js';

const CODECS: [string, Compression][] = [
  ['none', Compression.None],
  ['gzip', Compression.Gzip],
  ['snappy', Compression.Snappy],
  ['lz4', Compression.Lz4],
  ['zstd', Compression.Zstd],
];

function sample(size: number): Buffer {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; ');
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = text[i % text.length]!;
  // sprinkle some entropy so not everything collapses
  randomBytes(Math.min(64, size)).copy(b, Math.floor(size / 2));
  return b;
}

for (const [name, codec] of CODECS) {
  test(`${name}: async round trip (empty, small, multi-block)`, async () => {
    for (const size of [0, 1, 100, XERIAL_BLOCK_SIZE + 17, 300_000]) {
      const data = sample(size);
      const c = await compress(codec, data);
      assert.deepEqual(await decompress(codec, c), data, `size ${size}`);
      if (codec !== Compression.Zstd) assert.deepEqual(decompressSync(codec, c), data);
    }
  });
  if (codec !== Compression.Zstd) {
    test(`${name}: sync round trip`, () => {
      const data = sample(70_000);
      assert.deepEqual(decompressSync(codec, compressSync(codec, data)), data);
    });
  }
}

test('zstd: the sync variants interoperate with the async codec, and reject garbage', async () => {
  const data = Buffer.from('zstd sync and async speak the same frames '.repeat(200));
  assert.deepEqual(await decompress(Compression.Zstd, compressSync(Compression.Zstd, data)), data);
  assert.deepEqual(decompressSync(Compression.Zstd, await compress(Compression.Zstd, data)), data);
  assert.throws(() => decompressSync(Compression.Zstd, Buffer.from('not a zstd frame')), CompressionError);
});

test('snappy: we write xerial framing like the Java client', async () => {
  const data = sample(100_000);
  const c = snappyCompressSync(data);
  assert.ok(isXerial(c));
  assert.equal(c.readInt32BE(8), 1);
  assert.equal(c.readInt32BE(12), 1);
  // first block holds 32 KiB of input, raw snappy
  const len = c.readInt32BE(16);
  const first = snappy.uncompressSync(c.subarray(20, 20 + len)) as Buffer;
  assert.deepEqual(first, data.subarray(0, XERIAL_BLOCK_SIZE));
  assert.ok(isXerial(await compress(Compression.Snappy, data)));
});

/** Raw snappy block made by hand: varint length, then one literal element (len <= 60). */
function handLiteral(text: string): Buffer {
  const lit = Buffer.from(text);
  assert.ok(lit.length > 0 && lit.length <= 60 && lit.length < 128);
  return Buffer.concat([Buffer.from([lit.length, (lit.length - 1) << 2]), lit]);
}

test('snappy: decode a hand-made xerial frame (two blocks) and a concatenated stream', async () => {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const b1 = handLiteral('hello, ');
  const b2 = handLiteral('xerial world');
  const lenOf = (b: Buffer) => {
    const l = Buffer.alloc(4);
    l.writeInt32BE(b.length);
    return l;
  };
  const frame = Buffer.concat([header, lenOf(b1), b1, lenOf(b2), b2]);
  assert.equal(snappyDecompressSync(frame).toString(), 'hello, xerial world');
  assert.equal((await decompress(Compression.Snappy, frame)).toString(), 'hello, xerial world');
  // Java's SnappyInputStream also accepts a second header mid-stream (concatenated streams)
  const concatenated = Buffer.concat([header, lenOf(b1), b1, header, lenOf(b2), b2]);
  assert.equal(snappyDecompressSync(concatenated).toString(), 'hello, xerial world');
  // truncated block
  assert.throws(() => snappyDecompressSync(frame.subarray(0, frame.length - 3)), CompressionError);
  await assert.rejects(snappyDecompress(frame.subarray(0, frame.length - 3)), CompressionError);
});

test('snappy: decode raw (unframed) snappy, hand-made and library-made', async () => {
  assert.equal(snappyDecompressSync(handLiteral('raw snappy here')).toString(), 'raw snappy here');
  const data = sample(50_000);
  const raw = snappy.compressSync(data);
  assert.ok(!isXerial(raw));
  assert.deepEqual(snappyDecompressSync(raw), data);
  assert.deepEqual(await decompress(Compression.Snappy, raw), data);
});

test('zstd: decodes a frame without content size (hand-made raw-block frame)', async () => {
  const payload = Buffer.from('zstd frame with no content size field');
  // magic | FHD 0x00 (no FCS, not single-segment, no checksum) | window descriptor 0x00 (1 KiB)
  // | block header: last=1, type=raw(0), size=payload.length (3 bytes little endian)
  const bh = (payload.length << 3) | 1;
  const frame = Buffer.concat([
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]),
    payload,
  ]);
  assert.deepEqual(await decompress(Compression.Zstd, frame), payload);
});

test('zstd: our frames carry no content size and still decode', async () => {
  const data = sample(1_000_000);
  const c = await compress(Compression.Zstd, data);
  assert.equal(c.readUInt32LE(0), 0xfd2fb528);
  const fhd = c[4]!;
  assert.equal(fhd >> 6, 0, 'FCS flag');
  assert.equal((fhd >> 5) & 1, 0, 'single segment');
  assert.deepEqual(await decompress(Compression.Zstd, c), data);
});

test('lz4: frame header is LZ4 frame format with independent blocks', async () => {
  const c = await compress(Compression.Lz4, sample(1000));
  assert.equal(c.readUInt32LE(0), 0x184d2204);
  const flg = c[4]!;
  assert.equal(flg >> 6, 1, 'version 01');
  assert.equal((flg >> 5) & 1, 1, 'block independence (Java KafkaLZ4BlockInputStream needs it)');
});

test('corrupt input raises CompressionError for every codec', async () => {
  const junk = Buffer.from('definitely not compressed data at all, no magic');
  for (const [name, codec] of CODECS) {
    if (codec === Compression.None) continue;
    await assert.rejects(decompress(codec, junk), CompressionError, name);
  }
});

// Interop with the reference command line tools, when installed (stdin streaming encoders
// write frames without a content size, like librdkafka's and zstd-jni's streaming modes).
function cli(cmd: string, args: string[], input: Buffer): Buffer | null {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) return null;
  return r.stdout;
}
const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const hasLz4 = spawnSync('lz4', ['--version']).status === 0;

test('zstd CLI interop (streaming frame without content size)', async () => {
  assert.ok(hasZstd, 'the zstd CLI is missing: run scripts/setup-test-clients.sh');
  const data = sample(500_000);
  const c = cli('zstd', ['-q', '-c', '-3'], data)!;
  assert.ok(c);
  assert.equal(c[4]! >> 6, 0, 'CLI from stdin writes no content size');
  assert.deepEqual(await decompress(Compression.Zstd, c), data);
  assert.deepEqual(cli('zstd', ['-d', '-q', '-c'], await compress(Compression.Zstd, data)), data);
});

test('lz4 CLI interop (both directions, with and without checksums)', async () => {
  assert.ok(hasLz4, 'the lz4 CLI is missing: run scripts/setup-test-clients.sh');
  const data = sample(500_000);
  for (const args of [['-q', '-c'], ['-q', '-c', '-B4', '-BX', '--content-size'], ['-q', '-c', '-BD']]) {
    const c = cli('lz4', args, data)!;
    assert.ok(c, args.join(' '));
    assert.deepEqual(await decompress(Compression.Lz4, c), data, args.join(' '));
    assert.deepEqual(decompressSync(Compression.Lz4, c), data, args.join(' '));
  }
  assert.deepEqual(cli('lz4', ['-d', '-q', '-c'], await compress(Compression.Lz4, data)), data);
});

test('gzip: decodes concatenated members like java.util.zip does', async () => {
  const { gzipSync } = await import('node:zlib');
  const c = Buffer.concat([gzipSync('abc'), gzipSync('def')]);
  assert.equal((await decompress(Compression.Gzip, c)).toString(), 'abcdef');
});

test('zstd: node:zlib on Node 22.15+, the prebuilt binding before, one library in package.json', async () => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const expected = major > 22 || (major === 22 && minor >= 15) ? 'node:zlib' : '@toondepauw/node-zstd';
  assert.equal(zstdImplementation(), expected);
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  assert.deepEqual(Object.keys(pkg.dependencies).filter((d) => /zstd/.test(d)), ['@toondepauw/node-zstd']);
});
