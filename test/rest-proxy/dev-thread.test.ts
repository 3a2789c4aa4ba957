// `fjord dev` runs the Schema Registry and the REST Proxy on a worker thread of their own (from
// the CLI bundle, as `npx fjord dev` does): both answer, a record produced over REST lands in the
// broker, and SIGTERM stops the whole process (thread included) promptly.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, repoRoot } from '../helpers/broker.js';

describe('fjord dev HTTP services thread', { timeout: 90_000 }, () => {
  it('serves registry and REST from the bundled CLI and stops on SIGTERM', async () => {
    const bundled = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'bundle-cli.mjs')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(bundled.status, 0, bundled.stderr);
    const dir = mkdtempSync(join(tmpdir(), 'fjord-dev-http-'));
    const [port, regPort, restPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fjord.js'), 'dev', '--port', String(port), '--data-dir', dir, '--registry-port', String(regPort), '--rest-port', String(restPort), '--no-connect'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no REST proxy line: ${stdout} ${stderr}`)), 60_000);
        const check = () => {
          if (/REST proxy\s+http/.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      });
      assert.match(stdout, new RegExp(`schema registry\\s+http://127\\.0\\.0\\.1:${regPort}`));
      const rest = `http://127.0.0.1:${restPort}`;
      const subjects = await fetch(`http://127.0.0.1:${regPort}/subjects`);
      assert.equal(subjects.status, 200);
      assert.deepEqual(await subjects.json(), []);
      const cluster = ((await (await fetch(`${rest}/v3/clusters`)).json()) as any).data[0].cluster_id;
      const created = await fetch(`${rest}/v3/clusters/${cluster}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic_name: 'jobs', partitions_count: 2 }) });
      assert.equal(created.status, 201);
      const body = Array.from({ length: 3 }, (_, i) => JSON.stringify({ value: { type: 'JSON', data: { i } } })).join('\n');
      const produced = await fetch(`${rest}/v3/clusters/${cluster}/topics/jobs/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const lines = (await produced.text()).trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.error_code), [200, 200, 200]);
      // Keyless records of one request share a partition (sticky), at consecutive offsets.
      assert.equal(new Set(lines.map((l) => l.partition_id)).size, 1);
      assert.deepEqual(lines.map((l) => l.offset), [0, 1, 2]);
      const partition = await fetch(`${rest}/v3/clusters/${cluster}/topics/jobs/partitions/${lines[0].partition_id}`);
      assert.equal(partition.status, 200);
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
      if (code === 'timeout') child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      assert.notEqual(code, 'timeout', `fjord dev did not stop on SIGTERM: ${stderr}`);
    }
  });
});
