// JSON Schema compatibility table (Confluent's content-model rules).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCompatibility, type CompatibilityLevel } from '../../src/registry/compat/index.js';
import { parseSchema } from '../../src/registry/schemas.js';

type S = unknown;
const obj = (properties: Record<string, S>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });
const closed = (properties: Record<string, S>, extra: Record<string, unknown> = {}) => obj(properties, { additionalProperties: false, ...extra });
const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };

const cases: [string, S, S, CompatibilityLevel, boolean, string?][] = [
  ['identical', obj({ a: str }), obj({ a: str }), 'FULL', true],
  ['closed: add optional property', closed({ a: str }), closed({ a: str, b: int }), 'BACKWARD', true],
  ['closed: add required property', closed({ a: str }), closed({ a: str, b: int }, { required: ['b'] }), 'BACKWARD', false, 'REQUIRED_ATTRIBUTE_ADDED'],
  ['open: add property', obj({ a: str }), obj({ a: str, b: int }), 'BACKWARD', false, 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL'],
  ['open: add unconstrained property', obj({ a: str }), obj({ a: str, b: {} }), 'BACKWARD', true],
  ['open: remove property', obj({ a: str, b: int }), obj({ a: str }), 'BACKWARD', true],
  ['closed: remove property', closed({ a: str, b: int }), closed({ a: str }), 'BACKWARD', false, 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'],
  ['closed: remove property, forward', closed({ a: str, b: int }), closed({ a: str }), 'FORWARD', true],
  ['open: add property, forward', obj({ a: str }), obj({ a: str, b: int }), 'FORWARD', true],
  ['open to closed', obj({ a: str }), closed({ a: str }), 'BACKWARD', false, 'ADDITIONAL_PROPERTIES_REMOVED'],
  ['closed to open', closed({ a: str }), obj({ a: str }), 'BACKWARD', true],
  ['closed to open, forward', closed({ a: str }), obj({ a: str }), 'FORWARD', false, 'ADDITIONAL_PROPERTIES_REMOVED'],
  ['additionalProperties narrowed to schema', obj({ a: str }), obj({ a: str }, { additionalProperties: str }), 'BACKWARD', false, 'ADDITIONAL_PROPERTIES_NARROWED'],
  ['additionalProperties schema widened', obj({}, { additionalProperties: int }), obj({}, { additionalProperties: num }), 'BACKWARD', true],
  ['required removed', obj({ a: str }, { required: ['a'] }), obj({ a: str }), 'BACKWARD', true],
  ['required removed, forward', obj({ a: str }, { required: ['a'] }), obj({ a: str }), 'FORWARD', false, 'REQUIRED_ATTRIBUTE_ADDED'],
  ['required added on existing property', obj({ a: str }), obj({ a: str }, { required: ['a'] }), 'BACKWARD', false, 'REQUIRED_ATTRIBUTE_ADDED'],
  ['integer widened to number', obj({ a: int }), obj({ a: num }), 'BACKWARD', true],
  ['number narrowed to integer', obj({ a: num }), obj({ a: int }), 'BACKWARD', false, 'TYPE_NARROWED'],
  ['string to integer', obj({ a: str }), obj({ a: int }), 'BACKWARD', false, 'TYPE_NARROWED'],
  ['type widened to union', obj({ a: str }), obj({ a: { type: ['string', 'null'] } }), 'BACKWARD', true],
  ['type union narrowed', obj({ a: { type: ['string', 'null'] } }), obj({ a: str }), 'BACKWARD', false, 'TYPE_NARROWED'],
  ['type added where none', obj({ a: {} }), obj({ a: str }), 'BACKWARD', false, 'TYPE_NARROWED'],
  ['enum extended', { enum: ['a', 'b'] }, { enum: ['a', 'b', 'c'] }, 'BACKWARD', true],
  ['enum narrowed', { enum: ['a', 'b', 'c'] }, { enum: ['a', 'b'] }, 'BACKWARD', false, 'ENUM_ARRAY_NARROWED'],
  ['enum extended, forward', { enum: ['a', 'b'] }, { enum: ['a', 'b', 'c'] }, 'FORWARD', false, 'ENUM_ARRAY_NARROWED'],
  ['maximum decreased', { type: 'number', maximum: 10 }, { type: 'number', maximum: 5 }, 'BACKWARD', false, 'MAXIMUM_DECREASED'],
  ['maximum increased', { type: 'number', maximum: 5 }, { type: 'number', maximum: 10 }, 'BACKWARD', true],
  ['maximum added', { type: 'number' }, { type: 'number', maximum: 10 }, 'BACKWARD', false, 'MAXIMUM_ADDED'],
  ['minimum increased', { type: 'number', minimum: 0 }, { type: 'number', minimum: 1 }, 'BACKWARD', false, 'MINIMUM_INCREASED'],
  ['minimum decreased', { type: 'number', minimum: 1 }, { type: 'number', minimum: 0 }, 'BACKWARD', true],
  ['maxLength decreased', { type: 'string', maxLength: 10 }, { type: 'string', maxLength: 3 }, 'BACKWARD', false, 'MAX_LENGTH_DECREASED'],
  ['minLength increased', { type: 'string', minLength: 1 }, { type: 'string', minLength: 3 }, 'BACKWARD', false, 'MIN_LENGTH_INCREASED'],
  ['minLength removed', { type: 'string', minLength: 3 }, { type: 'string' }, 'BACKWARD', true],
  ['pattern added', { type: 'string' }, { type: 'string', pattern: '^a' }, 'BACKWARD', false, 'PATTERN_ADDED'],
  ['pattern changed', { type: 'string', pattern: '^a' }, { type: 'string', pattern: '^b' }, 'BACKWARD', false, 'PATTERN_CHANGED'],
  ['maxItems decreased', { type: 'array', maxItems: 5 }, { type: 'array', maxItems: 2 }, 'BACKWARD', false, 'MAX_ITEMS_DECREASED'],
  ['array items widened', { type: 'array', items: int }, { type: 'array', items: num }, 'BACKWARD', true],
  ['array items narrowed', { type: 'array', items: num }, { type: 'array', items: int }, 'BACKWARD', false, 'TYPE_NARROWED'],
  ['uniqueItems added', { type: 'array' }, { type: 'array', uniqueItems: true }, 'BACKWARD', false, 'UNIQUE_ITEMS_ADDED'],
  ['nested property type changed', obj({ n: obj({ x: int }) }), obj({ n: obj({ x: str }) }), 'BACKWARD', false, 'TYPE_NARROWED'],
  ['oneOf gains branch', { oneOf: [str, int] }, { oneOf: [str, int, { type: 'boolean' }] }, 'BACKWARD', true],
  ['oneOf loses branch', { oneOf: [str, int] }, { oneOf: [str] }, 'BACKWARD', false, 'COMBINED_TYPE_SUBSCHEMAS_CHANGED'],
  ['plain type into oneOf', str, { oneOf: [str, int] }, 'BACKWARD', true],
  ['$ref to identical definition', { definitions: { A: str }, $ref: '#/definitions/A' }, { definitions: { A: str }, $ref: '#/definitions/A' }, 'FULL', true],
  ['$ref definition narrowed', { definitions: { A: num }, properties: { a: { $ref: '#/definitions/A' } } }, { definitions: { A: int }, properties: { a: { $ref: '#/definitions/A' } } }, 'BACKWARD', false, 'TYPE_NARROWED'],
  ['$defs widened', { $defs: { A: int }, properties: { a: { $ref: '#/$defs/A' } } }, { $defs: { A: num }, properties: { a: { $ref: '#/$defs/A' } } }, 'BACKWARD', true],
  ['NONE accepts anything', obj({ a: str }), obj({ a: int }), 'NONE', true],
  ['boolean true schema accepts anything', obj({ a: str }), true, 'BACKWARD', true],
  ['multipleOf changed', { type: 'number', multipleOf: 2 }, { type: 'number', multipleOf: 3 }, 'BACKWARD', false, 'MULTIPLE_OF_CHANGED'],
];

test(`JSON Schema compatibility table (${cases.length} cases)`, () => {
  assert.ok(cases.length >= 40);
  for (const [desc, oldS, newS, level, compatible, rule] of cases) {
    const old = parseSchema('JSON', JSON.stringify(oldS));
    const next = parseSchema('JSON', JSON.stringify(newS));
    const problems = checkCompatibility(level, next, [{ version: 1, parsed: old }]);
    assert.equal(problems.length === 0, compatible, `${desc}: expected ${compatible ? 'compatible' : 'incompatible'}, got ${JSON.stringify(problems)}`);
    if (rule) assert.ok(problems.some((p) => p.includes(rule)), `${desc}: expected rule ${rule} in ${JSON.stringify(problems)}`);
  }
});

test('JSON Schema $ref into a referenced schema', () => {
  const refs = [{ name: 'addr.json', schemaType: 'JSON' as const, schema: JSON.stringify(obj({ zip: str })) }];
  const refs2 = [{ name: 'addr.json', schemaType: 'JSON' as const, schema: JSON.stringify(obj({ zip: int })) }];
  const old = parseSchema('JSON', JSON.stringify(obj({ a: { $ref: 'addr.json' } })), refs);
  const next = parseSchema('JSON', JSON.stringify(obj({ a: { $ref: 'addr.json' } })), refs2);
  const problems = checkCompatibility('BACKWARD', next, [{ version: 1, parsed: old }]);
  assert.ok(problems.some((p) => p.includes('TYPE_NARROWED') && p.includes('zip')), JSON.stringify(problems));
});

test('invalid JSON schemas are rejected', () => {
  for (const bad of ['{', '[1]', '"x"', '{"type":"nonsense"}', '{"minimum":"x"}']) assert.throws(() => parseSchema('JSON', bad), /Invalid/);
});
