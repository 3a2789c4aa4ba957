// Single message transforms and predicates under Kafka's class names. Values are plain objects
// (structs) with optional Connect schemas; transforms that reshape a struct reshape its schema too.
import { splitList } from './config-def.js';
import { DataError, type ConnectRecord, type Field, type Schema } from './sdk.js';

export type Transform = (record: ConnectRecord) => ConnectRecord | null;
type Predicate = (record: ConnectRecord) => boolean;
type Props = Record<string, string>;

const K = 'org.apache.kafka.connect.transforms.';

function req(props: Props, name: string, cls: string): string {
  const v = props[name];
  if (v === undefined || v === '') throw new DataError(`Missing required configuration "${name}" for ${cls}`);
  return v;
}

/** Key or Value side of a record, so one implementation serves `$Key` and `$Value`. */
interface Side {
  get(r: ConnectRecord): { schema: Schema | null; value: unknown };
  set(r: ConnectRecord, schema: Schema | null, value: unknown): ConnectRecord;
}
const KEY: Side = {
  get: (r) => ({ schema: r.keySchema ?? null, value: r.key }),
  set: (r, schema, value) => ({ ...r, keySchema: schema, key: value }),
};
const VALUE: Side = {
  get: (r) => ({ schema: r.valueSchema ?? null, value: r.value }),
  set: (r, schema, value) => ({ ...r, valueSchema: schema, value }),
};

