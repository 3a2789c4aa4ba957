// Kafka wire primitives: a bounds-checked Reader and a growable, chunked Writer.
//
// All fixed-width integers are big-endian. int64 values are carried as JS numbers
// (exact up to 2^53, which covers offsets, timestamps and producer ids in practice).
// Malformed input always raises ProtocolError, never RangeError or a silent misread.

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** The all-zero UUID in Kafka's base64url text form (22 chars, no padding). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A shared empty buffer (treat as immutable). */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

const TWO_32 = 4294967296;
const INT64_MAX_AS_NUMBER = 9223372036854775807; // rounds to 2^63
const INT64_MIN_AS_NUMBER = -9223372036854775808;

function short(need: number, have: number): ProtocolError {
  return new ProtocolError(`Buffer underflow: need ${need} byte(s), ${have} remaining`);
}

export class Reader {
  buf: Buffer;
  offset: number;

  constructor(buf: Buffer, offset = 0) {
    this.buf = buf;
    this.offset = offset;
  }

  remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Advance past n bytes (bounds-checked). */
  skip(n: number): void {
    if (n < 0 || this.offset + n > this.buf.length) throw short(n, this.remaining());
    this.offset += n;
  }

  /** Return a slice of the next n bytes (no copy). */
  slice(n: number): Buffer {
    const o = this.offset;
    if (n < 0 || o + n > this.buf.length) throw short(n, this.buf.length - o);
    this.offset = o + n;
    return this.buf.subarray(o, o + n);
  }

  int8(): number {
    const o = this.offset;
    if (o + 1 > this.buf.length) throw short(1, this.buf.length - o);
    this.offset = o + 1;
    const v = this.buf[o]!;
    return v & 0x80 ? v - 0x100 : v;
  }

  bool(): boolean {
    const o = this.offset;
    if (o + 1 > this.buf.length) throw short(1, this.buf.length - o);
    this.offset = o + 1;
    return this.buf[o] !== 0;
  }

  int16(): number {
    const o = this.offset;
    const b = this.buf;
    if (o + 2 > b.length) throw short(2, b.length - o);
    this.offset = o + 2;
    const v = (b[o]! << 8) | b[o + 1]!;
    return v & 0x8000 ? v - 0x10000 : v;
  }

  uint16(): number {
    const o = this.offset;
    const b = this.buf;
    if (o + 2 > b.length) throw short(2, b.length - o);
    this.offset = o + 2;
    return (b[o]! << 8) | b[o + 1]!;
  }

  int32(): number {
    const o = this.offset;
    const b = this.buf;
    if (o + 4 > b.length) throw short(4, b.length - o);
    this.offset = o + 4;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  uint32(): number {
    const o = this.offset;
    const b = this.buf;
    if (o + 4 > b.length) throw short(4, b.length - o);
    this.offset = o + 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  int64(): number {
    const o = this.offset;
    const b = this.buf;
    if (o + 8 > b.length) throw short(8, b.length - o);
    this.offset = o + 8;
    const hi = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    const lo = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
    return hi * TWO_32 + lo;
  }

  float64(): number {
    const o = this.offset;
    if (o + 8 > this.buf.length) throw short(8, this.buf.length - o);
    this.offset = o + 8;
    return this.buf.readDoubleBE(o);
  }

  /** Unsigned LEB128 varint, at most 5 bytes (32 bits). */
  uvarint(): number {
    const b = this.buf;
    const o = this.offset;
    if (o < b.length) {
      const x = b[o]!;
      if (x < 0x80) {
        this.offset = o + 1;
        return x;
      }
    }
    return this.uvarintSlow();
  }

  private uvarintSlow(): number {
    const b = this.buf;
    let o = this.offset;
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (o >= b.length) throw short(1, 0);
      const byte = b[o++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return result;
      }
    }
    if (o >= b.length) throw short(1, 0);
    const last = b[o++]!;
    if (last > 0x0f) throw new ProtocolError('Varint is too long');
    this.offset = o;
    return result + last * 268435456;
  }

  /** Zig-zag signed 32-bit varint. */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Unsigned varint up to 10 bytes (64 bits), as a number (exact up to 2^53). */
  uvarlong(): number {
    const b = this.buf;
    let o = this.offset;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (o >= b.length) throw short(1, 0);
      const byte = b[o++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return result;
      }
      mul *= 128;
    }
    throw new ProtocolError('Varlong is too long');
  }

