// HTTP sink (Confluent HttpSinkConnector keys): record values POSTed as JSON arrays in batches,
// retried with exponential backoff; behavior.on.null.values and behavior.on.error as Confluent's.
import { setTimeout as sleep } from 'node:timers/promises';
import { Config } from '../config-def.js';
import type { ConfigDef, ConnectorPlugin, SinkRecord, SinkTask } from '../sdk.js';
import { simpleConnector, CONNECT_VERSION, DataError } from '../sdk.js';

const CONFIG: ConfigDef = {
  'http.api.url': { type: 'string', importance: 'high', documentation: 'URL the records are sent to.' },
  'request.method': { type: 'string', default: 'POST', validValues: ['POST', 'PUT', 'PATCH'], importance: 'medium' },
  headers: { type: 'string', default: '', importance: 'low', documentation: 'name:value pairs separated by |' },
  'batch.max.size': { type: 'int', default: 1, min: 1, importance: 'medium' },
  'batch.json.as.array': { type: 'boolean', default: true, importance: 'low' },
  'max.retries': { type: 'int', default: 10, min: 0, importance: 'medium' },
  'retry.backoff.ms': { type: 'int', default: 3000, min: 0, importance: 'medium' },
  'request.timeout.ms': { type: 'int', default: 30000, min: 1, importance: 'low' },
  'behavior.on.null.values': { type: 'string', default: 'ignore', validValues: ['ignore', 'fail', 'log'], importance: 'medium' },
  'behavior.on.error': { type: 'string', default: 'fail', validValues: ['fail', 'ignore', 'log'], importance: 'medium' },
};

class HttpSinkTask implements SinkTask {
  private cfg!: Config;
  private headers: Record<string, string> = {};
  start(config: Record<string, string>): void {
    this.cfg = new Config(CONFIG, config);
    for (const pair of (this.cfg.optString('headers') ?? '').split('|').filter(Boolean)) {
      const i = pair.indexOf(':');
      if (i > 0) this.headers[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
  }

  private async send(values: unknown[]): Promise<void> {
    const body = this.cfg.bool('batch.json.as.array') || values.length > 1 ? JSON.stringify(values) : JSON.stringify(values[0]);
    const retries = this.cfg.int('max.retries');
    let backoff = this.cfg.int('retry.backoff.ms');
    for (let attempt = 0; ; attempt++) {
      let problem: string;
      try {
        const res = await fetch(this.cfg.string('http.api.url'), {
          method: this.cfg.string('request.method'),
          headers: { 'content-type': 'application/json', ...this.headers },
          body,
          signal: AbortSignal.timeout(this.cfg.int('request.timeout.ms')),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        problem = `HTTP ${res.status} from ${this.cfg.string('http.api.url')}`;
        if (res.status < 500 && res.status !== 429) attempt = retries; // client errors are not retried
      } catch (err) {
        problem = (err as Error).message;
      }
      if (attempt >= retries) {
        const mode = this.cfg.string('behavior.on.error');
        if (mode === 'fail') throw new Error(`HTTP sink gave up after ${attempt + 1} attempt(s): ${problem}`);
        if (mode === 'log') console.error(`http sink: dropped ${values.length} record(s): ${problem}`);
        return;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 60_000);
    }
  }

  async put(records: SinkRecord[]): Promise<void> {
    const values: unknown[] = [];
    for (const r of records) {
      if (r.value === null || r.value === undefined) {
        const mode = this.cfg.string('behavior.on.null.values');
        if (mode === 'fail') throw new DataError(`Null value in ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} and behavior.on.null.values=fail`);
        if (mode === 'log') console.error(`http sink: ignored null value at ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset}`);
        continue;
      }
      values.push(Buffer.isBuffer(r.value) ? r.value.toString('utf8') : r.value);
    }
    const size = this.cfg.int('batch.max.size');
    for (let i = 0; i < values.length; i += size) await this.send(values.slice(i, i + size));
  }

  stop(): void {}
}

export const httpSinkPlugin: ConnectorPlugin = {
  className: 'io.confluent.connect.http.HttpSinkConnector',
  aliases: ['HttpSinkConnector'],
  type: 'sink',
  version: CONNECT_VERSION,
  config: CONFIG,
  createConnector: () =>
    simpleConnector((config, maxTasks) => {
      return Array.from({ length: maxTasks }, () => ({ ...config }));
    }),
  createTask: () => new HttpSinkTask(),
};
