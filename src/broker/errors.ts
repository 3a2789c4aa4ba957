// Kept for the handlers' imports; the error type itself lives in ../protocol/kafka-error.ts.
export { KafkaError, errorCodeOf } from '../protocol/kafka-error.js';
