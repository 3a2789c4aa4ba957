// State stores. Every store keeps bytes (keys and values serialized with the operator's serdes)
// in a byte-ordered backend — in memory or lmdb — so the changelog records are exactly the
// store's entries and restoring is "apply the changelog". A record cache above the backend
// collapses repeated updates of a key between commits before they reach the changelog and
// downstream processors.
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Serde } from './serdes.js';

const require = createRequire(import.meta.url);

/** Byte-ordered key-value backend. Keys compare as unsigned bytes. */
export interface BytesBackend {
  get(key: Buffer): Buffer | undefined;
  /** Applies puts (value) and deletes (null) atomically where the backend can. */
  write(entries: Array<[Buffer, Buffer | null]>): void;
  /** Entries with from <= key < to (either bound optional), ascending. */
  range(from?: Buffer, to?: Buffer): Array<[Buffer, Buffer]>;
  count(): number;
  clear(): void;
  close(): void;
}

export class MemoryBackend implements BytesBackend {
  // Hex strings sort exactly like the bytes they encode, so a sorted key list gives ranges.
  private readonly map = new Map<string, [Buffer, Buffer]>();
  private sorted: string[] | null = null;
  get(key: Buffer): Buffer | undefined {
    return this.map.get(key.toString('hex'))?.[1];
  }
  write(entries: Array<[Buffer, Buffer | null]>): void {
    for (const [k, v] of entries) {
      const hex = k.toString('hex');
      if (v === null) {
        if (this.map.delete(hex)) this.sorted = null;
      } else {
        if (!this.map.has(hex)) this.sorted = null;
        this.map.set(hex, [k, v]);
      }
    }
  }
  range(from?: Buffer, to?: Buffer): Array<[Buffer, Buffer]> {
    if (!this.sorted) this.sorted = [...this.map.keys()].sort();
    const keys = this.sorted;
    const lo = from ? lowerBound(keys, from.toString('hex')) : 0;
    const hiHex = to?.toString('hex');
    const out: Array<[Buffer, Buffer]> = [];
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i]!;
      if (hiHex !== undefined && key >= hiHex) break;
      out.push(this.map.get(key)!);
    }
    return out;
  }
  count(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
    this.sorted = null;
  }
  close(): void {}
}

function lowerBound(arr: string[], x: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface LmdbDatabase {
  get(key: Buffer): Buffer | undefined;
  putSync(key: Buffer, value: Buffer): boolean;
  removeSync(key: Buffer): boolean;
  transactionSync<T>(fn: () => T): T;
  getRange(opts: { start?: Buffer; end?: Buffer }): Iterable<{ key: Buffer; value: Buffer }>;
  getCount(): number;
  clearSync(): void;
  close(): Promise<void>;
}

/** Persistent backend: one lmdb environment per store per task under state.dir. */
export class LmdbBackend implements BytesBackend {
  private readonly db: LmdbDatabase;
  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    const lmdb = require('lmdb') as { open(o: object): LmdbDatabase };
    this.db = lmdb.open({ path, keyEncoding: 'binary', encoding: 'binary', noSubdir: false });
  }
  get(key: Buffer): Buffer | undefined {
    const v = this.db.get(key);
    return v === undefined ? undefined : Buffer.from(v);
  }
  write(entries: Array<[Buffer, Buffer | null]>): void {
    if (entries.length === 0) return;
    this.db.transactionSync(() => {
      for (const [k, v] of entries) {
        if (v === null) this.db.removeSync(k);
        else this.db.putSync(k, v);
      }
    });
  }
  range(from?: Buffer, to?: Buffer): Array<[Buffer, Buffer]> {
    const out: Array<[Buffer, Buffer]> = [];
    for (const { key, value } of this.db.getRange({ start: from, end: to })) out.push([Buffer.from(key), Buffer.from(value)]);
    return out;
  }
  count(): number {
    return this.db.getCount();
  }
  clear(): void {
    this.db.clearSync();
  }
  close(): void {
    void this.db.close();
  }
  static wipe(path: string): void {
    rmSync(path, { recursive: true, force: true });
  }
}

