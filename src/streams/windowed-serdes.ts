// Serdes for windowed keys, byte-compatible with Kafka's TimeWindowedSerde / SessionWindowedSerde.
import type { Serde } from './serdes.js';
import type { Windowed } from './stores.js';

export const WindowedSerdes = {
  /** inner key bytes ++ 8-byte window start; the end is start + windowSize. */
  timeWindowedSerdeFrom<K>(inner: Serde<K>, windowSizeMs: number): Serde<Windowed<K>> {
    return {
      serialize(topic, w) {
        if (!w) return null;
        const start = Buffer.allocUnsafe(8);
        start.writeBigInt64BE(BigInt(w.window.start));
        return Buffer.concat([inner.serialize(topic, w.key) ?? Buffer.alloc(0), start]);
      },
      deserialize(topic, b) {
        if (!b) return null;
        const start = Number(b.readBigInt64BE(b.length - 8));
        return { key: inner.deserialize(topic, b.subarray(0, b.length - 8)) as K, window: { start, end: start + windowSizeMs } };
      },
    };
  },
  /** inner key bytes ++ 8-byte end ++ 8-byte start. */
  sessionWindowedSerdeFrom<K>(inner: Serde<K>): Serde<Windowed<K>> {
    return {
      serialize(topic, w) {
        if (!w) return null;
        const t = Buffer.allocUnsafe(16);
        t.writeBigInt64BE(BigInt(w.window.end));
        t.writeBigInt64BE(BigInt(w.window.start), 8);
        return Buffer.concat([inner.serialize(topic, w.key) ?? Buffer.alloc(0), t]);
      },
      deserialize(topic, b) {
        if (!b) return null;
        const end = Number(b.readBigInt64BE(b.length - 16));
        const start = Number(b.readBigInt64BE(b.length - 8));
        return { key: inner.deserialize(topic, b.subarray(0, b.length - 16)) as K, window: { start, end } };
      },
    };
  },
};
