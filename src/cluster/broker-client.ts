// A small inter-broker Kafka client: one TCP connection to another broker, requests encoded with
// the generated codec (src/protocol/gen), several in flight at once, answers matched by
// correlation id. Replica fetchers use it, so inter-broker traffic is ordinary Kafka wire.
import type { Socket } from 'node:net';
import { decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../protocol/gen/index.js';
import type { ApiSpec } from '../protocol/gen/specs.js';
import { Reader, Writer } from '../protocol/primitives.js';
import { authenticateInterBroker, interBrokerEndpoint, openInterBrokerSocket, type InterBrokerSecurity } from './inter-broker-security.js';

interface InFlight {
  apiKey: number;
  version: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
}

export class BrokerConnectionError extends Error {}

export class BrokerConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private nextCorrelationId = 1;
  private closedWith: Error | undefined;

  private constructor(
    private readonly apiSpecs: ReadonlyMap<number, ApiSpec>,
    private readonly socket: Socket,
    private readonly clientId: string,
    readonly address: string,
  ) {
    socket.setNoDelay(true);
    // An idle inter-broker connection must not keep a stopping process alive.
    socket.unref();
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.fail(new BrokerConnectionError(`connection to ${address} closed`)));
    socket.on('error', (err) => this.fail(new BrokerConnectionError(`connection to ${address} failed: ${err.message}`)));
  }

  /**
   * Connects to host:port (TLS and a SASL login when the inter-broker listener needs them);
   * rejects after timeoutMs without a connection.
   */
  static async open(host: string, port: number, opts: { clientId: string; timeoutMs: number; security?: InterBrokerSecurity }): Promise<BrokerConnection> {
    // Every API's codec, imported with the first inter-broker connection: a single broker never
    // opens one, and its cold start does not compile them.
    const { apiSpecs } = await import('../protocol/gen/specs.js');
    return new Promise((resolve, reject) => {
      const { socket, ready } = openInterBrokerSocket(host, port, opts.security);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BrokerConnectionError(`no connection to ${host}:${port} within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        const conn = new BrokerConnection(apiSpecs, socket, opts.clientId, `${host}:${port}`);
        authenticateInterBroker(conn, opts.security, opts.timeoutMs).then(
          () => resolve(conn),
          (err: Error) => {
            conn.close();
            reject(new BrokerConnectionError(`${host}:${port}: ${err.message}`));
          },
        );
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new BrokerConnectionError(`cannot connect to ${host}:${port}: ${err.message}`));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Sends one request; resolves with the decoded response body. */
  request<T>(apiKey: number, version: number, body: unknown, timeoutMs?: number): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const spec = this.apiSpecs.get(apiKey);
    if (!spec) return Promise.reject(new Error(`unknown api key ${apiKey}`));
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    const size = w.reserveInt32();
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: this.clientId,
    });
    spec.encodeRequest(w, version, body);
    w.patchInt32(size, w.length - 4);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => clearTimeout(timer);
      this.inFlight.set(correlationId, {
        apiKey,
        version,
        resolve: (b) => {
          done();
          resolve(b as T);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      if (timeoutMs !== undefined) {
        // A request without an answer leaves the stream unusable: close the connection.
        timer = setTimeout(() => this.fail(new BrokerConnectionError(`no answer from ${this.address} within ${timeoutMs} ms`)), timeoutMs);
      }
      for (const chunk of w.toChunks()) this.socket.write(chunk);
    });
  }

  close(): void {
    this.fail(new BrokerConnectionError(`connection to ${this.address} closed`));
  }

  private fail(err: Error): void {
    if (!this.closedWith) this.closedWith = err;
    this.socket.destroy();
    const pending = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const p of pending) p.reject(err);
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.buffered < 4) return;
      if (this.chunks[0]!.length < 4) this.merge();
      const frameSize = this.chunks[0]!.readInt32BE(0);
      if (frameSize < 0) {
        this.fail(new BrokerConnectionError(`bad frame size ${frameSize} from ${this.address}`));
        return;
      }
      if (this.buffered < 4 + frameSize) return;
      if (this.chunks[0]!.length < 4 + frameSize) this.merge();
      const head = this.chunks[0]!;
      const frame = head.subarray(4, 4 + frameSize);
      const rest = head.subarray(4 + frameSize);
      if (rest.length > 0) this.chunks[0] = rest;
      else this.chunks.shift();
      this.buffered -= 4 + frameSize;
      this.dispatch(frame);
      if (this.closedWith) return;
    }
  }

  /** Joins the buffered chunks into one (once per frame that spans several reads). */
  private merge(): void {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
  }

  private dispatch(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const waiting = this.inFlight.get(correlationId);
    if (!waiting) {
      this.fail(new BrokerConnectionError(`unexpected correlation id ${correlationId} from ${this.address}`));
      return;
    }
    this.inFlight.delete(correlationId);
    try {
      const r = new Reader(frame);
      decodeResponseHeader(r, responseHeaderVersion(waiting.apiKey, waiting.version));
      waiting.resolve(this.apiSpecs.get(waiting.apiKey)!.decodeResponse(r, waiting.version));
    } catch (err) {
      waiting.reject(err as Error);
      this.fail(new BrokerConnectionError(`undecodable answer from ${this.address}: ${(err as Error).message}`));
    }
  }
}

/**
 * One shared connection per other broker for occasional inter-broker requests (transaction
 * verification, markers), addressed by node id through the metadata store's registrations.
 */
export class InterBrokerClients {
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private closed = false;

  constructor(
    private readonly nodeId: number,
    private readonly brokers: () => { nodeId: number; host: string; port: number; endpoints?: { host: string; port: number }[] }[],
    private readonly timeoutMs = 30_000,
    private readonly security: () => InterBrokerSecurity | undefined = () => undefined,
  ) {}

  async request<T>(nodeId: number, apiKey: number, version: number, body: unknown): Promise<T> {
    const conn = await this.connection(nodeId);
    try {
      return await conn.request<T>(apiKey, version, body, this.timeoutMs);
    } catch (err) {
      if (conn.closed) this.connections.delete(nodeId);
      throw err;
    }
  }

  private connection(nodeId: number): Promise<BrokerConnection> {
    if (this.closed) return Promise.reject(new BrokerConnectionError('inter-broker clients are closed'));
    const b = this.brokers().find((x) => x.nodeId === nodeId);
    if (!b) return Promise.reject(new BrokerConnectionError(`broker ${nodeId} is not registered`));
    const security = this.security();
    const e = interBrokerEndpoint(b, security);
    const fresh = () => {
      const p = BrokerConnection.open(e.host, e.port, { clientId: `fjord-broker-${this.nodeId}`, timeoutMs: 10_000, security });
      this.connections.set(nodeId, p);
      p.catch(() => {
        if (this.connections.get(nodeId) === p) this.connections.delete(nodeId);
      });
      return p;
    };
    const cached = this.connections.get(nodeId);
    if (!cached) return fresh();
    return cached.then((c) => (c.closed || c.address !== `${e.host}:${e.port}` ? fresh() : c));
  }

  close(): void {
    this.closed = true;
    for (const p of this.connections.values()) void p.then((c) => c.close(), () => undefined);
    this.connections.clear();
  }
}
