// The transaction coordinator's records in `__transaction_state`, in Kafka's formats (key and
// value each start with an int16 version): key type 0 TransactionLogKey → TransactionLogValue
// (v0 written for transaction version 0/1 clients, v1 for version 2); a null value is the
// tombstone of an expired transactional id.
import { decodeTransactionLogKey, encodeTransactionLogKey } from '../../protocol/gen/internal/transaction-log-key.js';
import {
  decodeTransactionLogValue,
  encodeTransactionLogValue,
  type TransactionLogValue,
  type TransactionLogValueInput,
} from '../../protocol/gen/internal/transaction-log-value.js';
import { Reader, Writer } from '../../protocol/primitives.js';

export function transactionLogKey(transactionalId: string): Buffer {
  const w = new Writer();
  w.int16(0);
  encodeTransactionLogKey(w, 0, { transactionalId });
  return w.toBuffer();
}

export function transactionLogValue(v: TransactionLogValueInput, version: 0 | 1): Buffer {
  const w = new Writer();
  w.int16(version);
  encodeTransactionLogValue(w, version, v);
  return w.toBuffer();
}

export function decodeTransactionLogRecord(key: Buffer, value: Buffer | null): { transactionalId: string; value: TransactionLogValue | null } {
  const kr = new Reader(key);
  kr.int16(); // record type 0; the key struct is at schema version 0
  const { transactionalId } = decodeTransactionLogKey(kr, 0);
  if (value === null) return { transactionalId, value: null };
  const vr = new Reader(value);
  const vv = vr.int16();
  return { transactionalId, value: decodeTransactionLogValue(vr, vv) };
}
