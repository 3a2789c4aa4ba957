// Record batch v2 and compression: one import for the rest of the broker.
export * from './layout.js';
export * from './crc.js';
export * from './varint.js';
export * from './compression.js';
export * from './batch.js';
