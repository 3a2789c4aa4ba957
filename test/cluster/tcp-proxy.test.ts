// The cuttable loopback proxy behind startCluster({ faultProxies: true }): forwards bytes, a cut
// resets existing connections and refuses new ones, a partial cut picks connections by source
// process (found through /proc), heal restores traffic.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { TcpProxy } from '../../src/cluster/tcp-proxy.js';

let echo: Server;
let echoPort = 0;

before(async () => {
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});

after(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function roundTrip(s: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
    s.once('data', (d) => {
      clearTimeout(timer);
      resolve(d.toString());
    });
    s.once('close', () => reject(new Error('closed')));
    s.write(text);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
}

/** Does a fresh connection through the proxy echo? */
async function reachable(port: number): Promise<boolean> {
  try {
    const s = await open(port);
    s.on('error', () => {});
    const ok = await roundTrip(s, 'ping').then(
      (r) => r === 'ping',
      () => false,
    );
    s.destroy();
    return ok;
  } catch {
    return false;
  }
}

test('a cut resets open connections and refuses new ones until heal', async () => {
  const proxy = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: echoPort });
  try {
    const s = await open(proxy.port);
    s.on('error', () => {});
    assert.equal(await roundTrip(s, 'hello'), 'hello');
    proxy.cut();
    await closed(s);
    assert.equal(await reachable(proxy.port), false);
    proxy.heal();
    assert.equal(await reachable(proxy.port), true);
  } finally {
    await proxy.close();
  }
});

test('a partial cut drops only the connections of the chosen source process', async () => {
  // A child process holds one connection through the proxy; this process holds another.
  let child2: ReturnType<typeof spawn> | undefined;
  const proxy2 = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: echoPort, sourcePids: () => (child2?.pid ? [child2.pid] : []) });
  child2 = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').connect(${proxy2.port}, '127.0.0.1');` +
        `s.on('connect', () => s.write('x'));` +
        `s.once('data', () => process.stdout.write('echoed\\n'));` +
        `s.on('close', () => { process.stdout.write('closed\\n'); process.exit(0); });` +
        `s.on('error', () => {}); setTimeout(() => process.exit(2), 20000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out2 = '';
  child2.stdout!.on('data', (d) => (out2 += d));
  const exited = new Promise<number | null>((r) => child2.once('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 10_000;
    // An echo proves the proxy has resolved the child's connection and paired it upstream.
    while (!out2.includes('echoed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(out2, /echoed/);
    const mine = await open(proxy2.port);
    mine.on('error', () => {});
    assert.equal(await roundTrip(mine, 'a'), 'a');
    proxy2.cut((pid) => pid === child2!.pid);
    assert.equal(await exited, 0, 'the child saw its connection close');
    assert.match(out2, /closed/);
    assert.equal(await roundTrip(mine, 'b'), 'b', 'this process keeps its connection');
    assert.equal(await reachable(proxy2.port), true, 'new connections from other sources pass');
    mine.destroy();
  } finally {
    child2.kill('SIGKILL');
    await proxy2.close();
  }
});
