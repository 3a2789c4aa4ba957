// `fjord cluster info` (Metadata) and `fjord records delete` (DeleteRecords).
import { lastFlag, UsageError } from './args.js';
import {
  attempt,
  bigintArg,
  CliError,
  GLOBAL_USAGE,
  intFlag,
  num,
  out,
  parseCommand,
  positionals,
  printJson,
  printTable,
  withAdmin,
} from './common.js';
import { partitionOffsets, topicMetadata } from './topic-commands.js';

export const clusterUsage = `fjord cluster info

Shows the cluster id, the controller, every broker (id, host, port, rack, partitions led) and
the partitions that need attention: under-replicated (ISR smaller than the replica set) and
offline (no leader).

${GLOBAL_USAGE}`;

interface PartitionProblem {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export async function clusterCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'info') {
    throw new UsageError(sub === undefined ? `missing subcommand\n\n${clusterUsage}` : `unknown cluster subcommand "${sub}"\n\n${clusterUsage}`);
  }
  const { args, globals } = parseCommand(rest, {});
  positionals(args, []);
  const info = await withAdmin(globals, (admin) =>
    attempt('cannot read cluster metadata', globals, async () => {
      const names = await admin.listTopics({ includeInternals: true });
      const md = await admin.metadata({ topics: names });
      const leaderCounts = new Map<number, number>();
      const underReplicated: PartitionProblem[] = [];
      const offline: PartitionProblem[] = [];
      let partitions = 0;
      for (const name of [...names].sort()) {
        const t = md.topics.get(name);
        if (!t) continue;
        t.partitions.forEach((p, i) => {
          partitions++;
          const row = { topic: name, partition: i, leader: p.leader, replicas: p.replicas, isr: p.isr };
          if (p.leader < 0 || !md.brokers.has(p.leader)) offline.push(row);
          else leaderCounts.set(p.leader, (leaderCounts.get(p.leader) ?? 0) + 1);
          if (p.isr.length < p.replicas.length) underReplicated.push(row);
        });
      }
      return {
        clusterId: md.id,
        controllerId: md.controllerId,
        brokers: [...md.brokers]
          .map(([id, b]) => ({ id, host: b.host, port: b.port, rack: b.rack ?? null, leaderPartitions: leaderCounts.get(id) ?? 0 }))
          .sort((a, b) => a.id - b.id),
        topics: names.length,
        partitions,
        underReplicated,
        offline,
      };
    }),
  );
  if (globals.json) {
    printJson(info);
    return;
  }
  out(`cluster id  ${info.clusterId}`);
  out(`controller  ${info.controllerId}`);
  out(`brokers     ${info.brokers.length}`);
  out(`partitions  ${info.partitions} in ${info.topics} topic(s): ${info.underReplicated.length} under-replicated, ${info.offline.length} offline`);
  out();
  printTable(
    ['ID', 'HOST', 'PORT', 'RACK', 'LEADS', 'CONTROLLER'],
    info.brokers.map((b) => [b.id, b.host, b.port, b.rack, b.leaderPartitions, b.id === info.controllerId ? 'yes' : '']),
  );
  const problems = [
    ...info.offline.map((p) => ({ ...p, state: 'offline' })),
    ...info.underReplicated.filter((p) => !info.offline.includes(p)).map((p) => ({ ...p, state: 'under-replicated' })),
  ];
  if (problems.length > 0) {
    out();
    printTable(
      ['TOPIC', 'PARTITION', 'STATE', 'LEADER', 'REPLICAS', 'ISR'],
      problems.map((p) => [p.topic, p.partition, p.state, p.leader, p.replicas.join(','), p.isr.join(',')]),
    );
  }
}

export const recordsUsage = `fjord records delete <topic> --partition N --before OFFSET

Deletes every record below OFFSET in the partition (moves its low watermark, like
kafka-delete-records). OFFSET -1 means the current high watermark (delete everything).

${GLOBAL_USAGE}`;

export async function recordsCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'delete') {
    throw new UsageError(sub === undefined ? `missing subcommand\n\n${recordsUsage}` : `unknown records subcommand "${sub}"\n\n${recordsUsage}`);
  }
  const { args, globals } = parseCommand(rest, { '--partition': true, '-p': true, '--before': true, '--offset': true });
  const [topic] = positionals(args, ['topic']);
  const partition = intFlag(args, ['--partition', '-p'], { min: 0 });
  const beforeRaw = lastFlag(args, '--before', '--offset');
  if (partition === undefined) throw new UsageError('records delete needs --partition N');
  if (beforeRaw === undefined) throw new UsageError('records delete needs --before OFFSET');
  const before = bigintArg(beforeRaw, '--before');
  if (before < -1n) throw new UsageError('--before must be an offset (or -1 for the high watermark)');
  const result = await withAdmin(globals, async (admin) => {
    const t = await topicMetadata(admin, globals, topic!);
    if (partition >= t.partitionsCount) throw new CliError(`topic "${topic}" has no partition ${partition} (it has ${t.partitionsCount})`);
    return attempt(`cannot delete records from "${topic}" partition ${partition}`, globals, async () => {
      let offset = before;
      if (offset === -1n) offset = (await partitionOffsets(admin, topic!, [partition], -1n)).get(partition) ?? 0n;
      const res = await admin.deleteRecords({ topics: [{ name: topic!, partitions: [{ partition, offset }] }] });
      const low = res.flatMap((t) => t.partitions).find((p) => p.partition === partition)?.lowWatermark;
      return { topic: topic!, partition, lowWatermark: num(low) };
    });
  });
  if (globals.json) printJson(result);
  else out(`deleted records before offset ${result.lowWatermark} in "${topic}" partition ${partition} (low watermark now ${result.lowWatermark})`);
}
