// Parsing, validation and canonical forms of the three schema formats (AVRO, JSON, PROTOBUF).
// A schema that does not parse is Confluent's 42201 "Invalid schema".
import avsc from 'avsc';
import { Ajv } from 'ajv';
import protobuf from 'protobufjs';
import descriptorModule from 'protobufjs/ext/descriptor/index.js';

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';
export const SCHEMA_TYPES: SchemaType[] = ['JSON', 'PROTOBUF', 'AVRO'];

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A referenced schema resolved to its text, in dependency order. */
export interface ResolvedReference {
  name: string;
  schemaType: SchemaType;
  schema: string;
}

export class InvalidSchemaError extends Error {}

export interface ParsedAvro {
  type: 'AVRO';
  avro: avsc.Type;
}
export interface ParsedJson {
  type: 'JSON';
  json: unknown;
  /** Referenced documents by reference name, for $ref resolution in compatibility checks. */
  refs: Map<string, unknown>;
}
export interface ParsedProtobuf {
  type: 'PROTOBUF';
  root: protobuf.Root;
  /** The file's own package and top-level types (not those pulled in by references). */
  pkg: string;
  topLevel: string[];
}
export type ParsedSchema = ParsedAvro | ParsedJson | ParsedProtobuf;

interface FileDesc {
  name?: string;
  package?: string;
  syntax?: string;
  dependency?: string[];
  messageType?: { name?: string }[];
  enumType?: { name?: string }[];
}
interface FileDescCodec {
  decode(b: Uint8Array): FileDesc;
  encode(d: FileDesc): { finish(): Uint8Array };
}
const FileDescriptorProto = (descriptorModule as unknown as { FileDescriptorProto: FileDescCodec }).FileDescriptorProto;

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidSchemaError(`Invalid ${what} schema: ${(err as Error).message}`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Protobuf schema text, or a base64 FileDescriptorProto (what Confluent's serdes send). */
function protobufFileDescriptor(text: string): FileDesc | undefined {
  const t = text.trim();
  if (!BASE64.test(t) || /\s/.test(t)) return undefined;
  try {
    return FileDescriptorProto.decode(Buffer.from(t, 'base64'));
  } catch {
    return undefined;
  }
}

function addWellKnown(root: protobuf.Root, imports: string[]): void {
  for (const imp of imports) {
    if (!imp.startsWith('google/protobuf/')) continue;
    const json = (protobuf.common as unknown as { get(f: string): protobuf.INamespace | null }).get(imp);
    if (json?.nested) {
      try {
        root.addJSON(json.nested);
      } catch {
        /* already present */
      }
    }
  }
}

function parseProtoInto(root: protobuf.Root, text: string): { pkg: string; topLevel: string[] } {
  const fd = protobufFileDescriptor(text);
  if (fd) {
    const sub = (protobuf.Root as unknown as { fromDescriptor(d: unknown): protobuf.Root }).fromDescriptor({ file: [fd] });
    const pkg = fd.package ?? '';
    const names = [...(fd.messageType ?? []).map((m) => m.name!), ...(fd.enumType ?? []).map((e) => e.name!)];
    addWellKnown(root, fd.dependency ?? []);
    root.addJSON((sub.toJSON() as protobuf.INamespace).nested ?? {});
    return { pkg, topLevel: names };
  }
  const res = protobuf.parse(text, root, { keepCase: true, alternateCommentMode: true });
  addWellKnown(root, [...(res.imports ?? []), ...(res.weakImports ?? [])]);
  const pkg = res.package ?? '';
  const ns = pkg ? root.lookup(pkg) : root;
  const topLevel = ns && 'nestedArray' in ns ? (ns as protobuf.Namespace).nestedArray.filter((n) => n instanceof protobuf.Type || n instanceof protobuf.Enum).map((n) => n.name) : [];
  return { pkg, topLevel };
}

export function parseSchema(type: SchemaType, text: string, refs: ResolvedReference[] = []): ParsedSchema {
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidSchemaError('Invalid schema: empty schema');
  switch (type) {
    case 'AVRO': {
      const registry: Record<string, avsc.Type> = {};
      try {
        for (const r of refs) if (r.schemaType === 'AVRO') avsc.Type.forSchema(JSON.parse(r.schema), { registry });
        const json = parseJsonText(text, 'Avro');
        const avro = avsc.Type.forSchema(json as avsc.Schema, { registry });
        return { type, avro };
      } catch (err) {
        if (err instanceof InvalidSchemaError) throw err;
        throw new InvalidSchemaError(`Invalid schema ${text.length > 200 ? text.slice(0, 200) + '…' : text}: ${(err as Error).message}`);
      }
    }
    case 'JSON': {
      const json = parseJsonText(text, 'JSON');
      if (typeof json !== 'boolean' && (json === null || typeof json !== 'object' || Array.isArray(json))) {
        throw new InvalidSchemaError('Invalid JSON schema: a schema must be an object or a boolean');
      }
      const refMap = new Map<string, unknown>();
      const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: true });
      try {
        for (const r of refs) {
          const doc = JSON.parse(r.schema) as unknown;
          refMap.set(r.name, doc);
          ajv.addSchema(doc as object, r.name);
        }
        ajv.compile(json as object);
      } catch (err) {
        throw new InvalidSchemaError(`Invalid JSON schema: ${(err as Error).message}`);
      }
      return { type, json, refs: refMap };
    }
    case 'PROTOBUF': {
      const root = new protobuf.Root();
      try {
        for (const r of refs) if (r.schemaType === 'PROTOBUF') parseProtoInto(root, r.schema);
        const { pkg, topLevel } = parseProtoInto(root, text);
        root.resolveAll();
        return { type, root, pkg, topLevel };
      } catch (err) {
        throw new InvalidSchemaError(`Invalid protobuf schema: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * The identity of a schema for "same schema → same id": whitespace-insensitive for the JSON
 * formats; with normalize, key order does not matter either (and for Protobuf the parsed
 * definition is compared instead of the text).
 */
export function canonicalForm(type: SchemaType, text: string, parsed: ParsedSchema, normalize: boolean): string {
  if (type === 'PROTOBUF') {
    if (!normalize) return text.trim();
    return JSON.stringify(sortKeysDeep((parsed as ParsedProtobuf).root.toJSON()));
  }
  const json = JSON.parse(text) as unknown;
  return JSON.stringify(normalize ? sortKeysDeep(json) : json);
}

/** The schema text a caller sees; `serialized` gives Protobuf as a base64 FileDescriptorProto. */
export function formatSchema(type: SchemaType, text: string, format: string | undefined, refs: ResolvedReference[]): string {
  if (type !== 'PROTOBUF' || format !== 'serialized') return text;
  if (protobufFileDescriptor(text)) return text.trim();
  // Parse the file alone (dependencies stay in their own files, as references).
  const root = new protobuf.Root();
  for (const r of refs) parseProtoInto(root, r.schema);
  const before = new Set(allTypeNames(root));
  const own = parseProtoInto(root, text);
  const desc = (root as unknown as { toDescriptor(s: string): { file: FileDesc[] } }).toDescriptor('proto3');
  const ownNames = new Set(own.topLevel);
  const file =
    desc.file.find((f) => (f.package ?? '') === own.pkg && [...(f.messageType ?? []), ...(f.enumType ?? [])].some((m) => ownNames.has(m.name!) && !before.has(`${own.pkg ? own.pkg + '.' : ''}${m.name}`))) ??
    desc.file[0]!;
  const syntaxMatch = /syntax\s*=\s*"(proto[23])"/.exec(text);
  if (syntaxMatch) file.syntax = syntaxMatch[1];
  return Buffer.from(FileDescriptorProto.encode(file).finish()).toString('base64');
}

function allTypeNames(root: protobuf.Root): string[] {
  const out: string[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const n of ns.nestedArray) {
      out.push(n.fullName.replace(/^\./, ''));
      if (n instanceof protobuf.Namespace || n instanceof protobuf.Type) walk(n as protobuf.NamespaceBase);
    }
  };
  walk(root);
  return out;
}
