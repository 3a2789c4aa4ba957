// Serdes: how keys and values become bytes on topics, changelogs and repartition topics.
// Formats match Kafka's Java serdes (Long = 8-byte big-endian, Integer = 4-byte, Double = IEEE 754 BE).

export interface Serializer<T> {
  serialize(topic: string, data: T | null | undefined): Buffer | null;
}
export interface Deserializer<T> {
  deserialize(topic: string, data: Buffer | null | undefined): T | null;
}
export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

function serde<T>(ser: (v: T) => Buffer, de: (b: Buffer) => T): Serde<T> {
  return {
    serialize: (_topic, v) => (v === null || v === undefined ? null : ser(v)),
    deserialize: (_topic, b) => (b === null || b === undefined ? null : de(b)),
  };
}

function longBytes(v: number | bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}

export const Serdes = {
  String: (): Serde<string> => serde((v) => Buffer.from(String(v), 'utf8'), (b) => b.toString('utf8')),
  /** 8-byte big-endian signed, read as a JS number (exact up to 2^53). */
  Long: (): Serde<number> =>
    serde(longBytes, (b) => {
      if (b.length !== 8) throw new Error(`Size of data received by LongDeserializer is not 8 (got ${b.length})`);
      return Number(b.readBigInt64BE());
    }),
  /** Like Long but keeps the full 64-bit range as bigint. */
  BigLong: (): Serde<bigint> => serde(longBytes, (b) => b.readBigInt64BE()),
  Integer: (): Serde<number> =>
    serde(
      (v) => {
        const b = Buffer.allocUnsafe(4);
        b.writeInt32BE(v);
        return b;
      },
      (b) => {
        if (b.length !== 4) throw new Error(`Size of data received by IntegerDeserializer is not 4 (got ${b.length})`);
        return b.readInt32BE();
      },
    ),
  Double: (): Serde<number> =>
    serde(
      (v) => {
        const b = Buffer.allocUnsafe(8);
        b.writeDoubleBE(v);
        return b;
      },
      (b) => b.readDoubleBE(),
    ),
  Json: <T = unknown>(): Serde<T> => serde((v) => Buffer.from(JSON.stringify(v)), (b) => JSON.parse(b.toString('utf8')) as T),
  Bytes: (): Serde<Buffer> => serde((v) => v, (b) => b),
  ByteArray: (): Serde<Buffer> => serde((v) => v, (b) => b),
  Void: (): Serde<null> => ({ serialize: () => null, deserialize: () => null }),
};

/** Serdes used when an operator gets none: application-level defaults. */
export interface DefaultSerdes {
  key: Serde<any>;
  value: Serde<any>;
}
