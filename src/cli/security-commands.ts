// `fjord user create|delete|list` (SCRAM credentials: AlterUserScramCredentials /
// DescribeUserScramCredentials, salted on the client as kafka-configs.sh does) and
// `fjord acl create|list|delete` (kafka-acls.sh: CreateAcls / DescribeAcls / DeleteAcls).
import { randomBytes, pbkdf2Sync } from 'node:crypto';
import { alterUserScramCredentialsV0, Connection, describeUserScramCredentialsV0 } from '@platformatic/kafka';
import { allFlags, lastFlag, runSubcommand, UsageError, type ParsedArgs } from './args.js';
import {
  attempt,
  baseOptions,
  CliError,
  ensureReachable,
  flag,
  GLOBAL_USAGE,
  intFlag,
  out,
  parseCommand,
  positionals,
  printJson,
  printTable,
  withAdmin,
  type Globals,
} from './common.js';

export const userUsage = `fjord user <subcommand>

  create <name> --password P [--mechanism SCRAM-SHA-256|SCRAM-SHA-512|all] [--iterations N]
                                         add or replace SCRAM credentials (default: both mechanisms)
  delete <name> [--mechanism M|all]      remove credentials
  list [name...]                         users with their mechanisms and iterations

${GLOBAL_USAGE}`;

export const aclUsage = `fjord acl <subcommand>

  create (--allow-principal P | --deny-principal P) --operation OP [--operation OP...]
         (--topic T | --group G | --cluster | --transactional-id ID | --user U)
         [--resource-pattern-type literal|prefixed] [--host H]
  list   [--topic T | --group G | --cluster | --transactional-id ID] [--principal P]
  delete [same filters as list] [--operation OP] [--host H]

  OP: ALL READ WRITE CREATE DELETE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS
      ALTER_CONFIGS IDEMPOTENT_WRITE (a resource name of * means every resource of its type)

${GLOBAL_USAGE}`;

const MECHANISMS = { 'SCRAM-SHA-256': { id: 1, hash: 'sha256', length: 32 }, 'SCRAM-SHA-512': { id: 2, hash: 'sha512', length: 64 } } as const;
type Mechanism = keyof typeof MECHANISMS;
const MECHANISM_NAMES: Record<number, Mechanism> = { 1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512' };

function mechanismsOf(args: ParsedArgs): Mechanism[] {
  const m = (lastFlag(args, '--mechanism') ?? 'all').toUpperCase();
  if (m === 'ALL') return ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
  if (!(m in MECHANISMS)) throw new UsageError(`--mechanism must be SCRAM-SHA-256, SCRAM-SHA-512 or all, got ${m}`);
  return [m as Mechanism];
}

/** One connection to the first bootstrap broker, with the command config's TLS/SASL. */
async function withConnection<T>(g: Globals, fn: (c: Connection) => Promise<T>): Promise<T> {
  await ensureReachable(g);
  const o = baseOptions(g);
  const conn = new Connection('fjord-cli', { connectTimeout: 3000, requestTimeout: 30_000, tls: o.tls, sasl: o.sasl });
  const [host, port] = splitHostPort(g.brokers[0]!);
  try {
    await conn.connect(host, port);
    return await fn(conn);
  } finally {
    await conn.close().catch(() => {});
  }
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), Number(hp.slice(i + 1))];
}

function checkResults(results: { user: string; errorCode: number; errorMessage?: string | null }[]): void {
  const failed = results.filter((r) => r.errorCode !== 0);
  if (failed.length) throw new CliError(failed.map((r) => `${r.user}: ${r.errorMessage ?? `error ${r.errorCode}`}`).join('; '));
}

