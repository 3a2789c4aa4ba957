// Shared plumbing for the client commands (topic, produce, consume, group, config, cluster,
// records): global options, Kafka clients, error translation, output (JSON, tables).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Admin, Consumer, Producer, compressionsAlgorithms, type BaseOptions } from '@platformatic/kafka';
import { compressSync, decompressSync } from '../protocol/records/compression.js';
import { ClientSecurityError, clientSecurityFrom } from '../security/client-security.js';
import { Compression } from '../protocol/records/layout.js';
import { lastFlag, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { CliError, GLOBAL_SPEC, leadingGlobals } from './globals.js';

export { CliError, GLOBAL_SPEC, setLeadingGlobals } from './globals.js';

export const GLOBAL_USAGE = `global options:
  -b, --bootstrap HOST:PORT[,HOST:PORT]  brokers to contact (env FJORD_BOOTSTRAP, default localhost:9092)
  --command-config FILE                  client properties for secured listeners (env FJORD_COMMAND_CONFIG):
                                         security.protocol, sasl.mechanism, sasl.username/sasl.password
                                         or sasl.jaas.config, ssl.ca.location (PEM), ssl.certificate.location,
                                         ssl.key.location
  --json                                 machine-readable output (stable JSON shapes)`;

export interface Globals {
  bootstrap: string;
  brokers: string[];
  json: boolean;
  /** TLS and SASL settings from --command-config. */
  security?: Pick<BaseOptions, 'tls' | 'sasl'>;
}

export function parseCommand(argv: string[], spec: Record<string, boolean>): { args: ParsedArgs; globals: Globals } {
  const args = parseArgs(argv, { ...GLOBAL_SPEC, ...spec });
  const lead = parseArgs(leadingGlobals(), GLOBAL_SPEC);
  const bootstrap =
    lastFlag(args, '--bootstrap', '-b') ?? lastFlag(lead, '--bootstrap', '-b') ?? (process.env.FJORD_BOOTSTRAP || 'localhost:9092');
  if (lead.flags.has('--json')) args.flags.set('--json', ['true']);
  const brokers = bootstrap
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new UsageError('--bootstrap needs at least one HOST:PORT');
  for (const b of brokers) {
    if (!/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(b)) throw new UsageError(`expected HOST:PORT in --bootstrap, got "${b}"`);
  }
  const commandConfig = lastFlag(args, '--command-config') ?? lastFlag(lead, '--command-config') ?? process.env.FJORD_COMMAND_CONFIG;
  const security = commandConfig ? clientSecurity(commandConfig) : undefined;
  return { args, globals: { bootstrap: brokers.join(','), brokers, json: args.flags.has('--json'), security } };
}

export function flag(args: ParsedArgs, ...names: string[]): boolean {
  return names.some((n) => args.flags.has(n));
}

export function intFlag(args: ParsedArgs, names: string[], opts: { min?: number } = {}): number | undefined {
  const raw = lastFlag(args, ...names);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`${names[0]} expects an integer, got "${raw}"`);
  const n = Number(raw);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`${names[0]} must be at least ${opts.min}, got ${n}`);
  return n;
}

export function bigintArg(raw: string, what: string): bigint {
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`${what} expects an integer, got "${raw}"`);
  return BigInt(raw);
}

/** Exactly `n` positional arguments (named for the message). */
export function positionals(args: ParsedArgs, names: string[], optional: string[] = []): string[] {
  const p = args.positional;
  if (p.length < names.length) throw new UsageError(`missing ${names.slice(p.length).map((n) => `<${n}>`).join(' ')}`);
  if (p.length > names.length + optional.length) throw new UsageError(`unexpected argument "${p[names.length + optional.length]}"`);
  return p;
}

