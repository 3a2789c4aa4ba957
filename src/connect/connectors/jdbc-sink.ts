// Postgres sink with Confluent's JdbcSinkConnector class and keys: rows inserted or upserted
// (INSERT … ON CONFLICT, so replays are idempotent), deletes on tombstones, tables created and
// evolved from the record schema (or a schema inferred from schemaless JSON).
import pg from 'pg';
import { Config } from '../config-def.js';
import { inferSchema } from '../converters.js';
import type { ConfigDef, ConnectorPlugin, Schema, SinkRecord, SinkTask } from '../sdk.js';
import { simpleConnector, CONNECT_VERSION, DataError } from '../sdk.js';

const CONFIG: ConfigDef = {
  'connection.url': { type: 'string', importance: 'high', documentation: 'jdbc:postgresql://host:port/db[?user=…&password=…]' },
  'connection.user': { type: 'string', default: null, importance: 'high' },
  'connection.password': { type: 'password', default: null, importance: 'high' },
  'insert.mode': { type: 'string', default: 'insert', validValues: ['insert', 'upsert', 'update'], importance: 'high' },
  'pk.mode': { type: 'string', default: 'none', validValues: ['none', 'kafka', 'record_key', 'record_value'], importance: 'high' },
  'pk.fields': { type: 'list', default: '', importance: 'medium' },
  'fields.whitelist': { type: 'list', default: '', importance: 'medium' },
  'delete.enabled': { type: 'boolean', default: false, importance: 'medium' },
  'auto.create': { type: 'boolean', default: false, importance: 'medium' },
  'auto.evolve': { type: 'boolean', default: false, importance: 'medium' },
  'batch.size': { type: 'int', default: 3000, min: 1, importance: 'medium' },
  'table.name.format': { type: 'string', default: '${topic}', importance: 'medium' },
};

function parseJdbcUrl(url: string): pg.ClientConfig {
  const m = /^jdbc:postgresql:\/\/([^:/?]+)(?::(\d+))?\/([^?]*)(?:\?(.*))?$/.exec(url);
  if (!m) throw new DataError(`Unsupported connection.url ${url}: expected jdbc:postgresql://host:port/database`);
  const params = new URLSearchParams(m[4] ?? '');
  return {
    host: m[1],
    port: m[2] ? Number(m[2]) : 5432,
    database: decodeURIComponent(m[3]!),
    user: params.get('user') ?? undefined,
    password: params.get('password') ?? undefined,
  };
}

function sqlType(s: Schema): string {
  switch (s.type) {
    case 'int8':
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'float32':
      return 'REAL';
    case 'float64':
      return 'DOUBLE PRECISION';
    case 'boolean':
      return 'BOOLEAN';
    case 'bytes':
      return 'BYTEA';
    case 'string':
      return 'TEXT';
    default:
      return 'JSONB';
  }
}

