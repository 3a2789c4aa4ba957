import { crc32c } from '@node-rs/crc32';
import { ErrorCode, StorageError } from './errors.js';
import { writeInt64Saturating } from '../protocol/records/batch.js';

/** How many recent batches per producer are remembered for duplicate detection (Kafka: 5). */
const NUM_BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fffffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerStateEntry {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** First offset of the ongoing transaction, -1 when none. */
  txnStartOffset: number;
  lastTimestamp: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
}

/** Public view returned by PartitionLog.producerStates(). */
export interface ProducerStateView {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastOffset: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  txnStartOffset: number;
}

export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  isTransactional: boolean;
  isControl: boolean;
}

/** Sequence arithmetic wraps at int32 max like Kafka's. */
function addSeq(seq: number, delta: number): number {
  const r = seq + delta;
  return r > INT32_MAX ? r - INT32_MAX - 1 : r;
}

function cloneEntry(e: ProducerStateEntry): ProducerStateEntry {
  return { ...e, batches: e.batches.slice() };
}

export type ValidationResult =
  | { kind: 'ok' }
  | { kind: 'duplicate'; batch: BatchMetadata };

/**
 * Producer state of one partition: epoch and recent sequence numbers of every idempotent or
 * transactional producer, used to reject gaps/fenced producers and to answer retries with the
 * original offsets.
 */
/** What an empty manager reports (never written to). */
const NO_PRODUCERS: ReadonlyMap<number, ProducerStateEntry> = new Map();

export class ProducerStateManager {
  /** Created with the first producer: most partitions of a large topic never see an idempotent one. */
  private map: Map<number, ProducerStateEntry> | undefined;

  get producers(): ReadonlyMap<number, ProducerStateEntry> {
    return this.map ?? NO_PRODUCERS;
  }

  get(producerId: number): ProducerStateEntry | undefined {
    return this.map?.get(producerId);
  }

