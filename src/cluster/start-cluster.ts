// startCluster(): etcd plus N `fjord broker` processes on 127.0.0.1, for users' tests, `fjord dev
// --brokers N`, the chaos harness and the cluster benchmark. Every broker is a child process (a
// kill -9 must take one broker, not the caller), spawned from this package's own CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { startEtcd as startEtcdProcess, type EtcdProcess } from './etcd-process.js';
import { TcpProxy } from './tcp-proxy.js';

export interface StartClusterOptions {
  /** Number of brokers (node ids 1..N). Default 3. */
  brokers?: number;
  /** Parent directory for etcd's and every broker's data; default a temp dir removed by stop(). */
  dataDir?: string;
  /** Broker configs (`--config k=v`) for every broker. */
  config?: Record<string, string>;
  /** Per-broker racks (broker.rack), in node-id order. */
  racks?: string[];
  clusterId?: string;
  /** First broker port (the others follow); default free ports. */
  basePort?: number;
  /** etcd client port; default a free port. */
  etcdPort?: number;
  /** Path of the etcd binary; default `etcd` found on PATH. */
  etcdBinary?: string;
  /**
   * Put each broker's Kafka listener and its etcd connection behind loopback proxies so that
   * `isolate()` can cut it off from the other brokers and from etcd. Brokers then advertise the
   * proxy address. Linux only for the broker-to-broker part (sources are found through /proc).
   */
  faultProxies?: boolean;
  /** Receives every output line of etcd and the brokers, prefixed with its source. */
  logger?: (line: string) => void;
  /** How long start (and each restart) may take. Default 60 s. */
  startTimeoutMs?: number;
}

export interface ClusterBroker {
  readonly nodeId: number;
  /** The port clients use (the proxy's when faultProxies is on). */
  readonly port: number;
  /** The port the broker process listens on. */
  readonly listenPort: number;
  readonly dataDir: string;
  /** Process id of the running broker, undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM (controlled shutdown); resolves when the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL; resolves when the process has exited. */
  kill(): Promise<void>;
  /** Stops the broker if running (SIGTERM, or SIGKILL with `{ kill: true }`) and starts it again on the same port and data dir. */
  restart(options?: { kill?: boolean }): Promise<void>;
  /** Starts a stopped broker again (same port and data dir); resolves once it is registered. */
  start(): Promise<void>;
  /** SIGSTOP: the process freezes, its sockets stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /**
   * Cuts the broker off from etcd and from the other brokers (needs faultProxies). With
   * `{ clients: false }` clients lose it too; by default they can still reach it (the minority
   * side of a partition that still has clients).
   */
  isolate(options?: { clients?: boolean }): void;
  heal(): void;
  /** The last lines the broker printed. */
  recentOutput(): string;
}

export interface RunningCluster {
  /** Comma-separated "host:port" list of every broker, for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly bootstrapServers: string[];
  /** The etcd client URL brokers use (without proxies). */
  readonly etcdEndpoint: string;
  /** Process id of etcd while it runs. */
  readonly etcdPid: number | undefined;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly brokers: ClusterBroker[];
  broker(nodeId: number): ClusterBroker;
  /** Stops etcd (SIGTERM, or SIGKILL with `{ kill: true }`). */
  stopEtcd(options?: { kill?: boolean }): Promise<void>;
  /** Starts etcd again on the same port and data dir; resolves when it is healthy. */
  startEtcd(): Promise<void>;
  /** Resolves once Metadata (from any broker) lists `count` brokers (default: all that run). */
  waitForBrokers(count?: number, timeoutMs?: number): Promise<void>;
  /** Stops every broker and etcd; removes the data dir when startCluster created it. */
  stop(): Promise<void>;
}

const DEFAULT_BROKERS = 3;
const OUTPUT_LINES_KEPT = 200;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Command line for this package's CLI: compiled JS normally, the TypeScript source under tsx. */
function cliCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return ['--import', 'tsx', fileURLToPath(new URL('../cli/main.ts', import.meta.url))];
  return [fileURLToPath(new URL('../cli/main.js', import.meta.url))];
}

