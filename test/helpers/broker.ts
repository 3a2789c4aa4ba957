// Test helpers: a real broker in this process or in a child process, on a fresh data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type RunningBroker } from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repo root, whether running from test/ (tsx) or dist/test/ (compiled). */
export const repoRoot = resolve(here, here.includes(`${join('dist', 'test')}`) ? '../../..' : '../..');

export async function tempDir(prefix = 'fjord-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface TestBroker extends RunningBroker {
  dataDir: string;
  /** Closes the broker and removes its data dir. */
  dispose(): Promise<void>;
}

export async function startTestBroker(config: Record<string, string> = {}, dataDir?: string): Promise<TestBroker> {
  const dir = dataDir ?? (await tempDir());
  const running = await startBroker({ dataDir: dir, port: 0, config });
  return {
    ...running,
    dataDir: dir,
    close: () => running.close(),
    async dispose() {
      await running.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/** Command line that runs the fjord CLI: compiled JS when built, else the TypeScript source via tsx. */
export function fjordCommand(): { cmd: string; args: string[] } {
  const compiled = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  if (here.includes(join('dist', 'test')) && existsSync(compiled)) return { cmd: process.execPath, args: [compiled] };
  return { cmd: process.execPath, args: ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')] };
}

export interface ChildBroker {
  child: ChildProcess;
  port: number;
  bootstrap: string;
  output: () => string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `fjord broker` as a child process and waits until its port accepts connections. */
export async function spawnBroker(dataDir: string, port: number, config: Record<string, string> = {}): Promise<ChildBroker> {
  const { cmd, args } = fjordCommand();
  const configArgs = Object.entries(config).flatMap(([k, v]) => ['--config', `${k}=${v}`]);
  const child = spawn(cmd, [...args, 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...configArgs], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const deadline = Date.now() + 20_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`broker exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`broker did not listen within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, bootstrap: `127.0.0.1:${port}`, output: () => out, exited };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/**
 * Polls `probe` until it returns something other than undefined; a probe that throws is retried
 * (its last error is named when the timeout passes).
 */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `check` until it returns truthy or the timeout passes. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
