// CRC-32C (Castagnoli) as used by record batch v2. Backed by the native @node-rs/crc32.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC-32C of buf[start, end). Uses a subarray view, never a copy.
 * Returns an unsigned 32-bit number (matches `buf.readUInt32BE` of a stored CRC).
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  return nativeCrc32c(view) >>> 0;
}
