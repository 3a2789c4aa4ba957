// Compatibility levels over the three formats. BACKWARD: the new schema reads data written
// with the old; FORWARD: the old reads the new; FULL: both; *_TRANSITIVE: against every
// earlier version instead of the latest only.
import type { ParsedSchema } from '../schemas.js';
import { avroReadable } from './avro.js';
import { jsonReadable } from './json.js';
import { protobufDiff } from './protobuf.js';

export const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** Problems reading data written with `writer` using `reader` (empty: readable). */
export function readable(reader: ParsedSchema, writer: ParsedSchema): string[] {
  if (reader.type !== writer.type) return [`TYPE_MISMATCH: schema type changed from ${writer.type} to ${reader.type}`];
  switch (reader.type) {
    case 'AVRO':
      return avroReadable(reader.avro, (writer as typeof reader).avro);
    case 'JSON':
      return jsonReadable(reader, writer as typeof reader);
    case 'PROTOBUF':
      return protobufDiff(writer as typeof reader, reader);
  }
}

export interface PreviousVersion {
  version: number;
  parsed: ParsedSchema;
}

/**
 * Checks `candidate` against `previous` (ascending by version) at `level`; returns messages
 * naming the version, the problem and the rule (empty: compatible).
 */
export function checkCompatibility(level: CompatibilityLevel, candidate: ParsedSchema, previous: PreviousVersion[]): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const out: string[] = [];
  for (const prev of [...against].reverse()) {
    if (backward) for (const m of readable(candidate, prev.parsed)) out.push(`${m}, {oldSchemaVersion: ${prev.version}}, {compatibility: '${level}'}`);
    if (forward) for (const m of readable(prev.parsed, candidate)) out.push(`${m}, {oldSchemaVersion: ${prev.version}}, {compatibility: '${level}'}`);
  }
  return out;
}
