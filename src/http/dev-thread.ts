// `fjord dev` runs the Schema Registry and the REST Proxy on a worker thread of its own: they are
// Kafka clients of the broker (as separate processes would be) and their per-record work — HTTP,
// JSON, client-side record encoding — would otherwise share the broker's event loop. Measured on
// REST v3 streaming produce: the shared thread was ~85% busy and capped the rate, not the broker.
import { Worker } from 'node:worker_threads';

export interface DevHttpRequest {
  bootstrap: string;
  registryPort?: number;
  restPort?: number;
}

/** What the thread reports once both services started (or failed to). */
export interface DevHttpReady {
  registryUrl?: string;
  restUrl?: string;
  /** Why a service did not start (it is skipped, the broker keeps running). */
  failures: string[];
}

export interface DevHttpThread extends DevHttpReady {
  close(): Promise<void>;
}

/** Starts the services on a new thread; resolves when they listen (or gave up). */
export function startDevHttpThread(request: DevHttpRequest, log: (msg: string) => void): Promise<DevHttpThread> {
  // From dist/src/http and from the CLI bundle in dist/src/bundle alike.
  const worker = new Worker(new URL('../http/dev-worker.js', import.meta.url), { workerData: request });
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => ((exited = true), resolve())));
  worker.on('error', (err) => log(`HTTP services thread failed: ${err.message}`));
  const close = async () => {
    if (exited) return;
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), 10_000);
    await exit;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    worker.once('message', (ready: DevHttpReady) => resolve({ ...ready, close }));
    void exit.then(() => reject(new Error('the HTTP services thread exited during start-up')));
  });
}
