// Schema-registry converters under Confluent's class names: AvroConverter, JsonSchemaConverter and
// ProtobufConverter. Records carry Confluent's wire format (magic byte 0, 4-byte schema id, then
// the payload; Protobuf adds the message-index path), so Confluent's serializers in any language
// read what these write and the other way round. Subjects follow the configured strategy
// (TopicNameStrategy by default); schemas are registered on first use unless
// auto.register.schemas=false, and looked up by id once per id.
import avro from 'avsc';
import protobuf from 'protobufjs';
import type { Converter, SchemaAndValue } from './converters.js';
import { DataError, type Field, type Schema } from './sdk.js';

type SchemaKind = 'AVRO' | 'JSON' | 'PROTOBUF';

/** A small client of the Confluent registry REST API with the caches a converter needs. */
class RegistryClient {
  private readonly urls: string[];
  private readonly auth: string | undefined;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly byId = new Map<number, Promise<{ schemaType: SchemaKind; schema: string }>>();

  constructor(props: Record<string, string>) {
    this.urls = (props['schema.registry.url'] ?? '')
      .split(',')
      .map((u) => u.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    if (this.urls.length === 0) throw new DataError('Missing required configuration "schema.registry.url" which has no default value.');
    const userInfo = props['basic.auth.user.info'] ?? props['schema.registry.basic.auth.user.info'];
    this.auth = userInfo ? `Basic ${Buffer.from(userInfo).toString('base64')}` : undefined;
  }

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    let lastError: unknown;
    for (const base of this.urls) {
      try {
        const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json' };
        if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json';
        if (this.auth) headers.authorization = this.auth;
        const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await res.text();
        const parsed = text ? JSON.parse(text) : null;
        if (!res.ok) throw new DataError(`Schema registry ${method} ${path}: ${res.status} ${parsed?.message ?? text} (error code ${parsed?.error_code ?? res.status})`);
        return parsed;
      } catch (err) {
        if (err instanceof DataError) throw err;
        lastError = err;
      }
    }
    throw new DataError(`Schema registry unreachable at ${this.urls.join(', ')}: ${(lastError as Error)?.message ?? lastError}`);
  }

  /** The id of `schema` under `subject`: registered (auto.register.schemas) or looked up. */
  idFor(subject: string, schemaType: SchemaKind, schema: string, register: boolean): Promise<number> {
    const key = `${subject}\u0000${register}\u0000${schema}`;
    let id = this.ids.get(key);
    if (!id) {
      const body = schemaType === 'AVRO' ? { schema } : { schema, schemaType };
      const path = register ? `/subjects/${encodeURIComponent(subject)}/versions` : `/subjects/${encodeURIComponent(subject)}`;
      id = this.call('POST', path, body).then((r: { id: number }) => r.id);
      id.catch(() => this.ids.delete(key));
      this.ids.set(key, id);
    }
    return id;
  }