/** Where a store's writes go besides the backend: the changelog and the downstream flush listener. */
export interface StoreSink {
  /** Changelog write (key bytes, value bytes or null tombstone). */
  log?(key: Buffer, value: Buffer | null, timestamp: number): void;
}

export interface StateStore {
  readonly name: string;
  /** Writes cached entries to the backend and changelog, forwarding them downstream. */
  flush(): void;
  /** Applies one changelog record during restore. */
  restore(key: Buffer, value: Buffer | null): void;
  close(): void;
  readonly backend: BytesBackend;
}

type FlushListener = (keyBytes: Buffer, newValue: Buffer | null, oldValue: Buffer | null, timestamp: number) => void;

/** Byte-level store with an optional record cache between callers and backend + changelog. */
class CachedBytesStore {
  private readonly dirty = new Map<string, { key: Buffer; value: Buffer | null; ts: number }>();
  private dirtyBytes = 0;
  flushListener: FlushListener | null = null;
  constructor(
    readonly backend: BytesBackend,
    private readonly sink: StoreSink,
    private readonly cacheMaxBytes: number,
  ) {}
  get(key: Buffer): Buffer | null {
    if (this.dirty.size > 0) {
      const d = this.dirty.get(key.toString('latin1'));
      if (d) return d.value;
    }
    return this.backend.get(key) ?? null;
  }
  put(key: Buffer, value: Buffer | null, ts: number): void {
    if (this.cacheMaxBytes <= 0) {
      const old = this.flushListener ? (this.backend.get(key) ?? null) : null;
      this.backend.write([[key, value]]);
      this.sink.log?.(key, value, ts);
      this.flushListener?.(key, value, old, ts);
      return;
    }
    const id = key.toString('latin1');
    this.dirty.delete(id); // re-insert so iteration order is last-write order
    this.dirty.set(id, { key, value, ts });
    this.dirtyBytes += key.length + (value?.length ?? 0) + 32;
    if (this.dirtyBytes > this.cacheMaxBytes) this.flush();
  }
  /** Merged view of backend and cache, ascending, for from <= key < to. */
  range(from?: Buffer, to?: Buffer): Array<[Buffer, Buffer]> {
    const base = this.backend.range(from, to);
    if (this.dirty.size === 0) return base;
    const merged = new Map<string, [Buffer, Buffer | null]>();
    for (const e of base) merged.set(e[0].toString('hex'), e);
    for (const d of this.dirty.values()) {
      if (from && Buffer.compare(d.key, from) < 0) continue;
      if (to && Buffer.compare(d.key, to) >= 0) continue;
      merged.set(d.key.toString('hex'), [d.key, d.value]);
    }
    return [...merged.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .filter((e) => e[1][1] !== null)
      .map((e) => e[1] as [Buffer, Buffer]);
  }
  flush(): void {
    if (this.dirty.size === 0) return;
    const entries = [...this.dirty.values()];
    this.dirty.clear();
    this.dirtyBytes = 0;
    const olds = this.flushListener ? entries.map((e) => this.backend.get(e.key) ?? null) : [];
    this.backend.write(entries.map((e) => [e.key, e.value]));
    entries.forEach((e, i) => {
      this.sink.log?.(e.key, e.value, e.ts);
      // Added and removed within one cache window: nothing changed downstream.
      const old = olds[i] ?? null;
      if (e.value !== null || old !== null) this.flushListener?.(e.key, e.value, old, e.ts);
    });
  }
}

export interface KeyValueIteratorEntry<K, V> {
  key: K;
  value: V;
}

export class KeyValueStore<K, V> implements StateStore {
  readonly inner: CachedBytesStore;
  constructor(
    readonly name: string,
    readonly backend: BytesBackend,
    sink: StoreSink,
    cacheMaxBytes: number,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    private readonly topicForSerde = name,
  ) {
    this.inner = new CachedBytesStore(backend, sink, cacheMaxBytes);
  }
  private kb(key: K): Buffer {
    const b = this.keySerde.serialize(this.topicForSerde, key);
    if (!b) throw new Error(`store ${this.name}: null keys are not allowed`);
    return b;
  }
  get(key: K): V | null {
    const v = this.inner.get(this.kb(key));
    return v === null ? null : this.valueSerde.deserialize(this.topicForSerde, v);
  }
  put(key: K, value: V | null, timestamp = 0): void {
    this.inner.put(this.kb(key), value === null || value === undefined ? null : this.valueSerde.serialize(this.topicForSerde, value), timestamp);
  }
  delete(key: K): V | null {
    const old = this.get(key);
    this.put(key, null);
    return old;
  }
  /** Keys from..to inclusive, in serialized-byte order. */
  range(from: K, to: K): Array<KeyValueIteratorEntry<K, V>> {
    return this.decode(this.inner.range(this.kb(from), Buffer.concat([this.kb(to), Buffer.from([0])])));
  }
  all(): Array<KeyValueIteratorEntry<K, V>> {
    return this.decode(this.inner.range());
  }
  approximateNumEntries(): number {
    return this.backend.count();
  }
  private decode(rows: Array<[Buffer, Buffer]>): Array<KeyValueIteratorEntry<K, V>> {
    return rows.map(([k, v]) => ({ key: this.keySerde.deserialize(this.topicForSerde, k) as K, value: this.valueSerde.deserialize(this.topicForSerde, v) as V }));
  }
  /** Called with decoded (key, new, old) whenever an entry leaves the cache. */
  onFlush(listener: (key: K, newValue: V | null, oldValue: V | null, timestamp: number) => void): void {
    this.inner.flushListener = (k, n, o, ts) =>
      listener(
        this.keySerde.deserialize(this.topicForSerde, k) as K,
        n === null ? null : this.valueSerde.deserialize(this.topicForSerde, n),
        o === null ? null : this.valueSerde.deserialize(this.topicForSerde, o),
        ts,
      );
  }
  flush(): void {
    this.inner.flush();
  }
  restore(key: Buffer, value: Buffer | null): void {
    this.backend.write([[key, value]]);
  }
  close(): void {
    this.backend.close();
  }
}

export interface Window {
  start: number;
  end: number;
}
export interface Windowed<K> {
  key: K;
  window: Window;
}

function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, n)));
  return b;
}

