import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Kafka's file name stem for a segment/snapshot: the base offset as 20 zero-padded digits. */
export function offsetFileName(offset: number, suffix: string): string {
  return String(offset).padStart(20, '0') + suffix;
}

/** Parses "00000000000000001234.log" -> 1234, or undefined when the name does not match. */
export function parseOffsetFileName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const stem = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(stem)) return undefined;
  return Number(stem);
}

/**
 * A flat copy of a string built by concatenation. path.join and template literals return a tree
 * of pieces (cons and sliced strings: several heap objects for one path); a string kept for the
 * life of a partition or segment is stored flat. For strings built once, never on a hot path.
 */
export function flatString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** The partition directory name Kafka uses: "<topic>-<partition>". */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits "<topic>-<partition>" at the last dash. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (!m) return undefined;
  return { topic: m[1]!, partition: Number(m[2]) };
}

/** Writes a file durably: temp file, fsync, rename over the target, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Buffer, sync = true): Promise<void> {
  const tmp = file + '.tmp';
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  if (sync) await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; nothing more we can do
  } finally {
    await fh?.close();
  }
}

export async function readFileOrUndefined(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kafka's offset checkpoint text format (recovery-point-offset-checkpoint,
 * log-start-offset-checkpoint): "0\n<count>\n<topic> <partition> <offset>\n...".
 */
export function formatOffsetCheckpoint(entries: Iterable<{ topic: string; partition: number; offset: number }>): string {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  return `0\n${lines.length}\n${lines.length ? lines.join('\n') + '\n' : ''}`;
}

/** Parses the offset checkpoint format; returns a map keyed by "<topic>-<partition>". Throws on malformed input. */
function parseOffsetCheckpoint(text: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '0') throw new Error(`unsupported checkpoint version: ${lines[0]}`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) throw new Error('malformed checkpoint count');
  const out = new Map<string, number>();
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i]!.split(' ');
    if (parts.length < 3) throw new Error(`malformed checkpoint line: ${lines[i]}`);
    const offset = Number(parts[parts.length - 1]);
    const partition = Number(parts[parts.length - 2]);
    const topic = parts.slice(0, -2).join(' ');
    if (!Number.isInteger(offset) || !Number.isInteger(partition)) throw new Error(`malformed checkpoint line: ${lines[i]}`);
    out.set(partitionDirName(topic, partition), offset);
  }
  return out;
}

export async function readOffsetCheckpoint(file: string): Promise<Map<string, number>> {
  const buf = await readFileOrUndefined(file);
  if (!buf) return new Map();
  try {
    return parseOffsetCheckpoint(buf.toString('utf8'));
  } catch {
    return new Map(); // corrupt checkpoint: behave as if absent (full recovery)
  }
}