function asStruct(value: unknown, cls: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw new DataError(`Only Struct objects supported for [${cls}], found: ${value === null ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

function sideTransforms(
  name: string,
  make: (side: Side, props: Props, cls: string) => Transform,
): Record<string, (p: Props) => Transform> {
  return {
    [`${K}${name}$Key`]: (p) => make(KEY, p, `${name}$Key`),
    [`${K}${name}$Value`]: (p) => make(VALUE, p, `${name}$Value`),
  };
}

function parseRenames(raw: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const pair of splitList(raw)) {
    const [from, to] = pair.split(':');
    if (!from || !to) throw new DataError(`Invalid rename mapping: ${pair}`);
    m.set(from, to);
  }
  return m;
}

function castValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64': {
      const n = typeof v === 'boolean' ? (v ? 1 : 0) : Math.trunc(Number(v));
      if (Number.isNaN(n)) throw new DataError(`Cannot cast ${String(v)} to ${type}`);
      return n;
    }
    case 'float32':
    case 'float64': {
      const n = Number(v);
      if (Number.isNaN(n)) throw new DataError(`Cannot cast ${String(v)} to ${type}`);
      return n;
    }
    case 'boolean':
      return typeof v === 'string' ? v.toLowerCase() === 'true' : Boolean(v);
    case 'string':
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    default:
      throw new DataError(`Cast: unsupported target type ${type}`);
  }
}

function formatTimestamp(ms: number, format: string): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  // The common subset of Java's SimpleDateFormat patterns, in UTC (as Kafka's SMTs use).
  return format
    .replace(/yyyy/g, String(d.getUTCFullYear()))
    .replace(/MM/g, pad(d.getUTCMonth() + 1))
    .replace(/dd/g, pad(d.getUTCDate()))
    .replace(/HH/g, pad(d.getUTCHours()))
    .replace(/mm/g, pad(d.getUTCMinutes()))
    .replace(/ss/g, pad(d.getUTCSeconds()))
    .replace(/SSS/g, pad(d.getUTCMilliseconds(), 3))
    .replace(/'([^']*)'/g, '$1');
}

function flatten(value: Record<string, unknown>, schema: Schema | null, delimiter: string) {
  const out: Record<string, unknown> = {};
  const fields: Field[] = [];
  const walk = (v: Record<string, unknown>, s: Schema | null, prefix: string) => {
    const names = s?.fields ? s.fields.map((f) => f.field) : Object.keys(v);
    for (const name of names) {
      const fv = v[name];
      const fs = s?.fields?.find((f) => f.field === name) ?? null;
      const key = prefix ? prefix + delimiter + name : name;
      const isStruct = fs ? fs.type === 'struct' : fv !== null && typeof fv === 'object' && !Array.isArray(fv) && !Buffer.isBuffer(fv);
      if (isStruct && fv !== null && fv !== undefined) walk(fv as Record<string, unknown>, fs, key);
      else if (isStruct && fs) for (const f of fs.fields ?? []) (out[key + delimiter + f.field] = null), fields.push({ ...f, field: key + delimiter + f.field, optional: true });
      else {
        out[key] = fv ?? null;
        if (fs) fields.push({ ...fs, field: key });
      }
    }
  };
  walk(value, schema, '');
  return { value: out, schema: schema ? ({ type: 'struct', optional: schema.optional, fields } as Schema) : null };
}

const TRANSFORMS: Record<string, (p: Props) => Transform> = {
  ...sideTransforms('InsertField', (side, p) => {
    const topicField = p['topic.field'];
    const partitionField = p['partition.field'];
    const offsetField = p['offset.field'];
    const timestampField = p['timestamp.field'];
    const staticField = p['static.field'];
    const staticValue = p['static.value'];
    const strip = (f?: string) => (f ? f.replace(/[!?]$/, '') : undefined);
    return (r) => {
      const { schema, value } = side.get(r);
      if (value === null || value === undefined) return r;
      const v = { ...asStruct(value, 'InsertField') };
      const added: Field[] = [];
      const add = (name: string | undefined, val: unknown, type: Schema['type']) => {
        const f = strip(name);
        if (!f) return;
        v[f] = val;
        added.push({ field: f, type, optional: true });
      };
      add(topicField, r.topic, 'string');
      add(partitionField, r.kafkaPartition ?? null, 'int32');
      add(offsetField, 'kafkaOffset' in r ? Number((r as { kafkaOffset: bigint }).kafkaOffset) : null, 'int64');
      add(timestampField, r.timestamp ?? null, 'int64');
      add(staticField, staticValue ?? null, 'string');
      const s = schema?.fields ? { ...schema, fields: [...schema.fields, ...added] } : schema;
      return side.set(r, s, v);
    };
  }),
  ...sideTransforms('ReplaceField', (side, p) => {
    const include = splitList(p['include'] ?? p['whitelist']);
    const exclude = new Set(splitList(p['exclude'] ?? p['blacklist']));
    const renames = parseRenames(p['renames']);
    const keep = (f: string) => !exclude.has(f) && (include.length === 0 || include.includes(f));
    return (r) => {
      const { schema, value } = side.get(r);
      if (value === null || value === undefined) return r;
      const v = asStruct(value, 'ReplaceField');
      const out: Record<string, unknown> = {};
      for (const [k, fv] of Object.entries(v)) if (keep(k)) out[renames.get(k) ?? k] = fv;
      const s = schema?.fields
        ? { ...schema, fields: schema.fields.filter((f) => keep(f.field)).map((f) => ({ ...f, field: renames.get(f.field) ?? f.field })) }
        : schema;
      return side.set(r, s, out);
    };
  }),
  ...sideTransforms('MaskField', (side, p, cls) => {
    const fields = splitList(req(p, 'fields', cls));
    const replacement = p['replacement'];
    return (r) => {
      const { schema, value } = side.get(r);
      if (value === null || value === undefined) return r;
      const v = { ...asStruct(value, cls) };
      for (const f of fields) {
        if (!(f in v)) continue;
        const cur = v[f];
        if (replacement !== undefined) v[f] = typeof cur === 'number' ? Number(replacement) : replacement;
        else v[f] = typeof cur === 'number' ? 0 : typeof cur === 'boolean' ? false : typeof cur === 'string' ? '' : Array.isArray(cur) ? [] : null;
      }
      return side.set(r, schema, v);
    };
  }),
  [`${K}ValueToKey`]: (p) => {
    const fields = splitList(req(p, 'fields', 'ValueToKey'));
    return (r) => {
      if (r.value === null || r.value === undefined) return { ...r, key: null, keySchema: null };
      const v = asStruct(r.value, 'ValueToKey');
      const key: Record<string, unknown> = {};
      for (const f of fields) key[f] = v[f] ?? null;
      const keySchema: Schema | null = r.valueSchema?.fields
        ? { type: 'struct', optional: false, fields: fields.map((f) => r.valueSchema!.fields!.find((x) => x.field === f) ?? { field: f, type: 'string', optional: true }) }
        : null;
      return { ...r, key, keySchema };
    };
  },
  ...sideTransforms('ExtractField', (side, p, cls) => {
    const field = req(p, 'field', cls);
    return (r) => {
      const { schema, value } = side.get(r);
      if (value === null || value === undefined) return r;
      const v = asStruct(value, cls);
      const fs = schema?.fields?.find((f) => f.field === field);
      let s: Schema | null = null;
      if (fs) {
        const { field: _name, ...rest } = fs;
        s = rest;
      }
      return side.set(r, s, v[field] ?? null);
    };
  }),
  ...sideTransforms('HoistField', (side, p, cls) => {
    const field = req(p, 'field', cls);
    return (r) => {
      const { schema, value } = side.get(r);
      const s: Schema | null = schema ? { type: 'struct', optional: false, fields: [{ ...schema, field }] } : null;
      return side.set(r, s, { [field]: value ?? null });
    };
  }),
  [`${K}TimestampRouter`]: (p) => {
    const topicFormat = p['topic.format'] ?? '${topic}-${timestamp}';
    const tsFormat = p['timestamp.format'] ?? 'yyyyMMdd';
    return (r) => {
      if (r.timestamp === null || r.timestamp === undefined) throw new DataError(`Timestamp missing on record: ${r.topic}`);
      const topic = topicFormat.replace('${topic}', r.topic).replace('${timestamp}', formatTimestamp(r.timestamp, tsFormat));
      return { ...r, topic };
    };
  },
  [`${K}RegexRouter`]: (p) => {
    const regex = new RegExp('^(?:' + req(p, 'regex', 'RegexRouter') + ')$');
    const replacement = req(p, 'replacement', 'RegexRouter');
    return (r) => (regex.test(r.topic) ? { ...r, topic: r.topic.replace(regex, replacement) } : r);
  },
  ...sideTransforms('Flatten', (side, p, cls) => {
    const delimiter = p['delimiter'] ?? '.';
    return (r) => {
      const { schema, value } = side.get(r);
      if (value === null || value === undefined) return r;
      const f = flatten(asStruct(value, cls), schema, delimiter);
      return side.set(r, f.schema, f.value);
    };
  }),
  ...sideTransforms('Cast', (side, p, cls) => {
    const spec = splitList(req(p, 'spec', cls)).map((s) => s.split(':'));
    const whole = spec.length === 1 && spec[0]!.length === 1 ? spec[0]![0]! : null;
    const perField = new Map(spec.filter((s) => s.length === 2).map((s) => [s[0]!, s[1]!]));
    return (r) => {
      const { schema, value } = side.get(r);
      if (whole) return side.set(r, { type: whole as Schema['type'], optional: true }, castValue(value, whole));
      if (value === null || value === undefined) return r;
      const v = { ...asStruct(value, cls) };
      for (const [f, t] of perField) if (f in v) v[f] = castValue(v[f], t);
      const s = schema?.fields
        ? { ...schema, fields: schema.fields.map((f) => (perField.has(f.field) ? { ...f, type: perField.get(f.field) as Schema['type'] } : f)) }
        : schema;
      return side.set(r, s, v);
    };
  }),
  ...sideTransforms('TimestampConverter', (side, p, cls) => {
    const field = p['field'] ?? '';
    const target = req(p, 'target.type', cls);
    const format = p['format'] ?? "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";
    const toMs = (v: unknown): number => {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (v instanceof Date) return v.getTime();
      const n = Date.parse(String(v));
      if (Number.isNaN(n)) throw new DataError(`Could not parse timestamp ${String(v)}`);
      return n;
    };
    const convert = (v: unknown): { value: unknown; schema: Schema } => {
      if (v === null || v === undefined) return { value: null, schema: { type: 'int64', optional: true } };
      const ms = toMs(v);
      switch (target) {
        case 'unix':
          return { value: ms, schema: { type: 'int64', optional: true } };
        case 'string':
          return { value: formatTimestamp(ms, format), schema: { type: 'string', optional: true } };
        case 'Timestamp':
          return { value: ms, schema: { type: 'int64', optional: true, name: 'org.apache.kafka.connect.data.Timestamp', version: 1 } };
        case 'Date':
          return { value: Math.floor(ms / 86_400_000), schema: { type: 'int32', optional: true, name: 'org.apache.kafka.connect.data.Date', version: 1 } };
        case 'Time':
          return { value: ms % 86_400_000, schema: { type: 'int32', optional: true, name: 'org.apache.kafka.connect.data.Time', version: 1 } };
        default:
          throw new DataError(`Unknown target.type ${target}`);
      }
    };
    return (r) => {
      const { schema, value } = side.get(r);
      if (!field) {
        const c = convert(value);
        return side.set(r, schema ? c.schema : null, c.value);
      }
      if (value === null || value === undefined) return r;
      const v = { ...asStruct(value, cls) };
      const c = convert(v[field]);
      v[field] = c.value;
      const s = schema?.fields ? { ...schema, fields: schema.fields.map((f) => (f.field === field ? { ...c.schema, field } : f)) } : schema;
      return side.set(r, s, v);
    };
  }),
  [`${K}Filter`]: () => () => null,
  [`${K}InsertHeader`]: (p) => {
    const header = req(p, 'header', 'InsertHeader');
    const literal = req(p, 'value.literal', 'InsertHeader');
    return (r) => ({ ...r, headers: [...(r.headers ?? []), { key: header, value: literal }] });
  },
  [`${K}DropHeaders`]: (p) => {
    const names = new Set(splitList(req(p, 'headers', 'DropHeaders')));
    return (r) => ({ ...r, headers: (r.headers ?? []).filter((h) => !names.has(h.key)) });
  },
  // Debezium's unwrap: the row state after the change; deletes become tombstones.
  'io.debezium.transforms.ExtractNewRecordState': (p) => {
    const dropTombstones = (p['drop.tombstones'] ?? 'true') === 'true';
    const deleteMode = p['delete.handling.mode'] ?? p['delete.tombstone.handling.mode'] ?? 'drop';
    return (r) => {
      if (r.value === null || r.value === undefined) return dropTombstones ? null : r;
      const env = asStruct(r.value, 'ExtractNewRecordState');
      const afterSchema = r.valueSchema?.fields?.find((f) => f.field === 'after');
      const stripName = (s: Field | undefined): Schema | null => {
        if (!s) return null;
        const { field: _f, ...rest } = s;
        return rest;
      };
      if (env.op === 'd') {
        if (deleteMode === 'none' || deleteMode === 'tombstone') return { ...r, value: null, valueSchema: null };
        if (deleteMode === 'rewrite' && env.before) {
          const bs = stripName(r.valueSchema?.fields?.find((f) => f.field === 'before'));
          return {
            ...r,
            value: { ...(env.before as object), __deleted: 'true' },
            valueSchema: bs?.fields ? { ...bs, fields: [...bs.fields, { field: '__deleted', type: 'string', optional: true }] } : null,
          };
        }
        return null;
      }
      if (!('after' in env) || !('op' in env)) return r;
      return { ...r, value: env.after ?? null, valueSchema: stripName(afterSchema) };
    };
  },
};

const PREDICATES: Record<string, (p: Props) => Predicate> = {
  [`${K}predicates.TopicNameMatches`]: (p) => {
    const re = new RegExp('^(?:' + req(p, 'pattern', 'TopicNameMatches') + ')$');
    return (r) => re.test(r.topic);
  },
  [`${K}predicates.HasHeaderKey`]: (p) => {
    const name = req(p, 'name', 'HasHeaderKey');
    return (r) => (r.headers ?? []).some((h) => h.key === name);
  },
  [`${K}predicates.RecordIsTombstone`]: () => (r) => r.value === null || r.value === undefined,
};

export const TRANSFORM_CLASSES = Object.keys(TRANSFORMS);
export const PREDICATE_CLASSES = Object.keys(PREDICATES);

function subProps(config: Record<string, string>, prefix: string): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** The connector's `transforms` chain (with `predicate`/`negate`) as one function; null drops the record. */
export function buildTransformChain(config: Record<string, string>): Transform {
  const chain: Transform[] = [];
  for (const alias of splitList(config['transforms'])) {
    const props = subProps(config, `transforms.${alias}.`);
    const type = props['type'];
    if (!type) throw new DataError(`Missing required configuration "transforms.${alias}.type"`);
    const make = TRANSFORMS[type];
    if (!make) throw new DataError(`Invalid value ${type} for configuration transforms.${alias}.type: Class ${type} could not be found.`);
    const transform = make(props);
    const predicateAlias = props['predicate'];
    if (!predicateAlias) {
      chain.push(transform);
      continue;
    }
    const pprops = subProps(config, `predicates.${predicateAlias}.`);
    const ptype = pprops['type'];
    const pmake = ptype ? PREDICATES[ptype] : undefined;
    if (!pmake) throw new DataError(`Invalid predicate ${predicateAlias} for transform ${alias}: unknown type ${ptype ?? '(none)'}`);
    const predicate = pmake(pprops);
    const negate = props['negate'] === 'true';
    chain.push((r) => (predicate(r) !== negate ? transform(r) : r));
  }
  return (record) => {
    let r: ConnectRecord | null = record;
    for (const t of chain) {
      if (r === null) return null;
      r = t(r);
    }
    return r;
  };
}
