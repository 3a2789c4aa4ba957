// `fjord topic create|list|describe|delete|alter-config|add-partitions`.
import type { Admin } from '@platformatic/kafka';
import { allFlags, runSubcommand, UsageError } from './args.js';
import {
  attempt,
  CliError,
  GLOBAL_USAGE,
  intFlag,
  num,
  out,
  parseCommand,
  parseKeyValues,
  positionals,
  printJson,
  printTable,
  RESOURCE_TOPIC,
  withAdmin,
  type Globals,
} from './common.js';
import { alterResourceConfigs, describeResourceConfigs } from './config-commands.js';

export const topicUsage = `fjord topic <subcommand>

  create <name> [-p N] [-r N] [--config k=v]...   create a topic (broker defaults when -p/-r omitted)
  list [--internal]                               topics with partition counts
  describe <name>                                 partitions, leader, epoch, replicas, isr, offline, offsets,
                                                  configs that differ from the default
  delete <name>                                   delete a topic
  alter-config <name> [--set k=v]... [--delete k]...
  add-partitions <name> --count N                 grow the topic to N partitions

${GLOBAL_USAGE}`;

export function topicCommand(argv: string[]): Promise<void> {
  return runSubcommand(argv, 'topic', topicUsage, {
    create,
    list,
    ls: list,
    describe,
    delete: del,
    rm: del,
    'alter-config': alterConfig,
    'add-partitions': addPartitions,
  });
}

async function create(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {
    '-p': true,
    '--partitions': true,
    '-r': true,
    '--replication-factor': true,
    '--replicas': true,
    '--config': true,
    '-c': true,
  });
  const [name] = positionals(args, ['name']);
  const partitions = intFlag(args, ['--partitions', '-p'], { min: 1 }) ?? -1;
  const replicas = intFlag(args, ['--replication-factor', '-r', '--replicas'], { min: 1 }) ?? -1;
  const configs = parseKeyValues(allFlags(args, '--config', '-c'), '--config');
  const [created] = await withAdmin(globals, (admin) =>
    attempt(`cannot create topic "${name}"`, globals, () =>
      admin.createTopics({
        topics: [name!],
        partitions,
        replicas,
        configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
      }),
    ),
  );
  const result = {
    name: name!,
    id: created?.id ?? null,
    partitions: created?.partitions ?? partitions,
    replicationFactor: created?.replicas ?? replicas,
    configs,
  };
  if (globals.json) printJson(result);
  else out(`created topic "${result.name}" with ${result.partitions} partition(s), replication factor ${result.replicationFactor}`);
}

async function list(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--internal': false });
  positionals(args, []);
  const includeInternals = args.flags.has('--internal');
  const rows = await withAdmin(globals, (admin) =>
    attempt('cannot list topics', globals, async () => {
      const names = (await admin.listTopics({ includeInternals })).sort();
      if (names.length === 0) return [];
      const md = await admin.metadata({ topics: names });
      return names.map((n) => {
        const t = md.topics.get(n);
        return { name: n, partitions: t?.partitionsCount ?? 0, replicationFactor: t?.partitions[0]?.replicas.length ?? 0 };
      });
    }),
  );
  if (globals.json) printJson(rows);
  else if (process.stdout.isTTY && rows.length === 0) out('no topics');
  else printTable(['TOPIC', 'PARTITIONS', 'REPLICAS'], rows.map((r) => [r.name, r.partitions, r.replicationFactor]));
}

/** Metadata for one topic, with "unknown topic" as the error when it is missing. */
export async function topicMetadata(admin: Admin, g: Globals, name: string) {
  return attempt(`cannot describe topic "${name}"`, g, async () => {
    const names = await admin.listTopics({ includeInternals: true });
    if (!names.includes(name)) throw new CliError(`unknown topic "${name}"`);
    const md = await admin.metadata({ topics: [name] });
    const t = md.topics.get(name);
    if (!t) throw new CliError(`unknown topic "${name}"`);
    return t;
  });
}

export async function partitionOffsets(
  admin: Admin,
  name: string,
  partitions: number[],
  timestamp: bigint,
): Promise<Map<number, bigint>> {
  const res = await admin.listOffsets({
    topics: [{ name, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp })) }],
  });
  const map = new Map<number, bigint>();
  for (const t of res) for (const p of t.partitions) map.set(p.partitionIndex, p.offset);
  return map;
}

