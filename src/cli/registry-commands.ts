// `fjord registry …` (Schema Registry client commands, or the registry server itself) and
// `fjord rest …` (the REST Proxy server), both standalone against any Kafka cluster.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
// Kept off common.ts on purpose: these commands speak HTTP, not Kafka, and loading the Kafka
// client library would triple their start time.
import type { HttpSecurityOptions } from '../http/auth.js';
import { allFlags, lastFlag, parseArgs, parseHostPort, runSubcommand, UsageError, type ParsedArgs } from './args.js';
import { CliError, GLOBAL_SPEC, leadingGlobals } from './globals.js';

const GLOBAL_USAGE = `global options:
  -b, --bootstrap HOST:PORT[,HOST:PORT]  brokers (serve/rest; env FJORD_BOOTSTRAP, default localhost:9092)
  --json                                 machine-readable output`;

function parseCommand(
  argv: string[],
  spec: Record<string, boolean>,
): { args: ParsedArgs; globals: { json: boolean; brokers: string[]; bootstrap: string; commandConfig?: string } } {
  const args = parseArgs(argv, { ...GLOBAL_SPEC, ...spec });
  const lead = parseArgs(leadingGlobals(), GLOBAL_SPEC);
  const bootstrap = lastFlag(args, '--bootstrap', '-b') ?? lastFlag(lead, '--bootstrap', '-b') ?? (process.env.FJORD_BOOTSTRAP || 'localhost:9092');
  const brokers = bootstrap
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const b of brokers) if (!/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(b)) throw new UsageError(`expected HOST:PORT in --bootstrap, got "${b}"`);
  const commandConfig = lastFlag(args, '--command-config') ?? lastFlag(lead, '--command-config') ?? process.env.FJORD_COMMAND_CONFIG;
  return { args, globals: { json: args.flags.has('--json') || lead.flags.has('--json'), brokers, bootstrap: brokers.join(','), commandConfig } };
}

function positionals(args: ParsedArgs, names: string[], optional: string[] = []): string[] {
  const p = args.positional;
  if (p.length < names.length) throw new UsageError(`missing ${names.slice(p.length).map((n) => `<${n}>`).join(' ')}`);
  if (p.length > names.length + optional.length) throw new UsageError(`unexpected argument "${p[names.length + optional.length]}"`);
  return p;
}

const out = (line = '') => process.stdout.write(line + '\n');
const printJson = (v: unknown) => out(JSON.stringify(v));

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  out(line(headers));
  for (const r of rows) out(line(r));
}

const URL_HELP = `  -r, --registry URL   Schema Registry (env FJORD_REGISTRY_URL, default http://127.0.0.1:8081)`;

export const registryUsage = `fjord registry <subcommand>       (Confluent-compatible Schema Registry)

  subjects [--prefix P] [--deleted]              list subjects
  get <subject> [version|latest]                 a subject's schema (default latest)
  get --id N                                     a schema by id
  register <subject> <file> [--type T] [--normalize] [--ref NAME=SUBJECT:VERSION]...
                                                 register a schema (.avsc → AVRO, .json → JSON,
                                                 .proto → PROTOBUF unless --type)
  check <subject> <file> [--type T] [--version V]  compatibility with the subject's versions (or
                                                 one version); exit 1 when incompatible
  config [subject] [--set LEVEL] [--delete]      compatibility level (global without subject)
  mode [subject] [--set MODE]                    READWRITE | READONLY | READONLY_OVERRIDE | IMPORT
  delete <subject> [version] [--permanent]       soft delete (then --permanent to erase)
  serve [--listen HOST:PORT] [HTTP SECURITY]     run the registry (default 127.0.0.1:8081),
                                                 storing schemas in the cluster's _schemas topic
        [--leader-election [--group G] [--advertised-url URL]]
                                                 one of several instances: the leader is elected
                                                 through Kafka group G (default schema-registry),
                                                 the others forward writes to it

HTTP SECURITY (serve):
  --tls-keystore PEM             serve HTTPS with this key + certificate chain
  --authentication basic|bearer  require HTTP Basic (user:password) or Bearer (OAUTHBEARER JWT)
                                 credentials, checked by logging in to the cluster with them
  --user-mechanism M             SASL mechanism for Basic credentials (PLAIN, SCRAM-SHA-256/512)
  The service's own Kafka connections use --command-config.

${URL_HELP}
${GLOBAL_USAGE}`;

