// `fjord share-group list|describe|reset-offsets|delete` — share groups (KIP-932). The client
// library the other commands use has no share-group APIs, so these speak the Kafka protocol
// directly with Fjord's generated codecs: ListGroups, ShareGroupDescribe,
// DescribeShareGroupOffsets, ReadShareGroupState (in-flight counts), AlterShareGroupOffsets,
// DeleteGroups, sent to the group's coordinator (FindCoordinator).
import { connect, type Socket } from 'node:net';
import { errorName } from '../protocol/errors.js';
import { ApiKey, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../protocol/gen/index.js';
import { apiSpecs } from '../protocol/gen/specs.js';
import { Reader, Writer } from '../protocol/primitives.js';
import { lastFlag, runSubcommand, UsageError } from './args.js';
import { bigintArg, CliError, ensureReachable, GLOBAL_USAGE, out, parseCommand, positionals, printJson, printTable, type Globals } from './common.js';

export const shareGroupUsage = `fjord share-group <subcommand>

  list                                   share groups with their state
  describe <group>                       members and assignments; per partition the start
                                         offset, lag and in-flight records (acquired,
                                         available, acknowledged, archived)
  reset-offsets <group> --topic T (--to-earliest | --to-latest | --to-offset N)
                [--partition N] [--execute]
                                         shows the plan; applies it with --execute (the group
                                         must have no members); a new group is created empty
  delete <group>                         delete an empty share group and its state

${GLOBAL_USAGE}`;

export function shareGroupCommand(argv: string[]): Promise<void> {
  return runSubcommand(argv, 'share-group', shareGroupUsage, {
    list,
    ls: list,
    describe,
    delete: del,
    rm: del,
    'reset-offsets': resetOffsets,
  });
}

// ---------------------------------------------------------------------------------------------
// A minimal Kafka connection: one request at a time (callers await each call).

class Connection {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closed = false;
  private correlation = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static async open(hostPort: string): Promise<Connection> {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(hostPort);
    if (!m) throw new CliError(`expected HOST:PORT, got "${hostPort}"`);
    const socket = connect({ host: m[1] ?? m[2]!, port: Number(m[3]) });
    await new Promise<void>((res, rej) => {
      socket.once('connect', () => res());
      socket.once('error', (e) => rej(new CliError(`cannot reach broker at ${hostPort} (${e.message})`)));
    });
    return new Connection(socket);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call(apiKey: number, version: number, body: unknown, timeoutMs = 15_000): Promise<any> {
    const spec = apiSpecs.get(apiKey)!;
    const w = new Writer();
    const size = w.reserveInt32();
    const correlationId = this.correlation++;
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'fjord-cli' });
    spec.encodeRequest(w, version, body);
    w.patchInt32(size, w.length - 4);
    this.socket.write(w.toBuffer());
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const frame = this.buf.subarray(4, 4 + this.buf.readInt32BE(0));
        this.buf = this.buf.subarray(4 + frame.length);
        const r = new Reader(frame);
        decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
        return spec.decodeResponse(r, version);
      }
      if (this.closed) throw new CliError(`the broker closed the connection during ${spec.name}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new CliError(`no answer to ${spec.name} within ${timeoutMs} ms`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = undefined;
          res();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs fn with a connection to the group's coordinator. */
async function withCoordinator<T>(g: Globals, groupId: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  await ensureReachable(g);
  const boot = await Connection.open(g.brokers[0]!);
  let target = boot;
  try {
    const found = await boot.call(ApiKey.FindCoordinator, 3, { key: groupId, keyType: 0 });
    check(found.errorCode, `cannot find the coordinator of "${groupId}"`, found.errorMessage);
    const addr = `${found.host.includes(':') ? `[${found.host}]` : found.host}:${found.port}`;
    if (!g.brokers.includes(addr)) target = await Connection.open(addr);
    return await fn(target);
  } finally {
    if (target !== boot) target.close();
    boot.close();
  }
}

async function withBootstrap<T>(g: Globals, fn: (c: Connection) => Promise<T>): Promise<T> {
  await ensureReachable(g);
  const c = await Connection.open(g.brokers[0]!);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function check(code: number, context: string, message?: string | null): void {
  if (code === 0) return;
  const name = errorName(code) ?? String(code);
  const text: Record<string, string> = {
    GROUP_ID_NOT_FOUND: 'share group does not exist',
    NON_EMPTY_GROUP: 'share group has active members (stop them first)',
    UNKNOWN_TOPIC_OR_PARTITION: 'unknown topic or partition',
  };
  throw new CliError(`${context}: ${text[name] ?? message ?? name} (${name})`);
}

// ---------------------------------------------------------------------------------------------

async function list(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  positionals(args, []);
  const groups = await withBootstrap(globals, async (c) => {
    const res = await c.call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['share'] });
    check(res.errorCode, 'cannot list share groups');
    return (res.groups as { groupId: string; groupState: string }[])
      .map((g) => ({ group: g.groupId, state: g.groupState }))
      .sort((a, b) => a.group.localeCompare(b.group));
  });
  if (globals.json) printJson(groups);
  else if (process.stdout.isTTY && groups.length === 0) out('no share groups');
  else printTable(['GROUP', 'STATE'], groups.map((g) => [g.group, g.state]));
}

interface PartitionInfo {
  topic: string;
  partition: number;
  startOffset: number;
  lag: number;
  acquired: number;
  available: number;
  acknowledged: number;
  archived: number;
}

async function describe(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [group] = positionals(args, ['group']);
  const info = await withCoordinator(globals, group!, async (c) => {
    const d = (await c.call(ApiKey.ShareGroupDescribe, 1, { groupIds: [group], includeAuthorizedOperations: false })).groups[0];
    check(d.errorCode, `cannot describe share group "${group}"`, d.errorMessage);
    const o = (await c.call(ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId: group, topics: null }] })).groups[0];
    check(o.errorCode, `cannot describe share group "${group}"`, o.errorMessage);
    const partitions: PartitionInfo[] = [];
    for (const t of o.topics as { topicName: string; topicId: string; partitions: { partitionIndex: number; startOffset: number; lag: number }[] }[]) {
      const state = await c.call(ApiKey.ReadShareGroupState, 0, {
        groupId: group,
        topics: [{ topicId: t.topicId, partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, leaderEpoch: -1 })) }],
      });
      const byPartition = new Map<number, { deliveryState: number; firstOffset: number; lastOffset: number }[]>();
      for (const r of state.results ?? []) for (const p of r.partitions) byPartition.set(p.partition, p.stateBatches);
      for (const p of t.partitions) {
        const counts = { acquired: 0, available: 0, acknowledged: 0, archived: 0 };
        for (const b of byPartition.get(p.partitionIndex) ?? []) {
          const n = b.lastOffset - b.firstOffset + 1;
          if (b.deliveryState === 0) counts.available += n;
          else if (b.deliveryState === 1) counts.acquired += n;
          else if (b.deliveryState === 2) counts.acknowledged += n;
          else if (b.deliveryState === 4) counts.archived += n;
        }
        partitions.push({ topic: t.topicName, partition: p.partitionIndex, startOffset: p.startOffset, lag: p.lag, ...counts });
      }
    }
    partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return {
      group,
      state: d.groupState as string,
      groupEpoch: d.groupEpoch as number,
      assignor: d.assignorName as string,
      members: (d.members as { memberId: string; clientId: string; clientHost: string; memberEpoch: number; assignment: { topicPartitions: { topicName: string; partitions: number[] }[] } }[]).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        memberEpoch: m.memberEpoch,
        assignment: m.assignment.topicPartitions.map((tp) => `${tp.topicName}:${tp.partitions.join(',')}`).join(' '),
      })),
      partitions,
    };
  });
  if (globals.json) {
    printJson(info);
    return;
  }
  out(`share group ${info.group}: ${info.state}, epoch ${info.groupEpoch}, assignor ${info.assignor}, ${info.members.length} member(s)`);
  if (info.members.length) {
    out();
    printTable(['MEMBER', 'CLIENT', 'HOST', 'EPOCH', 'ASSIGNMENT'], info.members.map((m) => [m.memberId, m.clientId, m.host, m.memberEpoch, m.assignment]));
  }
  if (info.partitions.length) {
    out();
    printTable(
      ['TOPIC', 'PARTITION', 'START-OFFSET', 'LAG', 'ACQUIRED', 'AVAILABLE', 'ACKED', 'ARCHIVED'],
      info.partitions.map((p) => [p.topic, p.partition, p.startOffset, p.lag, p.acquired, p.available, p.acknowledged, p.archived]),
    );
  }
}

async function resetOffsets(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {
    '--topic': true,
    '-t': true,
    '--partition': true,
    '--to-earliest': false,
    '--to-latest': false,
    '--to-offset': true,
    '--execute': false,
    '--dry-run': false,
  });
  const [group] = positionals(args, ['group']);
  const topic = lastFlag(args, '--topic', '-t');
  if (!topic) throw new UsageError('reset-offsets needs --topic T');
  const modes = ['--to-earliest', '--to-latest', '--to-offset'].filter((f) => args.flags.has(f));
  if (modes.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset N');
  const toOffset = lastFlag(args, '--to-offset');
  const target = toOffset !== undefined ? bigintArg(toOffset, '--to-offset') : undefined;
  const partRaw = (args.flags.get('--partition') ?? []).map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--partition expects a partition number, got "${p}"`);
    return Number(p);
  });
  const execute = args.flags.has('--execute');
  const plan = await withCoordinator(globals, group!, async (c) => {
    const md = await c.call(ApiKey.Metadata, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const t = md.topics[0];
    if (t?.errorCode !== 0) throw new CliError(`unknown topic "${topic}"`);
    const count = (t.partitions as unknown[]).length;
    const parts = partRaw.length ? partRaw : Array.from({ length: count }, (_, i) => i);
    for (const p of parts) if (p >= count) throw new CliError(`topic "${topic}" has no partition ${p}`);
    const offsets = async (timestamp: number) => {
      const res = await c.call(ApiKey.ListOffsets, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: topic, partitions: parts.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp })) }],
      });
      return new Map<number, number>((res.topics[0].partitions as { partitionIndex: number; offset: number }[]).map((p) => [p.partitionIndex, p.offset]));
    };
    const low = await offsets(-2);
    const high = await offsets(-1);
    const current = await c.call(ApiKey.DescribeShareGroupOffsets, 1, { groups: [{ groupId: group, topics: [{ topicName: topic, partitions: parts }] }] });
    const currentBy = new Map<number, number>();
    if (current.groups[0].errorCode === 0) {
      for (const p of current.groups[0].topics[0]?.partitions ?? []) currentBy.set(p.partitionIndex, p.startOffset);
    }
    const rows = parts.map((p) => {
      const lo = low.get(p) ?? 0;
      const hi = high.get(p) ?? 0;
      let next: number;
      if (args.flags.has('--to-earliest')) next = lo;
      else if (args.flags.has('--to-latest')) next = hi;
      else next = Math.min(Math.max(Number(target!), lo), hi);
      return { topic, partition: p, currentStartOffset: currentBy.get(p) ?? -1, newStartOffset: next };
    });
    if (execute) {
      const res = await c.call(ApiKey.AlterShareGroupOffsets, 0, {
        groupId: group,
        topics: [{ topicName: topic, partitions: rows.map((r) => ({ partitionIndex: r.partition, startOffset: r.newStartOffset })) }],
      });
      check(res.errorCode, `cannot reset share group "${group}"`, res.errorMessage);
      for (const t of res.responses) for (const p of t.partitions) check(p.errorCode, `cannot reset ${t.topicName}-${p.partitionIndex}`, p.errorMessage);
    }
    return rows;
  });
  if (globals.json) {
    printJson({ group, executed: execute, partitions: plan });
    return;
  }
  printTable(['TOPIC', 'PARTITION', 'CURRENT', 'NEW'], plan.map((r) => [r.topic, r.partition, r.currentStartOffset, r.newStartOffset]));
  if (!execute) process.stderr.write('fjord: dry run — nothing changed; add --execute to apply\n');
  else out(`reset start offsets of share group "${group}" on "${topic}"`);
}

async function del(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [group] = positionals(args, ['group']);
  await withCoordinator(globals, group!, async (c) => {
    const d = (await c.call(ApiKey.ShareGroupDescribe, 1, { groupIds: [group], includeAuthorizedOperations: false })).groups[0];
    check(d.errorCode, `cannot delete share group "${group}"`, d.errorMessage);
    const res = await c.call(ApiKey.DeleteGroups, 2, { groupsNames: [group] });
    check(res.results[0].errorCode, `cannot delete share group "${group}"`);
  });
  if (globals.json) printJson({ group, deleted: true });
  else out(`deleted share group "${group}"`);
}
