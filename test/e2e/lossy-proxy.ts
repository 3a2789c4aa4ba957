// A TCP proxy in front of a broker that loses Produce responses: the broker has appended the batch,
// but the client never hears so and must retry (the idempotent producer's reason to exist).
// Metadata responses are rewritten so that clients keep talking through the proxy.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ApiKey, decodeResponseHeader, encodeResponseHeader, responseHeaderVersion } from '../../src/protocol/gen/index.js';
import { apiSpecs } from '../../src/protocol/gen/specs.js';
import { Reader, Writer } from '../../src/protocol/primitives.js';

export interface LossyProxy {
  port: number;
  bootstrap: string;
  /** Produce responses dropped so far (each drop also closes that connection). */
  dropped: () => number;
  /** Drop the next `n` Produce responses. */
  dropNextProduceResponses: (n: number) => void;
  close: () => Promise<void>;
}

class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  push(d: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) break;
      out.push(this.buf.subarray(0, 4 + size));
      this.buf = this.buf.subarray(4 + size);
    }
    return out;
  }
}

export async function startLossyProxy(brokerPort: number): Promise<LossyProxy> {
  let toDrop = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  let proxyPort = 0;

  const rewriteMetadata = (frame: Buffer, version: number): Buffer => {
    const r = new Reader(frame.subarray(4));
    const hv = responseHeaderVersion(ApiKey.Metadata, version);
    const header = decodeResponseHeader(r, hv);
    const spec = apiSpecs.get(ApiKey.Metadata)!;
    const body = spec.decodeResponse(r, version);
    for (const b of body.brokers) if (b.port === brokerPort) b.port = proxyPort;
    const w = new Writer();
    const size = w.reserveInt32();
    encodeResponseHeader(w, hv, header);
    spec.encodeResponse(w, version, body);
    w.patchInt32(size, w.length - 4);
    return w.toBuffer();
  };

  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: brokerPort });
    sockets.add(client);
    sockets.add(upstream);
    const pending = new Map<number, { apiKey: number; apiVersion: number }>();
    const fromClient = new FrameSplitter();
    const fromBroker = new FrameSplitter();
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', kill);
    upstream.on('close', kill);
    client.on('data', (d) => {
      for (const f of fromClient.push(d)) {
        pending.set(f.readInt32BE(8), { apiKey: f.readInt16BE(4), apiVersion: f.readInt16BE(6) });
        upstream.write(f);
      }
    });
    upstream.on('data', (d) => {
      for (let f of fromBroker.push(d)) {
        const corr = f.readInt32BE(4);
        const req = pending.get(corr);
        pending.delete(corr);
        if (req?.apiKey === ApiKey.Produce && toDrop > 0) {
          toDrop--;
          dropped++;
          kill();
          return;
        }
        if (req?.apiKey === ApiKey.Metadata) f = rewriteMetadata(f, req.apiVersion);
        client.write(f);
      }
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  proxyPort = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port: proxyPort,
    bootstrap: `127.0.0.1:${proxyPort}`,
    dropped: () => dropped,
    dropNextProduceResponses: (n) => {
      toDrop = n;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
