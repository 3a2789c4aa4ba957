// `fjord dev` stops cleanly when the process that launched it goes away (npx's wrapper does not
// pass SIGTERM on, so `npx fjord dev & kill $!` must not leave a broker on the port).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fjordCommand, repoRoot } from '../helpers/broker.js';

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

describe('fjord dev', { timeout: 60_000 }, () => {
  it('shuts down cleanly when its parent process is killed with SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-dev-'));
    try {
      const log = join(dir, 'dev.log');
      const { cmd, args } = fjordCommand();
      // The launcher plays npm's exec wrapper: starts `fjord dev`, ignores its output, and dies on
      // SIGTERM without forwarding it.
      const launcher = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('node:fs');
           const out = fs.openSync(${JSON.stringify(log)}, 'a');
           const c = require('node:child_process').spawn(process.argv[1], JSON.parse(process.argv[2]), { stdio: ['ignore', out, out], cwd: ${JSON.stringify(repoRoot)} });
           console.log(c.pid);
           setInterval(() => {}, 1000);`,
          cmd,
          JSON.stringify([...args, 'dev', '--port', '0', '--data-dir', join(dir, 'data')]),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let launcherOut = '';
      launcher.stdout!.on('data', (d) => (launcherOut += d));
      const launcherExit = new Promise((r) => launcher.once('exit', r));
      const port = await waitFor(
        'fjord dev to listen',
        () => {
          const m = /Kafka protocol on 127\.0\.0\.1:(\d+)/.exec(readFileSafe(log));
          return m ? Number(m[1]) : undefined;
        },
        30_000,
      );
      const devPid = Number(launcherOut.trim());
      assert.ok(devPid > 0, launcherOut);
      assert.equal(await accepts(port), true);

      launcher.kill('SIGTERM');
      await launcherExit;
      await waitFor('fjord dev to stop', () => (readFileSafe(log).includes('flushing and shutting down') ? true : undefined), 15_000);
      assert.match(readFileSafe(log), /fjord: parent process \d+ exited, flushing and shutting down/);
      await waitFor('the port to close', async () => ((await accepts(port)) ? undefined : true), 15_000);
      await waitFor('the dev process to exit', () => (alive(devPid) ? undefined : true), 15_000);
      assert.doesNotMatch(readFileSafe(log), /error during shutdown/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a process still runs (a zombie left for a non-reaping reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
