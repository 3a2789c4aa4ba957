// fjord produce / consume / records delete against a real suite.broker.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fetchAll } from '../helpers/raw-client.js';
import { fjord, ok, suiteBroker } from './run.js';

describe('fjord produce and consume', { timeout: 90_000 }, () => {
  const suite = suiteBroker();
  const b = suite.b;

  it('produces keyed lines with headers from stdin and consumes them with --format and --json', async () => {
    await ok(['topic', 'create', 'events', '-p', '1', ...b]);
    const summary = await ok(['produce', 'events', '-K', ':', '-H', 'src=cli', '-H', 'v=1', ...b], {
      input: 'user1:login\nuser2:logout\n\nno-key-here\n',
    });
    assert.match(summary, /^produced 3 records \(\d+ B\) to "events" in /);

    const formatted = await ok(['consume', 'events', '--from-beginning', '-n', '3', '--format', '%T|%p|%o|%k|%v|%h\\n', ...b]);
    assert.equal(formatted, 'events|0|0|user1|login|src=cli,v=1\nevents|0|1|user2|logout|src=cli,v=1\nevents|0|2||no-key-here|src=cli,v=1\n');

    const json = (await ok(['consume', 'events', '--from-beginning', '-e', '--json', ...b])).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(json.length, 3);
    assert.deepEqual(Object.keys(json[0]), ['topic', 'partition', 'offset', 'timestamp', 'key', 'value', 'headers']);
    assert.deepEqual({ ...json[1], timestamp: 0 }, {
      topic: 'events',
      partition: 0,
      offset: 1,
      timestamp: 0,
      key: 'user2',
      value: 'logout',
      headers: { src: 'cli', v: '1' },
    });
    assert.ok(Math.abs(json[0].timestamp - Date.now()) < 120_000);
    assert.equal(json[2].key, null);

    // Default format is the value; --offset and negative offsets.
    assert.equal(await ok(['consume', 'events', '--offset', '1', '-e', ...b]), 'logout\nno-key-here\n');
    assert.equal(await ok(['consume', 'events', '-o', '-1', '-e', ...b]), 'no-key-here\n');
    // --from-time in the future: nothing; exits at end.
    assert.equal(await ok(['consume', 'events', '--from-time', new Date(Date.now() + 3_600_000).toISOString(), '-e', ...b]), '');
  });

  it('round-trips --json-input and honours --partition, --file and every compression flag', async () => {
    await ok(['topic', 'create', 'zipped', '-p', '2', ...b]);
    for (const c of ['none', 'gzip', 'snappy', 'lz4']) {
      await ok(['produce', 'zipped', '--compression', c, '--partition', '1', '-q', ...b], { input: `${c}-a\n${c}-b\n` });
    }
    const file = join(suite.broker.dataDir, 'input.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify({ key: 'k', value: 'plain', headers: { h: 'x' }, partition: 0 }),
        JSON.stringify({ value: { nested: true }, partition: 0 }),
        JSON.stringify({ key: null, value: null, partition: 0 }),
      ].join('\n') + '\n',
    );
    const res = JSON.parse(await ok(['produce', 'zipped', '--json-input', '--file', file, '--json', ...b]));
    assert.deepEqual(Object.keys(res), ['topic', 'records', 'bytes', 'ms', 'recordsPerSec']);
    assert.equal(res.records, 3);

    assert.equal(
      await ok(['consume', 'zipped', '-P', '1', '--from-beginning', '-e', ...b]),
      'none-a\nnone-b\ngzip-a\ngzip-b\nsnappy-a\nsnappy-b\nlz4-a\nlz4-b\n',
    );
    const p0 = (await ok(['consume', 'zipped', '-P', '0', '--from-beginning', '-e', '--json', ...b])).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(
      p0.map((r) => [r.key, r.value, r.headers]),
      [
        ['k', 'plain', { h: 'x' }],
        [null, '{"nested":true}', {}],
        [null, null, {}],
      ],
    );

    // zstd both ways, on every supported Node (the CLI brings its own codec where node:zlib has none).
    await ok(['topic', 'create', 'zstd-t', '-p', '1', ...b]);
    await ok(['produce', 'zstd-t', '--compression', 'zstd', '-q', ...b], { input: 'z1\nz2\n' });
    assert.equal(await ok(['consume', 'zstd-t', '--from-beginning', '-e', ...b]), 'z1\nz2\n');
    const stored = await fetchAll(suite.broker.port, 'zstd-t', 0);
    assert.deepEqual(stored.map((r) => r.value!.toString()), ['z1', 'z2']);
    const log = suite.broker.broker.replicas.get('zstd-t', 0)!.log;
    const { chunks } = await log.read(0, 1 << 20, log.highWatermark, true);
    assert.equal(chunks[0]!.readInt16BE(21) & 0x07, 4, 'the stored batch is zstd-compressed');
  });

  it('deletes records below an offset and moves the low watermark', async () => {
    await ok(['topic', 'create', 'trim', '-p', '1', ...b]);
    await ok(['produce', 'trim', '-q', ...b], { input: 'r0\nr1\nr2\nr3\nr4\n' });
    const del = JSON.parse(await ok(['records', 'delete', 'trim', '--partition', '0', '--before', '3', '--json', ...b]));
    assert.deepEqual(del, { topic: 'trim', partition: 0, lowWatermark: 3 });
    const d = JSON.parse(await ok(['topic', 'describe', 'trim', '--json', ...b]));
    assert.equal(d.partitions[0].lowOffset, 3);
    assert.equal(d.partitions[0].highOffset, 5);
    assert.equal(await ok(['consume', 'trim', '--from-beginning', '-e', ...b]), 'r3\nr4\n');
  });

  it('stops on -n, on --timeout, and returns 1 when --timeout beats -n', async () => {
    await ok(['topic', 'create', 'quiet', '-p', '1', ...b]);
    await ok(['produce', 'quiet', '-q', ...b], { input: 'only\n' });
    const r = await fjord(['consume', 'quiet', '--from-beginning', '-n', '2', '--timeout', '1500', ...b]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'only\n');
    assert.match(r.stderr, /timed out after 1500 ms waiting for records \(got 1 of 2\)/);
    const t = await fjord(['consume', 'quiet', '--timeout', '1000', ...b]);
    assert.equal(t.code, 0);
    assert.equal(t.stdout, '');
  });
});