  async latest(subject: string): Promise<{ id: number; schemaType: SchemaKind; schema: string }> {
    const r = await this.call('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    return { id: r.id, schemaType: (r.schemaType ?? 'AVRO') as SchemaKind, schema: r.schema };
  }

  schemaById(id: number): Promise<{ schemaType: SchemaKind; schema: string }> {
    let s = this.byId.get(id);
    if (!s) {
      s = this.call('GET', `/schemas/ids/${id}`).then((r: { schema: string; schemaType?: SchemaKind }) => ({ schemaType: r.schemaType ?? 'AVRO', schema: r.schema }));
      s.catch(() => this.byId.delete(id));
      this.byId.set(id, s);
    }
    return s;
  }
}

function frame(id: number, payload: Buffer, indexes?: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return indexes ? Buffer.concat([header, indexes, payload]) : Buffer.concat([header, payload]);
}

function unframe(bytes: Buffer): { id: number; payload: Buffer } {
  if (bytes.length < 5 || bytes[0] !== 0) throw new DataError('Unknown magic byte!');
  return { id: bytes.readUInt32BE(1), payload: bytes.subarray(5) };
}

/** Plain JS values for encoders: int64 bigints as numbers when safe, Dates as epoch millis. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    if (!Number.isSafeInteger(Number(value))) throw new DataError(`int64 value ${value} is outside the range these converters carry exactly`);
    return Number(value);
  }
  if (value instanceof Date) return value.getTime();
  return value;
}

abstract class RegistryConverter implements Converter {
  protected readonly client: RegistryClient;
  private readonly autoRegister: boolean;
  private readonly useLatest: boolean;
  private readonly strategy: string;

  constructor(
    props: Record<string, string>,
    private readonly isKey: boolean,
    private readonly kind: SchemaKind,
  ) {
    this.client = new RegistryClient(props);
    this.autoRegister = (props['auto.register.schemas'] ?? 'true').toLowerCase() === 'true';
    this.useLatest = (props['use.latest.version'] ?? 'false').toLowerCase() === 'true';
    const strategyKey = isKey ? 'key.subject.name.strategy' : 'value.subject.name.strategy';
    this.strategy = (props[strategyKey] ?? 'TopicNameStrategy').split('.').pop()!;
  }

  protected subject(topic: string, recordName: string | undefined): string {
    const suffix = this.isKey ? 'key' : 'value';
    if (this.strategy === 'TopicNameStrategy') return `${topic}-${suffix}`;
    if (!recordName) throw new DataError(`${this.strategy} needs a named record schema`);
    return this.strategy === 'RecordNameStrategy' ? recordName : `${topic}-${recordName}`;
  }

  protected async schemaId(topic: string, recordName: string | undefined, schema: string): Promise<number> {
    const subject = this.subject(topic, recordName);
    if (this.useLatest) return (await this.client.latest(subject)).id;
    return this.client.idFor(subject, this.kind, schema, this.autoRegister);
  }

  abstract fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Promise<Buffer | null>;
  abstract toConnectData(topic: string, bytes: Buffer | null): Promise<SchemaAndValue>;
}

// ------------------------------------------------------------------------------------ Avro

const AVRO_DEFAULT_NAME = 'io.confluent.connect.avro.ConnectDefault';

/** Connect schema → Avro schema, as Confluent's AvroData writes it (connect.* properties kept). */
function toAvro(schema: Schema, names: { next: number }): unknown {
  const base = ((): unknown => {
    switch (schema.type) {
      case 'int8':
      case 'int16':
        return { type: 'int', 'connect.type': schema.type };
      case 'int32':
        return 'int';
      case 'int64':
        return 'long';
      case 'float32':
        return 'float';
      case 'float64':
        return 'double';
      case 'boolean':
      case 'string':
      case 'bytes':
        return schema.type;
      case 'array':
        return { type: 'array', items: toAvro(schema.items ?? { type: 'string' }, names) };
      case 'map':
        if ((schema.keys?.type ?? 'string') === 'string') return { type: 'map', values: toAvro(schema.values ?? { type: 'string' }, names) };
        return {
          type: 'array',
          items: {
            type: 'record',
            name: `MapEntry${names.next++ || ''}`,
            namespace: 'io.confluent.connect.avro',
            fields: [
              { name: 'key', type: toAvro(schema.keys!, names) },
              { name: 'value', type: toAvro(schema.values ?? { type: 'string' }, names) },
            ],
          },
        };
      case 'struct': {
        const name = schema.name ?? (names.next++ === 0 ? AVRO_DEFAULT_NAME : `${AVRO_DEFAULT_NAME}${names.next - 1}`);
        return {
          type: 'record',
          name,
          fields: (schema.fields ?? []).map((f: Field) => {
            const t = toAvro(f, names);
            return f.optional ? { name: f.field, type: t, default: null } : { name: f.field, type: t };
          }),
        };
      }
      default:
        throw new DataError(`Unsupported Connect schema type ${(schema as Schema).type}`);
    }
  })();
  return schema.optional ? ['null', base] : base;
}

/** Avro schema → Connect schema (the inverse of toAvro, plus Avro's own types). */
function fromAvro(type: any, optional = false): Schema {
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (nonNull.length === 1) return fromAvro(nonNull[0], true);
    throw new DataError('Avro unions of several non-null types have no Connect equivalent here');
  }
  const t = typeof type === 'string' ? { type } : type;
  const opt = optional ? { optional: true } : {};
  switch (t.type) {
    case 'int':
      return { type: t['connect.type'] === 'int8' || t['connect.type'] === 'int16' ? t['connect.type'] : 'int32', ...opt };
    case 'long':
      return { type: 'int64', ...opt };
    case 'float':
      return { type: 'float32', ...opt };
    case 'double':
      return { type: 'float64', ...opt };
    case 'boolean':
    case 'string':
    case 'bytes':
      return { type: t.type, ...opt };
    case 'enum':
      return { type: 'string', ...opt };
    case 'fixed':
      return { type: 'bytes', ...opt };
    case 'array':
      return { type: 'array', items: fromAvro(t.items), ...opt };
    case 'map':
      return { type: 'map', keys: { type: 'string' }, values: fromAvro(t.values), ...opt };
    case 'record':
      return {
        type: 'struct',
        ...(t.name === AVRO_DEFAULT_NAME ? {} : { name: t.namespace && !t.name.includes('.') ? `${t.namespace}.${t.name}` : t.name }),
        fields: t.fields.map((f: { name: string; type: unknown }) => ({ field: f.name, ...fromAvro(f.type) })),
        ...opt,
      };
    default:
      throw new DataError(`Unsupported Avro type ${JSON.stringify(t.type)}`);
  }
}