export function userCommand(argv: string[]): Promise<void> {
  return runSubcommand(argv, 'user', userUsage, {
    create: async (a) => {
      const { args, globals } = parseCommand(a, { '--password': true, '--mechanism': true, '--iterations': true });
      const [name] = positionals(args, ['name']);
      const password = lastFlag(args, '--password');
      if (!password) throw new UsageError('--password is required');
      const iterations = intFlag(args, ['--iterations'], { min: 4096 }) ?? 4096;
      const upsertions = mechanismsOf(args).map((m) => {
        const { id, hash, length } = MECHANISMS[m];
        const salt = randomBytes(32);
        return { name: name!, mechanism: id, iterations, salt, saltedPassword: pbkdf2Sync(password, salt, iterations, length, hash) };
      });
      const r = await withConnection(globals, (c) => attempt('cannot create the user', globals, () => alterUserScramCredentialsV0.api.async(c, [], upsertions)));
      checkResults(r.results);
      if (globals.json) printJson({ user: name, mechanisms: upsertions.map((u) => MECHANISM_NAMES[u.mechanism]), iterations });
      else out(`user ${name}: ${upsertions.map((u) => MECHANISM_NAMES[u.mechanism]).join(', ')} (${iterations} iterations)`);
    },
    delete: async (a) => {
      const { args, globals } = parseCommand(a, { '--mechanism': true });
      const [name] = positionals(args, ['name']);
      const wanted = mechanismsOf(args);
      const existing = await withConnection(globals, (c) => describeUserScramCredentialsV0.api.async(c, [{ name: name! }]));
      const have = new Set((existing.results[0]?.credentialInfos ?? []).map((i) => MECHANISM_NAMES[i.mechanism]));
      const deletions = wanted.filter((m) => have.has(m)).map((m) => ({ name: name!, mechanism: MECHANISMS[m].id }));
      if (deletions.length === 0) throw new CliError(`user ${name} has no ${wanted.join(' or ')} credentials`);
      const r = await withConnection(globals, (c) => attempt('cannot delete the user', globals, () => alterUserScramCredentialsV0.api.async(c, deletions, [])));
      checkResults(r.results);
      if (globals.json) printJson({ user: name, deleted: deletions.map((d) => MECHANISM_NAMES[d.mechanism]) });
      else out(`user ${name}: deleted ${deletions.map((d) => MECHANISM_NAMES[d.mechanism]).join(', ')}`);
    },
    list: async (a) => {
      const { args, globals } = parseCommand(a, {});
      const names = args.positional;
      const r = await withConnection(globals, (c) =>
        attempt('cannot list users', globals, () => describeUserScramCredentialsV0.api.async(c, names.map((name) => ({ name })))),
      );
      const rows = r.results
        .filter((u) => u.errorCode === 0)
        .map((u) => ({ user: u.user, credentials: u.credentialInfos.map((i) => ({ mechanism: MECHANISM_NAMES[i.mechanism] ?? String(i.mechanism), iterations: i.iterations })) }));
      if (globals.json) printJson(rows);
      else printTable(['USER', 'MECHANISMS'], rows.map((u) => [u.user, u.credentials.map((c) => `${c.mechanism}(${c.iterations})`).join(' ')]));
    },
  });
}

const RESOURCE = { TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, USER: 7 } as const;
const RESOURCE_NAMES: Record<number, string> = { 2: 'TOPIC', 3: 'GROUP', 4: 'CLUSTER', 5: 'TRANSACTIONAL_ID', 6: 'DELEGATION_TOKEN', 7: 'USER' };
const OPERATIONS: Record<string, number> = {
  ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14,
};
const OPERATION_NAMES = Object.fromEntries(Object.entries(OPERATIONS).map(([k, v]) => [v, k])) as Record<number, string>;
const ACL_SPEC = {
  '--allow-principal': true, '--deny-principal': true, '--principal': true, '--operation': true, '--topic': true,
  '--group': true, '--cluster': false, '--transactional-id': true, '--user': true, '--resource-pattern-type': true, '--host': true,
};

function resourceOf(args: ParsedArgs, required: boolean): { resourceType: number; resourceName: string | null } {
  const given: [number, string | undefined][] = [
    [RESOURCE.TOPIC, lastFlag(args, '--topic')],
    [RESOURCE.GROUP, lastFlag(args, '--group')],
    [RESOURCE.TRANSACTIONAL_ID, lastFlag(args, '--transactional-id')],
    [RESOURCE.USER, lastFlag(args, '--user')],
    [RESOURCE.CLUSTER, flag(args, '--cluster') ? 'kafka-cluster' : undefined],
  ];
  const set = given.filter(([, v]) => v !== undefined);
  if (set.length > 1) throw new UsageError('give one resource: --topic, --group, --cluster, --transactional-id or --user');
  if (set.length === 0) {
    if (required) throw new UsageError('a resource is required: --topic, --group, --cluster, --transactional-id or --user');
    return { resourceType: 1, resourceName: null };
  }
  return { resourceType: set[0]![0], resourceName: set[0]![1]! };
}

