// Connector plugins: the built-ins under their Kafka/Debezium/Confluent class names, plus user
// modules named in the worker's `plugin.path` (comma-separated files or directories of .js/.mjs).
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { splitList } from './config-def.js';
import { fileSinkPlugin, fileSourcePlugin } from './connectors/file.js';
import { httpSinkPlugin } from './connectors/http-sink.js';
import { jdbcSinkPlugin } from './connectors/jdbc-sink.js';
import { postgresCdcPlugin } from './connectors/postgres-cdc.js';
import type { ConnectorPlugin } from './sdk.js';

export class PluginRegistry {
  private readonly byName = new Map<string, ConnectorPlugin>();
  readonly all: ConnectorPlugin[] = [];

  constructor() {
    for (const p of [fileSourcePlugin, fileSinkPlugin, postgresCdcPlugin, jdbcSinkPlugin, httpSinkPlugin]) this.add(p);
  }

  add(p: ConnectorPlugin): void {
    this.all.push(p);
    const simple = p.className.split('.').pop()!;
    for (const n of [p.className, simple, ...(p.aliases ?? [])]) this.byName.set(n, p);
  }

  /** By full class name, simple name or alias (Kafka accepts all three). */
  find(name: string | undefined): ConnectorPlugin | undefined {
    return name === undefined ? undefined : this.byName.get(name);
  }

  async loadPluginPath(pluginPath: string | undefined): Promise<void> {
    for (const entry of splitList(pluginPath)) {
      const abs = resolve(entry);
      const files = statSync(abs).isDirectory()
        ? readdirSync(abs)
            .filter((f) => /\.(m?js)$/.test(f))
            .map((f) => join(abs, f))
        : [abs];
      for (const file of files) {
        const mod = (await import(pathToFileURL(file).href)) as { default?: unknown; connectors?: unknown };
        const exported = [mod.default, ...(Array.isArray(mod.connectors) ? mod.connectors : [])].flat();
        for (const p of exported) if (isPlugin(p)) this.add(p);
      }
    }
  }
}

function isPlugin(p: unknown): p is ConnectorPlugin {
  const o = p as ConnectorPlugin | null;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.className === 'string' &&
    (o.type === 'source' || o.type === 'sink') &&
    typeof o.createConnector === 'function' &&
    typeof o.createTask === 'function'
  );
}
