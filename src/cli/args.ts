// Minimal argument parsing for the fjord command: flags with values, repeatable flags, booleans.
export class UsageError extends Error {}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

/** `spec` maps each flag (long and short names) to whether it takes a value. */
export function parseArgs(argv: string[], spec: Record<string, boolean>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    let name = arg;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (!(name in spec)) throw new UsageError(`unknown option ${name}`);
    if (spec[name]) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`option ${name} needs a value`);
      }
    } else if (value !== undefined) {
      throw new UsageError(`option ${name} takes no value`);
    } else {
      value = 'true';
    }
    const list = flags.get(name) ?? [];
    list.push(value);
    flags.set(name, list);
  }
  return { positional, flags };
}

export function lastFlag(args: ParsedArgs, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = args.flags.get(n);
    if (v?.length) return v[v.length - 1];
  }
  return undefined;
}

export function allFlags(args: ParsedArgs, ...names: string[]): string[] {
  return names.flatMap((n) => args.flags.get(n) ?? []);
}

/** "host:port" (IPv6 hosts in brackets). */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`expected HOST:PORT, got "${value}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`port out of range in "${value}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function parseConfigPairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected --config key=value, got "${p}"`);
    out[p.slice(0, eq).trim()] = p.slice(eq + 1);
  }
  return out;
}

/** Runs `<command> <subcommand> ...` from a table, with the usual usage errors. */
export function runSubcommand(
  argv: string[],
  command: string,
  usage: string,
  table: Record<string, (argv: string[]) => Promise<void>>,
): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new UsageError(`missing subcommand\n\n${usage}`);
  if (!Object.hasOwn(table, sub)) throw new UsageError(`unknown ${command} subcommand "${sub}"\n\n${usage}`);
  return table[sub]!(rest);
}