export const restUsage = `fjord rest [--listen HOST:PORT] [--registry URL]
           [--tls-keystore PEM] [--authentication basic|bearer] [--user-mechanism M]

Runs the Confluent-compatible REST Proxy (v2 and v3) against the cluster given by -b/--bootstrap
(default 127.0.0.1:8082); --registry enables the avro/jsonschema/protobuf formats.
--tls-keystore serves HTTPS; --authentication requires HTTP Basic or Bearer credentials, checked
by logging in to the cluster with them, and every request then reaches Kafka as that user (the
broker's ACLs apply). The proxy's own connections use --command-config.

${GLOBAL_USAGE}`;

const REG_FLAGS = { '--registry': true, '-r': true };
const HTTP_SECURITY_FLAGS = { '--tls-keystore': true, '--authentication': true, '--user-mechanism': true };

/** The services' own Kafka TLS/SASL from --command-config (loaded only when given: it pulls in the Kafka client). */
async function serviceKafkaSecurity(commandConfig: string | undefined) {
  if (!commandConfig) return undefined;
  const { clientSecurity } = await import('./common.js');
  return clientSecurity(commandConfig);
}

function httpSecurity(args: ParsedArgs): HttpSecurityOptions {
  const authentication = lastFlag(args, '--authentication') ?? 'none';
  if (!['none', 'basic', 'bearer'].includes(authentication)) throw new UsageError(`--authentication must be basic, bearer or none, got "${authentication}"`);
  const userMechanism = (lastFlag(args, '--user-mechanism') ?? 'PLAIN').toUpperCase();
  if (!['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(userMechanism)) throw new UsageError(`--user-mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`);
  return {
    tlsKeystore: lastFlag(args, '--tls-keystore'),
    authentication: authentication as HttpSecurityOptions['authentication'],
    userMechanism: userMechanism as HttpSecurityOptions['userMechanism'],
  };
}

function registryUrl(args: ParsedArgs): string {
  const url = lastFlag(args, '--registry', '-r') ?? process.env.FJORD_REGISTRY_URL ?? 'http://127.0.0.1:8081';
  return url.replace(/\/+$/, '');
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`cannot reach schema registry at ${base}`);
  }
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* raw schema text */
  }
  if (!res.ok) throw new CliError(`${parsed?.message ?? text} (${parsed?.error_code ?? res.status})`);
  return parsed;
}

const seg = (s: string) => encodeURIComponent(s);

function typeFor(file: string, given: string | undefined): string {
  if (given) {
    const t = given.toUpperCase();
    if (!['AVRO', 'JSON', 'PROTOBUF'].includes(t)) throw new UsageError(`--type must be AVRO, JSON or PROTOBUF, got "${given}"`);
    return t;
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.proto') return 'PROTOBUF';
  if (ext === '.json') return 'JSON';
  return 'AVRO';
}

function refsOf(specs: string[]): { name: string; subject: string; version: number }[] {
  return specs.map((s) => {
    const m = /^([^=]+)=([^:]+):(\d+)$/.exec(s);
    if (!m) throw new UsageError(`--ref expects NAME=SUBJECT:VERSION, got "${s}"`);
    return { name: m[1]!, subject: m[2]!, version: Number(m[3]) };
  });
}

async function schemaBody(file: string, type: string, refs: string[]) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const references = refsOf(refs);
  return { schema: text, ...(type !== 'AVRO' ? { schemaType: type } : {}), ...(references.length ? { references } : {}) };
}