  /** Zig-zag signed 64-bit varint, as a number (exact up to 2^53). */
  varlong(): number {
    const u = this.uvarlong();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  uuid(): string {
    const o = this.offset;
    if (o + 16 > this.buf.length) throw short(16, this.buf.length - o);
    this.offset = o + 16;
    return this.buf.toString('base64url', o, o + 16);
  }

  private utf8(len: number): string {
    const o = this.offset;
    const b = this.buf;
    if (o + len > b.length) throw short(len, b.length - o);
    this.offset = o + len;
    if (len < 24) {
      // Fast path for short ASCII strings (topic names, client ids, ...).
      let s = '';
      for (let i = o, e = o + len; i < e; i++) {
        const c = b[i]!;
        if (c >= 0x80) return b.toString('utf8', o, o + len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', o, o + len);
  }

  /** int16-length string; a null (-1) is read as "" (lenient). */
  string(): string {
    const len = this.int16();
    if (len < 0) {
      if (len === -1) return '';
      throw new ProtocolError(`Invalid string length ${len}`);
    }
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolError(`Invalid string length ${len}`);
    }
    return this.utf8(len);
  }

  compactString(): string {
    const n = this.uvarint();
    if (n === 0) return '';
    return this.utf8(n - 1);
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.utf8(n - 1);
  }

  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) {
      if (len === -1) return EMPTY_BUFFER;
      throw new ProtocolError(`Invalid bytes length ${len}`);
    }
    return this.slice(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolError(`Invalid bytes length ${len}`);
    }
    return this.slice(len);
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) return EMPTY_BUFFER;
    return this.slice(n - 1);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.slice(n - 1);
  }

  /** int32 array length: -1 for null; rejects lengths that cannot fit in the remaining bytes. */
  arrayLength(): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return -1;
      throw new ProtocolError(`Invalid array length ${n}`);
    }
    if (n > this.buf.length - this.offset) {
      throw new ProtocolError(`Array length ${n} exceeds remaining ${this.buf.length - this.offset} bytes`);
    }
    return n;
  }

  /** Compact array length: -1 for null. */
  compactArrayLength(): number {
    const n = this.uvarint() - 1;
    if (n > this.buf.length - this.offset) {
      throw new ProtocolError(`Array length ${n} exceeds remaining ${this.buf.length - this.offset} bytes`);
    }
    return n;
  }

  /** Skip a whole tagged-field section (all tags unknown). */
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}

