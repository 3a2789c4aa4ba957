// Confluent's Protobuf compatibility: diff the original (writer) file against the update
// (reader) and refuse the changes that break decoding — package change, removed message,
// field kind / scalar wire-type / named-type change, label change on packed numbers, required
// fields added or removed, fields leaving a oneof, several fields moved into one oneof. Added or
// removed optional fields, renamed fields, enum constant changes are allowed.
import protobuf from 'protobufjs';
import type { ParsedProtobuf } from '../schemas.js';

// Scalars that decode each other's wire bytes.
const WIRE_GROUP: Record<string, string> = {
  int32: 'varint', uint32: 'varint', int64: 'varint', uint64: 'varint', bool: 'varint', enum: 'varint',
  sint32: 'zigzag', sint64: 'zigzag',
  fixed32: 'fixed32', sfixed32: 'fixed32',
  fixed64: 'fixed64', sfixed64: 'fixed64',
  float: 'float', double: 'double',
  string: 'bytes', bytes: 'bytes',
};
const LENGTH_DELIMITED = new Set(['string', 'bytes', 'message']);

function relName(t: protobuf.ReflectionObject, pkg: string): string {
  const full = t.fullName.replace(/^\./, '');
  return pkg && full.startsWith(pkg + '.') ? full.slice(pkg.length + 1) : full;
}

type FieldKind = { kind: 'scalar' | 'enum' | 'message'; name: string };

function fieldKind(f: protobuf.Field, pkg: string): FieldKind {
  f.resolve();
  if (f.resolvedType instanceof protobuf.Type) return { kind: 'message', name: relName(f.resolvedType, pkg) };
  if (f.resolvedType instanceof protobuf.Enum) return { kind: 'enum', name: relName(f.resolvedType, pkg) };
  return { kind: 'scalar', name: f.type };
}

function diffMessage(o: protobuf.Type, u: protobuf.Type, oPkg: string, uPkg: string, path: string, out: string[], seen: Set<string>): void {
  const key = `${o.fullName}|${u.fullName}`;
  if (seen.has(key)) return;
  seen.add(key);
  const oFields = o.fieldsArray;
  const uById = new Map(u.fieldsArray.map((f) => [f.id, f]));
  const oById = new Map(oFields.map((f) => [f.id, f]));
  for (const of of oFields) {
    const uf = uById.get(of.id);
    const where = `${path}${o.name}.${of.name} (field ${of.id})`;
    if (!uf) {
      if (of.required) out.push(`REQUIRED_FIELD_REMOVED: required field ${where} was removed`);
      if (of.partOf) out.push(`ONEOF_FIELD_REMOVED: field ${where} was removed from oneof ${of.partOf.name}`);
      continue;
    }
    if (!of.required && uf.required) out.push(`REQUIRED_FIELD_ADDED: field ${where} became required`);
    if (of.required && !uf.required) out.push(`REQUIRED_FIELD_REMOVED: field ${where} is no longer required`);
    if (of.map || uf.map) {
      if (!(of.map && uf.map)) {
        out.push(`FIELD_KIND_CHANGED: field ${where} changed between map and non-map`);
        continue;
      }
    }
    const ok = fieldKind(of, oPkg);
    const uk = fieldKind(uf, uPkg);
    if (of.map && uf.map && (of as unknown as { keyType: string }).keyType !== (uf as unknown as { keyType: string }).keyType) {
      out.push(`FIELD_SCALAR_KIND_CHANGED: map key of ${where} changed from ${(of as unknown as { keyType: string }).keyType} to ${(uf as unknown as { keyType: string }).keyType}`);
    }
    if (ok.kind === 'message' || uk.kind === 'message') {
      if (ok.kind !== uk.kind) out.push(`FIELD_KIND_CHANGED: field ${where} changed from ${ok.kind} ${ok.name} to ${uk.kind} ${uk.name}`);
      else if (ok.name !== uk.name) out.push(`FIELD_NAMED_TYPE_CHANGED: field ${where} changed type from ${ok.name} to ${uk.name}`);
    } else {
      const og = WIRE_GROUP[ok.kind === 'enum' ? 'enum' : ok.name];
      const ug = WIRE_GROUP[uk.kind === 'enum' ? 'enum' : uk.name];
      if (og !== ug) out.push(`FIELD_SCALAR_KIND_CHANGED: field ${where} changed from ${ok.name} to ${uk.name}, which is not wire compatible`);
    }
    const oRepeated = of.repeated && !of.map;
    const uRepeated = uf.repeated && !uf.map;
    if (oRepeated !== uRepeated) {
      const k = ok.kind === 'message' ? 'message' : ok.kind === 'enum' ? 'enum' : ok.name;
      if (!LENGTH_DELIMITED.has(k)) out.push(`FIELD_NUMERIC_LABEL_CHANGED: field ${where} changed between repeated and singular, which numeric fields cannot`);
    }
    if (of.partOf && !uf.partOf) out.push(`ONEOF_FIELD_REMOVED: field ${where} was moved out of oneof ${of.partOf.name}`);
  }
  for (const uf of u.fieldsArray) {
    if (!oById.has(uf.id) && uf.required) out.push(`REQUIRED_FIELD_ADDED: required field ${path}${u.name}.${uf.name} (field ${uf.id}) was added`);
  }
  // Fields moved into a oneof: allowed for one existing field, not several.
  for (const oneof of u.oneofsArray) {
    const moved = oneof.fieldsArray.filter((f) => {
      const prev = oById.get(f.id);
      return prev && !prev.partOf;
    });
    if (moved.length > 1) out.push(`MULTIPLE_FIELDS_MOVED_TO_ONEOF: fields ${moved.map((f) => f.name).join(', ')} of ${path}${o.name} were moved into oneof ${oneof.name}`);
  }
  diffNested(o, u, oPkg, uPkg, `${path}${o.name}.`, out, seen);
}

function diffNested(o: protobuf.NamespaceBase, u: protobuf.NamespaceBase, oPkg: string, uPkg: string, path: string, out: string[], seen: Set<string>): void {
  for (const child of o.nestedArray) {
    if (!(child instanceof protobuf.Type)) continue;
    const match = u.nested?.[child.name];
    if (!(match instanceof protobuf.Type)) {
      out.push(`MESSAGE_REMOVED: message ${path}${child.name} was removed`);
      continue;
    }
    diffMessage(child, match, oPkg, uPkg, path, out, seen);
  }
}

/** Problems that stop `update` from reading data written with `original` (empty: compatible). */
export function protobufDiff(original: ParsedProtobuf, update: ParsedProtobuf): string[] {
  const out: string[] = [];
  if (original.pkg !== update.pkg) out.push(`PACKAGE_CHANGED: package changed from '${original.pkg}' to '${update.pkg}'`);
  const oNs = original.pkg ? original.root.lookup(original.pkg) : original.root;
  const uNs = update.pkg ? update.root.lookup(update.pkg) : update.root;
  if (!(oNs instanceof protobuf.Namespace) || !(uNs instanceof protobuf.Namespace)) {
    if (oNs !== uNs) out.push('MESSAGE_REMOVED: the file declares no messages');
    return out;
  }
  const seen = new Set<string>();
  for (const name of original.topLevel) {
    const child = oNs.nested?.[name];
    if (!(child instanceof protobuf.Type)) continue;
    const match = uNs.nested?.[name];
    if (!(match instanceof protobuf.Type)) {
      out.push(`MESSAGE_REMOVED: message ${name} was removed`);
      continue;
    }
    diffMessage(child, match, original.pkg, update.pkg, '', out, seen);
  }
  return out;
}
