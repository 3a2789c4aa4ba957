// Ceilings for bench/run.mjs, in plain Node: what this machine can do without any Kafka logic.
// Every role runs as its own process (spawned by run.mjs), like a client and a broker would.
//
//   node bench/ceilings.mjs tcp-server
//   node bench/ceilings.mjs tcp-client PORT SECONDS
//       loopback TCP: the client writes 64 KiB buffers as fast as the socket drains for SECONDS,
//       then half-closes; the server answers with the byte count it read; MB/s = bytes / time
//       from the first write to the answer.
//   node bench/ceilings.mjs durable-server DIR
//   node bench/ceilings.mjs durable-client PORT SECONDS [REQUEST_BYTES] [IN_FLIGHT]
//       durable append pipeline: the client sends requests of REQUEST_BYTES (default 512 KiB,
//       i.e. 512 messages of 1 KiB, as a batching producer would) with IN_FLIGHT (default 8)
//       outstanding; the server appends each request to a file (fs.writeSync) and acknowledges it
//       only after an fdatasync that started after the write; fdatasync runs at most every 10 ms
//       (group commit). MB/s = acknowledged bytes / elapsed.
//
// Servers print {"port":N} on their first stdout line; clients print one JSON result line.
import { createServer, connect } from 'node:net';
import { openSync, writeSync, fdatasync, closeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const [role, ...args] = process.argv.slice(2);
const MB = 1e6;
// Hard bound for every role: no process outlives this (s).
setTimeout(() => { process.stderr.write(`ceilings ${role}: hard timeout\n`); process.exit(3); }, 120_000).unref();

function listen(onConn) {
  const server = createServer({ noDelay: true }, onConn);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
  });
  return server;
}

if (role === 'tcp-server') {
  const server = listen((sock) => {
    let bytes = 0;
    let cpu0 = null;
    sock.on('data', (d) => { cpu0 ??= process.cpuUsage(); bytes += d.length; });
    sock.on('end', () => {
      // Own CPU while receiving (this process exits right after, before run.mjs can read /proc).
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      sock.end(JSON.stringify({ bytes, serverCpuS: (cpu.user + cpu.system) / 1e6 }) + '\n');
      server.close();
    });
  });
} else if (role === 'tcp-client') {
  const port = Number(args[0]);
  const seconds = Number(args[1] ?? 3);
  const chunk = Buffer.alloc(64 * 1024, 120);
  const sock = connect({ port, host: '127.0.0.1', noDelay: true }, () => {
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    let reply = '';
    sock.on('data', (d) => { reply += d; });
    const cpu0 = process.cpuUsage();
    sock.on('end', () => {
      const el = (performance.now() - t0) / 1000;
      const { bytes, serverCpuS } = JSON.parse(reply);
      const cpu = process.cpuUsage(cpu0);
      const clientCpuS = (cpu.user + cpu.system) / 1e6;
      process.stdout.write(JSON.stringify({ bytes, seconds: el, MBps: bytes / el / MB, serverCpuShare: serverCpuS / el, clientCpuShare: clientCpuS / el }) + '\n');
    });
    const pump = () => {
      while (performance.now() < deadline) {
        if (!sock.write(chunk)) { sock.once('drain', pump); return; }
      }
      sock.end();
    };
    pump();
  });
} else if (role === 'durable-server') {
  const file = join(args[0], 'durable-ceiling.log');
  const fd = openSync(file, 'w');
  const INTERVAL_MS = 10;
  const server = listen((sock) => {
    let buf = Buffer.alloc(0);
    let written = []; // request ids written but not yet covered by an fdatasync
    let syncing = false;
    let lastSyncStart = 0;
    let timer = null;
    const maybeSync = () => {
      if (syncing || timer || written.length === 0) return;
      const wait = lastSyncStart + INTERVAL_MS - performance.now();
      if (wait > 0) { timer = setTimeout(() => { timer = null; maybeSync(); }, wait); return; }
      const covered = written;
      written = [];
      syncing = true;
      lastSyncStart = performance.now();
      fdatasync(fd, (err) => {
        syncing = false;
        if (err) throw err;
        const acks = Buffer.allocUnsafe(4 * covered.length);
        covered.forEach((id, i) => acks.writeUInt32BE(id, 4 * i));
        sock.write(acks);
        maybeSync();
      });
    };
    let cpu0 = null;
    sock.on('data', (d) => {
      cpu0 ??= process.cpuUsage();
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let off = 0;
      while (buf.length - off >= 8) {
        const len = buf.readUInt32BE(off);
        if (buf.length - off < 8 + len) break;
        const id = buf.readUInt32BE(off + 4);
        writeSync(fd, buf, off + 8, len);
        written.push(id);
        off += 8 + len;
      }
      buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
      maybeSync();
    });
    sock.on('end', () => {
      // Own CPU while serving, for run.mjs (this process exits before it can read /proc).
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      process.stdout.write(JSON.stringify({ serverCpuS: (cpu.user + cpu.system) / 1e6 }) + '\n');
      sock.end();
      server.close();
      closeSync(fd);
      try { unlinkSync(file); } catch {}
    });
  });
} else if (role === 'durable-client') {
  const port = Number(args[0]);
  const seconds = Number(args[1] ?? 3);
  const reqBytes = Number(args[2] ?? 512 * 1024);
  const inFlight = Number(args[3] ?? 8);
  const payload = Buffer.alloc(reqBytes, 120);
  const sock = connect({ port, host: '127.0.0.1', noDelay: true }, () => {
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    let nextId = 0;
    let outstanding = 0;
    let acked = 0;
    let pendingAck = Buffer.alloc(0);
    let done = false;
    const send = () => {
      while (outstanding < inFlight && performance.now() < deadline) {
        const hdr = Buffer.allocUnsafe(8);
        hdr.writeUInt32BE(reqBytes, 0);
        hdr.writeUInt32BE(nextId++, 4);
        sock.write(hdr);
        sock.write(payload);
        outstanding++;
      }
      if (outstanding === 0 && !done) {
        done = true;
        const el = (performance.now() - t0) / 1000;
        const bytes = acked * reqBytes;
        process.stdout.write(JSON.stringify({ bytes, requests: acked, requestBytes: reqBytes, inFlight, seconds: el, MBps: bytes / el / MB }) + '\n');
        sock.end();
      }
    };
    sock.on('data', (d) => {
      pendingAck = pendingAck.length ? Buffer.concat([pendingAck, d]) : d;
      const n = Math.floor(pendingAck.length / 4);
      pendingAck = pendingAck.subarray(n * 4);
      outstanding -= n;
      acked += n;
      send();
    });
    send();
  });
} else {
  process.stderr.write(`usage: ceilings.mjs tcp-server|tcp-client|durable-server|durable-client ...\n`);
  process.exit(2);
}
