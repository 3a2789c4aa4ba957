// The `fjord` command: broker runners (dev, broker) and Kafka client commands (kcat + Kafka's
// shell scripts in one). Exit codes: 0 ok, 1 operation failed, 2 usage error.
import { UsageError } from './args.js';
import { CliError, GLOBAL_SPEC, setLeadingGlobals } from './globals.js';

interface Command {
  /** Loaded on demand: `fjord topic list` should not compile the broker, nor `fjord dev` the client. */
  load: () => Promise<{ run: (argv: string[]) => Promise<void>; usage: string }>;
  summary: string;
  /** Client commands accept the global -b/--json flags before the command name too. */
  client: boolean;
}

const commands: Record<string, Command> = {
  dev: {
    load: async () => {
      const m = await import('./broker-commands.js');
      return { run: m.devCommand, usage: m.devUsage };
    },
    summary: 'run a local broker with embedded defaults (127.0.0.1:9092, ./.fjord)',
    client: false,
  },
  broker: {
    load: async () => {
      const m = await import('./broker-commands.js');
      return { run: m.brokerCommand, usage: m.brokerUsage };
    },
    summary: 'run a broker: --listen HOST:PORT --data-dir DIR [--node-id N --etcd URL] [--config k=v]',
    client: false,
  },
  topic: {
    load: async () => {
      const m = await import('./topic-commands.js');
      return { run: m.topicCommand, usage: m.topicUsage };
    },
    summary: 'create | list | describe | delete | alter-config | add-partitions',
    client: true,
  },
  produce: {
    load: async () => {
      const m = await import('./produce.js');
      return { run: m.produceCommand, usage: m.produceUsage };
    },
    summary: 'send lines from stdin or a file as records',
    client: true,
  },
  consume: {
    load: async () => {
      const m = await import('./consume.js');
      return { run: m.consumeCommand, usage: m.consumeUsage };
    },
    summary: 'print records (kcat-style --format, --json)',
    client: true,
  },
  group: {
    load: async () => {
      const m = await import('./group-commands.js');
      return { run: m.groupCommand, usage: m.groupUsage };
    },
    summary: 'list | describe | delete | reset-offsets',
    client: true,
  },
  'share-group': {
    load: async () => {
      const m = await import('./share-group-commands.js');
      return { run: m.shareGroupCommand, usage: m.shareGroupUsage };
    },
    summary: 'list | describe | reset-offsets | delete share groups (queues)',
    client: true,
  },
  config: {
    load: async () => {
      const m = await import('./config-commands.js');
      return { run: m.configCommand, usage: m.configUsage };
    },
    summary: 'get | set topic and broker configs',
    client: true,
  },
  user: {
    load: async () => {
      const m = await import('./security-commands.js');
      return { run: m.userCommand, usage: m.userUsage };
    },
    summary: 'create | delete | list SCRAM users',
    client: true,
  },
  acl: {
    load: async () => {
      const m = await import('./security-commands.js');
      return { run: m.aclCommand, usage: m.aclUsage };
    },
    summary: 'create | list | delete ACLs (kafka-acls.sh)',
    client: true,
  },
  cluster: {
    load: async () => {
      const m = await import('./cluster-commands.js');
      return { run: m.clusterCommand, usage: m.clusterUsage };
    },
    summary: 'info: brokers, controller, cluster id',
    client: true,
  },
  registry: {
    load: async () => {
      const m = await import('./registry-commands.js');
      return { run: m.registryCommand, usage: m.registryUsage };
    },
    summary: 'Schema Registry: subjects | get | register | check | config | mode | delete | serve',
    client: true,
  },
  rest: {
    load: async () => {
      const m = await import('./registry-commands.js');
      return { run: m.restCommand, usage: m.restUsage };
    },
    summary: 'run the Kafka REST Proxy (v2, v3) against -b/--bootstrap',
    client: true,
  },
  txn: {
    load: async () => {
      const m = await import('./txn-commands.js');
      return { run: m.txnCommand, usage: m.txnUsage };
    },
    summary: 'list | describe | abort transactions (kafka-transactions.sh)',
    client: true,
  },
  connect: {
    load: async () => {
      const m = await import('./connect-commands.js');
      return { run: m.connectCommand, usage: m.connectUsage };
    },
    summary: 'run a Connect worker, or list | create | status | pause | resume | stop | restart | delete | offsets',
    client: false,
  },
  records: {
    load: async () => {
      const m = await import('./cluster-commands.js');
      return { run: m.recordsCommand, usage: m.recordsUsage };
    },
    summary: 'delete: drop records below an offset',
    client: true,
  },
};

