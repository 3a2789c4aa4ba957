// The group coordinator's records in `__consumer_offsets`, in Kafka's own formats (key and value
// each start with an int16 version): key v0/v1 OffsetCommitKey -> OffsetCommitValue (v3 written),
// key v2 GroupMetadataKey -> GroupMetadataValue (v3 written); key v3..v8 are the ConsumerGroup*
// records of ./consumer-protocol/records.ts.
import { decodeGroupMetadataKey, encodeGroupMetadataKey } from '../../protocol/gen/internal/group-metadata-key.js';
import {
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
  type GroupMetadataValue,
  type GroupMetadataValueInput,
} from '../../protocol/gen/internal/group-metadata-value.js';
import { decodeOffsetCommitKey, encodeOffsetCommitKey, type OffsetCommitKey } from '../../protocol/gen/internal/offset-commit-key.js';
import {
  decodeOffsetCommitValue,
  encodeOffsetCommitValue,
  type OffsetCommitValue,
  type OffsetCommitValueInput,
} from '../../protocol/gen/internal/offset-commit-value.js';
import { Reader, Writer } from '../../protocol/primitives.js';

// Keys start with the record type (Kafka's coordinator-record "apiKey"); the key struct after it is
// at schema version 0 (older specs called the type the key's version). Values carry their own version.
function withVersion(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  encode(w);
  return w.toBuffer();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return withVersion(1, (w) => encodeOffsetCommitKey(w, 0, { group, topic, partition }));
}

export function offsetCommitValue(v: OffsetCommitValueInput): Buffer {
  return withVersion(3, (w) => encodeOffsetCommitValue(w, 3, v));
}

export function groupMetadataKey(group: string): Buffer {
  return withVersion(2, (w) => encodeGroupMetadataKey(w, 0, { group }));
}

export function groupMetadataValue(v: GroupMetadataValueInput): Buffer {
  return withVersion(3, (w) => encodeGroupMetadataValue(w, 3, v));
}

export type DecodedCoordinatorRecord =
  | { kind: 'offset'; key: OffsetCommitKey; value: OffsetCommitValue | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null }
  | { kind: 'other'; keyVersion: number; key: Buffer; value: Buffer | null };

/** Decodes one `__consumer_offsets` record; throws on malformed bytes. */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): DecodedCoordinatorRecord {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = decodeOffsetCommitKey(kr, 0); // type 0 (legacy) and 1 share the layout
    if (value === null) return { kind: 'offset', key: k, value: null };
    const vr = new Reader(value);
    const vv = vr.int16();
    return { kind: 'offset', key: k, value: decodeOffsetCommitValue(vr, vv) };
  }
  if (keyVersion === 2) {
    const k = decodeGroupMetadataKey(kr, 0);
    if (value === null) return { kind: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const vv = vr.int16();
    return { kind: 'group', group: k.group, value: decodeGroupMetadataValue(vr, vv) };
  }
  return { kind: 'other', keyVersion, key, value };
}
