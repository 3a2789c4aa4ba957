// HTTP side of the bench: REST Proxy v3 streaming produce (1 KiB JSON records) and Schema
// Registry lookups (GET /schemas/ids/{id}) against a raw fastify hello-world on this machine.
// The server under test runs in its own process (`fjord dev`); the load comes from this one.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';

/** Keep-alive GET load with `concurrency` requests in flight for `seconds`; requests/s. */
export async function getLoad(url, seconds, concurrency = 32) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(url);
  let done = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise((resolve) => {
      const req = request({ agent, host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET' }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) done++;
          else failed++;
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  agent.destroy();
  if (failed && !done) throw new Error(`all ${failed} requests to ${url} failed`);
  return { requestsPerSec: done / ((performance.now() - t0) / 1000), failed };
}

/** A bare fastify "hello world" in a child process: the ceiling for an HTTP GET on this box. */
export async function startHelloWorld(root, port) {
  const code = `
    const Fastify = (await import(${JSON.stringify(root + '/node_modules/fastify/fastify.js')})).default;
    const app = Fastify({ logger: false });
    app.get('/', async () => ({ hello: 'world' }));
    await app.listen({ host: '127.0.0.1', port: ${port} });
    process.stdout.write('ready\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('hello-world server did not start')), 20_000);
    child.stdout.on('data', (d) => {
      if (/ready/.test(String(d))) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error('hello-world server exited')));
  });
  return child;
}

/**
 * Streams `count` records of `size` bytes (JSON string values) in one POST …/records request;
 * returns MB/s of payload, counting only records answered with error_code 200.
 */
export async function restStreamProduce(restUrl, topic, count, size, { createTopic = true } = {}) {
  const clusters = await (await fetch(`${restUrl}/v3/clusters`)).json();
  const cid = clusters.data[0].cluster_id;
  if (createTopic) {
    const create = await fetch(`${restUrl}/v3/clusters/${cid}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic_name: topic, partitions_count: 6 }) });
    if (create.status !== 201) throw new Error(`topic create: ${create.status} ${await create.text()}`);
  }
  const line = Buffer.from(JSON.stringify({ value: { type: 'JSON', data: 'x'.repeat(size - 2) } }) + '\n');
  const perChunk = 64;
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => line));
  // node:http with plain writes (not fetch + a web ReadableStream): the load generator should
  // spend as little CPU as it can on a 2-core machine it shares with the server.
  const u = new URL(`${restUrl}/v3/clusters/${cid}/topics/${topic}/records`);
  const t0 = performance.now();
  const { ok, tail } = await new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let okCount = 0;
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (text) => {
        const all = carry + text;
        const cut = all.lastIndexOf('\n') + 1;
        for (let i = all.indexOf('"error_code":200'); i >= 0 && i < cut; i = all.indexOf('"error_code":200', i + 16)) okCount++;
        carry = all.slice(cut);
        if (carry.length > 1 << 20) carry = carry.slice(-4096);
      });
      res.on('end', () => resolve({ ok: okCount, tail: carry }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < count) {
        const n = Math.min(perChunk, count - sent);
        sent += n;
        if (!req.write(n === perChunk ? chunk : chunk.subarray(0, n * line.length))) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  const s = (performance.now() - t0) / 1000;
  if (ok < count) throw new Error(`only ${ok} of ${count} records acknowledged: ${tail.slice(-300)}`);
  return { MBps: (ok * size) / 1e6 / s, records: ok, seconds: s };
}