const q = (s: string) => '"' + s.replace(/"/g, '""') + '"';

function sqlValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

interface Row {
  table: string;
  pk: Record<string, unknown>;
  /** null = delete */
  values: Record<string, unknown> | null;
  schema: Schema | null;
}

class JdbcSinkTask implements SinkTask {
  private cfg!: Config;
  private client!: pg.Client;
  private knownColumns = new Map<string, Set<string>>();

  async start(config: Record<string, string>): Promise<void> {
    this.cfg = new Config(CONFIG, config);
    const conn = parseJdbcUrl(this.cfg.string('connection.url'));
    if (this.cfg.optString('connection.user')) conn.user = this.cfg.string('connection.user');
    if (this.cfg.optString('connection.password')) conn.password = this.cfg.string('connection.password');
    this.client = new pg.Client(conn);
    this.client.on('error', () => {});
    await this.client.connect();
  }

  private tableName(topic: string): string {
    return this.cfg.string('table.name.format').replace('${topic}', topic);
  }

  /** "a.b.c" → "b"."c" (a database-qualified name: the connection picks the database). */
  private qualified(table: string): { sql: string; schema: string; name: string } {
    const parts = table.split('.');
    const name = parts[parts.length - 1]!;
    const schema = parts.length >= 2 ? parts[parts.length - 2]! : 'public';
    return { sql: `${q(schema)}.${q(name)}`, schema, name };
  }

  private toRow(r: SinkRecord): Row | null {
    const pkMode = this.cfg.string('pk.mode');
    const pkFields = this.cfg.list('pk.fields');
    const table = this.tableName(r.topic);
    const pk: Record<string, unknown> = {};
    if (pkMode === 'kafka') {
      const [t, p, o] = pkFields.length === 3 ? pkFields : ['__connect_topic', '__connect_partition', '__connect_offset'];
      pk[t!] = r.topic;
      pk[p!] = r.kafkaPartition;
      pk[o!] = Number(r.kafkaOffset);
    } else if (pkMode === 'record_key') {
      if (r.key === null || r.key === undefined) throw new DataError(`Sink connector requires records with a non-null key with pk.mode=record_key (topic ${r.topic}, offset ${r.kafkaOffset})`);
      if (typeof r.key === 'object' && !Buffer.isBuffer(r.key)) {
        const key = r.key as Record<string, unknown>;
        for (const f of pkFields.length ? pkFields : Object.keys(key)) pk[f] = key[f] ?? null;
      } else {
        pk[pkFields[0] ?? '__connect_key'] = r.key;
      }
    }
    if (r.value === null || r.value === undefined) {
      if (!this.cfg.bool('delete.enabled')) return null;
      if (pkMode !== 'record_key') throw new DataError('Deletes (delete.enabled=true) require pk.mode=record_key');
      return { table, pk, values: null, schema: null };
    }
    if (typeof r.value !== 'object' || Array.isArray(r.value) || Buffer.isBuffer(r.value)) {
      throw new DataError(`Sink connector expects struct (object) values, got ${Array.isArray(r.value) ? 'array' : typeof r.value} at ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset}`);
    }
    let values = { ...(r.value as Record<string, unknown>) };
    const whitelist = this.cfg.list('fields.whitelist');
    if (whitelist.length) values = Object.fromEntries(Object.entries(values).filter(([k]) => whitelist.includes(k)));
    if (pkMode === 'record_value') for (const f of pkFields) pk[f] = values[f] ?? null;
    let schema = r.valueSchema && r.valueSchema.type === 'struct' ? r.valueSchema : inferSchema(values);
    // Key columns from the key schema (record_key / kafka) join the value's columns.
    const extra: Schema['fields'] = [];
    for (const [k, v] of Object.entries(pk)) {
      if (!(k in values)) {
        values[k] = v;
        const ks = r.keySchema?.fields?.find((f) => f.field === k);
        extra.push(ks ? { ...ks, field: k } : { field: k, ...(inferSchema(v) ?? { type: 'string' }) });
      }
    }
    if (schema?.fields) schema = { ...schema, fields: [...extra, ...schema.fields.filter((f) => !whitelist.length || whitelist.includes(f.field))] };
    return { table, pk, values, schema };
  }

  private async ensureTable(row: Row, pkCols: string[]): Promise<void> {
    if (!row.values || !row.schema?.fields) return;
    const t = this.qualified(row.table);
    let cols = this.knownColumns.get(row.table);
    if (!cols) {
      const res = await this.client.query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [t.schema, t.name]);
      cols = new Set(res.rows.map((r) => r.column_name));
      if (cols.size === 0) {
        if (!this.cfg.bool('auto.create')) throw new DataError(`Table ${t.sql} is missing and auto.create is disabled`);
        const defs = row.schema.fields.map((f) => `${q(f.field)} ${sqlType(f)}${pkCols.includes(f.field) || f.optional === false ? ' NOT NULL' : ''}`);
        if (pkCols.length) defs.push(`PRIMARY KEY (${pkCols.map(q).join(', ')})`);
        await this.client.query(`CREATE TABLE IF NOT EXISTS ${t.sql} (${defs.join(', ')})`);
        cols = new Set(row.schema.fields.map((f) => f.field));
      }
      this.knownColumns.set(row.table, cols);
    }
    const missing = row.schema.fields.filter((f) => !cols!.has(f.field));
    if (missing.length) {
      if (!this.cfg.bool('auto.evolve')) throw new DataError(`Table ${t.sql} is missing fields (${missing.map((f) => f.field).join(', ')}) and auto.evolve is disabled`);
      for (const f of missing) {
        await this.client.query(`ALTER TABLE ${t.sql} ADD COLUMN IF NOT EXISTS ${q(f.field)} ${sqlType(f)}`);
        cols.add(f.field);
      }
    }
  }

  private async writeUpserts(table: string, rows: Row[], pkCols: string[]): Promise<void> {
    if (rows.length === 0) return;
    const mode = this.cfg.string('insert.mode');
    const t = this.qualified(table);
    const batchSize = this.cfg.int('batch.size');
    for (let i = 0; i < rows.length; i += batchSize) {
      const chunk = rows.slice(i, i + batchSize);
      const columns = [...new Set(chunk.flatMap((r) => Object.keys(r.values!)))];
      if (mode === 'update') {
        for (const r of chunk) {
          const set = columns.filter((c) => !pkCols.includes(c));
          const params = [...set.map((c) => sqlValue(r.values![c])), ...pkCols.map((c) => sqlValue(r.pk[c]))];
          await this.client.query(
            `UPDATE ${t.sql} SET ${set.map((c, j) => `${q(c)} = $${j + 1}`).join(', ')} WHERE ${pkCols.map((c, j) => `${q(c)} = $${set.length + j + 1}`).join(' AND ')}`,
            params,
          );
        }
        continue;
      }
      const params: unknown[] = [];
      const tuples = chunk.map((r) => '(' + columns.map((c) => (params.push(sqlValue(r.values![c])), `$${params.length}`)).join(', ') + ')');
      let sql = `INSERT INTO ${t.sql} (${columns.map(q).join(', ')}) VALUES ${tuples.join(', ')}`;
      if (mode === 'upsert') {
        if (!pkCols.length) throw new DataError('insert.mode=upsert requires a pk.mode other than none');
        const nonPk = columns.filter((c) => !pkCols.includes(c));
        sql += ` ON CONFLICT (${pkCols.map(q).join(', ')}) DO ` + (nonPk.length ? `UPDATE SET ${nonPk.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}` : 'NOTHING');
      }
      await this.client.query(sql, params);
    }
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    // Last write per key wins inside a batch; a delete flushes the table's pending upserts first,
    // so the table ends as if every record had been applied one by one.
    const pending = new Map<string, Map<string, Row>>();
    const pkColsOf = new Map<string, string[]>();
    await this.client.query('BEGIN');
    try {
      const flushTable = async (table: string) => {
        const rows = pending.get(table);
        if (!rows || rows.size === 0) return;
        pending.delete(table);
        await this.writeUpserts(table, [...rows.values()], pkColsOf.get(table) ?? []);
      };
      for (const r of records) {
        const row = this.toRow(r);
        if (!row) continue;
        const pkCols = Object.keys(row.pk);
        pkColsOf.set(row.table, pkCols);
        if (row.values === null) {
          await flushTable(row.table);
          const t = this.qualified(row.table);
          if (this.knownColumns.get(row.table)?.size === 0) continue;
          await this.client.query(
            `DELETE FROM ${t.sql} WHERE ${pkCols.map((c, j) => `${q(c)} = $${j + 1}`).join(' AND ')}`,
            pkCols.map((c) => sqlValue(row.pk[c])),
          ).catch((err: Error & { code?: string }) => {
            if (err.code !== '42P01') throw err; // table does not exist yet: nothing to delete
          });
          continue;
        }
        const known = this.knownColumns.get(row.table);
        if (!known || row.schema?.fields?.some((f) => !known.has(f.field))) {
          await flushTable(row.table);
          await this.ensureTable(row, pkCols);
        }
        let rows = pending.get(row.table);
        if (!rows) pending.set(row.table, (rows = new Map()));
        const key = pkCols.length ? JSON.stringify(pkCols.map((c) => sqlValue(row.pk[c]))) : String(rows.size);
        rows.delete(key);
        rows.set(key, row);
      }
      for (const table of [...pending.keys()]) await flushTable(table);
      await this.client.query('COMMIT');
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => {});
      this.knownColumns.clear();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => {});
  }
}

export const jdbcSinkPlugin: ConnectorPlugin = {
  className: 'io.confluent.connect.jdbc.JdbcSinkConnector',
  aliases: ['JdbcSinkConnector'],
  type: 'sink',
  version: CONNECT_VERSION,
  config: CONFIG,
  createConnector: () =>
    simpleConnector((config, maxTasks) => {
      return Array.from({ length: maxTasks }, () => ({ ...config }));
    },
    (config) => {
      const errors: Record<string, string[]> = {};
      try {
        if (config['connection.url']) parseJdbcUrl(config['connection.url']);
      } catch (err) {
        errors['connection.url'] = [(err as Error).message];
      }
      if (config['delete.enabled'] === 'true' && config['pk.mode'] !== 'record_key') errors['delete.enabled'] = ['Deletes are only supported for pk.mode record_key'];
      if (config['insert.mode'] === 'upsert' && (config['pk.mode'] ?? 'none') === 'none') errors['insert.mode'] = ['insert.mode=upsert requires pk.mode other than none'];
      return errors;
    }),
  createTask: () => new JdbcSinkTask(),
};
