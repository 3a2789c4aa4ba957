// The streaming body splitter: values cut at every byte position, strings with escaped quotes and
// backslashes, concatenated and newline-separated values, the size bound.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonValueSplitter } from '../../src/rest-proxy/json-stream.js';

const values = [
  { value: { type: 'JSON', data: 'plain' } },
  { value: { type: 'JSON', data: 'quote " inside \\" and \\\\ backslash \\' } },
  { key: { type: 'STRING', data: '{not [an object' }, value: { data: ['a', { b: '}' }] } },
  'a bare string with \\"escapes\\"',
  42,
  { value: { data: 'x'.repeat(3000) } },
];

function split(text: string, cut: number[]): string[] {
  const bytes = Buffer.from(text);
  const s = new JsonValueSplitter(1 << 20);
  const out: string[] = [];
  let from = 0;
  for (const at of [...cut, bytes.length]) {
    out.push(...s.push(bytes.subarray(from, at)));
    from = at;
  }
  out.push(...s.end());
  return out;
}

describe('JsonValueSplitter', () => {
  it('finds every value wherever the chunks are cut', () => {
    // Objects and strings may follow each other without a separator; a number needs one.
    const glued = values.filter((v) => typeof v !== 'number');
    const text = values.map((v) => JSON.stringify(v)).join('\n') + '\n' + glued.map((v) => JSON.stringify(v)).join('');
    const want = [...values, ...glued];
    const n = Buffer.byteLength(text);
    for (let at = 0; at <= n; at += 7) {
      const got = split(text, [at]).map((t) => JSON.parse(t));
      assert.deepEqual(got, want, `cut at ${at}`);
    }
    // Many small chunks: every escape state crosses a chunk boundary somewhere.
    const cuts = Array.from({ length: Math.floor(n / 3) }, (_, i) => (i + 1) * 3);
    assert.deepEqual(split(text, cuts).map((t) => JSON.parse(t)), want);
  });

  it('refuses a value beyond the bound and an unfinished value', () => {
    const s = new JsonValueSplitter(100);
    assert.throws(() => s.push(Buffer.from(`{"value":"${'y'.repeat(200)}`)), /larger than 100 bytes/);
    const t = new JsonValueSplitter(100);
    t.push(Buffer.from('{"a": "b\\"}'));
    assert.throws(() => t.end(), /ends inside a JSON value/);
  });
});
