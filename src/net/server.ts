// A listener: accepts TCP (or TLS) connections and hands each to a Connection, tagged with the
// listener's name and security protocol so the dispatcher knows what the client must do first.
import { createServer, type Server, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { ConnectionSession, PLAINTEXT_LISTENER, type ListenerInfo } from '../security/session.js';
import { Connection, type ConnectionLimits, type RequestDispatcher } from './connection.js';
import type { ConnectionQuotas } from './connection-quotas.js';
import { BufferPool } from './buffer-pool.js';

export interface ListenOptions {
  host: string;
  port: number;
  listener?: ListenerInfo;
  /** TLS listeners: current options (re-read to pick up rotated certificates). */
  tls?: () => import('node:tls').TlsOptions;
  /** Principal of a verified client certificate (mTLS), or null. */
  certificatePrincipal?: (socket: TLSSocket) => string | null;
}

export class KafkaServer {
  private server: Server | TlsServer | undefined;
  private listener: ListenerInfo = PLAINTEXT_LISTENER;
  private tlsReload: NodeJS.Timeout | undefined;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  /** Fetch read buffers, reused across this listener's connections once responses are written. */
  private readonly readBuffers = new BufferPool();

  constructor(
    private readonly dispatcher: RequestDispatcher,
    private readonly limits: ConnectionLimits,
    private readonly log: (msg: string) => void,
  ) {}

  async listen(opts: ListenOptions): Promise<{ host: string; port: number }> {
    this.listener = opts.listener ?? PLAINTEXT_LISTENER;
    let server: Server | TlsServer;
    const tlsOptions = opts.tls;
    if (tlsOptions) {
      let current = tlsOptions();
      // Imported only for TLS listeners: loading node:tls costs a plaintext broker's cold start ~9 ms.
      const { createServer: createTlsServer } = await import('node:tls');
      const tlsServer = createTlsServer({ ...current, noDelay: true }, (socket) => {
        const principal = opts.certificatePrincipal?.(socket) ?? null;
        this.accept(socket, principal);
      });
      tlsServer.on('tlsClientError', (err, socket) => {
        this.log(`TLS handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${err.message}`);
      });
      // Certificate rotation: re-read the PEM files now and then; new handshakes use new files.
      this.tlsReload = setInterval(() => {
        try {
          const next = tlsOptions();
          if (next.cert !== current.cert || next.key !== current.key || next.ca !== current.ca) {
            tlsServer.setSecureContext(next);
            current = next;
            this.log(`listener ${this.listener.name}: TLS certificates reloaded`);
          }
        } catch (err) {
          this.log(`listener ${this.listener.name}: TLS reload failed, keeping the old certificates: ${(err as Error).message}`);
        }
      }, 5000);
      this.tlsReload.unref();
      server = tlsServer;
    } else {
      server = createServer({ noDelay: true }, (socket) => this.accept(socket, null));
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected server address');
    return { host: addr.address, port: addr.port };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket, certificatePrincipal: string | null): void {
    const quotas = this.limits.quotas;
    const ip = socket.remoteAddress ?? '';
    if (quotas) {
      const refused = quotas.tryAccept(ip);
      if (refused) {
        this.log(`refused connection from ${ip}:${socket.remotePort}: ${refused}`);
        socket.destroy();
        return;
      }
      socket.once('close', () => quotas.release(ip));
      this.startIdleSweep(quotas);
    }
    const conn = new Connection(socket, this.nextConnectionId++, this.dispatcher, this.limits, (c, err) => {
      this.log(`connection ${c.remote} closed: ${err instanceof Error ? err.message : String(err)}`);
    });
    conn.session = new ConnectionSession(this.listener, socket.remoteAddress ?? '');
    conn.readBuffers = this.readBuffers;
    if (certificatePrincipal !== null) conn.session.principal = certificatePrincipal;
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }

  private idleSweep: NodeJS.Timeout | undefined;

  /** Closes connections idle for longer than connections.max.idle.ms. */
  private startIdleSweep(quotas: ConnectionQuotas): void {
    if (this.idleSweep) return;
    const every = Math.max(50, Math.min(quotas.settings.connectionsMaxIdleMs / 4, 10_000));
    this.idleSweep = setInterval(() => {
      const idleMs = quotas.settings.connectionsMaxIdleMs;
      if (idleMs < 0) return;
      const now = Date.now();
      for (const c of this.connections) {
        if (c.isIdle(now, idleMs)) {
          this.log(`closing connection ${c.remote}: idle for more than connections.max.idle.ms (${idleMs} ms)`);
          c.close();
        }
      }
    }, every);
    this.idleSweep.unref();
  }

  async close(): Promise<void> {
    if (this.idleSweep) clearInterval(this.idleSweep);
    const server = this.server;
    if (!server) return;
    if (this.tlsReload) clearInterval(this.tlsReload);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.connections) c.close();
    await closed;
  }
}