export function parseKeyValues(pairs: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected ${what} key=value, got "${p}"`);
    out[p.slice(0, eq).trim()] = p.slice(eq + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Clients

interface ZstdCodec {
  compressSync(data: unknown): Buffer;
  decompressSync(data: unknown): Buffer;
  available: boolean;
}

/**
 * @platformatic/kafka takes zstd from node:zlib, which has it only from Node 22.15. Elsewhere,
 * plug Fjord's synchronous zstd (a prebuilt binding, as the library's codec hook is synchronous)
 * into its table, so `produce --compression zstd` and consuming zstd batches work on every Node.
 */
function ensureZstd(): void {
  const codec = (compressionsAlgorithms as unknown as Record<string, ZstdCodec>).zstd;
  if (!codec || codec.available) return;
  // The library hands over either a Buffer or its DynamicBuffer, whose `buffer` is the bytes.
  const bytes = (data: unknown): Buffer => (Buffer.isBuffer(data) ? data : (data as { buffer: Buffer }).buffer);
  codec.compressSync = (data) => compressSync(Compression.Zstd, bytes(data));
  codec.decompressSync = (data) => decompressSync(Compression.Zstd, bytes(data));
  codec.available = true;
}
ensureZstd();

/**
 * Reads a Kafka client properties file (what kafka-*.sh take as --command-config) into the
 * client library's TLS and SASL options (keys as in security/client-security.ts; PEM only).
 */
export function clientSecurity(file: string): Pick<BaseOptions, 'tls' | 'sasl'> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --command-config ${file}: ${(err as Error).message}`);
  }
  const props = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!\s][^=:]*?)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m) props.set(m[1]!, m[2]!);
  }
  try {
    return clientSecurityFrom((key) => props.get(key), file);
  } catch (err) {
    if (err instanceof ClientSecurityError) throw new UsageError(err.message);
    throw err;
  }
}

export function baseOptions(g: Globals): BaseOptions {
  return {
    ...g.security,
    clientId: 'fjord-cli',
    bootstrapBrokers: g.brokers,
    connectTimeout: 3000,
    requestTimeout: 30_000,
    timeout: 15_000,
    retries: 3,
    retryDelay: 250,
    autocreateTopics: false,
  };
}

/**
 * Fails fast with "cannot reach broker at ..." when no bootstrap address accepts a TCP
 * connection, instead of waiting for the client's retry loop.
 */
export async function ensureReachable(g: Globals, timeoutMs = 3000): Promise<void> {
  const attempts = g.brokers.map(
    (b) =>
      new Promise<boolean>((res) => {
        const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(b)!;
        const s = connect({ host: m[1] ?? m[2]!, port: Number(m[3]) });
        const timer = setTimeout(() => {
          s.destroy();
          res(false);
        }, timeoutMs);
        s.once('connect', () => {
          clearTimeout(timer);
          s.destroy();
          res(true);
        });
        s.once('error', () => {
          clearTimeout(timer);
          res(false);
        });
      }),
  );
  const results = await Promise.all(attempts);
  if (!results.some(Boolean)) throw new CliError(`cannot reach broker at ${g.bootstrap}`);
}

export async function withAdmin<T>(g: Globals, fn: (admin: Admin) => Promise<T>): Promise<T> {
  await ensureReachable(g);
  const admin = new Admin(baseOptions(g));
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

export function newProducer(g: Globals): Producer {
  return new Producer({ ...baseOptions(g), acks: -1 });
}

export function newConsumer(g: Globals, groupId: string, extra: Record<string, unknown> = {}): Consumer {
  return new Consumer({ ...baseOptions(g), groupId, ...extra } as ConstructorParameters<typeof Consumer>[0]) as Consumer;
}

// ---------------------------------------------------------------------------------------------
// Errors

interface LeafError {
  message: string;
  apiId?: string;
  serverErrorMessage?: string | null;
  code?: string;
  errno?: string;
}

function leaves(err: unknown, out: LeafError[] = [], depth = 0): LeafError[] {
  if (!err || typeof err !== 'object' || depth > 6) return out;
  const e = err as { errors?: unknown[]; cause?: unknown; message?: string; apiId?: string; serverErrorMessage?: string | null; code?: string };
  if (Array.isArray(e.errors) && e.errors.length) {
    for (const x of e.errors) leaves(x, out, depth + 1);
    return out;
  }
  if (e.apiId) {
    out.push({ message: e.message ?? '', apiId: e.apiId, serverErrorMessage: e.serverErrorMessage });
    return out;
  }
  if (e.cause) {
    const before = out.length;
    leaves(e.cause, out, depth + 1);
    if (out.length > before) return out;
  }
  out.push({ message: e.message ?? String(err), code: e.code });
  return out;
}

const API_ERROR_TEXT: Record<string, string> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'unknown topic or partition',
  UNKNOWN_TOPIC_ID: 'unknown topic',
  TOPIC_ALREADY_EXISTS: 'topic already exists',
  GROUP_ID_NOT_FOUND: 'group does not exist',
  NON_EMPTY_GROUP: 'group is not empty (stop its consumers first)',
  UNSUPPORTED_VERSION: 'the broker does not support this request',
};

