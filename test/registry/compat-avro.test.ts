// Avro compatibility table: each case registers `old` then checks `next` at a level; written
// from the Avro specification's schema-resolution rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCompatibility, type CompatibilityLevel } from '../../src/registry/compat/index.js';
import { parseSchema } from '../../src/registry/schemas.js';

type S = unknown;
const rec = (fields: S[], extra: Record<string, unknown> = {}) => ({ type: 'record', name: 'R', namespace: 'ns', fields, ...extra });
const f = (name: string, type: S, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });
const en = (symbols: string[], extra: Record<string, unknown> = {}) => ({ type: 'enum', name: 'E', symbols, ...extra });

// [description, old, new, level, compatible, expected rule in the message]
const cases: [string, S, S, CompatibilityLevel, boolean, string?][] = [
  ['identical record', rec([f('a', 'int')]), rec([f('a', 'int')]), 'BACKWARD', true],
  ['add field with default', rec([f('a', 'int')]), rec([f('a', 'int'), f('b', 'string', { default: 'x' })]), 'BACKWARD', true],
  ['add field without default', rec([f('a', 'int')]), rec([f('a', 'int'), f('b', 'string')]), 'BACKWARD', false, 'READER_FIELD_MISSING_DEFAULT_VALUE'],
  ['add field without default, forward', rec([f('a', 'int')]), rec([f('a', 'int'), f('b', 'string')]), 'FORWARD', true],
  ['remove field, backward', rec([f('a', 'int'), f('b', 'string')]), rec([f('a', 'int')]), 'BACKWARD', true],
  ['remove field without default, forward', rec([f('a', 'int'), f('b', 'string')]), rec([f('a', 'int')]), 'FORWARD', false, 'READER_FIELD_MISSING_DEFAULT_VALUE'],
  ['remove field with default, forward', rec([f('a', 'int'), f('b', 'string', { default: '' })]), rec([f('a', 'int')]), 'FORWARD', true],
  ['add optional union field with null default, full', rec([f('a', 'int')]), rec([f('a', 'int'), f('b', ['null', 'string'], { default: null })]), 'FULL', true],
  ['add field without default, full', rec([f('a', 'int')]), rec([f('a', 'int'), f('b', 'long')]), 'FULL', false, 'READER_FIELD_MISSING_DEFAULT_VALUE'],
  ['promote int to long', rec([f('a', 'int')]), rec([f('a', 'long')]), 'BACKWARD', true],
  ['promote int to float', rec([f('a', 'int')]), rec([f('a', 'float')]), 'BACKWARD', true],
  ['promote int to double', rec([f('a', 'int')]), rec([f('a', 'double')]), 'BACKWARD', true],
  ['promote long to double', rec([f('a', 'long')]), rec([f('a', 'double')]), 'BACKWARD', true],
  ['promote float to double', rec([f('a', 'float')]), rec([f('a', 'double')]), 'BACKWARD', true],
  ['narrow long to int', rec([f('a', 'long')]), rec([f('a', 'int')]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['narrow double to float', rec([f('a', 'double')]), rec([f('a', 'float')]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['promotion is one-way: int to long forward', rec([f('a', 'int')]), rec([f('a', 'long')]), 'FORWARD', false, 'TYPE_MISMATCH'],
  ['string to bytes', rec([f('a', 'string')]), rec([f('a', 'bytes')]), 'BACKWARD', true],
  ['bytes to string', rec([f('a', 'bytes')]), rec([f('a', 'string')]), 'BACKWARD', true],
  ['string to int', rec([f('a', 'string')]), rec([f('a', 'int')]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['boolean to string', rec([f('a', 'boolean')]), rec([f('a', 'string')]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['rename field with alias', rec([f('a', 'int')]), rec([f('b', 'int', { aliases: ['a'] })]), 'BACKWARD', true],
  ['rename field without alias', rec([f('a', 'int')]), rec([f('b', 'int')]), 'BACKWARD', false, 'READER_FIELD_MISSING_DEFAULT_VALUE'],
  ['rename record with alias', rec([f('a', 'int')]), { ...rec([f('a', 'int')]), name: 'S', aliases: ['ns.R'] }, 'BACKWARD', true],
  ['rename record without alias', rec([f('a', 'int')]), { ...rec([f('a', 'int')]), name: 'S' }, 'BACKWARD', false, 'NAME_MISMATCH'],
  ['enum add symbol, backward', rec([f('e', en(['A', 'B']))]), rec([f('e', en(['A', 'B', 'C']))]), 'BACKWARD', true],
  ['enum remove symbol, backward', rec([f('e', en(['A', 'B', 'C']))]), rec([f('e', en(['A', 'B']))]), 'BACKWARD', false, 'MISSING_ENUM_SYMBOLS'],
  ['enum remove symbol with reader default', rec([f('e', en(['A', 'B', 'C']))]), rec([f('e', en(['A', 'B'], { default: 'A' }))]), 'BACKWARD', true],
  ['enum add symbol, forward', rec([f('e', en(['A', 'B']))]), rec([f('e', en(['A', 'B', 'C']))]), 'FORWARD', false, 'MISSING_ENUM_SYMBOLS'],
  ['enum add symbol with old default, forward', rec([f('e', en(['A', 'B'], { default: 'A' }))]), rec([f('e', en(['A', 'B', 'C'], { default: 'A' }))]), 'FORWARD', true],
  ['enum renamed', rec([f('e', en(['A']))]), rec([f('e', { ...en(['A']), name: 'F' })]), 'BACKWARD', false, 'NAME_MISMATCH'],
  ['fixed same size', rec([f('x', { type: 'fixed', name: 'X', size: 4 })]), rec([f('x', { type: 'fixed', name: 'X', size: 4 })]), 'BACKWARD', true],
  ['fixed size change', rec([f('x', { type: 'fixed', name: 'X', size: 4 })]), rec([f('x', { type: 'fixed', name: 'X', size: 8 })]), 'BACKWARD', false, 'FIXED_SIZE_MISMATCH'],
  ['union gains branch, backward', rec([f('u', ['null', 'string'])]), rec([f('u', ['null', 'string', 'int'])]), 'BACKWARD', true],
  ['union loses branch, backward', rec([f('u', ['null', 'string', 'int'])]), rec([f('u', ['null', 'string'])]), 'BACKWARD', false, 'MISSING_UNION_BRANCH'],
  ['union gains branch, forward', rec([f('u', ['null', 'string'])]), rec([f('u', ['null', 'string', 'int'])]), 'FORWARD', false, 'MISSING_UNION_BRANCH'],
  ['plain type into union', rec([f('u', 'string')]), rec([f('u', ['null', 'string'])]), 'BACKWARD', true],
  ['union into plain type', rec([f('u', ['null', 'string'])]), rec([f('u', 'string')]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['union with promotion', rec([f('u', ['null', 'int'])]), rec([f('u', ['null', 'long'])]), 'BACKWARD', true],
  ['array items promoted', rec([f('a', { type: 'array', items: 'int' })]), rec([f('a', { type: 'array', items: 'long' })]), 'BACKWARD', true],
  ['array items narrowed', rec([f('a', { type: 'array', items: 'long' })]), rec([f('a', { type: 'array', items: 'int' })]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['map values changed', rec([f('m', { type: 'map', values: 'string' })]), rec([f('m', { type: 'map', values: 'int' })]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['array to map', rec([f('a', { type: 'array', items: 'int' })]), rec([f('a', { type: 'map', values: 'int' })]), 'BACKWARD', false, 'TYPE_MISMATCH'],
  ['nested record field added with default', rec([f('n', rec([f('x', 'int')], { name: 'N' }))]), rec([f('n', rec([f('x', 'int'), f('y', 'int', { default: 0 })], { name: 'N' }))]), 'FULL', true],
  ['nested record field added without default', rec([f('n', rec([f('x', 'int')], { name: 'N' }))]), rec([f('n', rec([f('x', 'int'), f('y', 'int')], { name: 'N' }))]), 'BACKWARD', false, 'READER_FIELD_MISSING_DEFAULT_VALUE'],
  ['primitive schemas identical', 'string', 'string', 'FULL', true],
  ['primitive int to long, full fails forward', 'int', 'long', 'FULL', false, 'TYPE_MISMATCH'],
  ['NONE accepts anything', rec([f('a', 'int')]), rec([f('z', 'string')]), 'NONE', true],
  ['recursive record unchanged', rec([f('v', 'int'), f('next', ['null', 'ns.R'], { default: null })]), rec([f('v', 'int'), f('next', ['null', 'ns.R'], { default: null })]), 'FULL', true],
  ['logical type date on int stays int', rec([f('d', { type: 'int', logicalType: 'date' })]), rec([f('d', 'int')]), 'FULL', true],
];

test(`Avro compatibility table (${cases.length} cases)`, () => {
  assert.ok(cases.length >= 40);
  for (const [desc, oldS, newS, level, compatible, rule] of cases) {
    const old = parseSchema('AVRO', JSON.stringify(oldS));
    const next = parseSchema('AVRO', JSON.stringify(newS));
    const problems = checkCompatibility(level, next, [{ version: 1, parsed: old }]);
    assert.equal(problems.length === 0, compatible, `${desc}: expected ${compatible ? 'compatible' : 'incompatible'}, got ${JSON.stringify(problems)}`);
    if (rule) assert.ok(problems.some((p) => p.includes(rule)), `${desc}: expected rule ${rule} in ${JSON.stringify(problems)}`);
  }
});

test('Avro transitive levels check every earlier version', () => {
  const v1 = parseSchema('AVRO', JSON.stringify(rec([f('a', 'int')])));
  const v2 = parseSchema('AVRO', JSON.stringify(rec([f('a', 'int'), f('b', 'int', { default: 0 })])));
  // v3 drops the default of b: readable from v2 (has b), not from v1 (lacks b).
  const v3 = parseSchema('AVRO', JSON.stringify(rec([f('a', 'int'), f('b', 'int')])));
  const prev = [
    { version: 1, parsed: v1 },
    { version: 2, parsed: v2 },
  ];
  assert.deepEqual(checkCompatibility('BACKWARD', v3, prev), []);
  const transitive = checkCompatibility('BACKWARD_TRANSITIVE', v3, prev);
  assert.equal(transitive.length, 1);
  assert.match(transitive[0]!, /oldSchemaVersion: 1/);
  assert.match(transitive[0]!, /'b'/);
});

test('invalid Avro schemas are rejected', () => {
  for (const bad of ['{', '{"type":"record","name":"R"}', '{"type":"nope"}', '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}', '']) {
    assert.throws(() => parseSchema('AVRO', bad), /Invalid/);
  }
});
