// Test helper: walks a Kafka message schema and builds a sample message with non-default
// values for every field, plus the expected decoded form at a given version.
import assert from 'node:assert/strict';
import { type FieldSpec, type MessageSpec, parseRange, lowerFirst } from '../../tools/codegen/schema.js';

/** Marks a field that is absent at the version: the key must exist, its value is not checked. */
export const ABSENT = Symbol('absent');

export function inVersions(version: number, range: string | undefined): boolean {
  const r = parseRange(range ?? 'none');
  return version >= r.lo && version <= r.hi;
}

export interface SampleOptions {
  /** Use null for every field that is nullable at the version. */
  nulls: boolean;
  /** Pass records as a list of chunks in the input. */
  chunkedRecords: boolean;
}

export interface Sample {
  input: any;
  expected: any;
}

export class SampleBuilder {
  private k = 0;
  private readonly common = new Map<string, FieldSpec[]>();

  constructor(
    private readonly spec: MessageSpec,
    private readonly version: number,
    private readonly opts: SampleOptions,
  ) {
    for (const c of spec.commonStructs ?? []) this.common.set(c.name, c.fields);
  }

  build(): Sample {
    return this.struct(this.spec.fields);
  }

  private structFields(f: FieldSpec): FieldSpec[] {
    const base = f.type.replace(/^\[\]/, '');
    const fields = f.fields ?? this.common.get(base);
    if (!fields) throw new Error(`no struct ${base}`);
    return fields;
  }

  private struct(fields: FieldSpec[]): Sample {
    const input: any = {};
    const expected: any = {};
    for (const f of fields) {
      const key = lowerFirst(f.name);
      const present = inVersions(this.version, f.versions ?? '0+');
      const s = this.field(f);
      input[key] = s.input;
      expected[key] = present ? s.expected : ABSENT;
    }
    return { input, expected };
  }

  private field(f: FieldSpec): Sample {
    const v = this.version;
    if (this.opts.nulls && inVersions(v, f.nullableVersions)) return { input: null, expected: null };
    if (f.type.startsWith('[]')) {
      const base = f.type.slice(2);
      const input: any[] = [];
      const expected: any[] = [];
      for (let i = 0; i < 2; i++) {
        const e = this.isStruct(base) ? this.struct(this.structFields(f)) : this.scalar(base, f);
        input.push(e.input);
        expected.push(e.expected);
      }
      return { input, expected };
    }
    if (this.isStruct(f.type)) return this.struct(this.structFields(f));
    return this.scalar(f.type, f);
  }

  private isStruct(t: string): boolean {
    return ![
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
    ].includes(t);
  }

  private scalar(type: string, f: FieldSpec): Sample {
    const k = ++this.k;
    const same = (x: unknown): Sample => ({ input: x, expected: x });
    switch (type) {
      case 'bool':
        return same(String(f.default) !== 'true');
      case 'int8':
        return same(k % 2 ? 10 + (k % 100) : -(10 + (k % 100)));
      case 'int16':
        return same(k % 2 ? 1000 + k : -1000 - k);
      case 'uint16':
        return same(60000 + (k % 1000));
      case 'int32':
        return same(k % 2 ? 100000 + k : -100000 - k);
      case 'uint32':
        return same(3_000_000_000 + k);
      case 'int64':
        return same(k % 2 ? 2 ** 40 + k : -(2 ** 41) - k);
      case 'float64':
        return same(k + 0.25);
      case 'string':
        return same(k % 3 === 0 ? `ünï-${k}-${f.name}-✓` : `s${k}-${f.name}`);
      case 'bytes':
        return { input: Buffer.from(`bytes-${k}`), expected: Buffer.from(`bytes-${k}`) };
      case 'uuid':
        return same(Buffer.alloc(16, k).toString('base64url'));
      case 'records': {
        const buf = Buffer.alloc(700 + k);
        for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + k) & 0xff;
        const input = this.opts.chunkedRecords ? [buf.subarray(0, 100), buf.subarray(100, 650), buf.subarray(650)] : buf;
        return { input, expected: Buffer.from(buf) };
      }
      default:
        throw new Error(`unknown scalar ${type}`);
    }
  }
}

/** Assert `actual` matches `expected` (ABSENT entries only need to exist as keys). */
export function assertMatches(actual: any, expected: any, path = '$'): void {
  if (expected === ABSENT) return;
  if (Buffer.isBuffer(expected)) {
    assert.ok(Buffer.isBuffer(actual), `${path}: expected a Buffer, got ${typeof actual}`);
    assert.ok(expected.equals(actual), `${path}: buffer mismatch`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertMatches(actual[i], e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object, got ${actual}`);
    for (const key of Object.keys(expected)) {
      assert.ok(key in actual, `${path}.${key}: missing`);
      assertMatches(actual[key], expected[key], `${path}.${key}`);
    }
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${path}: keys`);
    return;
  }
  assert.equal(actual, expected, `${path}`);
}