/**
 * Window store: entries keyed by (key, window start[, sequence number]). Layout of a stored key,
 * as in Kafka's window-store changelog: key bytes ++ 8-byte start ++ 4-byte seqnum.
 *
 * Retention as in Kafka's segmented window stores: the store's observed stream time is the largest
 * window start put (or restored) so far; a window is expired once its start is at or before
 * observed - retention. Expired windows are not written, not returned by any read, and are deleted
 * from the backend in a sweep each time observed time advances by half the retention (Kafka drops
 * whole segments). The sweep is not logged: the changelog's own retention.ms removes them there,
 * and a restore applies the same rule to what it replays.
 */
export class WindowStore<K, V> implements StateStore {
  readonly inner: CachedBytesStore;
  private seq = 0;
  private observedStreamTime = -1;
  private nextSweepAt: number;
  /** Puts refused because the window had already expired (Kafka's expired-window-record-drop). */
  expiredRecordsDropped = 0;
  constructor(
    readonly name: string,
    readonly backend: BytesBackend,
    sink: StoreSink,
    cacheMaxBytes: number,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    readonly windowSize: number,
    readonly retainDuplicates = false,
    /** Infinity = keep windows for ever. */
    readonly retentionMs = Number.POSITIVE_INFINITY,
  ) {
    this.inner = new CachedBytesStore(backend, sink, retainDuplicates ? 0 : cacheMaxBytes);
    this.nextSweepAt = Number.isFinite(retentionMs) ? 0 : Number.POSITIVE_INFINITY;
    // A persistent store reopened from its checkpoint: observed time continues from what it holds.
    if (Number.isFinite(retentionMs) && backend.count() > 0) {
      for (const [k] of backend.range()) if (k.length >= 12) this.observedStreamTime = Math.max(this.observedStreamTime, startOf(k));
    }
  }
  /** Windows starting before this are expired. */
  private minLiveStart(): number {
    return Number.isFinite(this.retentionMs) ? this.observedStreamTime - this.retentionMs + 1 : Number.NEGATIVE_INFINITY;
  }
  private observe(start: number): void {
    if (start <= this.observedStreamTime) return;
    this.observedStreamTime = start;
    if (start >= this.nextSweepAt) {
      this.sweep();
      this.nextSweepAt = start + Math.max(1, Math.floor(this.retentionMs / 2));
    }
  }
  /** Deletes expired windows from the backend (a full scan; runs once per half retention of stream time). */
  private sweep(): void {
    const minLive = this.minLiveStart();
    const dead: Array<[Buffer, null]> = [];
    for (const [k] of this.backend.range()) if (k.length >= 12 && startOf(k) < minLive) dead.push([k, null]);
    if (dead.length) this.backend.write(dead);
  }
  private storeKey(kb: Buffer, start: number, seq: number): Buffer {
    const s = Buffer.allocUnsafe(4);
    s.writeUInt32BE(seq >>> 0);
    return Buffer.concat([kb, u64(start), s]);
  }
  put(key: K, value: V | null, windowStart: number, timestamp = windowStart): void {
    this.observe(windowStart);
    if (value !== null && windowStart < this.minLiveStart()) {
      this.expiredRecordsDropped++;
      return;
    }
    const kb = this.keySerde.serialize(this.name, key)!;
    const seq = this.retainDuplicates ? ++this.seq : 0;
    this.inner.put(this.storeKey(kb, windowStart, seq), value === null ? null : this.valueSerde.serialize(this.name, value), timestamp);
  }
  fetch(key: K, windowStart: number): V | null {
    if (windowStart < this.minLiveStart()) return null;
    const kb = this.keySerde.serialize(this.name, key)!;
    const v = this.inner.get(this.storeKey(kb, windowStart, 0));
    return v === null ? null : this.valueSerde.deserialize(this.name, v);
  }
  /** Values for key with window start in [from, to] (live windows only), ascending by start. */
  fetchRange(key: K, from: number, to: number): Array<{ start: number; value: V; seq: number }> {
    from = Math.max(from, this.minLiveStart());
    if (from > to) return [];
    const kb = this.keySerde.serialize(this.name, key)!;
    const rows = this.inner.range(Buffer.concat([kb, u64(from)]), Buffer.concat([kb, u64(to + 1)]));
    const out: Array<{ start: number; value: V; seq: number }> = [];
    for (const [k, v] of rows) {
      if (k.length !== kb.length + 12) continue;
      out.push({ start: Number(k.readBigUInt64BE(kb.length)), seq: k.readUInt32BE(kb.length + 8), value: this.valueSerde.deserialize(this.name, v) as V });
    }
    return out;
  }
  removeEntry(key: K, start: number, seq: number): void {
    const kb = this.keySerde.serialize(this.name, key)!;
    this.inner.put(this.storeKey(kb, start, seq), null, start);
  }
  /** Every live (windowed key, value) in the store. Keys whose serialized form is shorter than 12 bytes are fine. */
  all(): Array<{ key: Windowed<K>; value: V }> {
    const minLive = this.minLiveStart();
    const out: Array<{ key: Windowed<K>; value: V }> = [];
    for (const [k, v] of this.inner.range()) {
      const kl = k.length - 12;
      const start = Number(k.readBigUInt64BE(kl));
      if (start < minLive) continue;
      out.push({
        key: { key: this.keySerde.deserialize(this.name, k.subarray(0, kl)) as K, window: { start, end: start + this.windowSize } },
        value: this.valueSerde.deserialize(this.name, v) as V,
      });
    }
    return out;
  }
  onFlush(listener: (key: Windowed<K>, newValue: V | null, oldValue: V | null, timestamp: number) => void): void {
    this.inner.flushListener = (k, n, o, ts) => {
      const kl = k.length - 12;
      const start = Number(k.readBigUInt64BE(kl));
      listener(
        { key: this.keySerde.deserialize(this.name, k.subarray(0, kl)) as K, window: { start, end: start + this.windowSize } },
        n === null ? null : this.valueSerde.deserialize(this.name, n),
        o === null ? null : this.valueSerde.deserialize(this.name, o),
        ts,
      );
    };
  }
  flush(): void {
    this.inner.flush();
  }
  restore(key: Buffer, value: Buffer | null): void {
    this.restoreBatch([[key, value]]);
  }
  /** Applies changelog records in one backend write; windows already expired at the batch's end are skipped (tombstones still apply). */
  restoreBatch(entries: Array<[Buffer, Buffer | null]>): void {
    let maxStart = -1;
    for (const [k] of entries) if (k.length >= 12) maxStart = Math.max(maxStart, startOf(k));
    this.observe(maxStart);
    const minLive = this.minLiveStart();
    this.backend.write(entries.filter(([k, v]) => v === null || k.length < 12 || startOf(k) >= minLive));
    if (this.retainDuplicates) for (const [k] of entries) if (k.length >= 4) this.seq = Math.max(this.seq, k.readUInt32BE(k.length - 4));
  }
  close(): void {
    this.backend.close();
  }
}

