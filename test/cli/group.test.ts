// fjord consume --group and fjord group list / describe / reset-offsets / delete.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fjord, ok, suiteBroker } from './run.js';

describe('fjord group', { timeout: 90_000 }, () => {
  const suite = suiteBroker();
  const b = suite.b;

  it('consumes as a group, commits, shows lag, resets offsets and deletes the group', async () => {
    await ok(['topic', 'create', 'jobs', '-p', '2', ...b]);
    await ok(['produce', 'jobs', '-q', '--partition', '0', ...b], { input: 'a\nb\nc\n' });
    await ok(['produce', 'jobs', '-q', '--partition', '1', ...b], { input: 'd\ne\n' });

    const first = await ok(['consume', 'jobs', '--group', 'workers', '--from-beginning', '-n', '5', '--timeout', '15000', ...b], { timeoutMs: 30_000 });
    assert.deepEqual(first.trim().split('\n').sort(), ['a', 'b', 'c', 'd', 'e']);

    const list = JSON.parse(await ok(['group', 'list', '--json', ...b]));
    const g = list.find((x: { group: string }) => x.group === 'workers');
    assert.ok(g, JSON.stringify(list));
    assert.deepEqual(Object.keys(g), ['group', 'state', 'type', 'protocolType']);

    await ok(['produce', 'jobs', '-q', '--partition', '0', ...b], { input: 'f\n' });
    const d = JSON.parse(await ok(['group', 'describe', 'workers', '--json', ...b]));
    assert.equal(d.group, 'workers');
    assert.deepEqual(
      d.partitions.map((p: { partition: number; committedOffset: number; endOffset: number; lag: number }) => [p.partition, p.committedOffset, p.endOffset, p.lag]),
      [
        [0, 3, 4, 1],
        [1, 2, 2, 0],
      ],
    );
    assert.equal(d.totalLag, 1);
    const human = await ok(['group', 'describe', 'workers', ...b]);
    assert.match(human, /^jobs\s+0\s+3\s+4\s+1/m);

    // Dry run changes nothing; --execute applies.
    const dry = await fjord(['group', 'reset-offsets', 'workers', '--topic', 'jobs', '--to-earliest', ...b]);
    assert.equal(dry.code, 0);
    assert.match(dry.stderr, /dry run/);
    assert.match(dry.stdout, /^jobs\s+0\s+3\s+0$/m);
    const exec = JSON.parse(await ok(['group', 'reset-offsets', 'workers', '--topic', 'jobs', '--to-offset', '1', '--execute', '--json', ...b]));
    assert.deepEqual(exec, {
      group: 'workers',
      executed: true,
      partitions: [
        { topic: 'jobs', partition: 0, currentOffset: 3, newOffset: 1 },
        { topic: 'jobs', partition: 1, currentOffset: 2, newOffset: 1 },
      ],
    });
    const again = await ok(['consume', 'jobs', '--group', 'workers', '-n', '4', '--timeout', '15000', ...b], { timeoutMs: 30_000 });
    assert.deepEqual(again.trim().split('\n').sort(), ['b', 'c', 'e', 'f']);

    assert.match(await ok(['group', 'delete', 'workers', ...b]), /deleted group "workers"/);
    const gone = await fjord(['group', 'describe', 'workers', ...b]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /group "workers" does not exist/);
  });
});

describe('fjord consume -e in group mode', { timeout: 90_000 }, () => {
  const suite = suiteBroker();
  const b = suite.b;

  it('-e in group mode reads every assigned partition to its end and commits all of them', async () => {
    await ok(['topic', 'create', 'orders', '-p', '3', ...b]);
    const expected: string[] = [];
    for (const p of [0, 1, 2]) {
      const values = Array.from({ length: 3 + p }, (_, i) => `p${p}-${i}`);
      expected.push(...values);
      await ok(['produce', 'orders', '-q', '--partition', String(p), ...b], { input: values.join('\n') + '\n' });
    }
    const out = await ok(['consume', 'orders', '-g', 'g1', '--from-beginning', '-e', ...b], { timeoutMs: 30_000 });
    assert.deepEqual(out.trim().split('\n').sort(), expected.sort());

    const d = JSON.parse(await ok(['group', 'describe', 'g1', '--json', ...b]));
    assert.deepEqual(
      d.partitions.map((p: { partition: number; committedOffset: number; lag: number }) => [p.partition, p.committedOffset, p.lag]),
      [
        [0, 3, 0],
        [1, 4, 0],
        [2, 5, 0],
      ],
    );
    // Nothing new: a second run ends at once with no output.
    const again = await ok(['consume', 'orders', '-g', 'g1', '-e', ...b], { timeoutMs: 30_000 });
    assert.equal(again, '');
  });
});
