// Loading and interpreting Kafka's message schema JSON files (JSON with comments).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FieldSpec {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  default?: string | number | boolean | null;
  tag?: number;
  taggedVersions?: string;
  flexibleVersions?: string;
  fields?: FieldSpec[];
  about?: string;
  mapKey?: boolean;
  ignorable?: boolean;
  entityType?: string;
}

export interface MessageSpec {
  apiKey?: number;
  type: 'request' | 'response' | 'header' | 'data' | string;
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  fields: FieldSpec[];
  commonStructs?: { name: string; versions?: string; fields: FieldSpec[] }[];
  latestVersionUnstable?: boolean;
}

/** Inclusive version range; hi may be Infinity. */
export interface Range {
  lo: number;
  hi: number;
}

export const NONE: Range = { lo: 1, hi: 0 };

export function parseRange(s: string | undefined): Range {
  if (s === undefined || s === 'none' || s === '') return NONE;
  const t = s.trim();
  if (t.endsWith('+')) return { lo: Number(t.slice(0, -1)), hi: Infinity };
  const dash = t.indexOf('-');
  if (dash >= 0) return { lo: Number(t.slice(0, dash)), hi: Number(t.slice(dash + 1)) };
  const n = Number(t);
  if (!Number.isInteger(n)) throw new Error(`Bad version range ${s}`);
  return { lo: n, hi: n };
}

export function isEmpty(r: Range): boolean {
  return r.lo > r.hi;
}

export function intersect(a: Range, b: Range): Range {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
}

export function contains(outer: Range, inner: Range): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && outer.hi >= inner.hi);
}

/** Strip // and /* comments outside of string literals. */
export function stripJsonComments(src: string): string {
  let out = '';
  let i = 0;
  let inStr = false;
  while (i < src.length) {
    const c = src[i]!;
    if (inStr) {
      out += c;
      if (c === '\\') {
        out += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inStr = false;
      i++;
      continue;
    }
    if (c === '"') {
      inStr = true;
      out += c;
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export function loadSpec(file: string): MessageSpec {
  return JSON.parse(stripJsonComments(readFileSync(file, 'utf8'))) as MessageSpec;
}

export function locateProtocolDir(): string {
  const env = process.env.FJORD_PROTOCOL_DIR;
  if (env) return resolve(env);
  const tried: string[] = [];
  const fromCwd = resolve(process.cwd(), '..', 'shared', 'kafka-protocol');
  tried.push(fromCwd);
  if (existsSync(join(fromCwd, 'messages'))) return fromCwd;
  // Walk up from this file (works from tools/codegen and from a compiled dist/ copy).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const c of [join(dir, 'shared', 'kafka-protocol'), join(dir, 'kafka-protocol')]) {
      tried.push(c);
      if (existsSync(join(c, 'messages'))) return c;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`Cannot find the kafka-protocol directory (set FJORD_PROTOCOL_DIR); tried ${tried.join(', ')}`);
}

export function loadDir(dir: string): MessageSpec[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadSpec(join(dir, f)));
}

export function kebab(name: string): string {
  return name
    .replace(/KRaft/g, 'Kraft')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export const PRIMITIVES = new Set([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'uuid',
  'records',
]);

/** Module base name for a spec (request/response share one module). */
export function moduleBase(spec: MessageSpec): string {
  if (spec.type === 'request') return kebab(spec.name.replace(/Request$/, ''));
  if (spec.type === 'response') return kebab(spec.name.replace(/Response$/, ''));
  return kebab(spec.name);
}
