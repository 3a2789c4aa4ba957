// JSON Schema compatibility: can every document valid under `writer` be accepted by `reader`?
// Follows Confluent's rules: closed content models (additionalProperties: false) versus open
// ones, required properties, types (integer widens to number), enums, numeric/string/array
// bounds, items, combined schemas and $ref (local definitions and references).
import type { ParsedJson } from '../schemas.js';

type Schema = Record<string, unknown>;

interface Ctx {
  readerRoot: unknown;
  writerRoot: unknown;
  readerRefs: Map<string, unknown>;
  writerRefs: Map<string, unknown>;
  seen: Set<string>;
}

function asSchema(s: unknown): Schema {
  if (s === true || s === undefined) return {};
  if (s === false) return { not: {} };
  return s as Schema;
}

function resolveRef(s: Schema, root: unknown, refs: Map<string, unknown>, depth = 0): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string' || depth > 32) return s;
  const [doc, frag] = ref.split('#', 2) as [string, string | undefined];
  let base: unknown = doc ? refs.get(doc) ?? refs.get(doc.replace(/^.*\//, '')) : root;
  if (base === undefined) return s;
  if (frag) {
    for (const part of frag.split('/').filter(Boolean)) {
      base = (base as Record<string, unknown> | undefined)?.[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))];
    }
  }
  if (base === undefined) return s;
  const { $ref: _ignored, ...rest } = s;
  return { ...asSchema(resolveRef(asSchema(base), doc ? refs.get(doc) ?? root : root, refs, depth + 1)), ...rest };
}

function types(s: Schema): Set<string> | undefined {
  if (typeof s.type === 'string') return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type as string[]);
  return undefined;
}

function isOpen(ap: unknown): boolean {
  return ap === undefined || ap === true || (typeof ap === 'object' && ap !== null && Object.keys(ap).length === 0);
}

function acceptsAnything(s: unknown): boolean {
  if (s === true || s === undefined) return true;
  return typeof s === 'object' && s !== null && Object.keys(s).filter((k) => !['title', 'description', '$comment', 'default', 'examples'].includes(k)).length === 0;
}

const UPPER: [string, string][] = [
  ['maximum', 'MAXIMUM'],
  ['exclusiveMaximum', 'EXCLUSIVE_MAXIMUM'],
  ['maxLength', 'MAX_LENGTH'],
  ['maxItems', 'MAX_ITEMS'],
  ['maxProperties', 'MAX_PROPERTIES'],
];
const LOWER: [string, string][] = [
  ['minimum', 'MINIMUM'],
  ['exclusiveMinimum', 'EXCLUSIVE_MINIMUM'],
  ['minLength', 'MIN_LENGTH'],
  ['minItems', 'MIN_ITEMS'],
  ['minProperties', 'MIN_PROPERTIES'],
];