const SUBCOMMANDS = ['subjects', 'get', 'register', 'check', 'config', 'mode', 'delete', 'serve'];
const VALUE_FLAGS = new Set(['-b', '--bootstrap', '-r', '--registry', '--listen', '--tls-keystore', '--authentication', '--user-mechanism', '--command-config']);

export function registryCommand(argv: string[]): Promise<void> {
  // The subcommand may follow flags (`fjord registry --json get x`); no subcommand runs the server.
  let at = -1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      at = i;
      break;
    }
    if (VALUE_FLAGS.has(a)) i++;
  }
  if (at < 0 || !SUBCOMMANDS.includes(argv[at]!)) {
    if (at < 0) return serveRegistry(argv);
  } else argv = [argv[at]!, ...argv.slice(0, at), ...argv.slice(at + 1)];
  return runSubcommand(argv, 'registry', registryUsage, {
    subjects: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--prefix': true, '--deleted': false });
      positionals(args, []);
      const q = new URLSearchParams();
      const prefix = lastFlag(args, '--prefix');
      if (prefix) q.set('subjectPrefix', prefix);
      if (args.flags.has('--deleted')) q.set('deleted', 'true');
      const subjects = (await call(registryUrl(args), 'GET', `/subjects?${q}`)) as string[];
      if (globals.json) printJson(subjects);
      else for (const s of subjects) out(s);
    },
    get: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--id': true });
      const id = lastFlag(args, '--id');
      const base = registryUrl(args);
      let body: any;
      if (id !== undefined) {
        positionals(args, []);
        body = { id: Number(id), ...(await call(base, 'GET', `/schemas/ids/${seg(id)}`)) };
      } else {
        const [subject, version] = positionals(args, ['subject'], ['version']);
        body = await call(base, 'GET', `/subjects/${seg(subject!)}/versions/${seg(version ?? 'latest')}`);
      }
      if (globals.json) printJson(body);
      else {
        if (body.subject) out(`subject ${body.subject}  version ${body.version}  id ${body.id}  type ${body.schemaType ?? 'AVRO'}`);
        else out(`id ${body.id}  type ${body.schemaType ?? 'AVRO'}`);
        let text = body.schema as string;
        try {
          text = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          /* protobuf text */
        }
        out(text);
      }
    },
    register: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--type': true, '--normalize': false, '--ref': true });
      const [subject, file] = positionals(args, ['subject', 'file']);
      const body = await schemaBody(file!, typeFor(file!, lastFlag(args, '--type')), allFlags(args, '--ref'));
      const res = await call(registryUrl(args), 'POST', `/subjects/${seg(subject!)}/versions${args.flags.has('--normalize') ? '?normalize=true' : ''}`, body);
      if (globals.json) printJson(res);
      else out(`registered ${subject} → schema id ${res.id}`);
    },
    check: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--type': true, '--version': true, '--ref': true });
      const [subject, file] = positionals(args, ['subject', 'file']);
      const body = await schemaBody(file!, typeFor(file!, lastFlag(args, '--type')), allFlags(args, '--ref'));
      const v = lastFlag(args, '--version');
      const path = v ? `/compatibility/subjects/${seg(subject!)}/versions/${seg(v)}?verbose=true` : `/compatibility/subjects/${seg(subject!)}/versions?verbose=true`;
      const res = await call(registryUrl(args), 'POST', path, body);
      if (globals.json) printJson(res);
      else if (res.is_compatible) out(`compatible with ${subject}`);
      else {
        out(`NOT compatible with ${subject}:`);
        for (const m of res.messages ?? []) out(`  - ${m}`);
      }
      if (!res.is_compatible) process.exitCode = 1;
    },
    config: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--set': true, '--delete': false });
      const [subject] = positionals(args, [], ['subject']);
      const path = subject ? `/config/${seg(subject)}` : '/config';
      const base = registryUrl(args);
      const set = lastFlag(args, '--set');
      let res: any;
      if (set) res = await call(base, 'PUT', path, { compatibility: set.toUpperCase() });
      else if (args.flags.has('--delete')) res = await call(base, 'DELETE', path);
      else res = await call(base, 'GET', subject ? `${path}?defaultToGlobal=true` : path);
      if (globals.json) printJson(res);
      else out(res.compatibilityLevel ?? res.compatibility ?? JSON.stringify(res));
    },
    mode: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--set': true });
      const [subject] = positionals(args, [], ['subject']);
      const path = subject ? `/mode/${seg(subject)}` : '/mode';
      const set = lastFlag(args, '--set');
      const res = set ? await call(registryUrl(args), 'PUT', path, { mode: set.toUpperCase() }) : await call(registryUrl(args), 'GET', subject ? `${path}?defaultToGlobal=true` : path);
      if (globals.json) printJson(res);
      else out(res.mode);
    },
    delete: async (a) => {
      const { args, globals } = parseCommand(a, { ...REG_FLAGS, '--permanent': false });
      const [subject, version] = positionals(args, ['subject'], ['version']);
      const q = args.flags.has('--permanent') ? '?permanent=true' : '';
      const res = await call(registryUrl(args), 'DELETE', version ? `/subjects/${seg(subject!)}/versions/${seg(version)}${q}` : `/subjects/${seg(subject!)}${q}`);
      if (globals.json) printJson({ versions: Array.isArray(res) ? res : [res] });
      else printTable(['SUBJECT', 'DELETED VERSIONS', 'PERMANENT'], [[subject!, (Array.isArray(res) ? res : [res]).join(','), q ? 'yes' : 'no']]);
    },
    serve: serveRegistry,
  });
}