/** Buffers at least this large passed to raw() are kept as separate chunks (zero copy). */
const RAW_CHUNK_THRESHOLD = 512;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Start, within buf, of the bytes not yet moved to `chunks`. */
  private segStart = 0;
  /** Finished chunks (views); `chunkStarts[i]` is the logical offset of `chunks[i]`. */
  private chunks: Buffer[] = [];
  private chunkStarts: number[] = [];
  /** Logical offset of buf[segStart]. */
  private segLogical = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.segLogical + (this.pos - this.segStart);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.segStart;
    let cap = this.buf.length * 2;
    if (cap < used + n) cap = used + n + 256;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, this.segStart, this.pos);
    // Flushed chunks keep views into the old buffer, so it stays valid for them.
    this.buf = nb;
    this.segStart = 0;
    this.pos = used;
  }

  private flushSegment(): void {
    if (this.pos > this.segStart) {
      this.chunks.push(this.buf.subarray(this.segStart, this.pos));
      this.chunkStarts.push(this.segLogical);
      this.segLogical += this.pos - this.segStart;
      this.segStart = this.pos;
    }
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
  }

  uint16(v: number): void {
    this.int16(v);
  }

  int32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  uint32(v: number): void {
    this.int32(v);
  }

  int64(v: number): void {
    this.ensure(8);
    let hi: number;
    let lo: number;
    if (v >= INT64_MAX_AS_NUMBER) {
      hi = 0x7fffffff;
      lo = 0xffffffff;
    } else if (v <= INT64_MIN_AS_NUMBER) {
      hi = -0x80000000;
      lo = 0;
    } else {
      hi = Math.floor(v / TWO_32);
      lo = v - hi * TWO_32;
    }
    const b = this.buf;
    const p = this.pos;
    b[p] = (hi >>> 24) & 0xff;
    b[p + 1] = (hi >>> 16) & 0xff;
    b[p + 2] = (hi >>> 8) & 0xff;
    b[p + 3] = hi & 0xff;
    b[p + 4] = (lo >>> 24) & 0xff;
    b[p + 5] = (lo >>> 16) & 0xff;
    b[p + 6] = (lo >>> 8) & 0xff;
    b[p + 7] = lo & 0xff;
    this.pos = p + 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  /** Unsigned varint (up to 32 bits). */
  uvarint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    let x = v >>> 0;
    while (x >= 0x80) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    this.pos = p;
  }

  /** Zig-zag signed 32-bit varint. */
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Unsigned varint up to 64 bits (exact up to 2^53). */
  uvarlong(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    let x = v;
    while (x >= 0x80) {
      b[p++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    b[p++] = x;
    this.pos = p;
  }

  /** Zig-zag signed 64-bit varint (exact up to 2^52 in magnitude). */
  varlong(v: number): void {
    this.uvarlong(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  uuid(v: string): void {
    if (typeof v !== 'string' || v.length !== 22) throw new ProtocolError(`Invalid UUID ${String(v)}`);
    this.ensure(16);
    const n = this.buf.write(v, this.pos, 16, 'base64url');
    if (n !== 16) throw new ProtocolError(`Invalid UUID ${v}`);
    this.pos += 16;
  }

  string(v: string): void {
    this.ensure(2 + v.length * 3);
    const p = this.pos;
    const n = this.buf.write(v, p + 2, 'utf8');
    if (n > 0x7fff) throw new ProtocolError(`String too long (${n} bytes)`);
    this.buf[p] = n >>> 8;
    this.buf[p + 1] = n & 0xff;
    this.pos = p + 2 + n;
  }

  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  compactString(v: string): void {
    const max = v.length * 3;
    if (max < 127) {
      this.ensure(1 + max);
      const p = this.pos;
      const n = this.buf.write(v, p + 1, 'utf8');
      this.buf[p] = n + 1;
      this.pos = p + 1 + n;
      return;
    }
    const n = Buffer.byteLength(v, 'utf8');
    this.uvarint(n + 1);
    this.ensure(n);
    this.buf.write(v, this.pos, 'utf8');
    this.pos += n;
  }

  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  bytes(v: Buffer): void {
    this.int32(v.length);
    this.raw(v);
  }

  nullableBytes(v: Buffer | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  compactBytes(v: Buffer): void {
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  compactNullableBytes(v: Buffer | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }

  /** Records as (nullable) bytes; a list of chunks is written without concatenation. */
  records(v: Buffer | readonly Buffer[] | null | undefined, compact: boolean): void {
    if (v == null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (Buffer.isBuffer(v)) {
      if (compact) this.compactBytes(v);
      else this.bytes(v);
      return;
    }
    let total = 0;
    for (const c of v as readonly Buffer[]) total += c.length;
    if (compact) this.uvarint(total + 1);
    else this.int32(total);
    for (const c of v as readonly Buffer[]) this.raw(c);
  }

  /** Append bytes; large buffers are referenced as their own chunk instead of copied. */
  raw(v: Buffer): void {
    const n = v.length;
    if (n >= RAW_CHUNK_THRESHOLD) {
      this.flushSegment();
      this.chunks.push(v);
      this.chunkStarts.push(this.segLogical);
      this.segLogical += n;
      return;
    }
    this.ensure(n);
    v.copy(this.buf, this.pos);
    this.pos += n;
  }

  /** Append everything another writer holds. */
  append(other: Writer): void {
    for (const c of other.toChunks()) this.raw(c);
  }

  /** Reserve 4 bytes for an int32 written later with patchInt32(); returns a handle. */
  reserveInt32(): number {
    this.ensure(4);
    const handle = this.length;
    this.pos += 4;
    return handle;
  }

  patchInt32(handle: number, v: number): void {
    let b: Buffer;
    let p: number;
    if (handle >= this.segLogical) {
      b = this.buf;
      p = this.segStart + (handle - this.segLogical);
    } else {
      let i = this.chunkStarts.length - 1;
      while (i > 0 && this.chunkStarts[i]! > handle) i--;
      b = this.chunks[i]!;
      p = handle - this.chunkStarts[i]!;
    }
    if (p + 4 > b.length) throw new ProtocolError('Invalid patch handle');
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
  }

  /** The bytes written so far as a list of chunks (views; do not keep writing into them). */
  toChunks(): Buffer[] {
    this.flushSegment();
    return this.chunks.slice();
  }

  /** The bytes written so far as one buffer (no copy when there is a single chunk). */
  toBuffer(): Buffer {
    this.flushSegment();
    if (this.chunks.length === 1) return this.chunks[0]!;
    if (this.chunks.length === 0) return EMPTY_BUFFER;
    return Buffer.concat(this.chunks, this.segLogical);
  }
}