/** A child process with its output teed to a log file and a small in-memory tail. */
class ManagedProcess {
  child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];
  private log: WriteStream | undefined;

  constructor(
    private readonly label: string,
    private readonly logFile: string,
    private readonly logger: ((line: string) => void) | undefined,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  spawn(command: string, args: string[]): void {
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const onData = (data: Buffer) => {
      this.log?.write(data);
      for (const line of data.toString('utf8').split('\n')) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > OUTPUT_LINES_KEPT) this.tail.shift();
        this.logger?.(`[${this.label}] ${line}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => onData(Buffer.from(`spawn failed: ${err.message}\n`)));
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** Sends `sig` and waits for the exit; escalates to SIGKILL after `graceMs`. */
  async stop(sig: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    if (!this.running) return;
    // A stopped (SIGSTOP) process would hold SIGTERM until continued.
    this.child!.kill('SIGCONT');
    this.child!.kill(sig);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  recentOutput(): string {
    return this.tail.join('\n');
  }

  async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}

export async function startCluster(options: StartClusterOptions = {}): Promise<RunningCluster> {
  const count = options.brokers ?? DEFAULT_BROKERS;
  if (!Number.isInteger(count) || count < 1) throw new Error(`brokers must be a positive integer, got ${count}`);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'fjord-cluster-')));
  await mkdir(dataDir, { recursive: true });
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const clusterId = options.clusterId ?? 'fjord-cluster';

  const etcdClientPort = options.etcdPort ?? (await freePort());
  const etcdEndpoint = `http://127.0.0.1:${etcdClientPort}`;
  // etcd itself comes from etcd-process.ts (it names the Debian package when etcd is missing).
  let etcd: EtcdProcess | undefined;
  let etcdRunning = false;

  const proxies: TcpProxy[] = [];
  const handles: BrokerHandle[] = [];
  const killAll = () => {
    for (const h of handles) h.process.signal('SIGKILL');
    if (etcdRunning && etcd?.pid !== undefined) {
      try {
        process.kill(etcd.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // Children must not outlive a test process that crashes or exits without stop().
  process.on('exit', killAll);

  const startEtcd = async () => {
    if (etcd) await etcd.restart();
    else etcd = await startEtcdProcess({ dataDir: join(dataDir, 'etcd'), clientPort: etcdClientPort, binary: options.etcdBinary, startTimeoutMs });
    etcdRunning = true;
  };
  const stopEtcd = async (kill: boolean) => {
    if (!etcd || !etcdRunning) return;
    etcdRunning = false;
    await (kill ? etcd.kill() : etcd.stop());
  };

  const dataDirRoot = dataDir;
  const isolated = new Map<number, { clients: boolean }>();
  const brokerPids = () => handles.map((h) => h.process.pid).filter((p): p is number => p !== undefined);
  const nodeOfPid = (pid: number | undefined) => (pid === undefined ? undefined : handles.find((h) => h.process.pid === pid)?.nodeId);
  /** Recomputes every proxy's cut from the set of isolated brokers. */
  const applyCuts = () => {
    for (const h of handles) {
      if (!h.kafkaProxy || !h.etcdProxy) continue;
      if (isolated.has(h.nodeId)) h.etcdProxy.cut();
      else h.etcdProxy.heal();
      if (isolated.size === 0) {
        h.kafkaProxy.heal();
        continue;
      }
      const self = isolated.get(h.nodeId);
      h.kafkaProxy.cut((sourcePid) => {
        const source = nodeOfPid(sourcePid);
        if (source === h.nodeId) return false;
        if (source !== undefined && isolated.has(source)) return true;
        if (self === undefined) return false;
        return source !== undefined || !self.clients;
      });
    }
  };

  const waitForBrokers = async (expected?: number, timeoutMs = startTimeoutMs) => {
    const want = expected ?? handles.filter((h) => h.process.running).length;
    const deadline = Date.now() + timeoutMs;
    let seen: number[] = [];
    let lastError = '';
    for (;;) {
      for (const h of handles) {
        if (!h.process.running || !(await portOpen(h.port))) continue;
        const admin = new Admin({ clientId: 'fjord-start-cluster', bootstrapBrokers: [`127.0.0.1:${h.port}`], retries: 0, timeout: 2000 });
        try {
          const md = await admin.metadata({ topics: [], forceUpdate: true });
          seen = [...md.brokers.keys()].sort();
          if (seen.length >= want) return;
        } catch (err) {
          lastError = (err as Error).message;
        } finally {
          await admin.close().catch(() => {});
        }
      }
      if (Date.now() > deadline) {
        const tails = handles.map((h) => `--- broker ${h.nodeId} ---\n${h.process.recentOutput().split('\n').slice(-15).join('\n')}`).join('\n');
        throw new Error(`cluster: Metadata listed ${seen.length} of ${want} brokers (${seen.join(',')}) after ${timeoutMs} ms ${lastError}\n${tails}`);
      }
      await sleep(200);
    }
  };

  class BrokerHandle implements ClusterBroker {
    readonly process: ManagedProcess;
    kafkaProxy: TcpProxy | undefined;
    etcdProxy: TcpProxy | undefined;

    constructor(
      readonly nodeId: number,
      readonly listenPort: number,
      readonly dataDir: string,
    ) {
      this.process = new ManagedProcess(`broker ${nodeId}`, join(dataDirRoot, `broker-${nodeId}.log`), options.logger);
    }

    get port(): number {
      return this.kafkaProxy?.port ?? this.listenPort;
    }

    get pid(): number | undefined {
      return this.process.pid;
    }

    get running(): boolean {
      return this.process.running;
    }

    spawnProcess(): void {
      const etcdUrl = this.etcdProxy ? `http://127.0.0.1:${this.etcdProxy.port}` : etcdEndpoint;
      const args = [
        ...cliCommand(),
        'broker',
        '--node-id',
        String(this.nodeId),
        '--listen',
        `127.0.0.1:${this.listenPort}`,
        '--data-dir',
        this.dataDir,
        '--etcd',
        etcdUrl,
        '--cluster-id',
        clusterId,
      ];
      if (this.kafkaProxy) args.push('--advertised', `127.0.0.1:${this.kafkaProxy.port}`);
      const rack = options.racks?.[this.nodeId - 1];
      if (rack) args.push('--rack', rack);
      for (const [k, v] of Object.entries(options.config ?? {})) args.push('--config', `${k}=${v}`);
      this.process.spawn(process.execPath, args);
    }

    async start(): Promise<void> {
      if (this.process.running) return;
      this.spawnProcess();
      const deadline = Date.now() + startTimeoutMs;
      while (!(await portOpen(this.listenPort))) {
        if (!this.process.running) throw new Error(`broker ${this.nodeId} exited during start:\n${this.process.recentOutput()}`);
        if (Date.now() > deadline) throw new Error(`broker ${this.nodeId} did not listen within ${startTimeoutMs} ms:\n${this.process.recentOutput()}`);
        await sleep(50);
      }
    }

    stop(): Promise<void> {
      return this.process.stop('SIGTERM');
    }

    kill(): Promise<void> {
      return this.process.stop('SIGKILL');
    }

    async restart(opts: { kill?: boolean } = {}): Promise<void> {
      await (opts.kill ? this.kill() : this.stop());
      await this.start();
    }

    pause(): void {
      this.process.signal('SIGSTOP');
    }

    resume(): void {
      this.process.signal('SIGCONT');
    }

    isolate(opts: { clients?: boolean } = {}): void {
      if (!this.kafkaProxy) throw new Error('isolate() needs startCluster({ faultProxies: true })');
      isolated.set(this.nodeId, { clients: opts.clients ?? true });
      applyCuts();
    }

    heal(): void {
      isolated.delete(this.nodeId);
      applyCuts();
    }

    recentOutput(): string {
      return this.process.recentOutput();
    }
  }

  const stopAll = async () => {
    await Promise.all(handles.map((h) => h.process.stop('SIGTERM')));
    await stopEtcd(false);
    for (const p of proxies) await p.close();
    for (const h of handles) await h.process.closeLog();
    process.off('exit', killAll);
  };

  try {
    await startEtcd();
    for (let i = 0; i < count; i++) {
      const nodeId = i + 1;
      const listenPort = options.basePort !== undefined ? options.basePort + i : await freePort();
      const dir = join(dataDir, `broker-${nodeId}`);
      await mkdir(dir, { recursive: true });
      const handle = new BrokerHandle(nodeId, listenPort, dir);
      if (options.faultProxies) {
        handle.kafkaProxy = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: listenPort, sourcePids: brokerPids });
        handle.etcdProxy = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: etcdClientPort });
        proxies.push(handle.kafkaProxy, handle.etcdProxy);
      }
      handles.push(handle);
    }
    await Promise.all(handles.map((h) => h.start()));
    await waitForBrokers(count);
  } catch (err) {
    await stopAll().catch(() => {});
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }

  const bootstrapServers = handles.map((h) => `127.0.0.1:${h.port}`);
  let stopped = false;
  return {
    bootstrap: bootstrapServers.join(','),
    bootstrapServers,
    etcdEndpoint,
    get etcdPid() {
      return etcdRunning ? etcd?.pid : undefined;
    },
    clusterId,
    dataDir,
    brokers: handles,
    broker(nodeId: number) {
      const h = handles.find((b) => b.nodeId === nodeId);
      if (!h) throw new Error(`no broker ${nodeId} in this cluster`);
      return h;
    },
    stopEtcd: (opts: { kill?: boolean } = {}) => stopEtcd(opts.kill ?? false),
    startEtcd: async () => {
      if (!etcdRunning) await startEtcd();
    },
    waitForBrokers,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
      if (ownsDataDir && existsSync(dataDir)) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}