function toAvroValue(schema: Schema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.field] = toAvroValue(f, (value as Record<string, unknown>)[f.field]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((v) => toAvroValue(schema.items ?? { type: 'string' }, v));
    case 'map': {
      const entries = value instanceof Map ? [...value] : Object.entries(value as Record<string, unknown>);
      if ((schema.keys?.type ?? 'string') === 'string') {
        return Object.fromEntries(entries.map(([k, v]) => [k, toAvroValue(schema.values ?? { type: 'string' }, v)]));
      }
      return entries.map(([k, v]) => ({ key: toAvroValue(schema.keys!, k), value: toAvroValue(schema.values ?? { type: 'string' }, v) }));
    }
    case 'bytes':
      return Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value as Uint8Array);
    default:
      return plain(value);
  }
}

export class AvroConverter extends RegistryConverter {
  private readonly writers = new Map<string, { avroSchema: string; type: avro.Type; name: string | undefined }>();
  private readonly readers = new Map<number, { type: avro.Type; connect: Schema }>();

  constructor(props: Record<string, string>, isKey: boolean) {
    super(props, isKey, 'AVRO');
  }

  async fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Promise<Buffer | null> {
    if (value === null || value === undefined) return null;
    if (!schema) throw new DataError('AvroConverter needs a Connect schema for the value (schemaless data cannot be written as Avro)');
    const cacheKey = JSON.stringify(schema);
    let writer = this.writers.get(cacheKey);
    if (!writer) {
      const avroSchema = toAvro({ ...schema, optional: false }, { next: 0 });
      const type = avro.Type.forSchema(avroSchema as avro.Schema);
      writer = { avroSchema: JSON.stringify(avroSchema), type, name: (avroSchema as { name?: string }).name };
      this.writers.set(cacheKey, writer);
    }
    const id = await this.schemaId(topic, writer.name, writer.avroSchema);
    let encoded: Buffer;
    try {
      encoded = writer.type.toBuffer(toAvroValue(schema, value));
    } catch (err) {
      throw new DataError(`Failed to serialize Avro data from topic ${topic}: ${(err as Error).message}`);
    }
    return frame(id, encoded);
  }

  async toConnectData(_topic: string, bytes: Buffer | null): Promise<SchemaAndValue> {
    if (bytes === null) return { schema: null, value: null };
    const { id, payload } = unframe(bytes);
    let reader = this.readers.get(id);
    if (!reader) {
      const { schemaType, schema } = await this.client.schemaById(id);
      if (schemaType !== 'AVRO') throw new DataError(`Schema ${id} is ${schemaType}, not AVRO`);
      const parsed = JSON.parse(schema);
      reader = { type: avro.Type.forSchema(parsed), connect: fromAvro(parsed) };
      this.readers.set(id, reader);
    }
    let value: unknown;
    try {
      value = reader.type.fromBuffer(payload);
    } catch (err) {
      throw new DataError(`Error deserializing Avro message for id ${id}: ${(err as Error).message}`);
    }
    return { schema: reader.connect, value: toPlainObjects(reader.connect, value) };
  }
}

/** Avro decodes records as class instances; Connect data is plain objects (bytes stay Buffers). */
function toPlainObjects(schema: Schema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.field] = toPlainObjects(f, (value as Record<string, unknown>)[f.field]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((v) => toPlainObjects(schema.items!, v));
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toPlainObjects(schema.values!, v)]));
    default:
      return value;
  }
}

// ------------------------------------------------------------------------------- JSON Schema