function check(rIn: unknown, wIn: unknown, path: string, ctx: Ctx, out: string[]): void {
  if (acceptsAnything(rIn)) return;
  if (wIn === false) return;
  const r = resolveRef(asSchema(rIn), ctx.readerRoot, ctx.readerRefs);
  const w = resolveRef(asSchema(wIn), ctx.writerRoot, ctx.writerRefs);
  const key = `${path}|${JSON.stringify(rIn)}|${JSON.stringify(wIn)}`;
  if (ctx.seen.has(key)) return;
  ctx.seen.add(key);
  const at = path || '#/';

  // Combined schemas.
  for (const comb of ['oneOf', 'anyOf'] as const) {
    const wb = w[comb] as unknown[] | undefined;
    const rb = r[comb] as unknown[] | undefined;
    if (wb && !rb) {
      for (const [i, b] of wb.entries()) {
        const sub: string[] = [];
        check(r, { ...w, [comb]: undefined, ...asSchema(b) }, `${path}/${comb}/${i}`, ctx, sub);
        out.push(...sub);
      }
      return;
    }
    if (rb) {
      const writerBranches = wb ?? [Object.fromEntries(Object.entries(w).filter(([k]) => k !== comb))];
      writerBranches.forEach((b, i) => {
        const ok = rb.some((rbr) => {
          const sub: string[] = [];
          check(rbr, b, `${path}/${comb}/${i}`, ctx, sub);
          return sub.length === 0;
        });
        if (!ok) out.push(`COMBINED_TYPE_SUBSCHEMAS_CHANGED at '${path}/${comb}/${i}': no ${comb} branch of the new schema accepts this old branch`);
      });
      return;
    }
  }
  if (Array.isArray(r.allOf)) {
    for (const [i, b] of (r.allOf as unknown[]).entries()) check(b, w, `${path}/allOf/${i}`, ctx, out);
  }
  if (Array.isArray(w.allOf) && !r.allOf) {
    const merged = Object.assign({}, ...(w.allOf as unknown[]).map((b) => resolveRef(asSchema(b), ctx.writerRoot, ctx.writerRefs)), w) as Schema;
    delete merged.allOf;
    check(r, merged, path, ctx, out);
    return;
  }
  if (r.not !== undefined && w.not === undefined && Object.keys(asSchema(r.not)).length > 0) out.push(`NOT_TYPE_EXTENDED at '${at}': the new schema adds a 'not' constraint`);

  // Types: every writer type must be accepted (integer widens to number).
  const rt = types(r);
  const wt = types(w);
  if (rt) {
    if (!wt) out.push(`TYPE_NARROWED at '${at}': the new schema restricts the type to ${[...rt].join(', ')}`);
    else {
      for (const t of wt) if (!rt.has(t) && !(t === 'integer' && rt.has('number'))) out.push(`TYPE_NARROWED at '${at}': type '${t}' of the old schema is not accepted (new: ${[...rt].join(', ')})`);
    }
  }

  // Enums and consts.
  if (Array.isArray(r.enum)) {
    const allowed = new Set((r.enum as unknown[]).map((v) => JSON.stringify(v)));
    if (!Array.isArray(w.enum)) out.push(`ENUM_ARRAY_CHANGED at '${at}/enum': the new schema adds an enum`);
    else {
      const lost = (w.enum as unknown[]).filter((v) => !allowed.has(JSON.stringify(v)));
      if (lost.length) out.push(`ENUM_ARRAY_NARROWED at '${at}/enum': values ${lost.map((v) => JSON.stringify(v)).join(', ')} were removed`);
    }
  }
  if (r.const !== undefined && JSON.stringify(r.const) !== JSON.stringify(w.const)) out.push(`CONST_CHANGED at '${at}/const'`);

  // Bounds.
  for (const [k, name] of UPPER) {
    if (typeof r[k] !== 'number') continue;
    if (typeof w[k] !== 'number') out.push(`${name}_ADDED at '${at}/${k}': the new schema adds ${k} ${r[k] as number}`);
    else if ((w[k] as number) > (r[k] as number)) out.push(`${name}_DECREASED at '${at}/${k}': ${w[k] as number} → ${r[k] as number}`);
  }
  for (const [k, name] of LOWER) {
    if (typeof r[k] !== 'number') continue;
    if (typeof w[k] !== 'number') out.push(`${name}_ADDED at '${at}/${k}': the new schema adds ${k} ${r[k] as number}`);
    else if ((w[k] as number) < (r[k] as number)) out.push(`${name}_INCREASED at '${at}/${k}': ${w[k] as number} → ${r[k] as number}`);
  }
  if (typeof r.multipleOf === 'number') {
    const wm = w.multipleOf;
    if (typeof wm !== 'number' || wm % (r.multipleOf as number) !== 0) out.push(`MULTIPLE_OF_CHANGED at '${at}/multipleOf'`);
  }
  if (typeof r.pattern === 'string' && r.pattern !== w.pattern) out.push(`${w.pattern === undefined ? 'PATTERN_ADDED' : 'PATTERN_CHANGED'} at '${at}/pattern'`);
  if (typeof r.format === 'string' && r.format !== w.format) out.push(`${w.format === undefined ? 'FORMAT_ADDED' : 'FORMAT_CHANGED'} at '${at}/format'`);
  if (r.uniqueItems === true && w.uniqueItems !== true) out.push(`UNIQUE_ITEMS_ADDED at '${at}/uniqueItems'`);

  // Objects.
  const rProps = (r.properties ?? {}) as Record<string, unknown>;
  const wProps = (w.properties ?? {}) as Record<string, unknown>;
  const rAp = r.additionalProperties;
  const wAp = w.additionalProperties;
  const objectLike = r.properties !== undefined || w.properties !== undefined || rAp !== undefined || wAp !== undefined || r.required !== undefined;
  if (objectLike) {
    for (const [name, ws] of Object.entries(wProps)) {
      const p = `${path}/properties/${name}`;
      if (name in rProps) check(rProps[name], ws, p, ctx, out);
      else if (rAp === false) out.push(`PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at '${p}': property '${name}' was removed and the new schema does not allow additional properties`);
      else if (!isOpen(rAp)) check(rAp, ws, p, ctx, out);
    }
    for (const [name, rs] of Object.entries(rProps)) {
      if (name in wProps) continue;
      const p = `${path}/properties/${name}`;
      if (wAp === false) continue;
      if (isOpen(wAp)) {
        if (!acceptsAnything(rs)) out.push(`PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at '${p}': property '${name}' was added, but the old schema allowed any additional property under that name`);
      } else check(rs, wAp, p, ctx, out);
    }
    if (rAp === false && wAp !== false) out.push(`ADDITIONAL_PROPERTIES_REMOVED at '${at}/additionalProperties': the new schema closes the content model`);
    else if (!isOpen(rAp) && rAp !== false) {
      if (isOpen(wAp)) out.push(`ADDITIONAL_PROPERTIES_NARROWED at '${at}/additionalProperties'`);
      else if (wAp !== false) check(rAp, wAp, `${path}/additionalProperties`, ctx, out);
    }
    const wReq = new Set((w.required ?? []) as string[]);
    for (const name of (r.required ?? []) as string[]) {
      if (!wReq.has(name)) out.push(`REQUIRED_ATTRIBUTE_ADDED at '${path}/required': property '${name}' is now required`);
    }
  }

  // Arrays.
  if (r.items !== undefined) {
    if (Array.isArray(r.items)) {
      const wi = Array.isArray(w.items) ? (w.items as unknown[]) : [];
      (r.items as unknown[]).forEach((ri, i) => check(ri, wi[i] ?? (Array.isArray(w.items) ? w.additionalItems : w.items), `${path}/items/${i}`, ctx, out));
    } else check(r.items, Array.isArray(w.items) ? {} : w.items, `${path}/items`, ctx, out);
  }
}

/** Problems that stop `reader` from accepting documents valid under `writer`. */
export function jsonReadable(reader: ParsedJson, writer: ParsedJson): string[] {
  const out: string[] = [];
  check(reader.json, writer.json, '', { readerRoot: reader.json, writerRoot: writer.json, readerRefs: reader.refs, writerRefs: writer.refs, seen: new Set() }, out);
  return [...new Set(out)];
}