  /**
   * Checks a batch against `entry` (the current state, possibly a staged copy). Throws
   * StorageError(45 / 47) or reports a duplicate of a recent batch.
   */
  static validate(entry: ProducerStateEntry | undefined, b: ProducerBatch): ValidationResult {
    if (!entry) return { kind: 'ok' }; // no state known: accept any sequence (Kafka 2.5+)
    if (b.producerEpoch < entry.producerEpoch) {
      throw new StorageError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${b.producerId}: epoch ${b.producerEpoch} is older than current epoch ${entry.producerEpoch}`,
      );
    }
    if (b.isControl || b.baseSequence < 0) return { kind: 'ok' };
    if (b.producerEpoch > entry.producerEpoch) {
      if (b.baseSequence !== 0 && entry.producerEpoch >= 0) {
        throw new StorageError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${b.producerId}: new epoch ${b.producerEpoch} must start at sequence 0, got ${b.baseSequence}`,
        );
      }
      return { kind: 'ok' };
    }
    const lastSeq = addSeq(b.baseSequence, b.lastOffsetDelta);
    for (const m of entry.batches) {
      if (m.firstSeq === b.baseSequence && m.lastSeq === lastSeq) return { kind: 'duplicate', batch: m };
    }
    const last = entry.batches[entry.batches.length - 1];
    if (last && b.baseSequence !== addSeq(last.lastSeq, 1)) {
      throw new StorageError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${b.producerId}: expected sequence ${addSeq(last.lastSeq, 1)}, got ${b.baseSequence}`,
      );
    }
    return { kind: 'ok' };
  }

  /** Returns the updated entry (a new object when `entry` is given, so staging is possible). */
  static apply(
    entry: ProducerStateEntry | undefined,
    b: ProducerBatch,
    firstOffset: number,
    lastOffset: number,
    controlInfo?: { coordinatorEpoch: number },
  ): ProducerStateEntry {
    const e: ProducerStateEntry = entry
      ? cloneEntry(entry)
      : {
          producerId: b.producerId,
          producerEpoch: b.producerEpoch,
          coordinatorEpoch: -1,
          txnStartOffset: -1,
          lastTimestamp: -1,
          batches: [],
        };
    if (b.producerEpoch > e.producerEpoch) {
      e.producerEpoch = b.producerEpoch;
      e.batches = [];
    }
    if (b.isControl) {
      e.txnStartOffset = -1;
      if (controlInfo && controlInfo.coordinatorEpoch >= 0) e.coordinatorEpoch = controlInfo.coordinatorEpoch;
    } else {
      if (b.baseSequence >= 0) {
        e.batches.push({
          firstSeq: b.baseSequence,
          lastSeq: addSeq(b.baseSequence, b.lastOffsetDelta),
          firstOffset,
          lastOffset,
          timestamp: b.maxTimestamp,
        });
        if (e.batches.length > NUM_BATCHES_TO_RETAIN) e.batches.splice(0, e.batches.length - NUM_BATCHES_TO_RETAIN);
      }
      if (b.isTransactional && e.txnStartOffset < 0) e.txnStartOffset = firstOffset;
    }
    e.lastTimestamp = Math.max(e.lastTimestamp, b.maxTimestamp);
    return e;
  }

  set(e: ProducerStateEntry): void {
    (this.map ??= new Map()).set(e.producerId, e);
  }

  clear(): void {
    this.map?.clear();
  }

  /**
   * producer.id.expiration.ms: forgets producers without an open transaction whose last write
   * (record timestamp) is at least `expirationMs` old, as Kafka does. Returns how many went.
   */
  removeExpired(now: number, expirationMs: number): number {
    let removed = 0;
    const map = this.map;
    if (map === undefined) return 0;
    for (const [id, e] of map) {
      if (e.txnStartOffset < 0 && now - e.lastTimestamp >= expirationMs) {
        map.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Lowest txnStartOffset of open transactions, or -1. */
  firstUnstableOffset(): number {
    let min = -1;
    for (const e of this.producers.values()) {
      if (e.txnStartOffset >= 0 && (min < 0 || e.txnStartOffset < min)) min = e.txnStartOffset;
    }
    return min;
  }

  *views(): IterableIterator<ProducerStateView> {
    for (const e of this.producers.values()) {
      const last = e.batches[e.batches.length - 1];
      yield {
        producerId: e.producerId,
        producerEpoch: e.producerEpoch,
        lastSequence: last ? last.lastSeq : -1,
        lastOffset: last ? last.lastOffset : -1,
        lastTimestamp: e.lastTimestamp,
        coordinatorEpoch: e.coordinatorEpoch,
        txnStartOffset: e.txnStartOffset,
      };
    }
  }

  // ---- snapshot format ----
  // magic "FJPS" | version int16 (1) | crc32c uint32 over the rest | count int32 |
  // per producer: producerId int64 | epoch int16 | coordinatorEpoch int32 | txnStartOffset int64 |
  //   lastTimestamp int64 | batchCount int8 | per batch: firstSeq int32 | lastSeq int32 |
  //   firstOffset int64 | lastOffset int64 | timestamp int64

  serialize(): Buffer {
    let size = 4 + 2 + 4 + 4;
    for (const e of this.producers.values()) size += 8 + 2 + 4 + 8 + 8 + 1 + e.batches.length * 32;
    const buf = Buffer.alloc(size);
    buf.write('FJPS', 0, 'latin1');
    buf.writeInt16BE(1, 4);
    let o = 10;
    buf.writeInt32BE(this.producers.size, o);
    o += 4;
    for (const e of this.producers.values()) {
      writeInt64Saturating(buf, e.producerId, o);
      buf.writeInt16BE(e.producerEpoch, o + 8);
      buf.writeInt32BE(e.coordinatorEpoch, o + 10);
      buf.writeBigInt64BE(BigInt(e.txnStartOffset), o + 14);
      writeInt64Saturating(buf, e.lastTimestamp, o + 22);
      buf.writeInt8(e.batches.length, o + 30);
      o += 31;
      for (const m of e.batches) {
        buf.writeInt32BE(m.firstSeq, o);
        buf.writeInt32BE(m.lastSeq, o + 4);
        buf.writeBigInt64BE(BigInt(m.firstOffset), o + 8);
        buf.writeBigInt64BE(BigInt(m.lastOffset), o + 16);
        writeInt64Saturating(buf, m.timestamp, o + 24);
        o += 32;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(10)) >>> 0, 6);
    return buf;
  }

  /** Replaces the state with a snapshot's; returns false (state cleared) when it is corrupt. */
  deserialize(buf: Buffer): boolean {
    this.clear();
    try {
      if (buf.length < 14 || buf.toString('latin1', 0, 4) !== 'FJPS' || buf.readInt16BE(4) !== 1) return false;
      if ((crc32c(buf.subarray(10)) >>> 0) !== buf.readUInt32BE(6)) return false;
      const n = buf.readInt32BE(10);
      let o = 14;
      for (let i = 0; i < n; i++) {
        const e: ProducerStateEntry = {
          producerId: Number(buf.readBigInt64BE(o)),
          producerEpoch: buf.readInt16BE(o + 8),
          coordinatorEpoch: buf.readInt32BE(o + 10),
          txnStartOffset: Number(buf.readBigInt64BE(o + 14)),
          lastTimestamp: Number(buf.readBigInt64BE(o + 22)),
          batches: [],
        };
        const nb = buf.readInt8(o + 30);
        o += 31;
        for (let j = 0; j < nb; j++) {
          e.batches.push({
            firstSeq: buf.readInt32BE(o),
            lastSeq: buf.readInt32BE(o + 4),
            firstOffset: Number(buf.readBigInt64BE(o + 8)),
            lastOffset: Number(buf.readBigInt64BE(o + 16)),
            timestamp: Number(buf.readBigInt64BE(o + 24)),
          });
          o += 32;
        }
        this.set(e);
      }
      return true;
    } catch {
      this.clear();
      return false;
    }
  }

  /** Drops state of batches at or beyond offset (used before rebuilding after truncation). */
  removeBeyond(offset: number): void {
    const map = this.map;
    if (map === undefined) return;
    for (const [pid, e] of map) {
      e.batches = e.batches.filter((m) => m.lastOffset < offset);
      if (e.txnStartOffset >= offset) e.txnStartOffset = -1;
      if (e.batches.length === 0 && e.txnStartOffset < 0) map.delete(pid);
    }
  }
}
