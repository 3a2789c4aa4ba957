// Fjord Connect: a Kafka Connect-compatible worker (REST API, internal topics, connectors) and the
// SDK for connectors written in TypeScript.
import { startRestServer } from './rest.js';
import { Worker, type WorkerOptions } from './worker.js';

export * from './sdk.js';
export { Worker, ConnectError, type WorkerOptions } from './worker.js';

export interface StartWorkerOptions extends WorkerOptions {
  host?: string;
  /** REST port; 0 picks a free one. Default 8083. */
  port?: number;
}

export interface RunningWorker {
  worker: Worker;
  /** Base URL of the REST API, e.g. http://127.0.0.1:8083 */
  url: string;
  close(): Promise<void>;
}

export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const host = options.host ?? '127.0.0.1';
  const worker = new Worker(options);
  // Listen first so the worker id can be its advertised REST address, as in Kafka Connect.
  const { app, url } = await startRestServer(worker, host, options.port ?? 8083);
  if (!options.workerId) worker.workerId = new URL(url).host;
  worker.url = url;
  try {
    await worker.start();
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    worker,
    url,
    async close() {
      await app.close();
      await worker.stop();
    },
  };
}
