// The broker's write-ahead log (fjord.wal.enable): one append-only file sequence per data dir
// that makes appends of every partition durable with ONE fdatasync per group-commit round,
// instead of one per touched partition file (which the file system serialises).
//
// Write path: a batch is written to its segment file (page cache, no fsync), then its bytes are
// appended here with the partition and the log end they reach; a round writes everything
// pending with one writev and one fdatasync, then tells each partition how far it is durable.
// Segment files are fsynced lazily: at segment rolls, at checkpoints (when a WAL file is full)
// and at shutdown. A checkpoint fsyncs every partition that has records in the full files, then
// deletes those files, so the WAL holds at most what the segments may still lack.
//
// Recovery (LogManager.load): segments are recovered as before, then the WAL is replayed in
// order: batches the segment already has are skipped, missing ones appended (offsets and
// epochs kept). Truncations (follower truncation, reload after an I/O error, truncate-fully)
// and partition creation write a marker, fsynced before the truncation touches the segment, so
// replay repeats them at the same point and never brings truncated batches back. A torn tail
// (short record or CRC mismatch) ends the replay: the file is cut there.
//
// Record (big-endian): length u32 (of the rest) | crc32c u32 (of the rest) | type u8 |
//   key length u16 | key ("<topic>-<partition>") | topic id length u16 | topic id |
//   offset i64 (data: log end after the batches; markers: the offset) | batches (data only)
import { crc32c } from '@node-rs/crc32';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parseOffsetFileName, offsetFileName, syncDir } from './files.js';
import { fstatSync, openSync } from 'node:fs';
import { closeQuietlySync, pFdatasync, trackFd, writevAllSync } from './fsio.js';

const WAL_DIR = 'wal';
const SUFFIX = '.wal';
const PREFIX_BYTES = 8;
/** A record longer than this is treated as a torn length field. */
const MAX_RECORD_BYTES = 1 << 30;

export const enum WalRecordType {
  /** Batches appended to a partition. */
  Data = 1,
  /** The partition was truncated to `offset` (everything at or above it removed). */
  Truncate = 2,
  /** The partition restarted empty at `offset` (created, or truncated fully). */
  Reset = 3,
}

export interface WalRecord {
  type: WalRecordType;
  key: string;
  topicId: string;
  offset: number;
  /** Data records: the batches as written to the segment. */
  data: Buffer;
}

/** A partition log's durability, as the WAL sees it. */
export interface WalParticipant {
  /** Everything up to endOffset handed to the WAL is fsynced in it. */
  walDurable(endOffset: number): void;
  /** The round holding this partition's records failed: it goes offline. */
  walFailed(e: Error): void;
  /** Fsyncs the partition's segment files (a checkpoint: its WAL records may go). */
  syncSegments(): Promise<void>;
}

export interface WalOptions {
  /** Roll to a new file (and checkpoint the full ones) past this size (fjord.wal.segment.bytes). */
  fileBytes: number;
  /** Group-commit window in ms from the first pending record (0: next tick). */
  groupCommitMs: number;
  /** One line per WAL event worth an operator's attention. */
  log?: (msg: string) => void;
}

interface WalFile {
  seq: number;
  /** Partitions with records in this file (their segments must be fsynced before it goes). */
  participants: Set<WalParticipant>;
}

interface MarkerWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

function encodeHeader(type: WalRecordType, key: string, topicId: string, offset: number, dataBytes: number): Buffer {
  const k = Buffer.from(key, 'utf8');
  const t = Buffer.from(topicId, 'utf8');
  const h = Buffer.allocUnsafe(PREFIX_BYTES + 1 + 2 + k.length + 2 + t.length + 8);
  let p = PREFIX_BYTES;
  h.writeUInt8(type, p++);
  h.writeUInt16BE(k.length, p);
  p += 2;
  k.copy(h, p);
  p += k.length;
  h.writeUInt16BE(t.length, p);
  p += 2;
  t.copy(h, p);
  p += t.length;
  h.writeBigInt64BE(BigInt(offset), p);
  h.writeUInt32BE(h.length - 4 + dataBytes, 0);
  return h;
}

