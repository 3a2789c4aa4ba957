// Protobuf compatibility table: Confluent's allowed-change set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCompatibility, type CompatibilityLevel } from '../../src/registry/compat/index.js';
import { parseSchema } from '../../src/registry/schemas.js';

const p3 = (body: string, pkg = '') => `syntax = "proto3";\n${pkg ? `package ${pkg};\n` : ''}${body}`;
const p2 = (body: string) => `syntax = "proto2";\n${body}`;
const m = (fields: string, name = 'M') => `message ${name} {\n${fields}\n}\n`;

const cases: [string, string, string, CompatibilityLevel, boolean, string?][] = [
  ['identical', p3(m('string a = 1;')), p3(m('string a = 1;')), 'FULL', true],
  ['add field', p3(m('string a = 1;')), p3(m('string a = 1; int32 b = 2;')), 'BACKWARD', true],
  ['add field, full', p3(m('string a = 1;')), p3(m('string a = 1; int32 b = 2;')), 'FULL', true],
  ['remove field', p3(m('string a = 1; int32 b = 2;')), p3(m('string a = 1;')), 'BACKWARD', true],
  ['rename field', p3(m('string a = 1;')), p3(m('string b = 1;')), 'FULL', true],
  ['change field number', p3(m('string a = 1;')), p3(m('string a = 2;')), 'BACKWARD', true],
  ['int32 to int64', p3(m('int32 a = 1;')), p3(m('int64 a = 1;')), 'BACKWARD', true],
  ['int32 to uint32', p3(m('int32 a = 1;')), p3(m('uint32 a = 1;')), 'BACKWARD', true],
  ['int64 to bool', p3(m('int64 a = 1;')), p3(m('bool a = 1;')), 'BACKWARD', true],
  ['int32 to sint32', p3(m('int32 a = 1;')), p3(m('sint32 a = 1;')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['sint32 to sint64', p3(m('sint32 a = 1;')), p3(m('sint64 a = 1;')), 'BACKWARD', true],
  ['fixed32 to sfixed32', p3(m('fixed32 a = 1;')), p3(m('sfixed32 a = 1;')), 'BACKWARD', true],
  ['fixed32 to fixed64', p3(m('fixed32 a = 1;')), p3(m('fixed64 a = 1;')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['fixed64 to sfixed64', p3(m('fixed64 a = 1;')), p3(m('sfixed64 a = 1;')), 'BACKWARD', true],
  ['float to double', p3(m('float a = 1;')), p3(m('double a = 1;')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['string to bytes', p3(m('string a = 1;')), p3(m('bytes a = 1;')), 'BACKWARD', true],
  ['string to int32', p3(m('string a = 1;')), p3(m('int32 a = 1;')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['int32 to enum', p3(m('int32 a = 1;')), p3(m('E a = 1;') + 'enum E { X = 0; Y = 1; }'), 'BACKWARD', true],
  ['enum to int32', p3(m('E a = 1;') + 'enum E { X = 0; }'), p3(m('int32 a = 1;')), 'BACKWARD', true],
  ['scalar to message', p3(m('int32 a = 1;')), p3(m('N a = 1;') + m('string s = 1;', 'N')), 'BACKWARD', false, 'FIELD_KIND_CHANGED'],
  ['message to scalar', p3(m('N a = 1;') + m('string s = 1;', 'N')), p3(m('int32 a = 1;') + m('string s = 1;', 'N')), 'BACKWARD', false, 'FIELD_KIND_CHANGED'],
  ['message type renamed', p3(m('N a = 1;') + m('string s = 1;', 'N')), p3(m('O a = 1;') + m('string s = 1;', 'O')), 'BACKWARD', false, 'FIELD_NAMED_TYPE_CHANGED'],
  ['qualified name of same type', p3(m('N a = 1; message N { string s = 1; }')), p3(m('.M.N a = 1; message N { string s = 1; }')), 'BACKWARD', true],
  ['package changed', p3(m('string a = 1;'), 'foo'), p3(m('string a = 1;'), 'bar'), 'BACKWARD', false, 'PACKAGE_CHANGED'],
  ['message removed', p3(m('string a = 1;') + m('string b = 1;', 'N')), p3(m('string a = 1;')), 'BACKWARD', false, 'MESSAGE_REMOVED'],
  ['message added', p3(m('string a = 1;')), p3(m('string a = 1;') + m('string b = 1;', 'N')), 'BACKWARD', true],
  ['messages reordered', p3(m('string a = 1;') + m('string b = 1;', 'N')), p3(m('string b = 1;', 'N') + m('string a = 1;')), 'FULL', true],
  ['nested message removed', p3(m('string a = 1; message N { int32 x = 1; }')), p3(m('string a = 1;')), 'BACKWARD', false, 'MESSAGE_REMOVED'],
  ['nested field added', p3(m('N n = 1; message N { int32 x = 1; }')), p3(m('N n = 1; message N { int32 x = 1; string y = 2; }')), 'BACKWARD', true],
  ['nested field kind changed', p3(m('N n = 1; message N { int32 x = 1; }')), p3(m('N n = 1; message N { string x = 1; }')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['required field added (proto2)', p2(m('optional string a = 1;')), p2(m('optional string a = 1; required string b = 2;')), 'BACKWARD', false, 'REQUIRED_FIELD_ADDED'],
  ['required field removed (proto2)', p2(m('optional string a = 1; required string b = 2;')), p2(m('optional string a = 1;')), 'BACKWARD', false, 'REQUIRED_FIELD_REMOVED'],
  ['optional field added (proto2)', p2(m('optional string a = 1;')), p2(m('optional string a = 1; optional int32 b = 2;')), 'BACKWARD', true],
  ['singular to repeated string', p3(m('string a = 1;')), p3(m('repeated string a = 1;')), 'BACKWARD', true],
  ['singular to repeated message', p3(m('N a = 1;') + m('string s = 1;', 'N')), p3(m('repeated N a = 1;') + m('string s = 1;', 'N')), 'BACKWARD', true],
  ['singular to repeated int32', p3(m('int32 a = 1;')), p3(m('repeated int32 a = 1;')), 'BACKWARD', false, 'FIELD_NUMERIC_LABEL_CHANGED'],
  ['add field to oneof', p3(m('oneof o { string a = 1; string b = 2; }')), p3(m('oneof o { string a = 1; string b = 2; int32 c = 3; }')), 'BACKWARD', true],
  ['remove field from oneof', p3(m('oneof o { string a = 1; string b = 2; int32 c = 3; }')), p3(m('oneof o { string a = 1; string b = 2; }')), 'BACKWARD', false, 'ONEOF_FIELD_REMOVED'],
  ['move one field into new oneof', p3(m('string a = 1; string b = 2;')), p3(m('string a = 1; oneof o { string b = 2; int32 c = 3; }')), 'BACKWARD', true],
  ['move two fields into a oneof', p3(m('string a = 1; string b = 2;')), p3(m('oneof o { string a = 1; string b = 2; int32 c = 3; }')), 'BACKWARD', false, 'MULTIPLE_FIELDS_MOVED_TO_ONEOF'],
  ['map value type changed', p3(m('map<string, int32> m = 1;')), p3(m('map<string, string> m = 1;')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['map unchanged', p3(m('map<string, int32> m = 1;')), p3(m('map<string, int32> m = 1;')), 'FULL', true],
  ['map key changed', p3(m('map<string, int32> m = 1;')), p3(m('map<int32, int32> m = 1;')), 'BACKWARD', false, 'FIELD_SCALAR_KIND_CHANGED'],
  ['enum constant added', p3(m('E e = 1;') + 'enum E { A = 0; }'), p3(m('E e = 1;') + 'enum E { A = 0; B = 1; }'), 'FULL', true],
  ['enum constant renamed', p3(m('E e = 1;') + 'enum E { A = 0; B = 1; }'), p3(m('E e = 1;') + 'enum E { A = 0; C = 1; }'), 'FULL', true],
  ['NONE accepts anything', p3(m('string a = 1;'), 'x'), p3(m('int32 a = 1;'), 'y'), 'NONE', true],
];

test(`Protobuf compatibility table (${cases.length} cases)`, () => {
  assert.ok(cases.length >= 40);
  for (const [desc, oldS, newS, level, compatible, rule] of cases) {
    const old = parseSchema('PROTOBUF', oldS);
    const next = parseSchema('PROTOBUF', newS);
    const problems = checkCompatibility(level, next, [{ version: 1, parsed: old }]);
    assert.equal(problems.length === 0, compatible, `${desc}: expected ${compatible ? 'compatible' : 'incompatible'}, got ${JSON.stringify(problems)}`);
    if (rule) assert.ok(problems.some((p) => p.includes(rule)), `${desc}: expected rule ${rule} in ${JSON.stringify(problems)}`);
  }
});

test('Protobuf forward check swaps the roles (removed oneof field seen from the other side)', () => {
  const a = parseSchema('PROTOBUF', p3(m('oneof o { string a = 1; }')));
  const b = parseSchema('PROTOBUF', p3(m('oneof o { string a = 1; int32 c = 3; }')));
  assert.deepEqual(checkCompatibility('BACKWARD', b, [{ version: 1, parsed: a }]), []);
  assert.ok(checkCompatibility('FORWARD', b, [{ version: 1, parsed: a }]).some((p) => p.includes('ONEOF_FIELD_REMOVED')));
});

test('invalid Protobuf schemas are rejected', () => {
  for (const bad of ['message {', 'syntax = "proto3"; message M { Unknown u = 1; }', 'garbage!!']) assert.throws(() => parseSchema('PROTOBUF', bad), /Invalid/);
});
