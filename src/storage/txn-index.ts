// Aborted-transaction index of one partition log: what read_committed fetches return as
// `aborted_transactions`. On disk it is Kafka's layout — one `<base>.txnindex` per segment,
// holding the aborted transactions whose abort marker lies in that segment, as fixed 34-byte
// entries: version int16 (0) | producerId int64 | firstOffset int64 | lastOffset int64 |
// lastStableOffset int64. Memory holds every entry (sorted by marker offset); files are
// rewritten from memory whenever recovery, truncation, retention or compaction changes them.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { offsetFileName, parseOffsetFileName, readFileOrUndefined } from './files.js';
import { writeInt64Saturating } from '../protocol/records/batch.js';

const TXN_INDEX_SUFFIX = '.txnindex';
const TXN_INDEX_ENTRY_SIZE = 34;

export interface AbortedTxn {
  producerId: number;
  /** First offset of the aborted transaction in this partition. */
  firstOffset: number;
  /** Offset of the abort marker. */
  lastOffset: number;
  /** The last stable offset right after this transaction ended. */
  lastStableOffset: number;
}

export function encodeAbortedTxn(e: AbortedTxn): Buffer {
  const b = Buffer.alloc(TXN_INDEX_ENTRY_SIZE);
  b.writeInt16BE(0, 0);
  writeInt64Saturating(b, e.producerId, 2);
  b.writeBigInt64BE(BigInt(e.firstOffset), 10);
  b.writeBigInt64BE(BigInt(e.lastOffset), 18);
  b.writeBigInt64BE(BigInt(e.lastStableOffset), 26);
  return b;
}

/** Decodes whole entries; a torn tail (crash mid-write) is ignored. */
function decodeAbortedTxns(buf: Buffer): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (let o = 0; o + TXN_INDEX_ENTRY_SIZE <= buf.length; o += TXN_INDEX_ENTRY_SIZE) {
    if (buf.readInt16BE(o) !== 0) break;
    out.push({
      producerId: Number(buf.readBigInt64BE(o + 2)),
      firstOffset: Number(buf.readBigInt64BE(o + 10)),
      lastOffset: Number(buf.readBigInt64BE(o + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(o + 26)),
    });
  }
  return out;
}

export class TxnIndex {
  private entries: AbortedTxn[] = [];
  /**
   * File writes run one after another so appends and rewrites never interleave. The chain and
   * the dirty set are created on first use (most partitions never see an aborted transaction).
   */
  private io: Promise<void> | undefined;
  private dirty: Set<number> | undefined;

  constructor(private readonly dir: string) {}

  private file(base: number): string {
    return path.join(this.dir, offsetFileName(base, TXN_INDEX_SUFFIX));
  }

  get size(): number {
    return this.entries.length;
  }

  all(): readonly AbortedTxn[] {
    return this.entries;
  }

  /** Loads the files of the given segments (others are removed as orphans). */
  async load(segmentBases: number[]): Promise<void> {
    const bases = new Set(segmentBases);
    this.entries = [];
    for (const name of await fsp.readdir(this.dir)) {
      const base = parseOffsetFileName(name, TXN_INDEX_SUFFIX);
      if (base === undefined) continue;
      if (!bases.has(base)) {
        await fsp.rm(path.join(this.dir, name), { force: true });
        continue;
      }
      const buf = await readFileOrUndefined(path.join(this.dir, name));
      if (buf) this.entries.push(...decodeAbortedTxns(buf));
    }
    this.entries.sort((a, b) => a.lastOffset - b.lastOffset);
  }

  /** Drops entries whose marker is at or after `offset` (memory only; call rewrite after). */
  truncateFrom(offset: number): void {
    this.entries = this.entries.filter((e) => e.lastOffset < offset);
  }

  /** Adds an entry in memory (recovery replay); files follow with rewrite(). */
  addReplayed(e: AbortedTxn): void {
    this.insert(e);
  }

