// Postgres → Kafka → Postgres with unchanged Debezium and JDBC-sink configs, against a real
// PostgreSQL (logical replication), the real broker and a worker running as a separate process
// that is killed with SIGKILL mid-stream: nothing is lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { BROKER_CONFIG, http, readTopic, waitFor, type ReadRecord, spawnWorkerProcess, type WorkerProcess } from './util.js';

let broker: TestBroker;
let db: TestPostgres;
let worker: WorkerProcess | null = null;
let restPort: number;

function spawnWorker(): Promise<WorkerProcess> {
  return spawnWorkerProcess(broker.bootstrap, 'pg-test', { 'offset.flush.interval.ms': '100' }, restPort);
}

before(async () => {
  [broker, db] = await Promise.all([startTestBroker(BROKER_CONFIG), startPostgres()]);
  restPort = await freePort();
  await db.query(`CREATE TABLE customers (id INT PRIMARY KEY, name TEXT NOT NULL, email TEXT)`);
  await db.query(`CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT, total DOUBLE PRECISION)`);
  await db.query(`CREATE TABLE ignored (id INT PRIMARY KEY)`);
  await db.query(`INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Brian', NULL)`);
  await db.query(`CREATE DATABASE replica`);
  worker = await spawnWorker();
});

after(async () => {
  if (worker) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await broker?.dispose();
  await db?.stop();
});

const value = (r: ReadRecord) => JSON.parse(r.value!) as { schema: any; payload: any };

