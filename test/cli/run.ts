// Runs the real `fjord` CLI as a child process and collects its output.
import { spawn } from 'node:child_process';
import { fjordCommand, repoRoot } from '../helpers/broker.js';
import { after, before } from 'node:test';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function fjord(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const { cmd, args: base } = fjordCommand();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...base, ...args], {
      cwd: repoRoot,
      env: { ...process.env, FJORD_BOOTSTRAP: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fjord ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Asserts exit 0 and returns stdout. */
export async function ok(args: string[], opts: Parameters<typeof fjord>[1] = {}): Promise<string> {
  const r = await fjord(args, opts);
  if (r.code !== 0) throw new Error(`fjord ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/**
 * A broker for one describe() block of CLI tests: started before its tests, disposed after.
 * `b` is filled with the `-b HOST:PORT` arguments once the broker runs.
 */
export function suiteBroker(): { broker: TestBroker; b: string[] } {
  const suite = { broker: undefined as unknown as TestBroker, b: [] as string[] };
  before(async () => {
    suite.broker = await startTestBroker();
    suite.b.push('-b', suite.broker.bootstrap);
  });
  after(async () => {
    await suite.broker?.dispose();
  });
  return suite;
}

