// Postgres change data capture with Debezium's connector class, config keys and event shapes:
// an initial snapshot read from the replication slot's exported snapshot (so nothing falls between
// snapshot and stream), then logical replication with pgoutput. The slot's confirmed LSN moves only
// to the end of transactions whose every event Kafka acknowledged, so a crash replays, never loses.
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { Config, splitList } from '../config-def.js';
import type { ConfigDef, ConnectorPlugin, Field, Schema, SourceRecord, SourceTask, SourceTaskContext } from '../sdk.js';
import { simpleConnector, CONNECT_VERSION } from '../sdk.js';

const CONFIG: ConfigDef = {
  'database.hostname': { type: 'string', importance: 'high', documentation: 'Resolvable hostname or IP address of the database server.' },
  'database.port': { type: 'int', default: 5432, min: 1, max: 65535, importance: 'high' },
  'database.user': { type: 'string', importance: 'high' },
  'database.password': { type: 'password', default: '', importance: 'high' },
  'database.dbname': { type: 'string', importance: 'high' },
  'topic.prefix': { type: 'string', importance: 'high', documentation: 'Prefix of every topic: <prefix>.<schema>.<table>.' },
  'table.include.list': { type: 'list', default: '', importance: 'high', documentation: 'Regular expressions matched against schema.table.' },
  'table.exclude.list': { type: 'list', default: '', importance: 'medium' },
  'plugin.name': { type: 'string', default: 'pgoutput', validValues: ['pgoutput'], importance: 'medium' },
  'slot.name': { type: 'string', default: 'debezium', importance: 'medium' },
  'publication.name': { type: 'string', default: 'dbz_publication', importance: 'medium' },
  'publication.autocreate.mode': { type: 'string', default: 'all_tables', validValues: ['all_tables', 'filtered', 'disabled'], importance: 'low' },
  'snapshot.mode': { type: 'string', default: 'initial', validValues: ['initial', 'always', 'never', 'no_data', 'initial_only'], importance: 'medium' },
  'tombstones.on.delete': { type: 'boolean', default: true, importance: 'medium' },
  'snapshot.fetch.size': { type: 'int', default: 1000, min: 1, importance: 'low' },
  'max.batch.size': { type: 'int', default: 2048, min: 1, importance: 'low' },
  'max.queue.size': { type: 'int', default: 8192, min: 1, importance: 'low' },
};

/** pg type oid → Connect schema (Debezium's default mappings, numeric as string). */
function columnSchema(typeOid: number, optional: boolean): Schema {
  switch (typeOid) {
    case 16:
      return { type: 'boolean', optional };
    case 21:
      return { type: 'int16', optional };
    case 23:
    case 26:
      return { type: 'int32', optional };
    case 20:
      return { type: 'int64', optional };
    case 700:
      return { type: 'float32', optional };
    case 701:
      return { type: 'float64', optional };
    case 17:
      return { type: 'bytes', optional };
    case 1082:
      return { type: 'int32', optional, name: 'io.debezium.time.Date', version: 1 };
    case 1114:
      return { type: 'int64', optional, name: 'io.debezium.time.MicroTimestamp', version: 1 };
    case 1184:
      return { type: 'string', optional, name: 'io.debezium.time.ZonedTimestamp', version: 1 };
    case 114:
    case 3802:
      return { type: 'string', optional, name: 'io.debezium.data.Json', version: 1 };
    case 2950:
      return { type: 'string', optional, name: 'io.debezium.data.Uuid', version: 1 };
    default:
      return { type: 'string', optional };
  }
}

