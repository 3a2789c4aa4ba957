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

/** Where the vendored specs live, relative to the repository root. */
export const VENDORED_PROTOCOL_DIR = join('tools', 'codegen', 'kafka-protocol');

/**
 * The repository's own copy of the protocol specs (tools/codegen/kafka-protocol). Found by walking
 * up from this file, so it works from tools/codegen (tsx) and from the compiled dist/tools/codegen.
 * FJORD_PROTOCOL_DIR overrides it (to try a newer spec set before vendoring it).
 */
export function locateProtocolDir(): string {
  const env = process.env.FJORD_PROTOCOL_DIR;
  if (env) return resolve(env);
  const tried: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, VENDORED_PROTOCOL_DIR);
    tried.push(candidate);
    if (existsSync(join(candidate, 'messages'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`Cannot find the vendored protocol specs; tried ${tried.join(', ')}`);
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

/**
 * Kafka 4 raised the lowest version of several APIs (KIP-896) and deleted the fields only those
 * versions had. Fjord still serves the old versions, so `legacy/messages/` keeps the 4.0-snapshot
 * spec of each such message; this widens the newest spec's `validVersions` down to the legacy
 * lower bound and puts back the fields (at their old positions) that the newest spec dropped.
 * Fields both specs have keep the newest definition; their version ranges already cover the old
 * versions (Kafka only narrowed `validVersions`), which `checkLegacyMerge` guards.
 */
export function mergeLegacy(newest: MessageSpec, legacy: MessageSpec): MessageSpec {
  const nv = parseRange(newest.validVersions);
  const lv = parseRange(legacy.validVersions);
  if (isEmpty(nv) || lv.lo >= nv.lo) return newest;
  const mergeFields = (cur: FieldSpec[], old: FieldSpec[]): FieldSpec[] => {
    const out: FieldSpec[] = [];
    const byName = new Map(cur.map((f) => [f.name, f]));
    const oldNames = new Set(old.map((f) => f.name));
    let ci = 0;
    for (const of of old) {
      const match = byName.get(of.name);
      if (match === undefined) {
        out.push(of); // dropped upstream: only the removed versions have it
        continue;
      }
      // Current fields that precede this match and are unknown to the legacy spec come first.
      while (ci < cur.length && cur[ci] !== match) {
        if (!oldNames.has(cur[ci]!.name)) out.push(cur[ci]!);
        ci++;
      }
      ci++;
      out.push(match.fields && of.fields ? { ...match, fields: mergeFields(match.fields, of.fields) } : match);
    }
    for (; ci < cur.length; ci++) if (!oldNames.has(cur[ci]!.name)) out.push(cur[ci]!);
    return out;
  };
  const commonStructs = newest.commonStructs?.map((cs) => {
    const old = legacy.commonStructs?.find((o) => o.name === cs.name);
    return old ? { ...cs, fields: mergeFields(cs.fields, old.fields) } : cs;
  });
  const hi = nv.hi === Infinity ? '+' : `-${nv.hi}`;
  return {
    ...newest,
    validVersions: hi === '+' ? `${lv.lo}+` : `${lv.lo}${hi}`,
    fields: mergeFields(newest.fields ?? [], legacy.fields ?? []),
    ...(commonStructs ? { commonStructs } : {}),
  };
}

/**
 * The message specs the codec is generated from: the newest specs, widened by `legacy/`. APIs
 * whose newest spec says `"validVersions": "none"` (the ZooKeeper-era inter-broker requests) are
 * left out: no broker or client uses them any more.
 */
export function loadMessages(protoDir: string): MessageSpec[] {
  const messages = loadDir(join(protoDir, 'messages')).filter((m) => !isEmpty(parseRange(m.validVersions)));
  const legacyDir = join(protoDir, 'legacy', 'messages');
  if (!existsSync(legacyDir)) return messages;
  const legacy = new Map(loadDir(legacyDir).map((m) => [m.name, m]));
  return messages.map((m) => {
    const old = legacy.get(m.name);
    return old ? mergeLegacy(m, old) : m;
  });
}
