// A minimal raw Kafka protocol client for tests: hand-made frames and generated encoders over
// a plain socket, to reach corners real clients never produce (and to read logs back simply).
import { connect, type Socket } from 'node:net';
import { ApiKey, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/gen/index.js';
import { apiSpecs } from '../../src/protocol/gen/specs.js';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { iterateRecords } from '../../src/protocol/records/batch.js';

export /** A tiny raw Kafka connection for hand-made frames. */
class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => {});
  }
  static async open(port: number): Promise<RawClient> {
    const s = connect({ host: '127.0.0.1', port });
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    return new RawClient(s);
  }
  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }
  request(apiKey: number, version: number, correlationId: number, body: unknown): void {
    const w = new Writer();
    const size = w.reserveInt32();
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: 'raw-test',
    });
    apiSpecs.get(apiKey)!.encodeRequest(w, version, body);
    w.patchInt32(size, w.length - 4);
    this.send(w.toBuffer());
  }
  async frame(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 4) {
        const size = this.buf.readInt32BE(0);
        if (this.buf.length >= 4 + size) {
          const f = this.buf.subarray(4, 4 + size);
          this.buf = this.buf.subarray(4 + size);
          return f;
        }
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a response frame');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
  async response(apiKey: number, version: number): Promise<{ correlationId: number; body: any } | null> {
    const f = await this.frame();
    if (!f) return null;
    const r = new Reader(f);
    const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
    return { correlationId: header.correlationId, body: apiSpecs.get(apiKey)!.decodeResponse(r, version) };
  }
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
  close(): void {
    this.socket.destroy();
  }
}


export interface FetchedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/** Reads a whole partition (log start to high watermark) with plain Fetch requests. */
export async function fetchAll(port: number, topic: string, partition: number, fromOffset = 0): Promise<FetchedRecord[]> {
  const c = await RawClient.open(port);
  const out: FetchedRecord[] = [];
  let offset = fromOffset;
  let correlationId = 1;
  try {
    for (let round = 0; round < 10_000; round++) {
      c.request(ApiKey.Fetch, 11, correlationId++, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 4 * 1024 * 1024,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1024 * 1024 }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
      const res = await c.response(ApiKey.Fetch, 11);
      if (!res) throw new Error('connection closed during fetch');
      const p = res.body.responses[0].partitions[0];
      if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode} at offset ${offset}`);
      const records: Buffer | null = p.records;
      if (!records || records.length === 0) {
        if (offset >= p.highWatermark) break;
        throw new Error(`empty fetch below the high watermark at ${offset}`);
      }
      let pos = 0;
      let progressed = false;
      while (pos + 12 <= records.length) {
        const size = 12 + records.readInt32BE(pos + 8);
        if (pos + size > records.length) break; // partial trailing batch
        for (const r of await iterateRecords(records.subarray(pos, pos + size))) {
          if (r.offset < offset) continue;
          out.push({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
          offset = r.offset + 1;
          progressed = true;
        }
        pos += size;
      }
      if (!progressed) throw new Error(`no progress at offset ${offset}`);
      if (offset >= p.highWatermark) break;
    }
  } finally {
    c.close();
  }
  return out;
}

let nextCorrelation = 1;
/** One request on `raw` and its answer's body; fails the test when the connection gives none. */
export async function call(raw: RawClient, apiKey: number, version: number, body: unknown): Promise<any> {
  raw.request(apiKey, version, nextCorrelation++, body);
  const res = await raw.response(apiKey, version);
  if (!res) throw new Error(`no response to api ${apiKey}`);
  return res.body;
}