/** One line describing what went wrong, for `fjord: <line>`. */
export function describeError(err: unknown, g?: Globals): string {
  if (err instanceof CliError || err instanceof UsageError) return err.message;
  const ls = leaves(err);
  const apiErrors = ls.filter((l) => l.apiId);
  if (apiErrors.length) {
    const seen = new Set<string>();
    const parts: string[] = [];
    for (const l of apiErrors) {
      const text = (l.apiId === 'UNKNOWN_TOPIC_OR_PARTITION' ? API_ERROR_TEXT[l.apiId] : l.serverErrorMessage?.replace(/\.$/, '')) || API_ERROR_TEXT[l.apiId!] || l.message.replace(/\.$/, '');
      const line = `${text} (${l.apiId})`;
      if (!seen.has(line)) parts.push(line);
      seen.add(line);
    }
    return parts.join('; ');
  }
  const top = (err as { message?: string; code?: string })?.message ?? String(err);
  const network = ls.some((l) => /PLT_KFK_NETWORK|PLT_KFK_TIMEOUT/.test(l.code ?? '') || /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/.test(l.message));
  if (g && (network || /Cannot connect to any broker/i.test(top))) return `cannot reach broker at ${g.bootstrap}`;
  const unsupported = ls.find((l) => l.code === 'PLT_KFK_UNSUPPORTED_API' || /Unsupported API/i.test(l.message));
  if (unsupported) return `the broker does not support this operation (${unsupported.message.replace(/\.$/, '')})`;
  return ls.map((l) => l.message.replace(/\.$/, '')).filter(Boolean)[0] ?? top;
}

export function isUnsupportedApi(err: unknown): boolean {
  return leaves(err).some((l) => l.code === 'PLT_KFK_UNSUPPORTED_API' || /unsupported api/i.test(l.message) || l.apiId === 'UNSUPPORTED_VERSION');
}

/** Wraps a client failure into a CliError with context ("cannot create topic x: ..."). */
export function fail(context: string, err: unknown, g: Globals): never {
  if (err instanceof CliError) throw err;
  const msg = describeError(err, g);
  if (msg.startsWith('cannot reach broker')) throw new CliError(msg);
  throw new CliError(`${context}: ${msg}`);
}

export async function attempt<T>(context: string, g: Globals, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    fail(context, err, g);
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value) + '\n');
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Aligned columns; on a TTY the header is bold and underlined by a rule. */
export function printTable(headers: string[], rows: (string | number | bigint | null | undefined)[][]): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const tty = process.stdout.isTTY === true;
  if (tty) {
    out(`\x1b[1m${line(headers)}\x1b[0m`);
    out(widths.map((w) => '─'.repeat(w)).join('  '));
  } else {
    out(line(headers));
  }
  for (const r of cells) out(line(r));
}

export function num(v: bigint | number | undefined | null): number | null {
  if (v === undefined || v === null) return null;
  return Number(v);
}

/** Config sources as Kafka names them (DescribeConfigs v1+). */
export const CONFIG_SOURCES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'CLIENT_METRICS_CONFIG',
  8: 'GROUP_CONFIG',
};

export const RESOURCE_TOPIC = 2 as const;
export const RESOURCE_BROKER = 4 as const;
export const RESOURCE_GROUP = 32 as const;