test('CDC: snapshot then inserts, updates, deletes as Debezium events in commit order; kill -9 loses nothing', async () => {
  const url = worker!.url;
  const res = await http(url, 'POST', '/connectors', {
    name: 'inventory',
    config: {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': db.host,
      'database.port': String(db.port),
      'database.user': db.user,
      'database.password': '',
      'database.dbname': db.database,
      'topic.prefix': 'shop',
      'table.include.list': 'public.customers,public.orders',
      'plugin.name': 'pgoutput',
      'slot.name': 'fjord_slot',
      'publication.name': 'fjord_pub',
      'snapshot.mode': 'initial',
      'tombstones.on.delete': 'true',
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const snap = await readTopic(broker.bootstrap, 'shop.public.customers', (r) => r.length >= 2);
  assert.equal(snap.length, 2);
  const first = value(snap[0]!);
  assert.equal(first.payload.op, 'r');
  assert.deepEqual(first.payload.after, { id: 1, name: 'Ada', email: 'ada@example.com' });
  assert.equal(first.payload.source.connector, 'postgresql');
  assert.equal(first.payload.source.table, 'customers');
  assert.equal(first.schema.name, 'shop.public.customers.Envelope');
  assert.deepEqual(JSON.parse(snap[0]!.key!).payload, { id: 1 });

  await db.query(`INSERT INTO customers VALUES (3, 'Cleo', 'cleo@example.com')`);
  await db.query(`BEGIN; UPDATE customers SET email = 'ada@new.example' WHERE id = 1; INSERT INTO orders VALUES (10, 1, 9.5); COMMIT`);
  await db.query(`DELETE FROM customers WHERE id = 2`);
  await db.query(`INSERT INTO ignored VALUES (1)`);
  const changes = await readTopic(broker.bootstrap, 'shop.public.customers', (r) => r.length >= 6);
  const ops = changes.map((r) => (r.value === null ? 'tombstone' : value(r).payload.op));
  assert.deepEqual(ops, ['r', 'r', 'c', 'u', 'd', 'tombstone']);
  const upd = value(changes[3]!).payload;
  assert.equal(upd.after.email, 'ada@new.example');
  const del = value(changes[4]!).payload;
  assert.equal(del.before.id, 2);
  assert.equal(del.after, null);
  assert.deepEqual(JSON.parse(changes[5]!.key!).payload, { id: 2 });
  const orders = await readTopic(broker.bootstrap, 'shop.public.orders', (r) => r.length >= 1);
  assert.deepEqual(value(orders[0]!).payload.after, { id: 10, customer_id: 1, total: 9.5 });
  assert.ok(typeof value(orders[0]!).payload.source.lsn === 'number');

  // Stream a steady load, kill -9 the worker in the middle, restart it: every row arrives.
  const total = 300;
  const loader = (async () => {
    for (let i = 0; i < total; i++) await db.query(`INSERT INTO orders VALUES ($1, 3, $2)`, [1000 + i, i]);
  })();
  await waitFor('some load streamed', async () => (await readTopic(broker.bootstrap, 'shop.public.orders', (r) => r.length >= 20, 5000)).length >= 20);
  worker!.child.kill('SIGKILL');
  await worker!.exited;
  await loader;
  worker = await spawnWorker();
  const all = await readTopic(
    broker.bootstrap,
    'shop.public.orders',
    (r) => new Set(r.map((x) => value(x).payload.after?.id)).size >= total + 1,
    40_000,
  );
  const ids = new Set(all.map((x) => value(x).payload.after?.id));
  for (let i = 0; i < total; i++) assert.ok(ids.has(1000 + i), `order ${1000 + i} lost`);
  // Per key, events keep commit order even across the restart (duplicates only replay a suffix).
  const seen = all.map((x) => value(x).payload.after.id as number).filter((id) => id >= 1000);
  const firstIdx = new Map<number, number>();
  seen.forEach((id, i) => firstIdx.has(id) || firstIdx.set(id, i));
  const order = [...firstIdx.keys()];
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  const status = await http(worker.url, 'GET', '/connectors/inventory/status');
  assert.equal(status.body.tasks[0].state, 'RUNNING');
  // REPLICA IDENTITY FULL is honoured: updates carry the old row in `before`.
  await db.query(`ALTER TABLE orders REPLICA IDENTITY FULL`);
  await db.query(`UPDATE orders SET total = 10 WHERE id = 10`);
  const withBefore = await readTopic(broker.bootstrap, 'shop.public.orders', (r) => r.some((x) => value(x).payload.op === 'u'));
  const u = value(withBefore.find((x) => value(x).payload.op === 'u')!).payload;
  assert.deepEqual([u.before, u.after], [{ id: 10, customer_id: 1, total: 9.5 }, { id: 10, customer_id: 1, total: 10 }]);

  // Once everything is acknowledged the slot confirms up to the server's position: it does not
  // hold WAL without bound (the `ignored` table's changes included).
  await db.query(`INSERT INTO ignored VALUES (2)`);
  const { rows } = await db.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
  await waitFor('slot confirmed past the last change', async () => {
    const r = await db.query(`SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = 'fjord_slot'`, [rows[0].lsn]);
    return r.rows[0]?.ok === true;
  }, 20_000);
});

test('JDBC sink: Debezium topic into another database, idempotent replay, tombstones delete, new field adds a column', async () => {
  const url = worker!.url;
  const replicaUrl = `jdbc:postgresql://${db.host}:${db.port}/replica?user=postgres`;
  const sinkConfig = {
    'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
    'connection.url': replicaUrl,
    topics: 'shop.public.customers',
    'insert.mode': 'upsert',
    'pk.mode': 'record_key',
    'pk.fields': 'id',
    'delete.enabled': 'true',
    'auto.create': 'true',
    'auto.evolve': 'true',
    'batch.size': '500',
    transforms: 'unwrap,route',
    'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
    'transforms.unwrap.drop.tombstones': 'false',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': 'shop\\.public\\.(.*)',
    'transforms.route.replacement': '$1_copy',
  };
  const res = await http(url, 'POST', '/connectors', { name: 'replica-sink', config: sinkConfig });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const pgReplica = async (sql: string) => {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ host: db.host, port: db.port, user: 'postgres', database: 'replica' });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  const expected = [
    { id: 1, name: 'Ada', email: 'ada@new.example' },
    { id: 3, name: 'Cleo', email: 'cleo@example.com' },
  ];
  await waitFor('replica matches', async () => JSON.stringify(await pgReplica('SELECT * FROM customers_copy ORDER BY id')) === JSON.stringify(expected), 30_000);

  // New column upstream: the sink evolves its table.
  await db.query(`ALTER TABLE customers ADD COLUMN tier TEXT`);
  await db.query(`INSERT INTO customers VALUES (4, 'Dee', NULL, 'gold')`);
  await db.query(`DELETE FROM customers WHERE id = 3`);
  await waitFor(
    'evolved replica',
    async () => JSON.stringify(await pgReplica('SELECT id, tier FROM customers_copy ORDER BY id')) === JSON.stringify([{ id: 1, tier: null }, { id: 4, tier: 'gold' }]),
    30_000,
  );

  // Replay the whole topic from the beginning: the table stays the same.
  const before = await pgReplica('SELECT * FROM customers_copy ORDER BY id');
  assert.equal((await http(url, 'PUT', '/connectors/replica-sink/stop')).status, 204);
  await waitFor('sink stopped', async () => (await http(url, 'GET', '/connectors/replica-sink/status')).body.connector.state === 'STOPPED');
  const reset = await http(url, 'DELETE', '/connectors/replica-sink/offsets');
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal((await http(url, 'PUT', '/connectors/replica-sink/resume')).status, 202);
  await waitFor('replay committed', async () => {
    const o = (await http(url, 'GET', '/connectors/replica-sink/offsets')).body.offsets;
    return o.length === 1 && o[0].offset.kafka_offset >= 9;
  }, 30_000);
  assert.deepEqual(await pgReplica('SELECT * FROM customers_copy ORDER BY id'), before);
});
