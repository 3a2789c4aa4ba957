// `fjord group list|describe|delete|reset-offsets` (ListGroups, DescribeGroups, OffsetFetch,
// DeleteGroups, OffsetCommit through the admin client).
import type { Admin } from '@platformatic/kafka';
import { lastFlag, runSubcommand, UsageError } from './args.js';
import {
  attempt,
  bigintArg,
  CliError,
  GLOBAL_USAGE,
  num,
  out,
  parseCommand,
  positionals,
  printJson,
  printTable,
  withAdmin,
  type Globals,
} from './common.js';
import { partitionOffsets, topicMetadata } from './topic-commands.js';

export const groupUsage = `fjord group <subcommand>

  list                                   groups with state and type
  describe <group>                       members, assignments, committed offset, end offset and
                                         lag per partition
  delete <group>                         delete an empty group and its offsets
  reset-offsets <group> --topic T (--to-earliest | --to-latest | --to-offset N |
                --to-datetime ISO|MS) [--partition N] [--execute]
                                         shows the plan; applies it with --execute
                                         (the group must have no active members)

${GLOBAL_USAGE}`;

export function groupCommand(argv: string[]): Promise<void> {
  return runSubcommand(argv, 'group', groupUsage, {
    list,
    ls: list,
    describe,
    delete: del,
    rm: del,
    'reset-offsets': resetOffsets,
  });
}

async function list(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  positionals(args, []);
  const groups = await withAdmin(globals, (admin) =>
    attempt('cannot list groups', globals, async () => {
      const m = await admin.listGroups();
      return [...m.values()]
        .map((gr) => ({ group: gr.id, state: gr.state, type: gr.groupType || 'classic', protocolType: gr.protocolType }))
        .sort((a, b) => a.group.localeCompare(b.group));
    }),
  );
  if (globals.json) printJson(groups);
  else if (process.stdout.isTTY && groups.length === 0) out('no groups');
  else printTable(['GROUP', 'STATE', 'TYPE', 'PROTOCOL-TYPE'], groups.map((gr) => [gr.group, gr.state, gr.type, gr.protocolType]));
}

async function committedOffsets(admin: Admin, group: string): Promise<Map<string, Map<number, bigint>>> {
  const res = await admin.listConsumerGroupOffsets({ groups: [group] });
  const m = new Map<string, Map<number, bigint>>();
  for (const gr of res) {
    for (const t of gr.topics) {
      const pm = m.get(t.name) ?? new Map<number, bigint>();
      for (const p of t.partitions) if (p.committedOffset >= 0n) pm.set(p.partitionIndex, p.committedOffset);
      if (pm.size) m.set(t.name, pm);
    }
  }
  return m;
}

async function describe(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [group] = positionals(args, ['group']);
  const info = await withAdmin(globals, (admin) =>
    attempt(`cannot describe group "${group}"`, globals, async () => {
      const described = (await admin.describeGroups({ groups: [group!] })).get(group!);
      const offsets = await committedOffsets(admin, group!);
      const state = described?.state ?? 'DEAD';
      if ((state === 'DEAD' || !described) && offsets.size === 0) throw new CliError(`group "${group}" does not exist`);
      const members = [...(described?.members.values() ?? [])].map((m) => ({
        memberId: m.id,
        groupInstanceId: m.groupInstanceId ?? null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignments: [...(m.assignments?.values() ?? [])].map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) })),
      }));
      const owner = new Map<string, (typeof members)[number]>();
      for (const m of members) for (const a of m.assignments) for (const p of a.partitions) owner.set(`${a.topic}:${p}`, m);
      const topics = new Set([...offsets.keys(), ...members.flatMap((m) => m.assignments.map((a) => a.topic))]);
      const partitions: {
        topic: string;
        partition: number;
        committedOffset: number | null;
        endOffset: number | null;
        lag: number | null;
        memberId: string | null;
        clientId: string | null;
        host: string | null;
      }[] = [];
      for (const topic of [...topics].sort()) {
        const committed = offsets.get(topic) ?? new Map<number, bigint>();
        const assigned = members.flatMap((m) => m.assignments.filter((a) => a.topic === topic).flatMap((a) => a.partitions));
        const ps = [...new Set([...committed.keys(), ...assigned])].sort((a, b) => a - b);
        const ends = await partitionOffsets(admin, topic, ps, -1n).catch(() => new Map<number, bigint>());
        for (const p of ps) {
          const c = committed.get(p);
          const e = ends.get(p);
          const m = owner.get(`${topic}:${p}`);
          partitions.push({
            topic,
            partition: p,
            committedOffset: num(c),
            endOffset: num(e),
            lag: c !== undefined && e !== undefined ? Number(e - c) : e !== undefined ? null : null,
            memberId: m?.memberId ?? null,
            clientId: m?.clientId ?? null,
            host: m?.clientHost ?? null,
          });
        }
      }
      return {
        group: group!,
        state,
        protocolType: described?.protocolType ?? '',
        protocol: described?.protocol ?? '',
        members,
        partitions,
        totalLag: partitions.reduce((s, p) => s + (p.lag ?? 0), 0),
      };
    }),
  );
  if (globals.json) {
    printJson(info);
    return;
  }
  out(`group       ${info.group}`);
  out(`state       ${info.state}`);
  out(`protocol    ${info.protocolType || '-'}${info.protocol ? ` / ${info.protocol}` : ''}`);
  out(`members     ${info.members.length}`);
  out(`total lag   ${info.totalLag}`);
  out();
  printTable(
    ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'MEMBER', 'CLIENT', 'HOST'],
    info.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.endOffset, p.lag, p.memberId, p.clientId, p.host]),
  );
  if (info.members.length) {
    out();
    printTable(
      ['MEMBER', 'CLIENT', 'HOST', 'ASSIGNMENT'],
      info.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.assignments.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-']),
    );
  }
}