async function untilSignalled(close: () => Promise<void>): Promise<void> {
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      close().then(done, done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function serveRegistry(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--listen': true, '--leader-election': false, '--group': true, '--advertised-url': true, ...HTTP_SECURITY_FLAGS });
  positionals(args, []);
  const listen = parseHostPort(lastFlag(args, '--listen') ?? '127.0.0.1:8081');
  const { startSchemaRegistry } = await import('../http/index.js');
  const election = args.flags.has('--leader-election');
  const reg = await startSchemaRegistry({
    ...(election ? { leaderElection: { groupId: lastFlag(args, '--group'), url: lastFlag(args, '--advertised-url') } } : {}),
    bootstrap: globals.brokers,
    host: listen.host,
    port: listen.port,
    logLevel: 'info',
    log: (m) => process.stderr.write(`fjord: ${m}\n`),
    security: httpSecurity(args),
    kafkaSecurity: await serviceKafkaSecurity(globals.commandConfig),
  }).catch((err: Error) => {
    throw new CliError(/already in use/.test(err.message) ? err.message : `cannot start the schema registry against ${globals.bootstrap}: ${err.message}`);
  });
  process.stdout.write(`fjord schema registry on ${reg.url} (Kafka ${globals.bootstrap})\n`);
  await untilSignalled(reg.close);
}

export async function restCommand(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--listen': true, ...REG_FLAGS, ...HTTP_SECURITY_FLAGS });
  positionals(args, []);
  const listen = parseHostPort(lastFlag(args, '--listen') ?? '127.0.0.1:8082');
  const registry = lastFlag(args, '--registry', '-r') ?? process.env.FJORD_REGISTRY_URL;
  const { startRestProxy } = await import('../http/index.js');
  const rest = await startRestProxy({
    bootstrap: globals.brokers,
    host: listen.host,
    port: listen.port,
    registryUrl: registry,
    logLevel: 'info',
    security: httpSecurity(args),
    kafkaSecurity: await serviceKafkaSecurity(globals.commandConfig),
  }).catch((err: Error) => {
    throw new CliError(/already in use/.test(err.message) ? err.message : `cannot start the REST proxy against ${globals.bootstrap}: ${err.message}`);
  });
  process.stdout.write(`fjord REST proxy on ${rest.url} (Kafka ${globals.bootstrap})\n`);
  await untilSignalled(rest.close);
}
