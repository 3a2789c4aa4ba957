// Compression codecs for the records section of a v2 batch.
//   gzip   node:zlib
//   snappy raw snappy (napi `snappy`), plus Java's "xerial" framing: decoded always when the
//          magic header is present, written by default (Java and librdkafka both read it)
//   lz4    LZ4 frame format (lz4-napi / lz4_flex), independent blocks, as Kafka expects
//   zstd   node:zlib's zstd when the running Node has it (22.15+), else the prebuilt
//          @toondepauw/node-zstd; both decode frames without a content-size field (streaming
//          encoders, e.g. librdkafka / zstd-jni) and have sync and async forms.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';
import type * as SnappyModule from 'snappy';
import type * as Lz4Module from 'lz4-napi';
import { Compression } from './layout.js';

// The native codecs load on first use: the produce and fetch paths never decompress, and each
// addon costs several MB of resident memory at startup.
const requireNative = createRequire(import.meta.url);
let snappyModule: typeof SnappyModule | undefined;
let lz4Module: typeof Lz4Module | undefined;

interface ZstdCodec {
  compress(data: Buffer, level: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
  compressSync(data: Buffer, level: number): Buffer;
  decompressSync(data: Buffer): Buffer;
}
/** node:zlib's zstd API (Node 22.15+; not in the Node 20 type definitions). */
interface ZlibZstd {
  zstdCompress(data: Buffer, opts: object, cb: (err: Error | null, out: Buffer) => void): void;
  zstdDecompress(data: Buffer, cb: (err: Error | null, out: Buffer) => void): void;
  zstdCompressSync(data: Buffer, opts: object): Buffer;
  zstdDecompressSync(data: Buffer): Buffer;
  constants: { ZSTD_c_compressionLevel: number };
}
interface NodeZstdLib {
  Encoder: new (level: number) => { encode(data: Buffer): Promise<Buffer>; encodeSync(data: Buffer): Buffer };
  Decoder: new () => { decode(data: Buffer): Promise<Buffer>; decodeSync(data: Buffer): Buffer };
}
let zstdCodec: ZstdCodec | undefined;

function zlibZstd(z: ZlibZstd): ZstdCodec {
  const opts = (level: number) => ({ params: { [z.constants.ZSTD_c_compressionLevel]: level } });
  const compress = promisify((data: Buffer, o: object, cb: (err: Error | null, out: Buffer) => void) => z.zstdCompress(data, o, cb));
  const decompress = promisify((data: Buffer, cb: (err: Error | null, out: Buffer) => void) => z.zstdDecompress(data, cb));
  return {
    compress: (data, level) => compress(data, opts(level)),
    decompress: (data) => decompress(data),
    compressSync: (data, level) => z.zstdCompressSync(data, opts(level)),
    decompressSync: (data) => z.zstdDecompressSync(data),
  };
}

function nodeZstd(lib: NodeZstdLib): ZstdCodec {
  const encoders = new Map<number, InstanceType<NodeZstdLib['Encoder']>>();
  const encoder = (level: number) => {
    let e = encoders.get(level);
    if (!e) encoders.set(level, (e = new lib.Encoder(level)));
    return e;
  };
  const decoder = new lib.Decoder();
  return {
    compress: (data, level) => encoder(level).encode(data),
    decompress: (data) => decoder.decode(data),
    compressSync: (data, level) => encoder(level).encodeSync(data),
    decompressSync: (data) => decoder.decodeSync(data),
  };
}

/** Which zstd implementation this process uses: 'node:zlib' or '@toondepauw/node-zstd'. */
export function zstdImplementation(): string {
  return typeof (zlib as unknown as Partial<ZlibZstd>).zstdCompressSync === 'function' ? 'node:zlib' : '@toondepauw/node-zstd';
}

function zstd(): ZstdCodec {
  return (zstdCodec ??=
    zstdImplementation() === 'node:zlib'
      ? zlibZstd(zlib as unknown as ZlibZstd)
      : nodeZstd(requireNative('@toondepauw/node-zstd') as NodeZstdLib));
}

const codecs = {
  get snappy(): typeof SnappyModule {
    return (snappyModule ??= requireNative('snappy') as typeof SnappyModule);
  },
  get lz4(): typeof Lz4Module {
    return (lz4Module ??= requireNative('lz4-napi') as typeof Lz4Module);
  },
};

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

export class CompressionError extends Error {}

/** Default zstd level (Kafka's default compression.zstd.level is 3). */
const ZSTD_DEFAULT_LEVEL = 3;

// ---------------------------------------------------------------- xerial snappy framing

/** 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic (8) + version int32 + compatible version int32. */
export const XERIAL_HEADER_SIZE = 16;
/** Block size used by Java's SnappyOutputStream by default. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < 8; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

function startsWithXerialMagic(data: Uint8Array, pos: number): boolean {
  if (data.length - pos < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < 8; i++) if (data[pos + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Splits a xerial stream into its raw snappy blocks (views, no copies). */
function xerialBlocks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    // Java's SnappyInputStream accepts concatenated streams, each with its own header.
    if (startsWithXerialMagic(data, pos)) {
      pos += XERIAL_HEADER_SIZE;
      continue;
    }
    if (data.length - pos < 4) throw new CompressionError('xerial snappy: truncated block length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > data.length - pos) throw new CompressionError('xerial snappy: truncated block');
    blocks.push(data.subarray(pos, pos + len));
    pos += len;
  }
  return blocks;
}

function xerialHeader(): Buffer {
  const h = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(h, 0);
  h.writeInt32BE(1, 8); // version
  h.writeInt32BE(1, 12); // minimum compatible version
  return h;
}