function columnValue(typeOid: number, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (typeOid) {
    case 20: {
      const n = typeof v === 'bigint' ? v : BigInt(String(v));
      return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    }
    case 1082: {
      const d = v instanceof Date ? Date.UTC(v.getFullYear(), v.getMonth(), v.getDate()) : Date.parse(String(v) + 'T00:00:00Z');
      return Math.floor(d / 86_400_000);
    }
    case 1114: {
      const d = v instanceof Date ? Date.UTC(v.getFullYear(), v.getMonth(), v.getDate(), v.getHours(), v.getMinutes(), v.getSeconds(), v.getMilliseconds()) : Date.parse(String(v) + 'Z');
      return d * 1000;
    }
    case 1184:
      return v instanceof Date ? v.toISOString() : String(v);
    case 114:
    case 3802:
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 17:
      return Buffer.isBuffer(v) ? v : Buffer.from(String(v).replace(/^\\x/, ''), 'hex');
    case 16:
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
      return v;
    default:
      return typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

interface TableShape {
  schema: string;
  table: string;
  columns: { name: string; typeOid: number; optional: boolean }[];
  keyColumns: string[];
}

function buildSchemas(prefix: string, t: TableShape) {
  const base = `${prefix}.${t.schema}.${t.table}`;
  const valueFields: Field[] = t.columns.map((c) => ({ field: c.name, ...columnSchema(c.typeOid, c.optional) }));
  const rowSchema: Schema = { type: 'struct', optional: true, name: `${base}.Value`, fields: valueFields };
  const keySchema: Schema | null = t.keyColumns.length
    ? { type: 'struct', optional: false, name: `${base}.Key`, fields: valueFields.filter((f) => t.keyColumns.includes(f.field)).map((f) => ({ ...f, optional: false })) }
    : null;
  const sourceSchema: Schema = {
    type: 'struct',
    optional: false,
    name: 'io.debezium.connector.postgresql.Source',
    fields: [
      { field: 'version', type: 'string', optional: false },
      { field: 'connector', type: 'string', optional: false },
      { field: 'name', type: 'string', optional: false },
      { field: 'ts_ms', type: 'int64', optional: false },
      { field: 'snapshot', type: 'string', optional: true },
      { field: 'db', type: 'string', optional: false },
      { field: 'sequence', type: 'string', optional: true },
      { field: 'schema', type: 'string', optional: false },
      { field: 'table', type: 'string', optional: false },
      { field: 'txId', type: 'int64', optional: true },
      { field: 'lsn', type: 'int64', optional: true },
      { field: 'xmin', type: 'int64', optional: true },
    ],
  };
  const envelope: Schema = {
    type: 'struct',
    optional: false,
    name: `${base}.Envelope`,
    version: 1,
    fields: [
      { field: 'before', ...rowSchema },
      { field: 'after', ...rowSchema },
      { field: 'source', ...sourceSchema },
      { field: 'op', type: 'string', optional: false },
      { field: 'ts_ms', type: 'int64', optional: true },
      { field: 'transaction', type: 'struct', optional: true, fields: [
        { field: 'id', type: 'string', optional: false },
        { field: 'total_order', type: 'int64', optional: false },
        { field: 'data_collection_order', type: 'int64', optional: false },
      ] },
    ],
  };
  return { keySchema, envelope, topic: base };
}

function lsnToNumber(lsn: string | null): number | null {
  if (!lsn) return null;
  const [hi, lo] = lsn.split('/');
  return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16);
}

function quoteIdent(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"';
}

class PostgresCdcTask implements SourceTask {
  private cfg!: Config;
  private prefix = '';
  private dbname = '';
  private clientConfig!: pg.ClientConfig;
  private include: RegExp[] = [];
  private exclude: RegExp[] = [];
  private queue: SourceRecord[] = [];
  private spaceWaiters: (() => void)[] = [];
  private dataWaiters: (() => void)[] = [];
  private maxQueue = 8192;
  private maxBatch = 2048;
  private failure: Error | null = null;
  private service: LogicalReplicationService | null = null;
  private stopped = false;
  private started: Promise<void> = Promise.resolve();
  // Acknowledgement bookkeeping: records handed out vs. acknowledged by Kafka, and the commit LSN
  // that becomes safe to confirm once every record emitted before it is acknowledged.
  private emitted = 0;
  private acked = 0;
  private txnEnds: { index: number; lsn: string }[] = [];
  private ackable: string | null = null;
  private confirmed: string | null = null;
  private inTxn = false;
  private txn: { xid: number; commitLsn: string | null; commitTime: number } | null = null;
  private relations = new Map<number, TableShape>();

  start(config: Record<string, string>, context: SourceTaskContext): void {
    this.cfg = new Config(CONFIG, config);
    this.prefix = this.cfg.string('topic.prefix');
    this.dbname = this.cfg.string('database.dbname');
    this.maxQueue = this.cfg.int('max.queue.size');
    this.maxBatch = this.cfg.int('max.batch.size');
    this.include = this.cfg.list('table.include.list').map((r) => new RegExp(`^(?:${r})$`));
    this.exclude = this.cfg.list('table.exclude.list').map((r) => new RegExp(`^(?:${r})$`));
    this.clientConfig = {
      host: this.cfg.string('database.hostname'),
      port: this.cfg.int('database.port'),
      user: this.cfg.string('database.user'),
      password: this.cfg.optString('database.password'),
      database: this.dbname,
    };
    const offset = context.offset({ server: this.prefix });
    this.started = this.run(offset).catch((err: Error) => {
      this.failure = err;
      this.wakeData();
    });
  }

  private included(schema: string, table: string): boolean {
    const name = `${schema}.${table}`;
    if (this.exclude.some((r) => r.test(name))) return false;
    return this.include.length === 0 || this.include.some((r) => r.test(name));
  }

  private async run(offset: Record<string, unknown> | null): Promise<void> {
    const slot = this.cfg.string('slot.name');
    const publication = this.cfg.string('publication.name');
    const mode = this.cfg.string('snapshot.mode');
    const client = new pg.Client(this.clientConfig);
    await client.connect();
    let tables: { schema: string; table: string }[];
    let slotExists: boolean;
    try {
      const res = await client.query<{ schema: string; table: string }>(
        `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
      );
      tables = res.rows.filter((r) => this.included(r.schema, r.table));
      const pub = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
      const autocreate = this.cfg.string('publication.autocreate.mode');
      if (pub.rowCount === 0) {
        if (autocreate === 'disabled') throw new Error(`Publication ${publication} does not exist and publication.autocreate.mode is disabled`);
        const target = autocreate === 'filtered' ? 'FOR TABLE ' + tables.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`).join(', ') : 'FOR ALL TABLES';
        await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} ${target}`);
      }
      slotExists = ((await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount ?? 0) > 0;
      const snapshotDone = offset?.['snapshot_completed'] === true || (offset !== null && offset['snapshot'] !== true);
      const wantSnapshot = mode === 'always' || ((mode === 'initial' || mode === 'initial_only') && !snapshotDone);
      if (slotExists && wantSnapshot) {
        // A snapshot that never completed: start over from a fresh slot and snapshot.
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
        slotExists = false;
      }
      if (!slotExists) {
        const repl = new pg.Client({ ...this.clientConfig, replication: 'database' } as pg.ClientConfig);
        await repl.connect();
        try {
          const created = await repl.query(`CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
          const row = created.rows[0] as { consistent_point: string; snapshot_name: string };
          if (wantSnapshot) await this.snapshot(client, tables, row.snapshot_name, row.consistent_point);
        } finally {
          await repl.end().catch(() => {});
        }
      }
    } finally {
      await client.end().catch(() => {});
    }
    if (mode === 'initial_only' || this.stopped) return;
    await this.stream(slot, publication);
  }

  private async snapshot(client: pg.Client, tables: { schema: string; table: string }[], snapshotName: string, lsn: string): Promise<void> {
    const fetchSize = this.cfg.int('snapshot.fetch.size');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
    const now = Date.now();
    let pendingLast: SourceRecord | null = null;
    for (let ti = 0; ti < tables.length && !this.stopped; ti++) {
      const { schema, table } = tables[ti]!;
      const keyRes = await client.query<{ attname: string }>(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
        [`${quoteIdent(schema)}.${quoteIdent(table)}`],
      );
      const nullRes = await client.query<{ column_name: string; is_nullable: string }>(
        'SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [schema, table],
      );
      const nullable = new Map(nullRes.rows.map((r) => [r.column_name, r.is_nullable === 'YES']));
      await client.query(`DECLARE snap NO SCROLL CURSOR FOR SELECT * FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
      let shape: TableShape | null = null;
      for (;;) {
        const res = await client.query(`FETCH ${fetchSize} FROM snap`);
        shape ??= {
          schema,
          table,
          columns: res.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID, optional: nullable.get(f.name) ?? true })),
          keyColumns: keyRes.rows.map((r) => r.attname),
        };
        for (const row of res.rows as Record<string, unknown>[]) {
          if (pendingLast) await this.push(pendingLast);
          pendingLast = this.event(shape, 'r', null, row, { lsn, txId: null, ts: now, snapshot: 'true' });
          pendingLast.sourceOffset = { lsn: lsnToNumber(lsn), snapshot: true, last_snapshot_record: false };
        }
        if (res.rows.length < fetchSize || this.stopped) break;
      }
      await client.query('CLOSE snap');
    }
    await client.query('COMMIT');
    if (this.stopped) return;
    if (pendingLast) {
      const v = pendingLast.value as { source: { snapshot: string } };
      v.source.snapshot = 'last';
      pendingLast.sourceOffset = { lsn: lsnToNumber(lsn), lsn_commit: lsn, snapshot_completed: true };
      await this.push(pendingLast);
    }
    // No rows: nothing to record; a restart before the first change simply snapshots again.
  }

  private event(
    t: TableShape,
    op: 'c' | 'u' | 'd' | 'r',
    before: Record<string, unknown> | null,
    after: Record<string, unknown> | null,
    src: { lsn: string | null; txId: number | null; ts: number; snapshot: string },
  ): SourceRecord {
    const { keySchema, envelope, topic } = buildSchemas(this.prefix, t);
    const conv = (row: Record<string, unknown> | null) => {
      if (!row) return null;
      const out: Record<string, unknown> = {};
      for (const c of t.columns) out[c.name] = columnValue(c.typeOid, row[c.name]);
      return out;
    };
    const b = conv(before);
    const a = conv(after);
    const keyRow = a ?? b;
    const key = keySchema && keyRow ? Object.fromEntries(t.keyColumns.map((k) => [k, keyRow[k] ?? null])) : null;
    return {
      topic,
      keySchema,
      key,
      valueSchema: envelope,
      value: {
        before: b,
        after: a,
        source: {
          version: CONNECT_VERSION,
          connector: 'postgresql',
          name: this.prefix,
          ts_ms: src.ts,
          snapshot: src.snapshot,
          db: this.dbname,
          sequence: null,
          schema: t.schema,
          table: t.table,
          txId: src.txId,
          lsn: lsnToNumber(src.lsn),
          xmin: null,
        },
        op,
        ts_ms: Date.now(),
        transaction: null,
      },
      sourcePartition: { server: this.prefix },
      sourceOffset: {},
    };
  }

  private async push(record: SourceRecord): Promise<void> {
    while (this.queue.length >= this.maxQueue && !this.stopped) await new Promise<void>((r) => this.spaceWaiters.push(r));
    this.queue.push(record);
    this.emitted++;
    this.wakeData();
  }

  private wakeData(): void {
    for (const w of this.dataWaiters.splice(0)) w();
  }

  private async stream(slot: string, publication: string): Promise<void> {
    const service = new LogicalReplicationService(this.clientConfig, {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: true },
    });
    this.service = service;
    service.on('error', (err: Error) => {
      if (!this.stopped) {
        this.failure = err;
        this.wakeData();
      }
    });
    service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
      // Idle and caught up: nothing unacknowledged, so the slot may advance to the server's position.
      // (Records of other tables are filtered out, so without this the slot would hold WAL forever.)
      // Keepalives bypass the library's flow-control queue, so changes may still be waiting in it:
      // only an empty queue means everything up to the keepalive's position was seen.
      const internals = service as unknown as { _messageQueue?: unknown[]; _processing?: boolean };
      const drained = (internals._messageQueue?.length ?? 0) === 0 && !internals._processing;
      if (drained && !this.inTxn && this.acked === this.emitted && this.txnEnds.length === 0 && lsnToNumber(lsn)! > (lsnToNumber(this.ackable) ?? 0)) {
        this.ackable = lsn;
      }
      if (this.ackable && this.ackable !== this.confirmed) void this.confirm();
      else if (shouldRespond && this.confirmed) void service.acknowledge(this.confirmed);
    });
    service.on('data', async (lsn: string, msg: Pgoutput.Message) => {
      await this.onMessage(lsn, msg);
    });
    void service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] }), slot).catch((err: Error) => {
      if (!this.stopped) {
        this.failure = err;
        this.wakeData();
      }
    });
  }

  private shapeOf(rel: Pgoutput.MessageRelation): TableShape {
    return {
      schema: rel.schema,
      table: rel.name,
      columns: rel.columns.map((c) => ({ name: c.name, typeOid: c.typeOid, optional: (c.flags & 1) === 0 })),
      keyColumns: rel.keyColumns,
    };
  }

  private async onMessage(_lsn: string, msg: Pgoutput.Message): Promise<void> {
    switch (msg.tag) {
      case 'begin':
        this.inTxn = true;
        this.txn = { xid: msg.xid, commitLsn: msg.commitLsn, commitTime: Number(msg.commitTime) / 1000 };
        return;
      case 'relation':
        this.relations.set(msg.relationOid, this.shapeOf(msg));
        return;
      case 'commit': {
        this.inTxn = false;
        const end = msg.commitEndLsn ?? msg.commitLsn;
        if (end) {
          this.txnEnds.push({ index: this.emitted, lsn: end });
          this.advanceAckable();
        }
        this.txn = null;
        return;
      }
      case 'insert':
      case 'update':
      case 'delete': {
        const t = this.shapeOf(msg.relation);
        if (!this.included(t.schema, t.table)) return;
        const txn = this.txn;
        const src = { lsn: txn?.commitLsn ?? null, txId: txn?.xid ?? null, ts: Math.round(txn?.commitTime ?? Date.now()), snapshot: 'false' };
        const offset = { lsn: lsnToNumber(txn?.commitLsn ?? null), lsn_commit: txn?.commitLsn ?? null, txId: txn?.xid ?? null, ts_usec: Math.round((txn?.commitTime ?? 0) * 1000) };
        let rec: SourceRecord;
        if (msg.tag === 'insert') rec = this.event(t, 'c', null, msg.new, src);
        else if (msg.tag === 'update') rec = this.event(t, 'u', msg.old ?? null, msg.new, src);
        else {
          const before = msg.old ?? msg.key;
          // With REPLICA IDENTITY DEFAULT only key columns are known; the rest are null as in Debezium.
          rec = this.event(t, 'd', before ? { ...Object.fromEntries(t.columns.map((c) => [c.name, null])), ...before } : null, null, src);
        }
        rec.sourceOffset = offset;
        await this.push(rec);
        if (msg.tag === 'delete' && this.cfg.bool('tombstones.on.delete') && rec.key !== null) {
          await this.push({ ...rec, valueSchema: null, value: null, sourceOffset: offset });
        }
        return;
      }
      default:
        return;
    }
  }

  private advanceAckable(): void {
    while (this.txnEnds.length && this.txnEnds[0]!.index <= this.acked) this.ackable = this.txnEnds.shift()!.lsn;
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[] | null> {
    if (this.failure) throw this.failure;
    if (this.queue.length === 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, 500);
        this.dataWaiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
      if (this.failure) throw this.failure;
    }
    const batch = this.queue.splice(0, this.maxBatch);
    for (const w of this.spaceWaiters.splice(0)) w();
    return batch;
  }

  commitRecord(): void {
    this.acked++;
    this.advanceAckable();
  }

  async commit(): Promise<void> {
    await this.confirm();
  }

  private async confirm(): Promise<void> {
    if (this.ackable && this.ackable !== this.confirmed && this.service) {
      this.confirmed = this.ackable;
      await this.service.acknowledge(this.ackable);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.spaceWaiters.splice(0)) w();
    this.wakeData();
    await this.started.catch(() => {});
    await this.service?.destroy().catch(() => {});
  }
}

export const postgresCdcPlugin: ConnectorPlugin = {
  className: 'io.debezium.connector.postgresql.PostgresConnector',
  aliases: ['PostgresConnector'],
  type: 'source',
  version: CONNECT_VERSION,
  config: CONFIG,
  createConnector: () =>
    simpleConnector((config, _maxTasks) => {
      // One replication slot streams the whole database in commit order: one task, as in Debezium.
      return [{ ...config }];
    },
    (config) => {
      const errors: Record<string, string[]> = {};
      for (const r of splitList(config['table.include.list'])) {
        try {
          new RegExp(r);
        } catch {
          errors['table.include.list'] = [`Invalid regular expression: ${r}`];
        }
      }
      if (config['tasks.max'] && Number(config['tasks.max']) > 1) errors['tasks.max'] = ['Only a single connector task may be started'];
      return errors;
    }),
  createTask: () => new PostgresCdcTask(),
};