/** Parses the record at pos; undefined when it is torn (short, bad length or bad CRC). */
function decodeRecord(buf: Buffer, pos: number): { record: WalRecord; size: number } | undefined {
  if (buf.length - pos < PREFIX_BYTES) return undefined;
  const len = buf.readUInt32BE(pos);
  if (len < 4 + 1 + 2 + 2 + 8 || len > MAX_RECORD_BYTES || pos + 4 + len > buf.length) return undefined;
  const end = pos + 4 + len;
  if ((crc32c(buf.subarray(pos + PREFIX_BYTES, end)) >>> 0) !== buf.readUInt32BE(pos + 4)) return undefined;
  let p = pos + PREFIX_BYTES;
  const type = buf.readUInt8(p++) as WalRecordType;
  const kLen = buf.readUInt16BE(p);
  p += 2;
  if (p + kLen + 2 > end) return undefined;
  const key = buf.toString('utf8', p, p + kLen);
  p += kLen;
  const tLen = buf.readUInt16BE(p);
  p += 2;
  if (p + tLen + 8 > end) return undefined;
  const topicId = buf.toString('utf8', p, p + tLen);
  p += tLen;
  const offset = Number(buf.readBigInt64BE(p));
  p += 8;
  return { record: { type, key, topicId, offset, data: buf.subarray(p, end) }, size: end - pos };
}

/** Sequence numbers of the WAL files in dir, oldest first. */
async function listFiles(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const seqs: number[] = [];
  for (const n of names) {
    const s = parseOffsetFileName(n, SUFFIX);
    if (s !== undefined) seqs.push(s);
  }
  return seqs.sort((a, b) => a - b);
}

