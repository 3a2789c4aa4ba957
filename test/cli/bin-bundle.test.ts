// bin/fjord.js starts the bundled CLI (scripts/bundle-cli.mjs) when it is as new as the last
// compile, else the compiled tree; either way `fjord dev` must answer Metadata on its port.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { freePort, repoRoot } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

async function metadataFrom(port: number, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await RawClient.open(port);
      try {
        c.request(ApiKey.Metadata, 1, 7, { topics: null });
        const res = await c.response(ApiKey.Metadata, 1);
        if (res) return res;
      } finally {
        c.close();
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('fjord dev gave no Metadata response');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bin/fjord.js', { timeout: 90_000 }, () => {
  it('builds the CLI bundle and starts `fjord dev` from it', async () => {
    // Re-bundle from the current compile, so the bundle is fresh and bin/fjord.js takes it.
    const bundled = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'bundle-cli.mjs')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(bundled.status, 0, bundled.stderr);
    assert.ok(existsSync(join(repoRoot, 'dist', 'src', 'bundle', 'main.js')));
    const dir = mkdtempSync(join(tmpdir(), 'fjord-bin-'));
    const port = await freePort();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fjord.js'), 'dev', '--port', String(port), '--data-dir', dir, '--no-registry', '--no-rest', '--no-connect'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    try {
      const res = await metadataFrom(port, 30_000);
      assert.equal(res.correlationId, 7);
      assert.equal(res.body.brokers.length, 1, stderr);
      assert.equal(res.body.brokers[0].port, port);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
