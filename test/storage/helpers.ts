// Test helpers: build magic-2 record batches (uncompressed) and temp dirs.
import { crc32c } from '@node-rs/crc32';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultLogConfig, type LogConfig } from '../../src/storage/config.js';
import type { AppendBatch } from '../../src/storage/partition-log.js';

function zigzagVarint(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export interface TestRecord {
  key?: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
}

export interface BatchOpts {
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  baseTimestamp?: number;
}

/** Builds one uncompressed v2 batch with baseOffset 0. */
export function buildBatch(records: TestRecord[], o: BatchOpts = {}): Buffer {
  const baseTs = o.baseTimestamp ?? records[0]?.timestamp ?? 1_700_000_000_000;
  let maxTs = baseTs;
  const recs: Buffer[] = [];
  records.forEach((r, i) => {
    const ts = r.timestamp ?? baseTs;
    if (ts > maxTs) maxTs = ts;
    const key = r.key ?? null;
    const body: number[] = [0, ...zigzagVarint(ts - baseTs), ...zigzagVarint(i)];
    const parts: Buffer[] = [];
    parts.push(Buffer.from(body));
    parts.push(Buffer.from(zigzagVarint(key ? key.length : -1)));
    if (key) parts.push(key);
    parts.push(Buffer.from(zigzagVarint(r.value ? r.value.length : -1)));
    if (r.value) parts.push(r.value);
    parts.push(Buffer.from(zigzagVarint(0)));
    const b = Buffer.concat(parts);
    recs.push(Buffer.concat([Buffer.from(zigzagVarint(b.length)), b]));
  });
  const recBytes = Buffer.concat(recs);
  const buf = Buffer.alloc(61 + recBytes.length);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(2, 16);
  let attrs = 0;
  if (o.transactional) attrs |= 0x10;
  if (o.control) attrs |= 0x20;
  buf.writeInt16BE(attrs, 21);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTs), 27);
  buf.writeBigInt64BE(BigInt(maxTs), 35);
  buf.writeBigInt64BE(BigInt(o.producerId ?? -1), 43);
  buf.writeInt16BE(o.producerEpoch ?? -1, 51);
  buf.writeInt32BE(o.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  recBytes.copy(buf, 61);
  buf.writeUInt32BE(crc32c(buf.subarray(21)) >>> 0, 17);
  return buf;
}

/** The per-batch descriptors append() expects, read from a buffer of concatenated batches. */
export function describe(buf: Buffer): AppendBatch[] {
  const out: AppendBatch[] = [];
  let p = 0;
  while (p < buf.length) {
    const size = 12 + buf.readInt32BE(p + 8);
    const attrs = buf.readInt16BE(p + 21);
    out.push({
      position: p,
      size,
      producerId: Number(buf.readBigInt64BE(p + 43)),
      producerEpoch: buf.readInt16BE(p + 51),
      baseSequence: buf.readInt32BE(p + 53),
      recordCount: buf.readInt32BE(p + 57),
      lastOffsetDelta: buf.readInt32BE(p + 23),
      maxTimestamp: Number(buf.readBigInt64BE(p + 35)),
      isTransactional: (attrs & 0x10) !== 0,
      isControl: (attrs & 0x20) !== 0,
    });
    p += size;
  }
  return out;
}

/** A simple batch of n records with values "<tag>-<i>" (padded to valueSize when given). */
export function simpleBatch(tag: string, n = 1, valueSize = 0, o: BatchOpts = {}): Buffer {
  const recs: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    let v = Buffer.from(`${tag}-${i}`);
    if (valueSize > v.length) v = Buffer.concat([v, Buffer.alloc(valueSize - v.length, 120)]);
    recs.push({ value: v });
  }
  return buildBatch(recs, o);
}

/** Splits concatenated batches into { baseOffset, lastOffset, size, value0 }. */
export function parseBatches(chunks: Buffer[]): { baseOffset: number; lastOffset: number; size: number; batch: Buffer }[] {
  const out: { baseOffset: number; lastOffset: number; size: number; batch: Buffer }[] = [];
  for (const c of chunks) {
    let p = 0;
    while (p + 12 <= c.length) {
      const size = 12 + c.readInt32BE(p + 8);
      if (p + size > c.length) throw new Error('partial batch returned');
      const base = Number(c.readBigInt64BE(p));
      out.push({ baseOffset: base, lastOffset: base + c.readInt32BE(p + 23), size, batch: c.subarray(p, p + size) });
      p += size;
    }
  }
  return out;
}

/** First record value of a batch as a string. */
export function firstValue(batch: Buffer): string {
  let p = 61;
  const readV = (): number => {
    let r = 0;
    let s = 0;
    for (;;) {
      const b = batch[p++]!;
      r += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) break;
      s += 7;
    }
    return r % 2 === 0 ? r / 2 : -(r + 1) / 2;
  };
  readV(); // length
  p++; // attrs
  readV();
  readV();
  const kl = readV();
  if (kl > 0) p += kl;
  const vl = readV();
  return batch.toString('utf8', p, p + Math.min(vl, 40)).replace(/x+$/, '');
}

export function tmpDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fjord-storage-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function cfg(over: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, fileDeleteDelayMs: 0, ...over };
}

/** This process's open fds: how many in all, and the segment log files under `dir` among them. */
export function openFds(dir: string): { total: number; segmentFiles: string[] } {
  let total = 0;
  const segmentFiles: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    total++;
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the readdir's own fd)
    }
    if (target.startsWith(dir) && target.endsWith('.log')) segmentFiles.push(target);
  }
  return { total, segmentFiles };
}