function patternOf(args: ParsedArgs, fallback: number): number {
  const p = lastFlag(args, '--resource-pattern-type');
  if (p === undefined) return fallback;
  const v = { any: 1, match: 2, literal: 3, prefixed: 4 }[p.toLowerCase()];
  if (v === undefined) throw new UsageError(`--resource-pattern-type must be literal, prefixed, match or any, got ${p}`);
  return v;
}

function operationsOf(args: ParsedArgs, required: boolean): number[] {
  const ops = allFlags(args, '--operation').map((o) => {
    const v = OPERATIONS[o.toUpperCase().replace(/-/g, '_')];
    if (v === undefined) throw new UsageError(`unknown --operation ${o}`);
    return v;
  });
  if (ops.length === 0 && required) throw new UsageError('--operation is required');
  return ops.length ? ops : [1];
}

function principalCheck(p: string): string {
  if (!/^[^:]+:.+$/.test(p)) throw new UsageError(`principals look like User:alice, got ${p}`);
  return p;
}

export function aclCommand(argv: string[]): Promise<void> {
  return runSubcommand(argv, 'acl', aclUsage, {
    create: async (a) => {
      const { args, globals } = parseCommand(a, ACL_SPEC);
      const resource = resourceOf(args, true);
      const patternType = patternOf(args, 3);
      const host = lastFlag(args, '--host') ?? '*';
      const entries = [
        ...allFlags(args, '--allow-principal').map((p) => ({ principal: principalCheck(p), permissionType: 3 })),
        ...allFlags(args, '--deny-principal').map((p) => ({ principal: principalCheck(p), permissionType: 2 })),
      ];
      if (entries.length === 0) throw new UsageError('--allow-principal or --deny-principal is required');
      const creations = entries.flatMap((e) =>
        operationsOf(args, true).map((operation) => ({
          resourceType: resource.resourceType,
          resourceName: resource.resourceName!,
          resourcePatternType: patternType,
          principal: e.principal,
          host,
          operation,
          permissionType: e.permissionType,
        })),
      );
      await withAdmin(globals, (admin) => attempt('cannot create ACLs', globals, () => admin.createAcls({ creations: creations as never })));
      if (globals.json) printJson(creations.map(describeAcl));
      else printAcls(creations);
    },
    list: async (a) => {
      const { args, globals } = parseCommand(a, ACL_SPEC);
      const filter = filterOf(args);
      const resources = await withAdmin(globals, (admin) => attempt('cannot list ACLs', globals, () => admin.describeAcls({ filter: filter as never })));
      const acls = resources.flatMap((r) => r.acls.map((x) => ({ ...x, resourceType: r.resourceType, resourceName: r.resourceName, resourcePatternType: r.resourcePatternType })));
      if (globals.json) printJson(acls.map(describeAcl));
      else printAcls(acls);
    },
    delete: async (a) => {
      const { args, globals } = parseCommand(a, ACL_SPEC);
      const filter = filterOf(args);
      const deleted = await withAdmin(globals, (admin) => attempt('cannot delete ACLs', globals, () => admin.deleteAcls({ filters: [filter as never] })));
      if (globals.json) printJson(deleted.map(describeAcl));
      else {
        printAcls(deleted);
        out(`${deleted.length} ACL(s) deleted`);
      }
    },
  });
}

function filterOf(args: ParsedArgs) {
  const resource = resourceOf(args, false);
  const principal = lastFlag(args, '--principal');
  return {
    resourceType: resource.resourceType,
    resourceName: resource.resourceName,
    resourcePatternType: patternOf(args, resource.resourceName === null ? 1 : 3),
    principal: principal === undefined ? null : principalCheck(principal),
    host: lastFlag(args, '--host') ?? null,
    operation: operationsOf(args, false)[0]!,
    permissionType: 1,
  };
}

interface AclLike {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

function describeAcl(x: AclLike) {
  return {
    resourceType: RESOURCE_NAMES[x.resourceType] ?? String(x.resourceType),
    resourceName: x.resourceName,
    patternType: x.resourcePatternType === 4 ? 'PREFIXED' : 'LITERAL',
    principal: x.principal,
    host: x.host,
    operation: OPERATION_NAMES[x.operation] ?? String(x.operation),
    permission: x.permissionType === 2 ? 'DENY' : 'ALLOW',
  };
}

function printAcls(list: AclLike[]): void {
  printTable(
    ['RESOURCE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'],
    list.map(describeAcl).map((d) => [d.resourceType, d.resourceName, d.patternType, d.principal, d.host, d.operation, d.permission]),
  );
}
