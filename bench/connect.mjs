#!/usr/bin/env node
// Fjord Connect benchmark (issue #17): `node bench/connect.mjs [--rows N]` after `npm run build`.
// In one run, on the same machine and the same real PostgreSQL:
//   CDC  — a loader inserts N rows as fast as it can (100-row INSERTs, autocommit); rows/s that
//          reach the topic through the Postgres CDC connector, as a ratio of Postgres's own insert
//          rate in the same run (target >= 0.8); then commit-to-topic latency p50/p99 at a fixed rate.
//   Sink — N JSON rows already in a topic upserted by the JDBC sink, as a ratio of a plain batched
//          `INSERT … ON CONFLICT` loop (500 rows per statement) in the same run (target >= 0.7).
import { randomUUID } from 'node:crypto';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const imp = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { startTestBroker } = await imp('test/helpers/broker.js');
const { startPostgres } = await imp('test/helpers/postgres.js');
const { startWorker } = await imp('src/connect/index.js');
const { default: pg } = await import('pg');
const { Kafka, logLevel } = await import('kafkajs');

const argv = process.argv.slice(2);
const N = Number(argv[argv.indexOf('--rows') + 1] || 20000);
const log = (m) => process.stderr.write(`[bench connect] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' });
const db = await startPostgres({ durable: true });
const worker = await startWorker({ bootstrap: [broker.bootstrap], groupId: 'bench', port: 0, config: { 'offset.flush.interval.ms': '1000' } });
const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
const results = {};
try {
  await db.query('CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, qty INT)');
  await db.query('CREATE TABLE items_plain (id BIGINT PRIMARY KEY, name TEXT, qty INT)');
  const post = (body) => fetch(worker.url + '/connectors', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await post({
    name: 'cdc',
    config: {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': db.host, 'database.port': String(db.port), 'database.user': db.user, 'database.dbname': db.database,
      'topic.prefix': 'b', 'table.include.list': 'public.items', 'slot.name': 'bench', 'publication.name': 'bench',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter', 'key.converter.schemas.enable': 'false',
    },
  });
  // Count records arriving on the CDC topic (and their arrival times for latency).
  let seen = 0;
  const arrivals = new Map();
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'b.public.items', fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        if (!m.value) continue;
        seen++;
        const id = JSON.parse(m.value.toString()).after?.id;
        if (id >= 10_000_000) arrivals.set(id, now);
      }
    },
  });
  // Wait until the connector streams (an empty snapshot, then the slot exists).
  for (let i = 0; ; i++) {
    const s = await (await fetch(worker.url + '/connectors/cdc/status')).json();
    const slot = await db.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'bench' AND active");
    if (s.tasks?.[0]?.state === 'RUNNING' && slot.rowCount) break;
    if (i > 200) throw new Error('CDC did not start');
    await sleep(100);
  }
  log(`CDC: inserting ${N} rows`);
  const loader = new pg.Client({ host: db.host, port: db.port, user: db.user, database: db.database });
  await loader.connect();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) {
    const vals = [];
    for (let j = i; j < Math.min(N, i + 100); j++) vals.push(`(${j}, 'item-${j}', ${j % 97})`);
    await loader.query(`INSERT INTO items VALUES ${vals.join(',')}`);
  }
  const tInsert = performance.now() - t0;
  while (seen < N) {
    if (performance.now() - t0 > 300_000) throw new Error(`CDC delivered only ${seen}/${N}`);
    await sleep(10);
  }
  const tCdc = performance.now() - t0;
  results.pgInsertRowsPerS = Math.round((N / tInsert) * 1000);
  results.cdcRowsPerS = Math.round((N / tCdc) * 1000);
  results.cdcRatio = Math.round((results.cdcRowsPerS / results.pgInsertRowsPerS) * 100) / 100;

  // Latency: single-row commits at a fixed rate, commit → record consumed.
  const rate = 200;
  const count = 600;
  const commits = new Map();
  for (let i = 0; i < count; i++) {
    const due = t0 + tCdc + 500 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await loader.query(`INSERT INTO items VALUES (${10_000_000 + i}, 'lat', 0)`);
    commits.set(10_000_000 + i, performance.now());
  }
  const deadline = performance.now() + 30_000;
  while (arrivals.size < count && performance.now() < deadline) await sleep(20);
  const lat = [...commits].filter(([id]) => arrivals.has(id)).map(([id, t]) => arrivals.get(id) - t).sort((a, b) => a - b);
  const pct = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] * 10) / 10;
  results.cdcLatencyP50Ms = pct(50);
  results.cdcLatencyP99Ms = pct(99);
  await consumer.disconnect();

  // Sink: N JSON rows in a topic → JDBC upsert; versus a plain batched upsert loop.
  log(`sink: producing ${N} rows`);
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < N; i += 1000) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) messages.push({ key: JSON.stringify({ id: j }), value: JSON.stringify({ id: j, name: `item-${j}`, qty: j % 97 }) });
    await producer.send({ topic: 'sink-in', messages });
  }
  await producer.disconnect();
  const s0 = performance.now();
  await post({
    name: 'sink',
    config: {
      'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', topics: 'sink-in',
      'connection.url': `jdbc:postgresql://${db.host}:${db.port}/${db.database}?user=${db.user}`,
      'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'id', 'auto.create': 'true', 'table.name.format': 'items_sink',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter', 'key.converter.schemas.enable': 'false',
    },
  });
  // Steady-state rate from the first row written (connector start, group join and table
  // creation are reported separately as sinkStartupMs).
  let firstRowAt = null;
  for (;;) {
    const r = await db.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'items_sink'");
    if (r.rows[0].n) {
      const c = await db.query('SELECT count(*)::int AS n FROM items_sink');
      if (c.rows[0].n > 0 && firstRowAt === null) firstRowAt = performance.now();
      if (c.rows[0].n >= N) break;
    }
    if (performance.now() - s0 > 300_000) throw new Error('sink did not finish');
    await sleep(5);
  }
  const sinkDone = performance.now();
  // All rows seen in the first observation (one poll carried them): the steady-state window is
  // not measurable, so count from the connector's creation instead (startup included).
  const sawAllAtOnce = sinkDone - firstRowAt < 1;
  const tSink = sawAllAtOnce ? sinkDone - s0 : sinkDone - firstRowAt;
  results.sinkIncludesStartup = sawAllAtOnce;
  results.sinkStartupMs = Math.round(firstRowAt - s0);
  const p0 = performance.now();
  for (let i = 0; i < N; i += 500) {
    const vals = [];
    const params = [];
    for (let j = i; j < Math.min(N, i + 500); j++) {
      params.push(j, `item-${j}`, j % 97);
      vals.push(`($${params.length - 2}, $${params.length - 1}, $${params.length})`);
    }
    await loader.query(`INSERT INTO items_plain VALUES ${vals.join(',')} ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty`, params);
  }
  const tPlain = performance.now() - p0;
  await loader.end();
  results.sinkRowsPerS = Math.round((N / tSink) * 1000);
  results.plainUpsertRowsPerS = Math.round((N / tPlain) * 1000);
  results.sinkRatio = Math.round((results.sinkRowsPerS / results.plainUpsertRowsPerS) * 100) / 100;
  results.rows = N;
  // one line: `npm run bench` takes the last JSON line of stdout
  process.stdout.write(JSON.stringify(results) + '\n');
} finally {
  await worker.close().catch(() => {});
  await broker.dispose().catch(() => {});
  await db.stop().catch(() => {});
}
process.exit(0);
