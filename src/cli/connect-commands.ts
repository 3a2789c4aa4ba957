// `fjord connect`: run a Connect worker, or manage connectors through a worker's REST API.
import { readFile } from 'node:fs/promises';
import { allFlags, lastFlag, parseArgs, UsageError } from './args.js';
import { CliError } from './globals.js';

export const connectUsage = `fjord connect --bootstrap HOST:PORT --group-id G [--listen HOST:PORT] [--config key=value]... [--plugin-path DIR]
    run a Connect worker (REST API on --listen, default 127.0.0.1:8083)

fjord connect [--url http://HOST:8083] [--json] <list | create FILE | status C | pause C | resume C | stop C
              | restart C [--include-tasks] [--only-failed] | delete C | offsets C>
    manage connectors through a worker (env FJORD_CONNECT_URL, default http://127.0.0.1:8083)

FILE is Kafka Connect's JSON ({"name": ..., "config": {...}}) or a flat config with "name".`;

const SUBCOMMANDS = new Set(['list', 'create', 'status', 'pause', 'resume', 'stop', 'restart', 'delete', 'offsets']);

export async function connectCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, {
    '--bootstrap': true,
    '-b': true,
    '--group-id': true,
    '--listen': true,
    '--config': true,
    '-c': true,
    '--plugin-path': true,
    '--worker-id': true,
    '--url': true,
    '--json': false,
    '--include-tasks': false,
    '--only-failed': false,
  });
  const sub = args.positional[0];
  if (sub === undefined || !SUBCOMMANDS.has(sub)) {
    if (sub !== undefined) throw new UsageError(`unknown connect subcommand "${sub}"\n\n${connectUsage}`);
    await runWorker(args);
    return;
  }
  const base = (lastFlag(args, '--url') ?? process.env.FJORD_CONNECT_URL ?? 'http://127.0.0.1:8083').replace(/\/$/, '');
  const json = args.flags.has('--json');
  const name = args.positional[1];
  const needName = () => {
    if (!name) throw new UsageError(`fjord connect ${sub} needs a connector name`);
    return encodeURIComponent(name);
  };
  let res: unknown;
  switch (sub) {
    case 'list':
      res = await call(base, 'GET', '/connectors?expand=status');
      if (!json) {
        const rows = Object.entries(res as Record<string, { status: { connector: { state: string }; tasks: { state: string }[]; type: string } }>);
        for (const [n, v] of rows) {
          process.stdout.write(`${n}\t${v.status.type}\t${v.status.connector.state}\ttasks: ${v.status.tasks.map((t) => t.state).join(',') || '-'}\n`);
        }
        return;
      }
      break;
    case 'create': {
      const file = args.positional[1];
      if (!file) throw new UsageError('fjord connect create needs a JSON file');
      const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      const body = doc.config && typeof doc.config === 'object' ? doc : { name: doc.name, config: doc };
      res = await call(base, 'POST', '/connectors', body);
      break;
    }
    case 'status':
      res = await call(base, 'GET', `/connectors/${needName()}/status`);
      break;
    case 'pause':
    case 'resume':
    case 'stop':
      await call(base, 'PUT', `/connectors/${needName()}/${sub}`);
      res = { name, requested: sub };
      break;
    case 'restart': {
      const q = `includeTasks=${args.flags.has('--include-tasks')}&onlyFailed=${args.flags.has('--only-failed')}`;
      res = (await call(base, 'POST', `/connectors/${needName()}/restart?${q}`)) ?? { name, requested: 'restart' };
      break;
    }
    case 'delete':
      await call(base, 'DELETE', `/connectors/${needName()}`);
      res = { name, deleted: true };
      break;
    case 'offsets':
      res = await call(base, 'GET', `/connectors/${needName()}/offsets`);
      break;
  }
  process.stdout.write(JSON.stringify(res, null, json ? undefined : 2) + '\n');
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach the Connect worker at ${base}: ${(err as Error).message}`, 1);
  }
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const msg = (parsed as { message?: string } | null)?.message ?? `HTTP ${res.status}`;
    throw new CliError(`${method} ${path}: ${res.status} ${msg}`, 1);
  }
  return parsed;
}

async function runWorker(args: ReturnType<typeof parseArgs>): Promise<void> {
  const bootstrap = lastFlag(args, '--bootstrap', '-b') ?? process.env.FJORD_BOOTSTRAP ?? 'localhost:9092';
  const groupId = lastFlag(args, '--group-id') ?? 'connect-cluster';
  const listen = lastFlag(args, '--listen') ?? '127.0.0.1:8083';
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  if (!m) throw new UsageError(`expected HOST:PORT in --listen, got "${listen}"`);
  const config: Record<string, string> = {};
  for (const pair of allFlags(args, '--config', '-c')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected key=value in --config, got "${pair}"`);
    config[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const pluginPath = lastFlag(args, '--plugin-path');
  if (pluginPath) config['plugin.path'] = pluginPath;
  const { startWorker } = await import('../connect/index.js');
  const running = await startWorker({
    bootstrap: bootstrap.split(',').map((s) => s.trim()),
    groupId,
    host: m[1]!.replace(/^\[|\]$/g, ''),
    port: Number(m[2]),
    workerId: lastFlag(args, '--worker-id'),
    config,
    log: (msg) => process.stderr.write(`fjord connect: ${msg}\n`),
  });
  process.stdout.write(`fjord connect: worker ${running.worker.workerId} in group ${groupId}, REST API on ${running.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