export class WriteAheadLog {
  /** fdatasync calls of the WAL (tests, metrics). */
  fsyncCount = 0;
  /** Group-commit rounds that wrote something. */
  rounds = 0;
  /** Checkpoints that deleted WAL files. */
  checkpoints = 0;
  private fd: number | undefined;
  private filePos = 0;
  private files: WalFile[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingAcks = new Map<WalParticipant, number>();
  private pendingMarkers: MarkerWaiter[] = [];
  /** Partitions with markers pending (a checkpoint must fsync their segments and directory). */
  private pendingMarked = new Set<WalParticipant>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private running: Promise<void> | undefined;
  private checkpointing: Promise<void> | undefined;
  /** Settles (true: fsynced; false: failed) with the fdatasync of the last round written. */
  private lastSync: Promise<boolean> = Promise.resolve(true);
  private closed = false;
  /** The last round failed and no new file could be opened yet: the next round opens one first. */
  private broken = false;

  private constructor(
    readonly dir: string,
    private readonly opts: WalOptions,
  ) {}

  private file(seq: number): string {
    return path.join(this.dir, offsetFileName(seq, SUFFIX));
  }

  /**
   * Replays every WAL file of `dataDir` in order through `apply`, cutting each file's torn
   * tail, then returns the sequence numbers of the replayed files.
   */
  static async replay(dataDir: string, apply: (r: WalRecord) => Promise<void>, log?: (msg: string) => void): Promise<number[]> {
    const dir = path.join(dataDir, WAL_DIR);
    const seqs = await listFiles(dir);
    for (let i = 0; i < seqs.length; i++) {
      const file = path.join(dir, offsetFileName(seqs[i]!, SUFFIX));
      const buf = await fsp.readFile(file);
      let pos = 0;
      for (;;) {
        const r = decodeRecord(buf, pos);
        if (!r) break;
        await apply(r.record);
        pos += r.size;
      }
      if (pos < buf.length) {
        // Torn tail: nothing after it in this file was acknowledged (a round is acknowledged
        // after its fsync, and a failed round moves the WAL to a new file). Later files hold
        // rounds acknowledged after such a failure: they are replayed too.
        log?.(`WAL ${file}: torn tail at byte ${pos} of ${buf.length} cut off`);
        await fsp.truncate(file, pos);
      }
    }
    return seqs;
  }

  /** Deletes the WAL of `dataDir` (replayed, and its content durable in the segments). */
  static async remove(dataDir: string): Promise<void> {
    await fsp.rm(path.join(dataDir, WAL_DIR), { recursive: true, force: true });
  }

  /** Opens a new WAL file after `replayed` (whose content the caller has made durable in the segments and may delete). */
  static async start(dataDir: string, opts: WalOptions): Promise<WriteAheadLog> {
    const wal = new WriteAheadLog(path.join(dataDir, WAL_DIR), opts);
    await fsp.mkdir(wal.dir, { recursive: true });
    const seqs = await listFiles(wal.dir);
    const next = (seqs[seqs.length - 1] ?? -1) + 1;
    await wal.openFile(next);
    for (const s of seqs) await fsp.rm(wal.file(s), { force: true });
    await syncDir(wal.dir);
    return wal;
  }

  private async openFile(seq: number): Promise<void> {
    // Synchronous, like the round's writes: nothing on the acknowledgement path may wait in
    // libuv's shared thread pool, which an embedding process can keep busy (sync-threads.ts).
    const file = this.file(seq);
    const fd = openSync(file, 'a+', 0o644);
    trackFd(fd, file);
    this.filePos = fstatSync(fd).size;
    if (this.fd !== undefined) closeQuietlySync(this.fd);
    this.fd = fd;
    this.files.push({ seq, participants: new Set() });
  }

  private get current(): WalFile {
    return this.files[this.files.length - 1]!;
  }

  /**
   * Hands written segment bytes to the next round; p.walDurable(endOffset) follows its fsync.
   * The buffers are referenced, not copied: they must stay unchanged until the round is written
   * (produce request buffers and follower fetch responses are not pooled; acks wait for this).
   */
  appendData(p: WalParticipant, key: string, topicId: string, bufs: Buffer[], bytes: number, endOffset: number): void {
    const h = encodeHeader(WalRecordType.Data, key, topicId, endOffset, bytes);
    let crc = crc32c(h.subarray(PREFIX_BYTES));
    for (const b of bufs) crc = crc32c(b, crc);
    h.writeUInt32BE(crc >>> 0, 4);
    this.pending.push(h, ...bufs);
    this.pendingBytes += h.length + bytes;
    const prev = this.pendingAcks.get(p);
    if (prev === undefined || prev < endOffset) this.pendingAcks.set(p, endOffset);
    this.current.participants.add(p);
    this.schedule();
  }

  /** Writes a truncate/reset marker; resolves once it is fsynced. */
  appendMarker(p: WalParticipant | undefined, type: WalRecordType.Truncate | WalRecordType.Reset, key: string, topicId: string, offset: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WAL closed'));
    const h = encodeHeader(type, key, topicId, offset, 0);
    h.writeUInt32BE(crc32c(h.subarray(PREFIX_BYTES)) >>> 0, 4);
    this.pending.push(h);
    this.pendingBytes += h.length;
    if (p) this.pendingMarked.add(p);
    const done = new Promise<void>((resolve, reject) => this.pendingMarkers.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.running || this.closed) return;
    this.timer = this.opts.groupCommitMs > 0 ? setTimeout(this.runRound, this.opts.groupCommitMs) : setImmediate(this.runRound);
  }

  private runRound = (): void => {
    this.timer = undefined;
    if (this.running || this.pending.length === 0) return;
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.pending.length > 0) this.schedule();
    });
  };

  /**
   * One round: its records are written (rounds write one after the other), then fdatasynced
   * after the previous round's fdatasync — so the next round's write overlaps this fsync. A
   * round is acknowledged only after its own fdatasync and only if every earlier one succeeded.
   */
  private async round(): Promise<void> {
    const bufs = this.pending;
    const bytes = this.pendingBytes;
    const acks = this.pendingAcks;
    const markers = this.pendingMarkers;
    const marked = this.pendingMarked;
    this.pendingMarked = new Set();
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingAcks = new Map();
    this.pendingMarkers = [];
    let fd: number;
    try {
      if (this.fd === undefined) throw new Error('WAL closed');
      if (this.broken) {
        // after a failed round the old file's tail is unknown: nothing may follow it there
        await this.lastSync; // never close a file under an fdatasync in flight
        await this.openFile(this.current.seq + 1);
        this.broken = false;
        this.lastSync = Promise.resolve(true); // rounds in the new file do not depend on the failed one
      } else if (this.filePos >= this.opts.fileBytes && !this.closed) {
        await this.lastSync;
        try {
          await this.openFile(this.current.seq + 1);
          // every fsync of the old file has settled; a failure among them stays with its rounds
          this.lastSync = Promise.resolve(true);
          this.broken = false;
          void this.checkpoint();
        } catch (e) {
          this.opts.log?.(`WAL roll failed: ${(e as Error).message}`);
        }
      }
      // these records land in the current file: a checkpoint must fsync their segments before it goes
      for (const p of acks.keys()) this.current.participants.add(p);
      for (const p of marked) this.current.participants.add(p);
      fd = this.fd!;
      // into the page cache at memory speed; the fdatasync below runs on a sync thread
      writevAllSync(fd, bufs, this.filePos, bytes);
      this.filePos += bytes;
    } catch (e) {
      this.failRound(e as Error, acks, markers);
      return;
    }
    const previous = this.lastSync;
    const synced = previous.then((earlierOk) => {
      if (!earlierOk) throw new Error('an earlier WAL round failed');
      return pFdatasync(fd);
    });
    this.lastSync = synced.then(
      () => true,
      () => false,
    );
    synced.then(
      () => {
        this.fsyncCount++;
        this.rounds++;
        for (const [p, end] of acks) p.walDurable(end);
        for (const m of markers) m.resolve();
      },
      (e: Error) => this.failRound(e, acks, markers),
    );
    // At most one fdatasync in flight plus one round written behind it: what arrives meanwhile
    // gathers into the next round (group commit) instead of a queue of small ones.
    await previous;
  }

  private failRound(err: Error, acks: Map<WalParticipant, number>, markers: MarkerWaiter[]): void {
    this.opts.log?.(`WAL write or fdatasync failed (${err.message}): the partitions of this round go offline; the WAL continues in a new file`);
    for (const p of acks.keys()) p.walFailed(err);
    for (const m of markers) m.reject(err);
    // What the file holds past its last good round is unknown: the next round opens a new one.
    this.broken = true;
  }

  /**
   * Fsyncs the segments of every partition with records in the files before the current one,
   * then deletes those files. A partition whose fsync fails is offline (its own error path)
   * and its files stay for the next checkpoint or the replay at start.
   */
  checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    const p = (async () => {
      const full = this.files.slice(0, -1);
      if (full.length === 0) return;
      const participants = new Set<WalParticipant>();
      for (const f of full) for (const x of f.participants) participants.add(x);
      for (const x of participants) await x.syncSegments();
      for (const f of full) {
        await fsp.rm(this.file(f.seq), { force: true });
        this.files.splice(this.files.indexOf(f), 1);
      }
      this.checkpoints++;
    })()
      .catch((e: Error) => this.opts.log?.(`WAL checkpoint failed: ${e.message}; its files stay until the next one`))
      .finally(() => {
        this.checkpointing = undefined;
      });
    this.checkpointing = p;
    return p;
  }

  /** Waits for the rounds in flight and writes and fsyncs what is pending. */
  async flush(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer as NodeJS.Timeout);
        clearImmediate(this.timer as NodeJS.Immediate);
        this.timer = undefined;
      }
      if (this.running) await this.running;
      else if (this.pending.length > 0) this.runRound();
      else {
        await this.lastSync;
        if (this.pending.length === 0 && !this.running) return;
      }
    }
  }

  /**
   * Stops the WAL. With `segmentsDurable` (every log flushed its segments at a clean shutdown)
   * the files are deleted: nothing is left to replay.
   */
  async close(segmentsDurable: boolean): Promise<void> {
    await this.flush();
    await this.checkpointing;
    this.closed = true;
    if (this.fd !== undefined) closeQuietlySync(this.fd);
    this.fd = undefined;
    if (segmentsDurable) for (const f of this.files) await fsp.rm(this.file(f.seq), { force: true });
    this.files = [];
  }

  /** Bytes in the WAL files not yet checkpointed (tests, metrics). */
  get currentFileBytes(): number {
    return this.filePos;
  }
}