async function del(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [group] = positionals(args, ['group']);
  await withAdmin(globals, (admin) => attempt(`cannot delete group "${group}"`, globals, () => admin.deleteGroups({ groups: [group!] })));
  if (globals.json) printJson({ group, deleted: true });
  else out(`deleted group "${group}"`);
}

function parseTime(raw: string): bigint {
  if (/^\d+$/.test(raw)) return BigInt(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new UsageError(`--to-datetime expects an ISO date or epoch milliseconds, got "${raw}"`);
  return BigInt(ms);
}

async function resetOffsets(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {
    '--topic': true,
    '-t': true,
    '--partition': true,
    '--to-earliest': false,
    '--to-latest': false,
    '--to-offset': true,
    '--to-datetime': true,
    '--execute': false,
    '--dry-run': false,
  });
  const [group] = positionals(args, ['group']);
  const topic = lastFlag(args, '--topic', '-t');
  if (!topic) throw new UsageError('reset-offsets needs --topic T');
  const modes = ['--to-earliest', '--to-latest', '--to-offset', '--to-datetime'].filter((f) => args.flags.has(f));
  if (modes.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime T');
  const toOffset = lastFlag(args, '--to-offset');
  const target = toOffset !== undefined ? bigintArg(toOffset, '--to-offset') : undefined;
  const dt = lastFlag(args, '--to-datetime');
  const ts = dt !== undefined ? parseTime(dt) : undefined;
  const partRaw = (args.flags.get('--partition') ?? []).map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--partition expects a partition number, got "${p}"`);
    return Number(p);
  });
  const execute = args.flags.has('--execute');

  const plan = await withAdmin(globals, async (admin) => {
    const t = await topicMetadata(admin, globals, topic);
    const parts = partRaw.length ? partRaw : t.partitions.map((_, i) => i);
    for (const p of parts) if (p >= t.partitionsCount) throw new CliError(`topic "${topic}" has no partition ${p}`);
    return attempt(`cannot reset offsets of group "${group}"`, globals, async () => {
      const described = (await admin.describeGroups({ groups: [group!] })).get(group!);
      if (execute && described && described.members.size > 0) {
        throw new CliError(`group "${group}" has ${described.members.size} active member(s); stop them before resetting offsets`);
      }
      const [low, high, current] = await Promise.all([
        partitionOffsets(admin, topic, parts, -2n),
        partitionOffsets(admin, topic, parts, -1n),
        committedOffsets(admin, group!),
      ]);
      const byTime = ts !== undefined ? await partitionOffsets(admin, topic, parts, ts) : undefined;
      const rows = parts.map((p) => {
        const lo = low.get(p) ?? 0n;
        const hi = high.get(p) ?? 0n;
        let next: bigint;
        if (args.flags.has('--to-earliest')) next = lo;
        else if (args.flags.has('--to-latest')) next = hi;
        else if (target !== undefined) next = target < lo ? lo : target > hi ? hi : target;
        else {
          const v = byTime!.get(p) ?? -1n;
          next = v >= 0n ? v : hi;
        }
        return { topic, partition: p, currentOffset: num(current.get(topic)?.get(p)), newOffset: Number(next) };
      });
      if (execute) {
        await admin.alterConsumerGroupOffsets({
          groupId: group!,
          topics: [{ name: topic, partitionOffsets: rows.map((r) => ({ partition: r.partition, offset: BigInt(r.newOffset) })) }],
        });
      }
      return rows;
    });
  });
  if (globals.json) {
    printJson({ group, executed: execute, partitions: plan });
    return;
  }
  printTable(['TOPIC', 'PARTITION', 'CURRENT', 'NEW'], plan.map((r) => [r.topic, r.partition, r.currentOffset, r.newOffset]));
  if (!execute) process.stderr.write('fjord: dry run — nothing changed; add --execute to apply\n');
  else out(`reset offsets of group "${group}" on "${topic}"`);
}

export type { Globals };