/** Connect schema → JSON Schema, as Confluent's JsonSchemaData writes it (connect.type / connect.index). */
function toJsonSchema(schema: Schema, index?: number): Record<string, unknown> {
  const extra: Record<string, unknown> = index === undefined ? {} : { 'connect.index': index };
  const base = ((): Record<string, unknown> => {
    switch (schema.type) {
      case 'int8':
      case 'int16':
      case 'int32':
      case 'int64':
        return { type: 'integer', 'connect.type': schema.type };
      case 'float32':
      case 'float64':
        return { type: 'number', 'connect.type': schema.type };
      case 'boolean':
      case 'string':
        return { type: schema.type };
      case 'bytes':
        return { type: 'string', 'connect.type': 'bytes' };
      case 'array':
        return { type: 'array', items: toJsonSchema(schema.items ?? { type: 'string' }) };
      case 'map':
        return { type: 'object', additionalProperties: toJsonSchema(schema.values ?? { type: 'string' }), 'connect.type': 'map' };
      case 'struct':
        return {
          type: 'object',
          ...(schema.name ? { title: schema.name } : {}),
          properties: Object.fromEntries((schema.fields ?? []).map((f, i) => [f.field, toJsonSchema(f, i)])),
        };
      default:
        throw new DataError(`Unsupported Connect schema type ${(schema as Schema).type}`);
    }
  })();
  if (schema.optional) return { oneOf: [{ type: 'null' }, base], ...extra };
  return { ...base, ...extra };
}

function fromJsonSchema(js: any): Schema {
  if (Array.isArray(js?.oneOf)) {
    const nonNull = js.oneOf.filter((s: { type?: string }) => s.type !== 'null');
    if (nonNull.length === 1) return { ...fromJsonSchema(nonNull[0]), optional: true };
  }
  const ct = js?.['connect.type'];
  switch (js?.type) {
    case 'integer':
      return { type: ct === 'int8' || ct === 'int16' || ct === 'int32' ? ct : 'int64' };
    case 'number':
      return { type: ct === 'float32' ? 'float32' : 'float64' };
    case 'boolean':
      return { type: 'boolean' };
    case 'string':
      return { type: ct === 'bytes' ? 'bytes' : 'string' };
    case 'array':
      return { type: 'array', items: fromJsonSchema(js.items ?? {}) };
    case 'object': {
      if (js.properties === undefined && js.additionalProperties) {
        return { type: 'map', keys: { type: 'string' }, values: fromJsonSchema(js.additionalProperties) };
      }
      const entries = Object.entries((js.properties ?? {}) as Record<string, any>).sort(
        ([, a], [, b]) => (a['connect.index'] ?? 0) - (b['connect.index'] ?? 0),
      );
      const required = new Set<string>(js.required ?? []);
      return {
        type: 'struct',
        ...(js.title ? { name: js.title } : {}),
        fields: entries.map(([field, s]) => {
          const f = fromJsonSchema(s);
          return { field, ...f, optional: f.optional ?? (js.required ? !required.has(field) : undefined) } as Field;
        }),
      };
    }
    default:
      return { type: 'string', optional: true };
  }
}

function toJsonValue(schema: Schema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.field] = toJsonValue(f, (value as Record<string, unknown>)[f.field]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((v) => toJsonValue(schema.items ?? { type: 'string' }, v));
    case 'map':
      return Object.fromEntries(
        (value instanceof Map ? [...value] : Object.entries(value as Record<string, unknown>)).map(([k, v]) => [k, toJsonValue(schema.values ?? { type: 'string' }, v)]),
      );
    case 'bytes':
      return Buffer.isBuffer(value) ? value.toString('base64') : value;
    default:
      return plain(value);
  }
}

function fromJsonValue(schema: Schema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.field] = fromJsonValue(f, (value as Record<string, unknown>)[f.field]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((v) => fromJsonValue(schema.items!, v));
    case 'bytes':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    default:
      return value;
  }
}

export class JsonSchemaConverter extends RegistryConverter {
  private readonly writers = new Map<string, string>();
  private readonly readers = new Map<number, Schema>();

  constructor(props: Record<string, string>, isKey: boolean) {
    super(props, isKey, 'JSON');
  }