async function describe(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [name] = positionals(args, ['name']);
  const info = await withAdmin(globals, async (admin) => {
    const t = await topicMetadata(admin, globals, name!);
    return attempt(`cannot describe topic "${name}"`, globals, async () => {
      const ids = t.partitions.map((_, i) => i);
      const [low, high, configs] = await Promise.all([
        partitionOffsets(admin, name!, ids, -2n),
        partitionOffsets(admin, name!, ids, -1n),
        describeResourceConfigs(admin, RESOURCE_TOPIC, name!),
      ]);
      return {
        name: name!,
        id: t.id,
        partitionCount: t.partitionsCount,
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        configs: Object.fromEntries(configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG').map((c) => [c.name, c.value])),
        partitions: t.partitions.map((p, i) => ({
          partition: i,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offlineReplicas,
          lowOffset: num(low.get(i)),
          highOffset: num(high.get(i)),
        })),
      };
    });
  });
  if (globals.json) {
    printJson(info);
    return;
  }
  out(`topic       ${info.name}`);
  out(`id          ${info.id}`);
  out(`partitions  ${info.partitionCount}`);
  out(`replication ${info.replicationFactor}`);
  const cfg = Object.entries(info.configs);
  out(`configs     ${cfg.length ? cfg.map(([k, v]) => `${k}=${v}`).join(', ') : '(all defaults)'}`);
  out();
  printTable(
    ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'OFFLINE', 'LOW', 'HIGH', 'MESSAGES'],
    info.partitions.map((p) => [
      p.partition,
      p.leader,
      p.leaderEpoch,
      p.replicas.join(','),
      // A shrunken ISR is what an operator looks for first.
      p.isr.length < p.replicas.length ? `${p.isr.join(',')} (under-replicated)` : p.isr.join(','),
      p.offlineReplicas.join(','),
      p.lowOffset,
      p.highOffset,
      p.lowOffset !== null && p.highOffset !== null ? p.highOffset - p.lowOffset : null,
    ]),
  );
}

async function del(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [name] = positionals(args, ['name']);
  await withAdmin(globals, (admin) =>
    attempt(`cannot delete topic "${name}"`, globals, async () => {
      const names = await admin.listTopics({ includeInternals: true });
      if (!names.includes(name!)) throw new CliError(`cannot delete topic "${name}": unknown topic`);
      await admin.deleteTopics({ topics: [name!] });
    }),
  );
  if (globals.json) printJson({ name, deleted: true });
  else out(`deleted topic "${name}"`);
}

async function alterConfig(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--set': true, '--delete': true });
  const [name] = positionals(args, ['name']);
  const set = parseKeyValues(allFlags(args, '--set'), '--set');
  const delKeys = allFlags(args, '--delete');
  if (Object.keys(set).length === 0 && delKeys.length === 0) throw new UsageError('nothing to change: give --set k=v or --delete k');
  await withAdmin(globals, async (admin) => {
    await topicMetadata(admin, globals, name!);
    await attempt(`cannot alter configs of topic "${name}"`, globals, () =>
      alterResourceConfigs(admin, RESOURCE_TOPIC, name!, set, delKeys),
    );
  });
  if (globals.json) printJson({ name, set, deleted: delKeys });
  else out(`updated topic "${name}": ${[...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...delKeys.map((k) => `-${k}`)].join(' ')}`);
}

async function addPartitions(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--count': true, '-p': true, '--partitions': true });
  const [name] = positionals(args, ['name']);
  const count = intFlag(args, ['--count', '-p', '--partitions'], { min: 1 });
  if (count === undefined) throw new UsageError('add-partitions needs --count N (the new total)');
  await withAdmin(globals, async (admin) => {
    await topicMetadata(admin, globals, name!);
    await attempt(`cannot add partitions to topic "${name}"`, globals, () =>
      admin.createPartitions({ topics: [{ name: name!, count, assignments: null }] }),
    );
  });
  if (globals.json) printJson({ name, partitions: count });
  else out(`topic "${name}" now has ${count} partitions`);
}
