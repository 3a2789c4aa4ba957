/** Kafka error codes that the storage layer raises. */
export const ErrorCode = {
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  KAFKA_STORAGE_ERROR: 56,
  INCONSISTENT_TOPIC_ID: 103,
} as const;

/** An error with a Kafka protocol error code, meant to be returned to the client as-is. */
export class StorageError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}
