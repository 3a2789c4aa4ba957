// Which partition of a coordinator's state topic holds a key: Kafka's
// `Utils.abs(key.hashCode()) % partitionCount`, so a Fjord broker places group ids and
// transactional ids on the same partitions as a Kafka broker would.

/** Java's String.hashCode (UTF-16 code units, 32-bit wrap). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs (Integer.MIN_VALUE maps to 0, i.e. x & 0x7fffffff) of the key's hash, mod n. */
export function partitionForKey(key: string, numPartitions: number): number {
  return (javaStringHashCode(key) & 0x7fffffff) % numPartitions;
}
