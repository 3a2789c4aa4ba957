#!/usr/bin/env node
// Redis Streams as a peer for bench/run.mjs, over a minimal RESP client (no dependency):
//   latency PORT RATE SECONDS WARMUP_S SIZE  XADD at RATE msg/s (send time in the value) on one
//                                            connection, a blocking XREAD reader on another;
//                                            prints p50/p99/p99.9 of send -> read in ms.
//   consume PORT COUNT SIZE                  fills a stream with COUNT values (pipelined XADD),
//                                            then reads it back with XREAD COUNT 1000; MB/s.
// One JSON line on stdout. Values are parsed as RESP bulk strings (sizes, not copies).
import { connect } from 'node:net';

const [mode, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);

/** One RESP connection: commands out, replies back in order. */
class Resp {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.chunks = [];
    this.waiting = [];
    socket.on('data', (d) => {
      this.chunks.push(d);
      // Every reply ends with CRLF: parse only then, not on every chunk of a 1 MB reply.
      if (d.length < 2 || d[d.length - 2] !== 13 || d[d.length - 1] !== 10) return;
      this.buf = Buffer.concat([this.buf, ...this.chunks]);
      this.chunks = [];
      for (;;) {
        if (!this.waiting.length) return;
        const r = parse(this.buf, 0);
        if (!r) return;
        this.buf = this.buf.subarray(r.end);
        this.waiting.shift()(r.value);
      }
    });
  }
  static open(p) {
    return new Promise((res, rej) => {
      const s = connect({ port: p, host: '127.0.0.1' }, () => res(new Resp(s)));
      s.setNoDelay(true);
      s.once('error', rej);
    });
  }
  /** Queues a command; the promise resolves with its reply. */
  send(args) {
    const parts = [`*${args.length}\r\n`];
    const bufs = [];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
      bufs.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    this.socket.write(Buffer.concat([Buffer.from(parts[0]), ...bufs]));
    return new Promise((res) => this.waiting.push(res));
  }
  close() {
    this.socket.destroy();
  }
}

/** Parses one RESP value at pos; undefined when incomplete. Bulk strings become Buffer views. */
function parse(buf, pos) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = buf[pos];
  const line = buf.toString('latin1', pos + 1, eol);
  if (type === 43 /* + */ || type === 45 /* - */) return { value: type === 45 ? new Error(line) : line, end: eol + 2 };
  if (type === 58 /* : */) return { value: Number(line), end: eol + 2 };
  if (type === 36 /* $ */) {
    const n = Number(line);
    if (n < 0) return { value: null, end: eol + 2 };
    if (buf.length < eol + 2 + n + 2) return undefined;
    return { value: buf.subarray(eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
  }
  if (type === 42 /* * */) {
    const n = Number(line);
    if (n < 0) return { value: null, end: eol + 2 };
    const out = new Array(n);
    let p = eol + 2;
    for (let i = 0; i < n; i++) {
      const r = parse(buf, p);
      if (!r) return undefined;
      out[i] = r.value;
      p = r.end;
    }
    return { value: out, end: p };
  }
  throw new Error(`unexpected RESP type ${String.fromCharCode(type)}`);
}

/** Entries of an XREAD reply for one stream: [[id, [field, value, ...]], ...]. */
const entriesOf = (reply) => (reply?.[0] ? reply[0][1] : []);

async function latency(rate, seconds, warmupS, size) {
  const writer = await Resp.open(port);
  const reader = await Resp.open(port);
  await writer.send(['DEL', 'lat']);
  const total = Math.round(rate * seconds);
  const skip = Math.round(rate * warmupS);
  const samples = [];
  let received = 0;
  let lastId = '$';
  const readLoop = (async () => {
    const deadline = performance.now() + (seconds + 10) * 1000;
    while (received < total && performance.now() < deadline) {
      const reply = await reader.send(['XREAD', 'BLOCK', '1000', 'COUNT', '1000', 'STREAMS', 'lat', lastId]);
      const now = performance.now();
      for (const [id, fields] of entriesOf(reply)) {
        lastId = id.toString();
        const v = fields[1];
        const seq = v.readUInt32BE(8);
        if (seq >= skip) samples.push(now - v.readDoubleBE(0));
        received++;
      }
    }
  })();
  // Wait until the blocking read is parked, so '$' means "from now".
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const v = Buffer.alloc(size, 120);
      v.writeDoubleBE(performance.now(), 0);
      v.writeUInt32BE(sent, 8);
      void writer.send(['XADD', 'lat', '*', 'v', v]);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await readLoop;
  samples.sort((a, b) => a - b);
  const q = (p) => (samples.length ? samples[Math.floor(p * (samples.length - 1))] : null);
  writer.close();
  reader.close();
  return { sent, received, samples: samples.length, p50Ms: q(0.5), p99Ms: q(0.99), p999Ms: q(0.999) };
}

async function consume(count, size) {
  const c = await Resp.open(port);
  await c.send(['DEL', 'bulk']);
  const value = Buffer.alloc(size, 120);
  for (let i = 0; i < count; i += 500) {
    const n = Math.min(500, count - i);
    const replies = [];
    for (let k = 0; k < n; k++) replies.push(c.send(['XADD', 'bulk', '*', 'v', value]));
    await Promise.all(replies);
  }
  const t0 = performance.now();
  let lastId = '0';
  let got = 0;
  let bytes = 0;
  while (got < count) {
    const entries = entriesOf(await c.send(['XREAD', 'COUNT', '1000', 'STREAMS', 'bulk', lastId]));
    if (!entries.length) break;
    for (const [id, fields] of entries) {
      bytes += fields[1].length;
      got++;
      lastId = id;
    }
    lastId = lastId.toString();
  }
  const s = (performance.now() - t0) / 1000;
  c.close();
  return { msgs: got, bytes, seconds: s, MBps: bytes / s / 1e6 };
}

const out =
  mode === 'latency'
    ? await latency(Number(rest[0]), Number(rest[1]), Number(rest[2]), Number(rest[3]))
    : mode === 'consume'
      ? await consume(Number(rest[0]), Number(rest[1]))
      : (() => {
          throw new Error('usage: redis-peer.mjs latency|consume PORT ...');
        })();
process.stdout.write(`${JSON.stringify(out)}\n`);
