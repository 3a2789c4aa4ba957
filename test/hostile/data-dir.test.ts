// One process per data dir (a `.lock` like Kafka's, with stale-lock takeover), and
// meta.properties binding the dir to one cluster id and node id.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startBroker } from '../../src/index.js';
import { fjordCommand, freePort, repoRoot, spawnBroker, tempDir, type ChildBroker } from '../helpers/broker.js';
import { rm } from 'node:fs/promises';

/** Runs `fjord broker` on dir and resolves with its exit code and stderr (it must exit by itself). */
function runBrokerExpectingExit(dir: string): Promise<{ code: number | null; stderr: string }> {
  const { cmd, args } = fjordCommand();
  const child = spawn(cmd, [...args, 'broker', '--listen', '127.0.0.1:0', '--data-dir', dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('data dir ownership', () => {
  const dirs: string[] = [];
  const children: ChildBroker[] = [];
  after(async () => {
    for (const c of children) c.child.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a second broker on the same data dir fails with a message naming the first', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const first = await spawnBroker(dir, await freePort());
    children.push(first);
    const second = await runBrokerExpectingExit(dir);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`in use by process ${first.child.pid}`));
    assert.doesNotMatch(second.stderr, /at DataDirLock/, 'no stack trace');
    // In-process too: the same dir cannot be opened twice in one process.
    await assert.rejects(startBroker({ dataDir: dir, port: 0 }), /in use by process/);
  });

  it('a lock left by a killed broker is stale and taken over', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const first = await spawnBroker(dir, await freePort());
    first.child.kill('SIGKILL');
    await first.exited;
    assert.match(await readFile(join(dir, '.lock'), 'utf8'), new RegExp(`pid=${first.child.pid}`), 'lock left behind');
    const b = await startBroker({ dataDir: dir, port: 0 });
    assert.match(await readFile(join(dir, '.lock'), 'utf8'), new RegExp(`pid=${process.pid}`));
    await b.close();
    await assert.rejects(readFile(join(dir, '.lock')), /ENOENT/, 'released on close');
  });

  it('refuses a data dir whose meta.properties names another cluster or node', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const b = await startBroker({ dataDir: dir, port: 0 });
    const clusterId = b.broker.clusterId;
    await b.close();
    const meta = await readFile(join(dir, 'meta.properties'), 'utf8');
    assert.match(meta, new RegExp(`cluster.id=${clusterId}`));
    assert.match(meta, /node.id=0/);
    await assert.rejects(startBroker({ dataDir: dir, port: 0, config: { 'node.id': '7' } }), /Stored node id 0 doesn't match the configured node id 7/);
    await writeFile(join(dir, 'meta.properties'), meta.replace(clusterId, 'AAAAAAAAAAAAAAAAAAAAAA'));
    await assert.rejects(startBroker({ dataDir: dir, port: 0 }), /Invalid cluster.id/);
    // The failed starts released the lock: the dir opens again once meta.properties is right.
    await writeFile(join(dir, 'meta.properties'), meta);
    const again = await startBroker({ dataDir: dir, port: 0 });
    await again.close();
  });
});
