// The worker thread of `fjord dev`'s HTTP services (see ./dev-thread.ts): starts the Schema
// Registry and the REST Proxy against the broker, reports their URLs, closes them on request.
import { parentPort, workerData } from 'node:worker_threads';
import { startRestProxy, startSchemaRegistry } from './index.js';
import type { DevHttpReady, DevHttpRequest } from './dev-thread.js';

const request = workerData as DevHttpRequest;
const services: { close(): Promise<void> }[] = [];
const ready: DevHttpReady = { failures: [] };
const log = (m: string) => process.stderr.write(`fjord: ${m}\n`);

if (request.registryPort !== undefined) {
  try {
    const reg = await startSchemaRegistry({ bootstrap: request.bootstrap, host: '127.0.0.1', port: request.registryPort, log });
    services.push(reg);
    ready.registryUrl = reg.url;
  } catch (err) {
    ready.failures.push(`schema registry not started: ${(err as Error).message} (use --registry-port or --no-registry)`);
  }
}
if (request.restPort !== undefined) {
  try {
    const rest = await startRestProxy({ bootstrap: request.bootstrap, host: '127.0.0.1', port: request.restPort, registryUrl: ready.registryUrl });
    services.push(rest);
    ready.restUrl = rest.url;
  } catch (err) {
    ready.failures.push(`REST proxy not started: ${(err as Error).message} (use --rest-port or --no-rest)`);
  }
}
parentPort!.on('message', (msg) => {
  if (msg !== 'close') return;
  void (async () => {
    for (const s of services.splice(0).reverse()) await s.close().catch(() => {});
    parentPort!.close();
    process.exit(0);
  })();
});
parentPort!.postMessage(ready);
