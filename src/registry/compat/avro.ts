// Avro schema resolution (the specification's "Schema Resolution" section): can data written
// with `writer` be read with `reader`? Each problem names the path and Confluent's error type.
import type avsc from 'avsc';

interface Named {
  name?: string;
  getAliases?(): string[];
}

function shortName(n: string | undefined): string {
  if (!n) return '';
  const i = n.lastIndexOf('.');
  return i < 0 ? n : n.slice(i + 1);
}

function namesMatch(reader: avsc.Type, writer: avsc.Type): boolean {
  const r = reader as unknown as Named;
  const w = writer as unknown as Named;
  if (!r.name || !w.name) return true;
  if (r.name === w.name || shortName(r.name) === shortName(w.name)) return true;
  const aliases = r.getAliases?.() ?? [];
  return aliases.some((a) => a === w.name || shortName(a) === shortName(w.name));
}

const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function kind(t: avsc.Type): string {
  const n = t.typeName;
  if (n.startsWith('union')) return 'union';
  // Logical types resolve as their underlying type.
  const under = (t as unknown as { underlyingType?: avsc.Type }).underlyingType;
  if (under) return kind(under);
  return n;
}

function underlying(t: avsc.Type): avsc.Type {
  return (t as unknown as { underlyingType?: avsc.Type }).underlyingType ?? t;
}

export function avroReadable(readerIn: avsc.Type, writerIn: avsc.Type, path = '', seen = new Set<string>()): string[] {
  const reader = underlying(readerIn);
  const writer = underlying(writerIn);
  const rk = kind(reader);
  const wk = kind(writer);
  const at = path || '/';
  // Recursive named types: a pair already being compared is assumed compatible.
  const pairKey = `${(reader as unknown as Named).name ?? rk}|${(writer as unknown as Named).name ?? wk}|${rk}|${wk}`;
  if ((rk === 'record' || rk === 'error') && seen.has(pairKey)) return [];
  if (wk === 'union') {
    const out: string[] = [];
    const branches = (writer as unknown as { types: avsc.Type[] }).types;
    branches.forEach((b, i) => {
      const problems = avroReadable(reader, b, `${path}/${i}`, seen);
      if (problems.length) {
        if (rk === 'union') out.push(`{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '${path}/${i}' in the old schema', additionalInfo:'reader union lacking writer type: ${kind(b).toUpperCase()}'}`);
        else out.push(...problems);
      }
    });
    return out;
  }
  if (rk === 'union') {
    const branches = (reader as unknown as { types: avsc.Type[] }).types;
    // Avro picks the first matching branch: same kind (and name for named types), else promotion.
    const exact = branches.find((b) => kind(b) === wk && namesMatch(b, writer));
    if (exact) return avroReadable(exact, writer, path, seen);
    for (const b of branches) if (avroReadable(b, writer, path, seen).length === 0) return [];
    return [`{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '${at}' in the old schema', additionalInfo:'reader union lacking writer type: ${wk.toUpperCase()}'}`];
  }
  if (rk !== wk) {
    if (PROMOTIONS[wk]?.includes(rk)) return [];
    return [`{errorType:'TYPE_MISMATCH', description:'The type (path '${at}') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: ${rk.toUpperCase()} not compatible with writer type: ${wk.toUpperCase()}'}`];
  }
  switch (rk) {
    case 'record':
    case 'error': {
      if (!namesMatch(reader, writer)) {
        return [`{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '${at}')', additionalInfo:'expected: ${(writer as unknown as Named).name}'}`];
      }
      seen.add(pairKey);
      const out: string[] = [];
      const rFields = (reader as unknown as { fields: avsc.types.Field[] }).fields;
      const wFields = (writer as unknown as { fields: avsc.types.Field[] }).fields;
      rFields.forEach((rf, i) => {
        const candidates = [rf.name, ...((rf as unknown as { aliases?: string[] }).aliases ?? [])];
        const wf = wFields.find((f) => candidates.includes(f.name));
        if (!wf) {
          if (rf.defaultValue() === undefined) {
            out.push(`{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field '${rf.name}' at path '${path}/fields/${i}' in the new schema has no default value and is missing in the old schema', additionalInfo:'${rf.name}'}`);
          }
          return;
        }
        out.push(...avroReadable(rf.type, wf.type, `${path}/fields/${i}/type`, seen));
      });
      return out;
    }
    case 'enum': {
      if (!namesMatch(reader, writer)) {
        return [`{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '${at}')', additionalInfo:'expected: ${(writer as unknown as Named).name}'}`];
      }
      const rSyms = (reader as unknown as { symbols: string[] }).symbols;
      const wSyms = (writer as unknown as { symbols: string[] }).symbols;
      const missing = wSyms.filter((s) => !rSyms.includes(s));
      const readerDefault = (reader as unknown as { default?: string }).default;
      if (missing.length && readerDefault === undefined) {
        return [`{errorType:'MISSING_ENUM_SYMBOLS', description:'The new schema is missing enum symbols '${missing.join(', ')}' at path '${path}/symbols' in the old schema', additionalInfo:'[${missing.join(', ')}]'}`];
      }
      return [];
    }
    case 'fixed': {
      if (!namesMatch(reader, writer)) {
        return [`{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '${at}')', additionalInfo:'expected: ${(writer as unknown as Named).name}'}`];
      }
      const rs = (reader as unknown as { size: number }).size;
      const ws = (writer as unknown as { size: number }).size;
      if (rs !== ws) {
        return [`{errorType:'FIXED_SIZE_MISMATCH', description:'The size of FIXED type field at path '${path}/size' in the new schema does not match with the old schema', additionalInfo:'expected: ${ws}, found: ${rs}'}`];
      }
      return [];
    }
    case 'array':
      return avroReadable((reader as unknown as { itemsType: avsc.Type }).itemsType, (writer as unknown as { itemsType: avsc.Type }).itemsType, `${path}/items`, seen);
    case 'map':
      return avroReadable((reader as unknown as { valuesType: avsc.Type }).valuesType, (writer as unknown as { valuesType: avsc.Type }).valuesType, `${path}/values`, seen);
    default:
      return [];
  }
}