  async fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Promise<Buffer | null> {
    if (value === null || value === undefined) return null;
    if (!schema) throw new DataError('JsonSchemaConverter needs a Connect schema for the value');
    const cacheKey = JSON.stringify(schema);
    let js = this.writers.get(cacheKey);
    if (!js) {
      js = JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...toJsonSchema({ ...schema, optional: false }) });
      this.writers.set(cacheKey, js);
    }
    const id = await this.schemaId(topic, schema.name, js);
    return frame(id, Buffer.from(JSON.stringify(toJsonValue(schema, value))));
  }

  async toConnectData(_topic: string, bytes: Buffer | null): Promise<SchemaAndValue> {
    if (bytes === null) return { schema: null, value: null };
    const { id, payload } = unframe(bytes);
    let connect = this.readers.get(id);
    if (!connect) {
      const { schemaType, schema } = await this.client.schemaById(id);
      if (schemaType !== 'JSON') throw new DataError(`Schema ${id} is ${schemaType}, not JSON`);
      connect = fromJsonSchema(JSON.parse(schema));
      this.readers.set(id, connect);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw new DataError(`Converting byte[] to Kafka Connect data failed due to serialization error: ${(err as Error).message}`);
    }
    return { schema: connect, value: fromJsonValue(connect, doc) };
  }
}

// ---------------------------------------------------------------------------------- Protobuf

const PROTO_SCALARS: Partial<Record<Schema['type'], string>> = {
  int8: 'int32',
  int16: 'int32',
  int32: 'int32',
  int64: 'int64',
  float32: 'float',
  float64: 'double',
  boolean: 'bool',
  string: 'string',
  bytes: 'bytes',
};

/** Connect struct → proto3 schema text (one top-level message; nested structs as nested messages). */
function toProto(schema: Schema): { text: string; name: string } {
  if (schema.type !== 'struct') throw new DataError('ProtobufConverter writes Connect structs');
  const name = (schema.name ?? 'ConnectDefault1').split('.').pop()!.replace(/[^A-Za-z0-9_]/g, '_');
  const message = (s: Schema, msgName: string, indent: string): string => {
    const nested: string[] = [];
    const lines = (s.fields ?? []).map((f, i) => {
      const typeOf = (fs: Schema, fieldName: string): string => {
        const scalar = PROTO_SCALARS[fs.type];
        if (scalar) return scalar;
        if (fs.type === 'struct') {
          const n = (fs.name ?? `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Message`).split('.').pop()!.replace(/[^A-Za-z0-9_]/g, '_');
          nested.push(message(fs, n, `${indent}  `));
          return n;
        }
        if (fs.type === 'map') return `map<${PROTO_SCALARS[fs.keys?.type ?? 'string'] ?? 'string'}, ${typeOf(fs.values ?? { type: 'string' }, `${fieldName}Value`)}>`;
        throw new DataError(`Unsupported Connect schema type ${fs.type} in a Protobuf message`);
      };
      if (f.type === 'array') return `${indent}  repeated ${typeOf(f.items ?? { type: 'string' }, f.field)} ${f.field} = ${i + 1};`;
      const t = typeOf(f, f.field);
      const optional = f.optional && PROTO_SCALARS[f.type] ? 'optional ' : '';
      return `${indent}  ${optional}${t} ${f.field} = ${i + 1};`;
    });
    return [`${indent}message ${msgName} {`, ...nested, ...lines, `${indent}}`].join('\n');
  };
  return { text: `syntax = "proto3";\n\n${message(schema, name, '')}\n`, name };
}

function fromProtoType(type: protobuf.Type): Schema {
  const scalar: Record<string, Schema['type']> = {
    int32: 'int32',
    sint32: 'int32',
    sfixed32: 'int32',
    uint32: 'int64',
    fixed32: 'int64',
    int64: 'int64',
    sint64: 'int64',
    sfixed64: 'int64',
    uint64: 'int64',
    fixed64: 'int64',
    float: 'float32',
    double: 'float64',
    bool: 'boolean',
    string: 'string',
    bytes: 'bytes',
  };
  return {
    type: 'struct',
    name: type.name,
    fields: type.fieldsArray.map((f) => {
      f.resolve();
      const base: Schema = f.resolvedType instanceof protobuf.Type ? fromProtoType(f.resolvedType) : f.resolvedType ? { type: 'string' } : { type: scalar[f.type] ?? 'string' };
      if (f instanceof protobuf.MapField) return { field: f.name, type: 'map', keys: { type: scalar[f.keyType] ?? 'string' }, values: base, optional: true } as Field;
      if (f.repeated) return { field: f.name, type: 'array', items: base, optional: true } as Field;
      return { field: f.name, ...base, optional: true } as Field;
    }),
  };
}

