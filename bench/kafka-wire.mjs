// A minimal Kafka wire client for the queue bench, on Fjord's generated codecs: one socket,
// requests pipelined with correlation ids, responses matched in order. The Redis side of the
// bench uses an equally small RESP client, so neither side pays for a general-purpose library.
import { connect } from 'node:net';
import { join } from 'node:path';

export async function loadCodecs(root) {
  // gen/index.js holds the API keys and header codecs; every API's codec lives in gen/specs.js.
  const gen = { ...(await import(join(root, 'dist', 'src', 'protocol', 'gen', 'index.js'))), ...(await import(join(root, 'dist', 'src', 'protocol', 'gen', 'specs.js'))) };
  const { Writer, Reader } = await import(join(root, 'dist', 'src', 'protocol', 'primitives.js'));
  const { decodeRecordsSync, batchPositions } = await import(join(root, 'dist', 'src', 'protocol', 'records', 'batch.js'));
  return { gen, Writer, Reader, decodeRecordsSync, batchPositions };
}

export class WireConnection {
  static async open(codecs, port, clientId) {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new WireConnection(codecs, socket, clientId);
  }

  constructor(codecs, socket, clientId) {
    this.c = codecs;
    this.socket = socket;
    this.clientId = clientId;
    this.nextId = 1;
    /** In request order: { apiKey, version, resolve, reject } */
    this.waiting = [];
    this.parts = [];
    this.have = 0;
    socket.on('data', (d) => this.onData(d));
    const fail = (err) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Sends a request; resolves with the decoded response body. */
  request(apiKey, version, body) {
    const { gen, Writer } = this.c;
    const w = new Writer(512);
    const size = w.reserveInt32();
    gen.encodeRequestHeader(w, gen.requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId: this.nextId++, clientId: this.clientId });
    gen.apiSpecs.get(apiKey).encodeRequest(w, version, body);
    w.patchInt32(size, w.length - 4);
    this.socket.write(w.toBuffer());
    return new Promise((resolve, reject) => this.waiting.push({ apiKey, version, resolve, reject }));
  }

  onData(d) {
    this.parts.push(d);
    this.have += d.length;
    for (;;) {
      if (this.have < 4) return;
      if (this.parts[0].length < 4) this.parts = [Buffer.concat(this.parts)];
      const len = this.parts[0].readInt32BE(0);
      if (this.have < 4 + len) return;
      const all = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      const frame = all.subarray(4, 4 + len);
      const rest = all.subarray(4 + len);
      this.parts = rest.length ? [rest] : [];
      this.have = rest.length;
      const w = this.waiting.shift();
      if (!w) continue;
      try {
        const { gen, Reader } = this.c;
        const r = new Reader(frame);
        gen.decodeResponseHeader(r, gen.responseHeaderVersion(w.apiKey, w.version));
        w.resolve(gen.apiSpecs.get(w.apiKey).decodeResponse(r, w.version));
      } catch (err) {
        w.reject(err);
      }
    }
  }

  close() {
    this.socket.destroy();
  }
}

/** Every record of the fetched batches whose offset is in one of the acquired ranges. */
export function recordsIn(codecs, data, ranges) {
  if (!data || data.length === 0) return [];
  const buf = Array.isArray(data) ? Buffer.concat(data) : data;
  const out = [];
  for (const [pos] of codecs.batchPositions(buf)) {
    for (const rec of codecs.decodeRecordsSync(buf, pos)) {
      if (!ranges || ranges.some((r) => rec.offset >= r.firstOffset && rec.offset <= r.lastOffset)) out.push(rec);
    }
  }
  return out;
}
