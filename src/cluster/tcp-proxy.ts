// A loopback TCP proxy that a test harness can cut, used by startCluster({ faultProxies: true }) to
// put each broker's inbound Kafka traffic and its etcd session behind a switch. A cut resets every
// connection and refuses new ones (fast, like a firewall REJECT), so clients and the etcd lease
// notice at once; a partial cut drops only the connections whose source matches a predicate.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
  /** Where accepted connections are forwarded. */
  targetHost: string;
  targetPort: number;
  /** Port to listen on (127.0.0.1); 0 picks a free one. */
  port?: number;
  /**
   * Processes to search for the source of each accepted connection (Linux /proc), so a cut can
   * pick sources; without it every source is unknown.
   */
  sourcePids?: () => number[];
}

interface Pair {
  downstream: Socket;
  upstream: Socket;
  /** The connecting process when known (see setSourceResolver). */
  sourcePid: number | undefined;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private blocked: ((sourcePid: number | undefined) => boolean) | undefined;
  port = 0;

  private constructor(private readonly options: TcpProxyOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  /**
   * Cuts the connections for which `drop(sourcePid)` is true (all of them by default): existing
   * ones are reset now, new ones are reset on accept, until heal().
   */
  cut(drop: (sourcePid: number | undefined) => boolean = () => true): void {
    this.blocked = drop;
    for (const pair of this.pairs) if (drop(pair.sourcePid)) this.destroy(pair);
  }

  heal(): void {
    this.blocked = undefined;
  }

  get isCut(): boolean {
    return this.blocked !== undefined;
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.destroy(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async accept(downstream: Socket): Promise<void> {
    downstream.pause();
    downstream.on('error', () => {});
    let sourcePid: number | undefined;
    const pids = this.options.sourcePids?.();
    if (pids && pids.length > 0 && downstream.remotePort !== undefined) {
      sourcePid = await socketOwner(downstream.remotePort, this.port, pids).catch(() => undefined);
    }
    if (downstream.destroyed) return;
    if (this.blocked?.(sourcePid)) {
      downstream.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: this.options.targetHost, port: this.options.targetPort });
    const pair: Pair = { downstream, upstream, sourcePid };
    this.pairs.add(pair);
    upstream.on('error', () => this.destroy(pair));
    downstream.on('error', () => this.destroy(pair));
    upstream.on('close', () => this.destroy(pair));
    downstream.on('close', () => this.destroy(pair));
    upstream.setNoDelay(true);
    downstream.setNoDelay(true);
    upstream.pipe(downstream);
    downstream.pipe(upstream);
    downstream.resume();
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    // A reset (not a FIN) so the peer sees the link die, as with a firewall rejecting packets.
    if (!pair.downstream.destroyed) pair.downstream.resetAndDestroy();
    if (!pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  }
}

/**
 * The pid owning the client end (127.0.0.1:clientPort → 127.0.0.1:serverPort) of a loopback TCP
 * connection: the socket inode from /proc/net/tcp, then which of `candidates` holds that inode.
 */
async function socketOwner(clientPort: number, serverPort: number, candidates: number[]): Promise<number | undefined> {
  const inode = await socketInode(clientPort, serverPort);
  if (inode === undefined) return undefined;
  const needle = `socket:[${inode}]`;
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (link === needle) return pid;
    }
  }
  return undefined;
}

async function socketInode(clientPort: number, serverPort: number): Promise<string | undefined> {
  const local = `:${clientPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = `:${serverPort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(local) && f[2]!.endsWith(remote)) return f[9];
    }
  }
  return undefined;
}
