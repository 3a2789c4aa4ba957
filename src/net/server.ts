// The TCP listener: accepts connections and hands each to a Connection.
import { createServer, type Server, type Socket } from 'node:net';
import { Connection, type ConnectionLimits, type RequestDispatcher } from './connection.js';

export interface ListenOptions {
  host: string;
  port: number;
}

export class KafkaServer {
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;

  constructor(
    private readonly dispatcher: RequestDispatcher,
    private readonly limits: ConnectionLimits,
    private readonly log: (msg: string) => void,
  ) {}

  async listen(opts: ListenOptions): Promise<{ host: string; port: number }> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
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

  private accept(socket: Socket): void {
    const conn = new Connection(socket, this.nextConnectionId++, this.dispatcher, this.limits, (c, err) => {
      this.log(`connection ${c.remote} closed: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.connections) c.close();
    await closed;
  }
}
