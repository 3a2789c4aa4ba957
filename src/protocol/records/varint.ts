// Zig-zag varints as used inside record batch v2 bodies (record length, deltas, key/value/header
// lengths). 32-bit varints use integer ops; varlongs use float arithmetic, which is exact for
// |v| < 2^52 (timestamps and deltas fit easily).

export class VarintError extends RangeError {}

/** Bytes needed for the zig-zag varint encoding of a 32-bit signed integer. */
export function sizeOfVarint(value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

/** Bytes needed for the zig-zag varlong encoding of a (safe-integer) signed number. */
export function sizeOfVarlong(value: number): number {
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

/** Writes a zig-zag varint at pos; returns the position after it. No bounds growth. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Writes a zig-zag varlong at pos; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value);
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

/**
 * Cursor over a buffer for reading varints without allocating per value.
 * `end` bounds reads (defaults to buf.length); reading past it throws VarintError.
 */
export class VarReader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Zig-zag varint, 32-bit signed (at most 5 bytes). */
  varint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let u = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end) throw new VarintError('varint runs past end of buffer');
      const b = buf[pos++]!;
      u |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 28) throw new VarintError('varint longer than 5 bytes');
    }
    this.pos = pos;
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag varlong, up to 10 bytes; exact while the magnitude stays below 2^53. */
  varlong(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0; // first 28 bits via integer ops
    let shift = 0;
    let b: number;
    do {
      if (pos >= end) throw new VarintError('varlong runs past end of buffer');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 28);
    let u = lo >>> 0;
    if (b >= 0x80) {
      let mul = 268435456; // 2^28
      do {
        if (pos >= end) throw new VarintError('varlong runs past end of buffer');
        if (shift >= 70) throw new VarintError('varlong longer than 10 bytes');
        b = buf[pos++]!;
        u += (b & 0x7f) * mul;
        mul *= 128;
        shift += 7;
      } while (b >= 0x80);
    }
    this.pos = pos;
    // zig-zag decode on a float: even -> u/2, odd -> -(u+1)/2. The sign comes from the exact
    // low bit, so even values beyond 2^53 keep their sign (the magnitude is then approximate).
    return (lo & 1) === 0 ? u / 2 : -(u + 1) / 2;
  }
}
