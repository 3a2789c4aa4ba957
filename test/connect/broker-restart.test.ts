// A worker survives a broker restart: its source task resumes where it was, nothing is lost, and
// the REST API keeps working (config writes go to the restarted broker).
import assert from 'node:assert/strict';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startWorker } from '../../src/connect/index.js';
import { startBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';
import { BROKER_CONFIG, http, readTopic, waitFor } from './util.js';

test('worker and its tasks survive a broker restart', async () => {
  const dataDir = await tempDir();
  let broker = await startBroker({ dataDir, port: 0, config: BROKER_CONFIG });
  const port = broker.port;
  const worker = await startWorker({ bootstrap: [broker.bootstrap], groupId: 'restart', port: 0, config: { 'offset.flush.interval.ms': '100' } });
  try {
    const file = join(dataDir, 'in.txt');
    writeFileSync(file, 'a\n');
    const res = await http(worker.url, 'POST', '/connectors', {
      name: 'lines',
      config: { 'connector.class': 'FileStreamSource', file, topic: 'lines', 'value.converter': 'org.apache.kafka.connect.storage.StringConverter' },
    });
    assert.equal(res.status, 201);
    await readTopic(broker.bootstrap, 'lines', (r) => r.length >= 1);
    await broker.close();
    appendFileSync(file, 'b\n');
    broker = await startBroker({ dataDir, port, config: BROKER_CONFIG });
    appendFileSync(file, 'c\n');
    const records = await readTopic(broker.bootstrap, 'lines', (r) => r.some((x) => x.value === 'c'), 40_000);
    assert.deepEqual([...new Set(records.map((r) => r.value))], ['a', 'b', 'c']);
    const status = (await http(worker.url, 'GET', '/connectors/lines/status')).body;
    assert.equal(status.tasks[0].state, 'RUNNING');
    const again = await waitFor('config write after restart', async () => {
      const r = await http(worker.url, 'POST', '/connectors', { name: 'more', config: { 'connector.class': 'FileStreamSource', file, topic: 'more' } });
      return r.status === 409 && r.body.message.includes('rebalance') ? null : r;
    });
    assert.equal(again.status, 201);
  } finally {
    await worker.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