/** Window start of a stored window-store key (key ++ start ++ seqnum). */
function startOf(k: Buffer): number {
  return Number(k.readBigUInt64BE(k.length - 12));
}

/**
 * Session store: key bytes ++ 8-byte end ++ 8-byte start (Kafka's session key schema).
 *
 * Retention as in Kafka's session stores: the store's observed stream time is the largest session
 * end put (or restored) so far; a session is live while end > observed - retention. Expired
 * sessions are not written, not returned by any read, and are deleted from the backend in a sweep
 * each time observed time advances by half the retention (Kafka drops whole segments of that
 * size). The sweep is not logged: the changelog's own retention removes them there, and a restore
 * applies the same rule to what it replays.
 */
export class SessionStore<K, V> implements StateStore {
  readonly inner: CachedBytesStore;
  private observedStreamTime = -1;
  private nextSweepAt: number;
  /** Puts refused because the session had already expired (Kafka's expired-window-record-drop). */
  expiredRecordsDropped = 0;
  constructor(
    readonly name: string,
    readonly backend: BytesBackend,
    sink: StoreSink,
    cacheMaxBytes: number,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    /** Infinity = keep sessions for ever. */
    readonly retentionMs = Number.POSITIVE_INFINITY,
  ) {
    this.inner = new CachedBytesStore(backend, sink, cacheMaxBytes);
    this.nextSweepAt = Number.isFinite(retentionMs) ? 0 : Number.POSITIVE_INFINITY;
    // A persistent store reopened from its checkpoint: observed time continues from what it holds.
    if (Number.isFinite(retentionMs) && backend.count() > 0) {
      for (const [k] of backend.range()) if (k.length >= 16) this.observedStreamTime = Math.max(this.observedStreamTime, Number(k.readBigUInt64BE(k.length - 16)));
    }
  }
  /** Sessions ending before this are expired. */
  private minLiveEnd(): number {
    return Number.isFinite(this.retentionMs) ? this.observedStreamTime - this.retentionMs + 1 : Number.NEGATIVE_INFINITY;
  }
  private observe(end: number): void {
    if (end <= this.observedStreamTime) return;
    this.observedStreamTime = end;
    if (end >= this.nextSweepAt) {
      this.sweep();
      this.nextSweepAt = end + Math.max(1, Math.floor(this.retentionMs / 2));
    }
  }
  /** Deletes expired sessions from the backend (a full scan; runs once per half retention of stream time). */
  private sweep(): void {
    const minLive = this.minLiveEnd();
    const dead: Array<[Buffer, null]> = [];
    for (const [k] of this.backend.range()) {
      if (k.length >= 16 && Number(k.readBigUInt64BE(k.length - 16)) < minLive) dead.push([k, null]);
    }
    if (dead.length) this.backend.write(dead);
  }
  private storeKey(kb: Buffer, w: Window): Buffer {
    return Buffer.concat([kb, u64(w.end), u64(w.start)]);
  }
  private decodeKey(k: Buffer): Windowed<K> {
    const kl = k.length - 16;
    return {
      key: this.keySerde.deserialize(this.name, k.subarray(0, kl)) as K,
      window: { end: Number(k.readBigUInt64BE(kl)), start: Number(k.readBigUInt64BE(kl + 8)) },
    };
  }
  put(session: Windowed<K>, value: V | null, timestamp = session.window.end): void {
    this.observe(session.window.end);
    if (value !== null && session.window.end < this.minLiveEnd()) {
      this.expiredRecordsDropped++;
      return;
    }
    const kb = this.keySerde.serialize(this.name, session.key)!;
    this.inner.put(this.storeKey(kb, session.window), value === null ? null : this.valueSerde.serialize(this.name, value), timestamp);
  }
  remove(session: Windowed<K>): void {
    this.put(session, null);
  }
  /** Live sessions of key that end at or after earliestEnd and start at or before latestStart. */
  findSessions(key: K, earliestEnd: number, latestStart: number): Array<{ key: Windowed<K>; value: V }> {
    const kb = this.keySerde.serialize(this.name, key)!;
    const from = Math.max(earliestEnd, this.minLiveEnd());
    const rows = this.inner.range(Buffer.concat([kb, u64(from)]), Buffer.concat([kb, Buffer.alloc(16, 0xff)]));
    const out: Array<{ key: Windowed<K>; value: V }> = [];
    for (const [k, v] of rows) {
      if (k.length !== kb.length + 16) continue;
      const w = this.decodeKey(k);
      if (w.window.start > latestStart) continue;
      out.push({ key: w, value: this.valueSerde.deserialize(this.name, v) as V });
    }
    return out.sort((a, b) => a.key.window.start - b.key.window.start);
  }
  fetch(key: K): Array<{ key: Windowed<K>; value: V }> {
    return this.findSessions(key, 0, Number.MAX_SAFE_INTEGER);
  }
  /** The value of exactly the live session [start, end] of key, or null. */
  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | null {
    if (sessionEnd < this.minLiveEnd()) return null;
    const kb = this.keySerde.serialize(this.name, key)!;
    const v = this.inner.get(this.storeKey(kb, { start: sessionStart, end: sessionEnd }));
    return v === null ? null : (this.valueSerde.deserialize(this.name, v) as V);
  }
  /** Every live session. */
  all(): Array<{ key: Windowed<K>; value: V }> {
    const minLive = this.minLiveEnd();
    return this.inner
      .range()
      .map(([k, v]) => ({ key: this.decodeKey(k), value: this.valueSerde.deserialize(this.name, v) as V }))
      .filter((s) => s.key.window.end >= minLive);
  }
  onFlush(listener: (key: Windowed<K>, newValue: V | null, oldValue: V | null, timestamp: number) => void): void {
    this.inner.flushListener = (k, n, o, ts) =>
      listener(this.decodeKey(k), n === null ? null : this.valueSerde.deserialize(this.name, n), o === null ? null : this.valueSerde.deserialize(this.name, o), ts);
  }
  flush(): void {
    this.inner.flush();
  }
  restore(key: Buffer, value: Buffer | null): void {
    this.restoreBatch([[key, value]]);
  }
  /** Applies changelog records in one backend write; sessions already expired at the batch's end are skipped (tombstones still apply). */
  restoreBatch(entries: Array<[Buffer, Buffer | null]>): void {
    const endOf = (k: Buffer) => (k.length >= 16 ? Number(k.readBigUInt64BE(k.length - 16)) : Number.POSITIVE_INFINITY);
    let maxEnd = -1;
    for (const [k] of entries) {
      const end = endOf(k);
      if (Number.isFinite(end) && end > maxEnd) maxEnd = end;
    }
    this.observe(maxEnd);
    const minLive = this.minLiveEnd();
    this.backend.write(entries.filter(([k, v]) => v === null || endOf(k) >= minLive));
  }
  close(): void {
    this.backend.close();
  }
}

export type AnyStore = KeyValueStore<any, any> | WindowStore<any, any> | SessionStore<any, any>;