function toProtoValue(schema: Schema, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) {
        const v = toProtoValue(f, (value as Record<string, unknown>)[f.field]);
        if (v !== undefined) out[f.field] = v;
      }
      return out;
    }
    case 'array':
      return (value as unknown[]).map((v) => toProtoValue(schema.items ?? { type: 'string' }, v));
    case 'map':
      return Object.fromEntries(
        (value instanceof Map ? [...value] : Object.entries(value as Record<string, unknown>)).map(([k, v]) => [k, toProtoValue(schema.values ?? { type: 'string' }, v)]),
      );
    default:
      return plain(value);
  }
}

/** Confluent's message-index path: a zigzag varint count, then each index; [0] is the single byte 0. */
function readIndexes(buf: Buffer): { indexes: number[]; rest: Buffer } {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length || shift > 28) throw new DataError('Invalid Protobuf message-index path');
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return (result >>> 1) ^ -(result & 1);
  };
  const count = varint();
  if (count < 0 || count > 64) throw new DataError('Invalid Protobuf message-index path');
  const indexes = count === 0 ? [0] : Array.from({ length: count }, varint);
  return { indexes, rest: buf.subarray(pos) };
}

export class ProtobufConverter extends RegistryConverter {
  private readonly writers = new Map<string, { text: string; type: protobuf.Type }>();
  private readonly readers = new Map<number, protobuf.Root>();

  constructor(props: Record<string, string>, isKey: boolean) {
    super(props, isKey, 'PROTOBUF');
  }

  async fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Promise<Buffer | null> {
    if (value === null || value === undefined) return null;
    if (!schema) throw new DataError('ProtobufConverter needs a Connect schema for the value');
    const cacheKey = JSON.stringify(schema);
    let writer = this.writers.get(cacheKey);
    if (!writer) {
      const { text, name } = toProto(schema);
      const type = protobuf.parse(text, { keepCase: true }).root.lookupType(name);
      writer = { text, type };
      this.writers.set(cacheKey, writer);
    }
    const id = await this.schemaId(topic, writer.type.name, writer.text);
    const payload = Buffer.from(writer.type.encode(writer.type.fromObject(toProtoValue(schema, value) as Record<string, unknown>)).finish());
    return frame(id, payload, Buffer.from([0]));
  }

  async toConnectData(_topic: string, bytes: Buffer | null): Promise<SchemaAndValue> {
    if (bytes === null) return { schema: null, value: null };
    const { id, payload } = unframe(bytes);
    let root = this.readers.get(id);
    if (!root) {
      const { schemaType, schema } = await this.client.schemaById(id);
      if (schemaType !== 'PROTOBUF') throw new DataError(`Schema ${id} is ${schemaType}, not PROTOBUF`);
      root = protobuf.parse(schema, { keepCase: true }).root;
      this.readers.set(id, root);
    }
    const { indexes, rest } = readIndexes(payload);
    // Walk the index path: top-level messages of the file, then nested messages.
    let candidates = root.nestedArray.flatMap((n) => (n instanceof protobuf.Namespace && !(n instanceof protobuf.Type) ? n.nestedArray : [n]));
    let type: protobuf.Type | undefined;
    for (const i of indexes) {
      type = candidates.filter((n): n is protobuf.Type => n instanceof protobuf.Type)[i];
      if (!type) throw new DataError(`Protobuf message index ${indexes.join(',')} not found in schema ${id}`);
      candidates = type.nestedArray;
    }
    const message = type!.decode(rest);
    const value = type!.toObject(message, { longs: Number, defaults: true, arrays: true, objects: true });
    return { schema: fromProtoType(type!), value };
  }
}

export const REGISTRY_CONVERTER_CLASSES: Record<string, (props: Record<string, string>, isKey: boolean) => Converter> = {
  'io.confluent.connect.avro.AvroConverter': (p, k) => new AvroConverter(p, k),
  'io.confluent.connect.json.JsonSchemaConverter': (p, k) => new JsonSchemaConverter(p, k),
  'io.confluent.connect.protobuf.ProtobufConverter': (p, k) => new ProtobufConverter(p, k),
};
