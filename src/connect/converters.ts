// Converters between Connect data (schema + value) and record bytes, under Kafka's class names.
import { REGISTRY_CONVERTER_CLASSES } from './registry-converters.js';
import { DataError, type Schema } from './sdk.js';

export interface SchemaAndValue {
  schema: Schema | null;
  value: unknown;
}

/** Schema-registry converters answer asynchronously (they may register or fetch a schema). */
export interface Converter {
  fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null | Promise<Buffer | null>;
  toConnectData(topic: string, bytes: Buffer | null): SchemaAndValue | Promise<SchemaAndValue>;
}

/** Values inside Connect data: bytes are Buffers, int64 may be bigint; JSON carries them as base64/number. */
function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

function fromJsonValue(schema: Schema | null, value: unknown): unknown {
  if (value === null || value === undefined || !schema) return value ?? null;
  switch (schema.type) {
    case 'bytes':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    case 'struct': {
      if (typeof value !== 'object' || Array.isArray(value)) throw new DataError(`Struct schema's value must be a JSON object`);
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.field] = fromJsonValue(f, (value as Record<string, unknown>)[f.field] ?? null);
      return out;
    }
    case 'array':
      if (!Array.isArray(value)) throw new DataError(`Array schema's value must be a JSON array`);
      return value.map((v) => fromJsonValue(schema.items ?? null, v));
    default:
      return value;
  }
}

export class JsonConverter implements Converter {
  readonly schemasEnable: boolean;
  constructor(props: Record<string, string>) {
    this.schemasEnable = (props['schemas.enable'] ?? 'true').toLowerCase() === 'true';
  }
  fromConnectData(_topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    const payload = toJsonValue(value);
    const doc = this.schemasEnable ? { schema: schema ?? null, payload } : payload;
    return Buffer.from(JSON.stringify(doc));
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null || bytes.length === 0) return { schema: null, value: null };
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new DataError(`Converting byte[] to Kafka Connect data failed due to serialization error: ${(err as Error).message}`);
    }
    if (!this.schemasEnable) return { schema: null, value: doc };
    if (
      doc === null ||
      typeof doc !== 'object' ||
      Array.isArray(doc) ||
      !('schema' in doc) ||
      !('payload' in doc) ||
      Object.keys(doc).length !== 2
    ) {
      throw new DataError(
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
      );
    }
    const { schema, payload } = doc as { schema: Schema | null; payload: unknown };
    return { schema, value: fromJsonValue(schema, payload) };
  }
}

export class StringConverter implements Converter {
  fromConnectData(_topic: string, _schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    return Buffer.from(typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(toJsonValue(value)) : String(value));
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: { type: 'string', optional: true }, value: bytes === null ? null : bytes.toString('utf8') };
  }
}

export class ByteArrayConverter implements Converter {
  fromConnectData(_topic: string, _schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value);
    throw new DataError('ByteArrayConverter is not compatible with objects of type ' + typeof value);
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: { type: 'bytes', optional: true }, value: bytes };
  }
}

const CONVERTER_CLASSES: Record<string, (props: Record<string, string>) => Converter> = {
  'org.apache.kafka.connect.json.JsonConverter': (p) => new JsonConverter(p),
  'org.apache.kafka.connect.storage.StringConverter': () => new StringConverter(),
  'org.apache.kafka.connect.converters.ByteArrayConverter': () => new ByteArrayConverter(),
};

/** Every converter class a connector may name. */
export function converterClassNames(): string[] {
  return [...Object.keys(CONVERTER_CLASSES), ...Object.keys(REGISTRY_CONVERTER_CLASSES)];
}

/**
 * Builds `prefix` (e.g. "value.converter") from connector config, falling back to the worker's.
 * A registry converter without its own `schema.registry.url` uses the worker's
 * `<prefix>.schema.registry.url` (what `fjord dev` sets to its built-in registry).
 */
export function createConverter(prefix: string, connectorConfig: Record<string, string>, workerConfig: Record<string, string>): Converter {
  const source = connectorConfig[prefix] !== undefined ? connectorConfig : workerConfig;
  const className = source[prefix] ?? 'org.apache.kafka.connect.json.JsonConverter';
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (k.startsWith(prefix + '.')) props[k.slice(prefix.length + 1)] = v;
  const make = CONVERTER_CLASSES[className];
  if (make) return make(props);
  const registry = REGISTRY_CONVERTER_CLASSES[className];
  if (!registry) throw new DataError(`Unknown converter class ${className}`);
  props['schema.registry.url'] ??= workerConfig[`${prefix}.schema.registry.url`] ?? workerConfig['schema.registry.url'] ?? '';
  return registry(props, prefix.startsWith('key.'));
}

/** A schema for a schemaless value, so schema-needing sinks (JDBC auto.create) can work on plain JSON. */
export function inferSchema(value: unknown): Schema | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return { type: 'boolean', optional: true };
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'int64' : 'float64', optional: true };
  if (typeof value === 'bigint') return { type: 'int64', optional: true };
  if (typeof value === 'string') return { type: 'string', optional: true };
  if (Buffer.isBuffer(value)) return { type: 'bytes', optional: true };
  if (Array.isArray(value)) return { type: 'array', optional: true, items: inferSchema(value[0]) ?? { type: 'string', optional: true } };
  if (typeof value === 'object') {
    return {
      type: 'struct',
      optional: true,
      fields: Object.entries(value as Record<string, unknown>).map(([field, v]) => ({
        field,
        ...(inferSchema(v) ?? { type: 'string', optional: true }),
      })),
    };
  }
  return null;
}
