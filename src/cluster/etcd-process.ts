// Starts a single-member etcd (the `etcd` binary on PATH, Debian package etcd-server) on free
// loopback ports with its own data dir: for tests, `startCluster` and `fjord dev --brokers`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdProcessOptions {
  /** Data directory; default: a new temp dir, removed by stop(). */
  dataDir?: string;
  /** Client port; default: a free one. */
  clientPort?: number;
  /** How long to wait for etcd to answer; default 15 s. */
  startTimeoutMs?: number;
  /** The etcd binary; default `etcd` from PATH. */
  binary?: string;
}

export interface EtcdProcess {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** SIGTERM, wait for exit; removes a temp data dir. */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit (data dir kept, for restart()). */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir. */
  restart(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(endpoint: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) during start-up: ${output().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) {
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${endpoint} not healthy after ${timeoutMs} ms: ${output().slice(-2000)}`);
}

export async function startEtcd(options: EtcdProcessOptions = {}): Promise<EtcdProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'fjord-etcd-')));
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const binary = options.binary ?? 'etcd';
  const timeout = options.startTimeoutMs ?? 15000;
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async () => {
    output = '';
    const c = spawn(
      binary,
      [
        '--name', 'fjord-etcd',
        '--data-dir', dataDir,
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `fjord-etcd=${peer}`,
        '--initial-cluster-state', 'new',
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-8000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      c.once('spawn', () => resolve());
      c.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT'
            ? new Error(`etcd not found on PATH ("${binary}"): install the Debian package etcd-server (apt-get install etcd-server)`)
            : err,
        ),
      );
    });
    child = c;
    try {
      await waitHealthy(endpoint, c, timeout, () => output);
    } catch (err) {
      c.kill('SIGKILL');
      throw err;
    }
  };

  const waitExit = (c: ChildProcess | undefined, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill(signal);
    });

  await launch();
  return {
    endpoint,
    clientPort,
    dataDir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      await waitExit(child, 'SIGTERM');
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      await waitExit(child, 'SIGKILL');
    },
    async restart() {
      await waitExit(child, 'SIGKILL');
      await launch();
    },
  };
}
