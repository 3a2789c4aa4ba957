// The CLI's error contract: one-line messages and exit codes (0 ok, 1 failed, 2 usage).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fjord, ok, suiteBroker } from './run.js';

describe('fjord errors', { timeout: 90_000 }, () => {
  const suite = suiteBroker();
  const b = suite.b;

  it('fails with exit 1 and one clear line for an unknown topic', async () => {
    const results = await Promise.all([
      fjord(['topic', 'describe', 'nope', ...b]),
      fjord(['topic', 'delete', 'nope', ...b]),
      fjord(['produce', 'nope', ...b], { input: 'x\n' }),
      fjord(['consume', 'nope', '-e', ...b]),
      fjord(['config', 'get', '--topic', 'nope', ...b]),
    ]);
    for (const r of results) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /unknown topic/i);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });

  it('fails fast with exit 1 when the broker is unreachable', async () => {
    const r = await fjord(['topic', 'list', '-b', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'fjord: cannot reach broker at 127.0.0.1:1\n');
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
    const c = await fjord(['consume', 't', '-b', '127.0.0.1:1']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /cannot reach broker at 127\.0\.0\.1:1/);
  });

  it('exits 2 on usage errors', async () => {
    const cases = [
      ['topic', 'list', '--bogus'],
      ['topic', 'create'],
      ['topic', 'create', 'x', '-p', 'many'],
      ['topic', 'frobnicate'],
      ['frobnicate'],
      ['consume', 't', '--format', '%q'],
      ['produce', 't', '--compression', 'brotli'],
      ['config', 'get', 'x'],
      ['topic', 'list', '-b', 'no-port'],
    ];
    const results = await Promise.all(cases.map((c) => fjord([...c, ...(c.includes('-b') ? [] : b)])));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]!.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^fjord: /);
    });
    assert.match(results[0]!.stderr, /unknown option --bogus/);
  });

  it('reports a bad config value with the broker message and exit 1', async () => {
    const r = await fjord(['topic', 'create', 'bad', '--config', 'retention.ms=soon', ...b]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^fjord: cannot create topic "bad": .*retention\.ms.*\(INVALID_CONFIG\)\n$/);
    await ok(['topic', 'create', 'good', ...b]);
    const s = await fjord(['config', 'set', '--topic', 'good', 'retention.ms=soon', ...b]);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /retention\.ms/);
    assert.match(s.stderr, /INVALID_CONFIG/);
    const dup = await fjord(['topic', 'create', 'good', ...b]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /TOPIC_ALREADY_EXISTS/);
  });

});
