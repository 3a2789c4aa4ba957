// Confluent wire format for the REST Proxy's schema'd embedded formats (avro, jsonschema,
// protobuf): magic byte 0, 4-byte schema id, then the encoded value; schemas come from (and are
// registered in) the Schema Registry over its REST API, like Confluent's proxy does.
import { Ajv, type ValidateFunction } from 'ajv';
import protobuf from 'protobufjs';
import { HttpError } from '../http/server.js';
import { parseSchema, type SchemaType } from '../registry/schemas.js';

export type EmbeddedFormat = 'avro' | 'jsonschema' | 'protobuf';
const TYPE_OF: Record<EmbeddedFormat, SchemaType> = { avro: 'AVRO', jsonschema: 'JSON', protobuf: 'PROTOBUF' };

interface Codec {
  encode(value: unknown): Buffer;
  decode(bytes: Buffer): unknown;
}

export class SchemaSerde {
  private byId = new Map<number, Promise<Codec>>();

  constructor(private readonly registryUrl: string | undefined) {}

  private url(): string {
    if (!this.registryUrl) throw new HttpError(422, 42206, 'This format needs a Schema Registry; none is configured');
    return this.registryUrl;
  }

  async register(subject: string, format: EmbeddedFormat, schema: string): Promise<number> {
    const res = await fetch(`${this.url()}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema, schemaType: TYPE_OF[format] }),
    });
    const body = (await res.json()) as { id?: number; error_code?: number; message?: string };
    if (!res.ok || typeof body.id !== 'number') throw new HttpError(422, 42205, `Schema registration failed for ${subject}: ${body.message ?? res.status}`);
    return body.id;
  }

  private codec(id: number): Promise<Codec> {
    let c = this.byId.get(id);
    if (!c) {
      c = this.load(id);
      this.byId.set(id, c);
      c.catch(() => this.byId.delete(id));
    }
    return c;
  }

  private async load(id: number): Promise<Codec> {
    const res = await fetch(`${this.url()}/schemas/ids/${id}`);
    if (res.status === 404) throw new HttpError(404, 40403, `Schema ${id} not found`);
    const body = (await res.json()) as { schema: string; schemaType?: SchemaType };
    const type = body.schemaType ?? 'AVRO';
    const parsed = parseSchema(type, body.schema);
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    switch (parsed.type) {
      case 'AVRO': {
        const t = parsed.avro;
        return {
          encode: (v) => {
            if (!t.isValid(v)) throw new HttpError(422, 42203, `Value ${JSON.stringify(v).slice(0, 200)} does not match Avro schema ${id}`);
            return Buffer.concat([header, t.toBuffer(v)]);
          },
          decode: (b) => JSON.parse(JSON.stringify(t.fromBuffer(b.subarray(5)))) as unknown,
        };
      }
      case 'JSON': {
        const validate: ValidateFunction = new Ajv({ strict: false }).compile(parsed.json as object);
        return {
          encode: (v) => {
            if (!validate(v)) throw new HttpError(422, 42203, `Value does not match JSON schema ${id}: ${validate.errors?.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
            return Buffer.concat([header, Buffer.from(JSON.stringify(v))]);
          },
          decode: (b) => JSON.parse(b.subarray(5).toString('utf8')) as unknown,
        };
      }
      case 'PROTOBUF': {
        const ns = parsed.pkg ? parsed.root.lookup(parsed.pkg) : parsed.root;
        const first = parsed.topLevel.map((n) => (ns as protobuf.Namespace).nested?.[n]).find((t) => t instanceof protobuf.Type) as protobuf.Type | undefined;
        if (!first) throw new HttpError(422, 42203, `Protobuf schema ${id} declares no message`);
        // Message index [0] (the first message) is written as the single byte 0.
        const head = Buffer.concat([header, Buffer.from([0])]);
        return {
          encode: (v) => {
            const err = first.verify(v as Record<string, unknown>);
            if (err) throw new HttpError(422, 42203, `Value does not match Protobuf schema ${id}: ${err}`);
            return Buffer.concat([head, Buffer.from(first.encode(first.fromObject(v as Record<string, unknown>)).finish())]);
          },
          decode: (b) => first.toObject(first.decode(b.subarray(6)), { longs: Number, enums: String, defaults: true }),
        };
      }
    }
  }

  async encode(id: number, value: unknown): Promise<Buffer> {
    return (await this.codec(id)).encode(value);
  }

  /** Decodes a Confluent-framed value; null when the bytes are not in that framing. */
  async decode(bytes: Buffer): Promise<unknown> {
    if (bytes.length < 5 || bytes[0] !== 0) throw new HttpError(422, 42203, 'record is not in the Schema Registry wire format');
    return (await this.codec(bytes.readInt32BE(1))).decode(bytes);
  }
}
