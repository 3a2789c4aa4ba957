// Emits straight-line TypeScript decoders/encoders for one Kafka message schema.
import {
  type FieldSpec,
  type MessageSpec,
  type Range,
  NONE,
  PRIMITIVES,
  parseRange,
  intersect,
  isEmpty,
  lowerFirst,
} from './schema.js';

interface StructInfo {
  jsonName: string;
  tsName: string;
  fields: FieldSpec[];
  range: Range;
}

const FIXED_SIZE: Record<string, number> = {
  int8: 1,
  bool: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

const NUMERIC = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64']);

function elemType(type: string): string {
  return type.startsWith('[]') ? type.slice(2) : type;
}

function isArray(f: FieldSpec): boolean {
  return f.type.startsWith('[]');
}

/** JS expression testing `version` against r, given that version is known to lie in R. */
export function cond(r: Range, R: Range): string {
  const x = intersect(r, R);
  if (isEmpty(x)) return 'false';
  const parts: string[] = [];
  if (x.lo > R.lo) parts.push(`version >= ${x.lo}`);
  if (x.hi < R.hi) parts.push(`version <= ${x.hi}`);
  return parts.length ? parts.join(' && ') : 'true';
}

function sel(c: string, a: string, b: string): string {
  if (c === 'true') return a;
  if (c === 'false') return b;
  if (a === b) return a;
  return `(${c} ? ${a} : ${b})`;
}

function branch(c: string, a: string[], b: string[]): string[] {
  if (c === 'true') return a;
  if (c === 'false') return b;
  if (a.join('\n') === b.join('\n')) return a;
  return [`if (${c}) {`, ...indent(a), `} else {`, ...indent(b), `}`];
}

function guard(c: string, body: string[]): string[] {
  if (c === 'true') return body;
  if (c === 'false' || body.length === 0) return [];
  return [`if (${c}) {`, ...indent(body), `}`];
}

function pushGroup(groups: { c: string; body: string[] }[], c: string, body: string[]): void {
  const last = groups[groups.length - 1];
  if (last && last.c === c) last.body.push(...body);
  else groups.push({ c, body: [...body] });
}

function indent(lines: string[], n = 1): string[] {
  const pad = '  '.repeat(n);
  return lines.map((l) => (l === '' ? l : pad + l));
}

function parseIntDefault(d: string): number | string {
  const t = d.trim();
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  if (/^0x/i.test(body)) {
    const v = parseInt(body.slice(2), 16);
    return neg ? -v : v;
  }
  if (!/^\d+(\.\d+)?$/.test(body)) throw new Error(`Bad numeric default ${d}`);
  return t;
}

function doc(about: string | undefined): string[] {
  if (!about) return [];
  return [`/** ${about.replace(/\*\//g, '* /').replace(/\s+/g, ' ').trim()} */`];
}

export class MessageEmitter {
  readonly spec: MessageSpec;
  readonly msgRange: Range;
  readonly flex: Range;
  readonly structs: StructInfo[] = [];
  private byJson = new Map<string, StructInfo>();
  private common = new Map<string, FieldSpec[]>();
  readonly top: StructInfo;
  private needIsDefault = new Set<StructInfo>();

  constructor(spec: MessageSpec) {
    this.spec = spec;
    this.msgRange = parseRange(spec.validVersions);
    this.flex = parseRange(spec.flexibleVersions ?? 'none');
    for (const c of spec.commonStructs ?? []) this.common.set(c.name, c.fields);
    this.top = { jsonName: spec.name, tsName: spec.name, fields: spec.fields, range: this.msgRange };
    this.collect(spec.fields, this.msgRange);
  }

  private collect(fields: FieldSpec[], range: Range): void {
    for (const f of fields) {
      const base = elemType(f.type);
      if (PRIMITIVES.has(base)) continue;
      if (f.fields) {
        let fr = intersect(range, parseRange(f.versions ?? '0+'));
        if (isEmpty(fr)) fr = range;
        if (this.byJson.has(base)) throw new Error(`${this.spec.name}: duplicate struct ${base}`);
        const info: StructInfo = { jsonName: base, tsName: this.spec.name + base, fields: f.fields, range: fr };
        this.byJson.set(base, info);
        this.structs.push(info);
        this.collect(f.fields, fr);
      } else if (this.common.has(base)) {
        if (this.byJson.has(base)) continue;
        const info: StructInfo = {
          jsonName: base,
          tsName: this.spec.name + base,
          fields: this.common.get(base)!,
          range: this.msgRange,
        };
        this.byJson.set(base, info);
        this.structs.push(info);
        this.collect(info.fields, this.msgRange);
      } else {
        throw new Error(`${this.spec.name}: unknown type ${f.type} for field ${f.name}`);
      }
    }
  }

  private struct(f: FieldSpec): StructInfo {
    const s = this.byJson.get(elemType(f.type));
    if (!s) throw new Error(`no struct for ${f.type}`);
    return s;
  }

  // ---------- types ----------

  private scalarTs(base: string, input: boolean): string {
    switch (base) {
      case 'bool':
        return 'boolean';
      case 'string':
      case 'uuid':
        return 'string';
      case 'bytes':
        return 'Buffer';
      case 'records':
        return input ? 'Buffer | readonly Buffer[]' : 'Buffer';
      default:
        if (NUMERIC.has(base)) return 'number';
        return this.byJson.get(base)!.tsName + (input ? 'Input' : '');
    }
  }

  private nullableAny(f: FieldSpec): boolean {
    return !isEmpty(parseRange(f.nullableVersions ?? 'none'));
  }

  private fieldTs(f: FieldSpec, input: boolean): string {
    const base = elemType(f.type);
    let t: string;
    if (isArray(f)) {
      const e = this.scalarTs(base, input);
      t = input ? `readonly ${e}[]` : `${e}[]`;
    } else {
      t = this.scalarTs(base, input);
    }
    if (base === 'records' && !isArray(f)) return `${t} | null`;
    if (this.nullableAny(f) || this.defaultIsNull(f)) t += ' | null';
    return t;
  }

  private defaultIsNull(f: FieldSpec): boolean {
    return f.default !== undefined && String(f.default) === 'null' && this.nullableAny(f);
  }

  /** Default value expression for the decoded form. */
  defaultExpr(f: FieldSpec): string {
    const base = elemType(f.type);
    const d = f.default === undefined ? undefined : String(f.default);
    if (isArray(f)) return d === 'null' && this.nullableAny(f) ? 'null' : '[]';
    if (base === 'records') return 'null';
    if (!PRIMITIVES.has(base)) return d === 'null' && this.nullableAny(f) ? 'null' : `default${this.struct(f).tsName}()`;
    switch (base) {
      case 'bool':
        return d === 'true' ? 'true' : 'false';
      case 'string':
        if (d === undefined) return "''";
        if (d === 'null') return this.nullableAny(f) ? 'null' : "''";
        return JSON.stringify(d);
      case 'bytes':
        return d === 'null' && this.nullableAny(f) ? 'null' : 'EMPTY_BUFFER';
      case 'uuid':
        return 'ZERO_UUID';
      default:
        if (d === undefined) return '0';
        return String(parseIntDefault(d));
    }
  }

  private nonNullDefault(f: FieldSpec): string {
    const d = this.defaultExpr(f);
    if (d !== 'null') return d;
    const base = elemType(f.type);
    if (base === 'string') return "''";
    if (base === 'bytes') return 'EMPTY_BUFFER';
    return d;
  }

  // ---------- ranges ----------

  private ranges(f: FieldSpec, R: Range): { reg: Range; tagged: Range } {
    const vr = intersect(parseRange(f.versions ?? '0+'), R);
    if (f.tag === undefined) return { reg: vr, tagged: NONE };
    const tr = intersect(intersect(parseRange(f.taggedVersions ?? 'none'), vr), this.flex);
    if (isEmpty(tr)) return { reg: vr, tagged: NONE };
    if (tr.lo <= vr.lo) {
      if (tr.hi < vr.hi) throw new Error(`${this.spec.name}.${f.name}: unsupported tagged range`);
      return { reg: NONE, tagged: tr };
    }
    return { reg: { lo: vr.lo, hi: tr.lo - 1 }, tagged: tr };
  }

  private flexCond(f: FieldSpec, range: Range): string {
    return cond(f.flexibleVersions !== undefined ? parseRange(f.flexibleVersions) : this.flex, range);
  }

  private nullCond(f: FieldSpec, range: Range): string {
    return cond(parseRange(f.nullableVersions ?? 'none'), range);
  }

  // ---------- decode ----------

  private readScalar(base: string, fc: string, nc: string): string {
    switch (base) {
      case 'string':
        return sel(fc, sel(nc, 'r.compactNullableString()', 'r.compactString()'), sel(nc, 'r.nullableString()', 'r.string()'));
      case 'bytes':
        return sel(fc, sel(nc, 'r.compactNullableBytes()', 'r.compactBytes()'), sel(nc, 'r.nullableBytes()', 'r.bytes()'));
      case 'records':
        return sel(fc, 'r.compactNullableBytes()', 'r.nullableBytes()');
      case 'bool':
        return 'r.bool()';
      case 'uuid':
        return 'r.uuid()';
      default:
        if (NUMERIC.has(base)) return `r.${base}()`;
        throw new Error(`not scalar: ${base}`);
    }
  }

  private decodeField(target: string, f: FieldSpec, range: Range, fcOverride?: string): string[] {
    const base = elemType(f.type);
    const fc = fcOverride ?? this.flexCond(f, range);
    const nc = this.nullCond(f, range);
    if (isArray(f)) {
      const elem = PRIMITIVES.has(base)
        ? this.readScalar(base, fc, 'false')
        : `decode${this.struct(f).tsName}(r, version)`;
      const et = this.scalarTs(base, false);
      return [
        '{',
        `  const n = ${sel(fc, 'r.compactArrayLength()', 'r.arrayLength()')};`,
        `  if (n < 0) ${target} = ${this.nullableAny(f) ? 'null' : '[]'};`,
        `  else {`,
        `    const a: ${et}[] = [];`,
        `    for (let i = 0; i < n; i++) a.push(${elem});`,
        `    ${target} = a;`,
        `  }`,
        '}',
      ];
    }
    if (!PRIMITIVES.has(base)) {
      const call = `decode${this.struct(f).tsName}(r, version)`;
      return [`${target} = ${sel(nc, `r.int8() < 0 ? null : ${call}`, call)};`];
    }
    return [`${target} = ${this.readScalar(base, fc, nc)};`];
  }

  // ---------- encode ----------

  private writeScalar(w: string, base: string, v: string, f: FieldSpec, fc: string, nc: string): string[] {
    switch (base) {
      case 'string':
      case 'bytes': {
        const T = base === 'string' ? 'String' : 'Bytes';
        const dn = this.defaultExpr(f);
        const nullable = [`${w}.compactNullable${T}(${v} === undefined ? ${dn} : ${v});`];
        const nullableC = [`${w}.nullable${T}(${v} === undefined ? ${dn} : ${v});`];
        const nn = this.nonNullDefault(f);
        const plainC = [`${w}.compact${T}(${v} ?? ${nn});`];
        const plain = [`${w}.${lowerFirst(T)}(${v} ?? ${nn});`];
        return branch(fc, branch(nc, nullable, plainC), branch(nc, nullableC, plain));
      }
      case 'records':
        return [`${w}.records(${v}, ${fc});`];
      default:
        if (base === 'bool' || base === 'uuid' || NUMERIC.has(base)) return [`${w}.${base}(${v} ?? ${this.defaultExpr(f)});`];
        throw new Error(`not scalar: ${base}`);
    }
  }

  private writeElem(w: string, base: string, e: string, fc: string, f: FieldSpec): string[] {
    if (!PRIMITIVES.has(base)) return [`encode${this.struct(f).tsName}(${w}, version, ${e});`];
    switch (base) {
      case 'string':
        return branch(fc, [`${w}.compactString(${e});`], [`${w}.string(${e});`]);
      case 'bytes':
        return branch(fc, [`${w}.compactBytes(${e});`], [`${w}.bytes(${e});`]);
      case 'records':
        return [`${w}.records(${e}, ${fc});`];
      default:
        return [`${w}.${base}(${e});`];
    }
  }

  private encodeField(w: string, v: string, f: FieldSpec, range: Range, fcOverride?: string): string[] {
    const base = elemType(f.type);
    const fc = fcOverride ?? this.flexCond(f, range);
    const nc = this.nullCond(f, range);
    const dnull = this.defaultExpr(f) === 'null';
    if (isArray(f)) {
      const writeNull = branch(fc, [`${w}.uvarint(0);`], [`${w}.int32(-1);`]);
      const writeEmpty = branch(fc, [`${w}.uvarint(1);`], [`${w}.int32(0);`]);
      const nullableCase = dnull ? writeNull : [`if (a === null) {`, ...indent(writeNull), `} else {`, ...indent(writeEmpty), `}`];
      const nullStmts = branch(nc, nullableCase, writeEmpty);
      return [
        '{',
        `  const a = ${v};`,
        `  if (a == null) {`,
        ...indent(nullStmts, 2),
        `  } else {`,
        ...indent(branch(fc, [`${w}.uvarint(a.length + 1);`], [`${w}.int32(a.length);`]), 2),
        `    for (let i = 0; i < a.length; i++) {`,
        `      const e = a[i]!;`,
        ...indent(this.writeElem(w, base, 'e', fc, f), 3),
        `    }`,
        `  }`,
        '}',
      ];
    }
    if (!PRIMITIVES.has(base)) {
      const fn = `encode${this.struct(f).tsName}`;
      const nullable = [
        '{',
        `  const s = ${v};`,
        `  if (${dnull ? 's == null' : 's === null'}) {`,
        `    ${w}.int8(-1);`,
        `  } else {`,
        `    ${w}.int8(1);`,
        `    ${fn}(${w}, version, s ?? {});`,
        `  }`,
        '}',
      ];
      const plain = [`${fn}(${w}, version, ${v} ?? {});`];
      return branch(nc, nullable, plain);
    }
    return this.writeScalar(w, base, v, f, fc, nc);
  }

  /** Expression: tagged value t differs from the field default (so it must be written). */
  private differs(f: FieldSpec, t: string): string {
    const base = elemType(f.type);
    const d = this.defaultExpr(f);
    if (isArray(f)) return d === 'null' ? `${t} != null` : `${t} != null && ${t}.length > 0`;
    if (base === 'records') return `${t} != null`;
    if (!PRIMITIVES.has(base)) {
      if (d === 'null') return `${t} != null`;
      const st = this.struct(f);
      this.needIsDefault.add(st);
      return `${t} != null && !isDefault${st.tsName}(${t})`;
    }
    if (base === 'bytes') return d === 'null' ? `${t} != null` : `${t} !== undefined && (${t} === null || ${t}.length > 0)`;
    return `${t} !== undefined && ${t} !== ${d}`;
  }

  // ---------- struct code ----------

  emitStruct(s: StructInfo, isTop: boolean): string[] {
    const R = s.range;
    const out: string[] = [];
    const fields = s.fields;
    const flexC = cond(this.flex, R);
    const FR = intersect(this.flex, R);

    // Decoded interface
    out.push(...doc(isTop ? `${s.tsName} (versions ${this.spec.validVersions}, flexible ${this.spec.flexibleVersions ?? 'none'})` : undefined));
    out.push(`export interface ${s.tsName} {`);
    for (const f of fields) {
      out.push(...indent(doc(f.about)));
      out.push(`  ${lowerFirst(f.name)}: ${this.fieldTs(f, false)};`);
    }
    out.push('}', '');
    out.push(`export interface ${s.tsName}Input {`);
    for (const f of fields) out.push(`  ${lowerFirst(f.name)}?: ${this.fieldTs(f, true)};`);
    out.push('}', '');

    // Default factory
    out.push(`export function default${s.tsName}(): ${s.tsName} {`);
    out.push('  return {');
    for (const f of fields) out.push(`    ${lowerFirst(f.name)}: ${this.defaultExpr(f)},`);
    out.push('  };', '}', '');

    const versionCheck = isTop
      ? [
          `if (version < ${this.msgRange.lo} || version > ${this.msgRange.hi}) {`,
          `  throw new ProtocolError(\`${this.spec.name}: unsupported version \${version}\`);`,
          `}`,
        ]
      : [];

    // Decoder
    const dec: string[] = [...versionCheck];
    const ret: string[] = [];
    const taggedFields: { f: FieldSpec; tr: Range; local: string }[] = [];
    for (const f of fields) {
      const local = `f_${lowerFirst(f.name)}`;
      const { reg, tagged } = this.ranges(f, R);
      const rc = cond(reg, R);
      const always = rc === 'true' && isEmpty(tagged);
      const d = this.defaultExpr(f);
      const cheap = d !== '[]' && !d.startsWith('default');
      const ts = this.fieldTs(f, false);
      if (always) {
        dec.push(`let ${local}: ${ts};`);
        ret.push(`${lowerFirst(f.name)}: ${local},`);
      } else if (cheap) {
        dec.push(`let ${local}: ${ts} = ${d};`);
        ret.push(`${lowerFirst(f.name)}: ${local},`);
      } else {
        dec.push(`let ${local}: ${ts} | undefined;`);
        ret.push(`${lowerFirst(f.name)}: ${local} === undefined ? ${d} : ${local},`);
      }
      if (!isEmpty(tagged)) taggedFields.push({ f, tr: tagged, local });
    }
    const decGroups: { c: string; body: string[] }[] = [];
    for (const f of fields) {
      const local = `f_${lowerFirst(f.name)}`;
      const { reg } = this.ranges(f, R);
      const rc = cond(reg, R);
      if (rc === 'false') continue;
      pushGroup(decGroups, rc, this.decodeField(local, f, intersect(reg, R)));
    }
    for (const g of decGroups) dec.push(...guard(g.c, g.body));
    taggedFields.sort((a, b) => a.f.tag! - b.f.tag!);
    if (flexC !== 'false') {
      let tagStmts: string[];
      if (taggedFields.length === 0) {
        tagStmts = ['r.skipTaggedFields();'];
      } else {
        const cases: string[] = [];
        for (const { f, tr, local } of taggedFields) {
          const tc = cond(tr, FR);
          cases.push(`case ${f.tag}:`);
          cases.push(...indent(branch(tc, this.decodeField(local, f, tr, 'true'), ['r.skip(size);'])));
          cases.push('  break;');
        }
        tagStmts = [
          'const nt = r.uvarint();',
          'for (let i = 0; i < nt; i++) {',
          '  const tag = r.uvarint();',
          '  const size = r.uvarint();',
          "  if (size > r.remaining()) throw new ProtocolError('Tagged field size exceeds the buffer');",
          '  const end = r.offset + size;',
          '  switch (tag) {',
          ...indent(cases, 2),
          '    default:',
          '      r.skip(size);',
          '  }',
          '  if (r.offset !== end) {',
          "    if (r.offset > end) throw new ProtocolError('Tagged field overran its size');",
          '    r.offset = end;',
          '  }',
          '}',
        ];
      }
      dec.push(...guard(flexC, tagStmts));
    }
    dec.push('return {', ...indent(ret), '};');
    out.push(`export function decode${s.tsName}(r: Reader, version: number): ${s.tsName} {`);
    out.push(...indent(dec));
    out.push('}', '');

    // Encoder
    const enc: string[] = [...versionCheck];
    const encGroups: { c: string; body: string[] }[] = [];
    for (const f of fields) {
      const { reg } = this.ranges(f, R);
      const rc = cond(reg, R);
      if (rc === 'false') continue;
      pushGroup(encGroups, rc, this.encodeField('w', `m.${lowerFirst(f.name)}`, f, intersect(reg, R)));
    }
    for (const g of encGroups) enc.push(...guard(g.c, g.body));
    if (flexC !== 'false') {
      let tagStmts: string[];
      if (taggedFields.length === 0) {
        tagStmts = ['w.uvarint(0);'];
      } else {
        tagStmts = ['let nt = 0;'];
        taggedFields.forEach(({ f, tr }, i) => {
          const tc = cond(tr, FR);
          tagStmts.push(`const t${i} = m.${lowerFirst(f.name)};`);
          tagStmts.push(`const h${i} = ${tc === 'true' ? '' : `(${tc}) && `}${this.differs(f, `t${i}`)};`);
          tagStmts.push(`if (h${i}) nt++;`);
        });
        tagStmts.push('w.uvarint(nt);');
        taggedFields.forEach(({ f, tr }, i) => {
          const base = elemType(f.type);
          const body: string[] = [`w.uvarint(${f.tag});`];
          const fixed = !isArray(f) && FIXED_SIZE[base];
          if (fixed) {
            body.push(`w.uvarint(${fixed});`);
            body.push(...this.encodeField('w', `t${i}`, f, tr, 'true'));
          } else {
            body.push('const sub = new Writer(64);');
            body.push(...this.encodeField('sub', `t${i}`, f, tr, 'true'));
            body.push('w.uvarint(sub.length);');
            body.push('w.append(sub);');
          }
          tagStmts.push(`if (h${i}) {`, ...indent(body), '}');
        });
      }
      enc.push(...guard(flexC, tagStmts));
    }
    out.push(`export function encode${s.tsName}(w: Writer, version: number, m: ${s.tsName}Input): void {`);
    out.push(...indent(enc));
    out.push('}', '');
    return out;
  }

  /** `value is default` predicate for a struct (used to decide whether a tagged struct is written). */
  private emitIsDefault(s: StructInfo): string[] {
    const conds: string[] = [];
    for (const f of s.fields) {
      const v = `m.${lowerFirst(f.name)}`;
      const base = elemType(f.type);
      const d = this.defaultExpr(f);
      if (isArray(f)) {
        conds.push(d === 'null' ? `${v} == null` : `(${v} === undefined || (${v} !== null && ${v}.length === 0))`);
      } else if (base === 'records') {
        conds.push(`${v} == null`);
      } else if (!PRIMITIVES.has(base)) {
        if (d === 'null') conds.push(`${v} == null`);
        else {
          const st = this.struct(f);
          this.needIsDefault.add(st);
          conds.push(`(${v} === undefined || (${v} !== null && isDefault${st.tsName}(${v})))`);
        }
      } else if (base === 'bytes') {
        conds.push(d === 'null' ? `${v} == null` : `(${v} === undefined || (${v} !== null && ${v}.length === 0))`);
      } else {
        conds.push(`(${v} === undefined || ${v} === ${d})`);
      }
    }
    return [
      `export function isDefault${s.tsName}(m: ${s.tsName}Input): boolean {`,
      `  return ${conds.length ? conds.join(' &&\n    ') : 'true'};`,
      '}',
      '',
    ];
  }

  emit(): string[] {
    const out: string[] = [];
    out.push(`// ---------------- ${this.spec.name} ----------------`, '');
    out.push(...this.emitStruct(this.top, true));
    for (const s of this.structs) out.push(...this.emitStruct(s, false));
    const done = new Set<StructInfo>();
    for (;;) {
      const next = [...this.needIsDefault].find((s) => !done.has(s));
      if (!next) break;
      done.add(next);
      out.push(...this.emitIsDefault(next));
    }
    return out;
  }
}
