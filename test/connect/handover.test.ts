// Incremental hand-over between workers: when a second worker joins, the tasks that move to it
// start only after their previous owner stopped them, so no task ever runs on two workers at once;
// when it leaves again, they come back.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startWorker, type RunningWorker } from '../../src/connect/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { BROKER_CONFIG, http, waitFor } from './util.js';

let broker: TestBroker;
let dir: string;
const workers: RunningWorker[] = [];

interface Tracker {
  running: Record<string, number>;
  maxRunning: Record<string, number>;
}
const tracker = (): Tracker => (globalThis as { __fjordHandover?: Tracker }).__fjordHandover!;

before(async () => {
  (globalThis as { __fjordHandover?: Tracker }).__fjordHandover = { running: {}, maxRunning: {} };
  broker = await startTestBroker(BROKER_CONFIG);
  dir = await tempDir('fjord-connect-handover-');
  const pluginDir = join(dir, 'plugins');
  mkdirSync(pluginDir);
  // Both workers run in this process and load the same module, so one table counts every
  // instance of each task; stopping is slow on purpose, to widen any overlap.
  writeFileSync(
    join(pluginDir, 'tracked.mjs'),
    `const t = () => globalThis.__fjordHandover;
    export default {
      className: 'com.example.TrackedSource', type: 'source', version: '1.0.0',
      config: {},
      createConnector() { let c = {}; return { start(cfg) { c = cfg; }, taskConfigs(max) { return Array.from({ length: max }, (_, i) => ({ slot: String(i) })); }, stop() {} }; },
      createTask() {
        let slot = '';
        return {
          start(cfg) { slot = cfg.slot; const n = (t().running[slot] ?? 0) + 1; t().running[slot] = n; t().maxRunning[slot] = Math.max(t().maxRunning[slot] ?? 0, n); },
          async poll() { await new Promise((r) => setTimeout(r, 50)); return null; },
          async stop() { await new Promise((r) => setTimeout(r, 300)); t().running[slot]--; },
        };
      },
    };\n`,
  );
});

after(async () => {
  for (const w of workers) await w.close().catch(() => {});
  await broker?.dispose();
});

async function addWorker(): Promise<RunningWorker> {
  const w = await startWorker({
    bootstrap: [broker.bootstrap],
    groupId: 'handover',
    port: 0,
    config: { 'plugin.path': join(dir, 'plugins'), 'session.timeout.ms': '6000' },
  });
  workers.push(w);
  return w;
}

async function placement(url: string): Promise<Map<string, number> | null> {
  const s = (await http(url, 'GET', '/connectors/tracked/status')).body;
  if (!s?.tasks || s.tasks.length !== 4 || !s.tasks.every((t: { state: string }) => t.state === 'RUNNING')) return null;
  const counts = new Map<string, number>();
  for (const t of s.tasks as { worker_id: string }[]) counts.set(t.worker_id, (counts.get(t.worker_id) ?? 0) + 1);
  return counts;
}

test('tasks moving to a joining worker start only after the old owner stopped them', async () => {
  const a = await addWorker();
  const res = await http(a.url, 'POST', '/connectors', { name: 'tracked', config: { 'connector.class': 'com.example.TrackedSource', 'tasks.max': '4' } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await waitFor('four tasks on the first worker', async () => (await placement(a.url))?.get(new URL(a.url).host) === 4);

  const b = await addWorker();
  const split = await waitFor('tasks spread over both workers', async () => {
    const p = await placement(a.url);
    return p && [...p.values()].sort().join() === '2,2' ? p : null;
  }, 30_000);
  assert.ok(split.has(new URL(b.url).host));
  assert.deepEqual(tracker().maxRunning, { '0': 1, '1': 1, '2': 1, '3': 1 }, 'no task ran on two workers at once');

  // The second worker leaves cleanly: its tasks come back to the first one.
  await b.close();
  workers.splice(workers.indexOf(b), 1);
  await waitFor('all four back on the first worker', async () => (await placement(a.url))?.get(new URL(a.url).host) === 4, 30_000);
  assert.deepEqual(tracker().maxRunning, { '0': 1, '1': 1, '2': 1, '3': 1 });
  assert.deepEqual(tracker().running, { '0': 1, '1': 1, '2': 1, '3': 1 });
});