  private insert(e: AbortedTxn): void {
    const last = this.entries[this.entries.length - 1];
    if (!last || last.lastOffset < e.lastOffset) this.entries.push(e);
    else if (!this.entries.some((x) => x.lastOffset === e.lastOffset)) {
      this.entries.push(e);
      this.entries.sort((a, b) => a.lastOffset - b.lastOffset);
    }
  }

  /** A new abort marker appended to the segment at `segmentBase`. */
  append(e: AbortedTxn, segmentBase: number): void {
    this.insert(e);
    const file = this.file(segmentBase);
    const bytes = encodeAbortedTxn(e);
    (this.dirty ??= new Set()).add(segmentBase);
    void this.enqueue(() => fsp.appendFile(file, bytes));
  }

  /**
   * Queues a file operation after the ones queued before (its failure is ignored, as before: the
   * files are rebuilt from the log at recovery). The chain is dropped once it has run dry.
   */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const io = (this.io ?? Promise.resolve()).then(fn).catch(() => undefined);
    this.io = io;
    void io.then(() => {
      if (this.io === io) this.io = undefined;
    });
    return io;
  }

  /**
   * Rewrites the files of the segments `touched` selects from memory (an entry belongs to the
   * last segment whose base is <= its marker offset) and removes files of segments that are gone.
   */
  rewrite(segmentBases: number[], touched: (base: number) => boolean): Promise<void> {
    const sorted = segmentBases.slice().sort((a, b) => a - b);
    const byBase = new Map<number, AbortedTxn[]>();
    for (const e of this.entries) {
      let base = sorted[0] ?? 0;
      for (const b of sorted) if (b <= e.lastOffset) base = b;
      let list = byBase.get(base);
      if (!list) byBase.set(base, (list = []));
      list.push(e);
    }
    return this.enqueue(async () => {
      const live = new Set(sorted);
      for (const name of await fsp.readdir(this.dir)) {
        const b = parseOffsetFileName(name, TXN_INDEX_SUFFIX);
        if (b !== undefined && !live.has(b)) await fsp.rm(path.join(this.dir, name), { force: true });
      }
      for (const base of sorted) {
        if (!touched(base)) continue;
        const list = byBase.get(base);
        if (!list || list.length === 0) await fsp.rm(this.file(base), { force: true });
        else {
          await fsp.writeFile(this.file(base), Buffer.concat(list.map(encodeAbortedTxn)));
          (this.dirty ??= new Set()).add(base);
        }
      }
    });
  }

  /** Removes the files of deleted segments; entries before `logStart`'s segment go too. */
  removeSegments(bases: number[], firstRemainingBase: number): Promise<void> {
    this.entries = this.entries.filter((e) => e.lastOffset >= firstRemainingBase);
    return this.enqueue(async () => {
      for (const b of bases) {
        this.dirty?.delete(b);
        await fsp.rm(this.file(b), { force: true });
      }
    });
  }

  /** Waits for queued writes and fsyncs the files written since the last flush. */
  async flush(): Promise<void> {
    await this.io;
    const dirty = this.dirty;
    if (dirty === undefined || dirty.size === 0) return;
    const bases = [...dirty];
    dirty.clear();
    for (const b of bases) {
      const fh = await fsp.open(this.file(b), 'r').catch(() => undefined);
      if (!fh) continue;
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
  }

  /**
   * Aborted transactions overlapping [fetchOffset, upperBound): those whose marker is at or after
   * fetchOffset and that started before upperBound.
   */
  collect(fetchOffset: number, upperBound: number): { producerId: number; firstOffset: number }[] {
    const out: { producerId: number; firstOffset: number }[] = [];
    const es = this.entries;
    // entries are sorted by marker offset: binary search the first marker >= fetchOffset
    let lo = 0;
    let hi = es.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (es[mid]!.lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < es.length; i++) {
      const e = es[i]!;
      if (e.firstOffset < upperBound) out.push({ producerId: e.producerId, firstOffset: e.firstOffset });
    }
    // By first offset: clients such as kafkajs walk the list in order while reading records.
    return out.sort((a, b) => a.firstOffset - b.firstOffset);
  }
}