function help(): string {
  const lines = ['usage: fjord [-b HOST:PORT] [--json] <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push(
    '',
    'global options (client commands):',
    '  -b, --bootstrap HOST:PORT[,...]  brokers to contact (env FJORD_BOOTSTRAP, default localhost:9092)',
    '  --json                           machine-readable output',
    '',
    'exit status: 0 ok, 1 operation failed, 2 usage error',
    "fjord <command> --help shows a command's options.",
  );
  return lines.join('\n');
}

let bootstrapForErrors: string | undefined;

async function main(argv: string[]): Promise<void> {
  // Global flags given before the command name move behind it.
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--help' && argv[i] !== '-h') {
    const a = argv[i]!;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (!(name in GLOBAL_SPEC)) throw new UsageError(`unknown option ${name}\n\n${help()}`);
    globals.push(a);
    if (GLOBAL_SPEC[name] && !a.includes('=')) {
      if (argv[i + 1] === undefined) throw new UsageError(`option ${name} needs a value`);
      globals.push(argv[++i]!);
    }
    i++;
  }
  const [name, ...rest] = argv.slice(i);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] && commands[rest[0]]) process.stdout.write((await commands[rest[0]]!.load()).usage + '\n');
    else process.stdout.write(help() + '\n');
    return;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${help()}`);
  if (globals.length && !command.client) throw new UsageError(`fjord ${name} does not take ${globals[0]}`);
  const dashdash = rest.indexOf('--');
  const flagsPart = dashdash >= 0 ? rest.slice(0, dashdash) : rest;
  const loaded = await command.load();
  if (flagsPart.includes('--help') || flagsPart.includes('-h')) {
    process.stdout.write(loaded.usage + '\n');
    return;
  }
  const all = [...globals, ...rest];
  const b = all.findIndex((a) => a === '-b' || a === '--bootstrap');
  bootstrapForErrors = b >= 0 ? all[b + 1] : (all.find((a) => a.startsWith('--bootstrap='))?.slice(12) ?? (process.env.FJORD_BOOTSTRAP || 'localhost:9092'));
  setLeadingGlobals(globals);
  await loaded.run(rest);
}

/** Exits once everything written to stdout/stderr has been handed to the OS (pipes are async). */
function flushThen(exit: () => void): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) exit();
  };
  for (const s of [process.stdout, process.stderr]) {
    if (s.destroyed || !s.writable) done();
    else s.write('', () => done());
  }
}

main(process.argv.slice(2)).then(
  () => flushThen(() => process.exit(process.exitCode ?? 0)),
  async (err: unknown) => {
    const [message, code] = await failure(err);
    process.stderr.write(`fjord: ${message}\n`);
    flushThen(() => process.exit(code));
  },
);

/** The one-line message and exit status for an error. */
async function failure(err: unknown): Promise<[string, number]> {
  // ConfigError (bad broker config) is matched by name so this file need not load the broker.
  if (err instanceof UsageError || (err instanceof Error && err.constructor.name === 'ConfigError')) return [(err as Error).message, 2];
  if (err instanceof CliError) return [err.message, err.exitCode];
  // A data dir held by another broker or belonging to another cluster/node: the message says it all.
  if (err instanceof Error && err.name === 'DataDirError') return [err.message, 1];
  // etcd unreachable, another cluster id in etcd, node id taken: the message names what and where.
  if (err instanceof Error && err.name === 'ClusterError') return [err.message, 1];
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return [`address already in use: ${e.message}`, 1];
  if (e && typeof e === 'object' && typeof e.code === 'string' && (e.code.startsWith('PLT_KFK') || 'errors' in e)) {
    const g = bootstrapForErrors ? { bootstrap: bootstrapForErrors, brokers: [bootstrapForErrors], json: false } : undefined;
    const { describeError } = await import('./common.js');
    return [describeError(err, g), 1];
  }
  return [e?.stack ?? String(err), 1];
}