function joinXerial(compressedBlocks: Buffer[]): Buffer {
  let size = XERIAL_HEADER_SIZE;
  for (const b of compressedBlocks) size += 4 + b.length;
  const out = Buffer.allocUnsafe(size);
  xerialHeader().copy(out, 0);
  let pos = XERIAL_HEADER_SIZE;
  for (const b of compressedBlocks) {
    out.writeInt32BE(b.length, pos);
    pos += 4;
    b.copy(out, pos);
    pos += b.length;
  }
  return out;
}

function splitBlocks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    blocks.push(data.subarray(pos, Math.min(pos + XERIAL_BLOCK_SIZE, data.length)));
  }
  return blocks;
}

function asBuffer(x: string | Buffer): Buffer {
  return typeof x === 'string' ? Buffer.from(x) : x;
}

/** Snappy decode: xerial-framed (Java) when the magic header is present, else raw snappy. */
export function snappyDecompressSync(data: Buffer): Buffer {
  try {
    if (!isXerial(data)) return asBuffer(codecs.snappy.uncompressSync(data));
    const blocks = xerialBlocks(data);
    if (blocks.length === 1) return asBuffer(codecs.snappy.uncompressSync(blocks[0]!));
    return Buffer.concat(blocks.map((b) => asBuffer(codecs.snappy.uncompressSync(b))));
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(`snappy: ${(e as Error).message}`);
  }
}

export async function snappyDecompress(data: Buffer): Promise<Buffer> {
  try {
    if (!isXerial(data)) return asBuffer(await codecs.snappy.uncompress(data));
    const parts = await Promise.all(xerialBlocks(data).map((b) => codecs.snappy.uncompress(b)));
    return parts.length === 1 ? asBuffer(parts[0]!) : Buffer.concat(parts.map(asBuffer));
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(`snappy: ${(e as Error).message}`);
  }
}

/** Snappy encode. `xerial` (default true) writes Java's framing; false writes raw snappy. */
export function snappyCompressSync(data: Buffer, xerial = true): Buffer {
  if (!xerial) return codecs.snappy.compressSync(data);
  return joinXerial(splitBlocks(data).map((b) => codecs.snappy.compressSync(b)));
}

async function snappyCompress(data: Buffer, xerial = true): Promise<Buffer> {
  if (!xerial) return codecs.snappy.compress(data);
  return joinXerial(await Promise.all(splitBlocks(data).map((b) => codecs.snappy.compress(b))));
}

// ---------------------------------------------------------------- generic API

function unknownCodec(codec: number): never {
  throw new CompressionError(`unsupported compression codec ${codec}`);
}

/**
 * Sections up to this size are (de)compressed on the calling thread by the async API too: for
 * them a thread-pool round trip costs more than the codec work, and the buffers a native codec
 * allocates on a pool thread come from that thread's malloc arena, which keeps the memory once it
 * is freed (RSS stayed high after bursts of small compressed produces). Bigger sections stay off
 * the event loop.
 */
const SYNC_CODEC_MAX_BYTES = 64 * 1024;

/** Compresses a records section with the given codec (None returns `data` itself). */
export async function compress(codec: Compression, data: Buffer, level?: number): Promise<Buffer> {
  if (data.length <= SYNC_CODEC_MAX_BYTES) return compressSync(codec, data, level);
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gzipAsync(data, level === undefined ? {} : { level });
    case Compression.Snappy:
      return snappyCompress(data);
    case Compression.Lz4:
      return codecs.lz4.compressFrame(data);
    case Compression.Zstd:
      return zstd().compress(data, level ?? ZSTD_DEFAULT_LEVEL);
    default:
      return unknownCodec(codec);
  }
}

/** Decompresses a records section. Errors are thrown as CompressionError. */
export async function decompress(codec: Compression, data: Buffer): Promise<Buffer> {
  if (data.length <= SYNC_CODEC_MAX_BYTES) return decompressSync(codec, data);
  try {
    switch (codec) {
      case Compression.None:
        return data;
      case Compression.Gzip:
        return await gunzipAsync(data);
      case Compression.Snappy:
        return await snappyDecompress(data);
      case Compression.Lz4:
        return await codecs.lz4.decompressFrame(data);
      case Compression.Zstd:
        return await zstd().decompress(data);
      default:
        return unknownCodec(codec);
    }
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(`${codecName(codec)}: ${(e as Error).message}`);
  }
}

/** Synchronous compress (the async variants keep big zstd work off the event loop). */
export function compressSync(codec: Compression, data: Buffer, level?: number): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return zlib.gzipSync(data, level === undefined ? {} : { level });
    case Compression.Snappy:
      return snappyCompressSync(data);
    case Compression.Lz4:
      return codecs.lz4.compressFrameSync(data);
    case Compression.Zstd:
      return zstd().compressSync(data, level ?? ZSTD_DEFAULT_LEVEL);
    default:
      return unknownCodec(codec);
  }
}

/** Synchronous decompress. Errors are thrown as CompressionError. */
export function decompressSync(codec: Compression, data: Buffer): Buffer {
  try {
    switch (codec) {
      case Compression.None:
        return data;
      case Compression.Gzip:
        return zlib.gunzipSync(data);
      case Compression.Snappy:
        return snappyDecompressSync(data);
      case Compression.Lz4:
        return codecs.lz4.decompressFrameSync(data);
      case Compression.Zstd:
        return zstd().decompressSync(data);
      default:
        return unknownCodec(codec);
    }
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(`${codecName(codec)}: ${(e as Error).message}`);
  }
}

function codecName(codec: number): string {
  switch (codec) {
    case Compression.None:
      return 'none';
    case Compression.Gzip:
      return 'gzip';
    case Compression.Snappy:
      return 'snappy';
    case Compression.Lz4:
      return 'lz4';
    case Compression.Zstd:
      return 'zstd';
    default:
      return `codec(${codec})`;
  }
}
