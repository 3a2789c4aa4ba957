// `fjord consume <topic>`: like kcat -C. Without --group it assigns partitions itself and reads
// with plain Fetch requests (no group coordinator involved); with --group it joins the group.
import type { Consumer } from '@platformatic/kafka';
import { allFlags, lastFlag, UsageError } from './args.js';
import {
  bigintArg,
  CliError,
  ensureReachable,
  fail,
  GLOBAL_USAGE,
  intFlag,
  newConsumer,
  parseCommand,
  positionals,
  toJson,
  type Globals,
} from './common.js';

export const consumeUsage = `fjord consume <topic> [options]

Prints records from <topic>. Starts at the end of each partition unless told otherwise.

  --from-beginning          start at the earliest offset
  -o, --offset N            start at offset N (negative: N records before the end)
  --from-time ISO|MS        start at the first record with timestamp >= the given time
  -P, --partition N         read only partition N (repeatable)
  -n, --count N             exit after N records
  -e, --exit-at-end         exit when every partition has been read to its end
  --timeout MS              exit after MS without a record (status 1 if -n was not reached)
  -g, --group G             consume as member of group G (committed offsets; --from-beginning
                            only decides where a group without offsets starts)
  -f, --format FMT          output format (default "%v\\n"); tokens: %k key, %v value,
                            %p partition, %o offset, %t timestamp (ms), %T topic, %h headers
                            (k=v,k=v), %K key length, %S value length, %% percent;
                            escapes \\n \\t \\r \\\\
  --json                    one JSON object per record:
                            {"topic","partition","offset","timestamp","key","value","headers"}
  --isolation L             read_uncommitted (default) | read_committed

${GLOBAL_USAGE}`;

interface Rec {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer, Buffer | null][];
}

// ---------------------------------------------------------------------------------------------
// Formatting

const utf8 = new TextDecoder('utf-8', { fatal: true });

function jsonText(b: Buffer | null): { text: string | null; base64: boolean } {
  if (b === null) return { text: null, base64: false };
  try {
    return { text: utf8.decode(b), base64: false };
  } catch {
    return { text: b.toString('base64'), base64: true };
  }
}

function recordJson(r: Rec): string {
  const key = jsonText(r.key);
  const value = jsonText(r.value);
  const headers: Record<string, string | null> = {};
  for (const [k, v] of r.headers) headers[k.toString()] = v === null ? null : v.toString();
  const o: Record<string, unknown> = {
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    key: key.text,
    value: value.text,
    headers,
  };
  if (key.base64) o.keyEncoding = 'base64';
  if (value.base64) o.valueEncoding = 'base64';
  return toJson(o);
}

type Part = string | ((r: Rec) => string | Buffer);

/** Compiles a kcat-style format string into a list of literal and field parts. */
function compileFormat(fmt: string): (r: Rec) => Buffer {
  const parts: Part[] = [];
  let lit = '';
  const push = (p: Part) => {
    if (lit) parts.push(lit);
    lit = '';
    parts.push(p);
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '\\' && i + 1 < fmt.length) {
      const n = fmt[++i]!;
      lit += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '0' ? '\0' : n === '\\' ? '\\' : `\\${n}`;
    } else if (c === '%' && i + 1 < fmt.length) {
      const n = fmt[++i]!;
      switch (n) {
        case 'k':
          push((r) => r.key ?? '');
          break;
        case 'v':
          push((r) => r.value ?? '');
          break;
        case 'p':
          push((r) => String(r.partition));
          break;
        case 'o':
          push((r) => String(r.offset));
          break;
        case 't':
          push((r) => String(r.timestamp));
          break;
        case 'T':
          push((r) => r.topic);
          break;
        case 'h':
          push((r) => r.headers.map(([k, v]) => `${k.toString()}=${v === null ? '' : v.toString()}`).join(','));
          break;
        case 'K':
          push((r) => String(r.key === null ? -1 : r.key.length));
          break;
        case 'S':
          push((r) => String(r.value === null ? -1 : r.value.length));
          break;
        case '%':
          lit += '%';
          break;
        default:
          throw new UsageError(`unknown format token %${n} (known: %k %v %p %o %t %T %h %K %S %%)`);
      }
    } else {
      lit += c;
    }
  }
  if (lit) parts.push(lit);
  return (r) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p(r) as Buffer))));
}

// ---------------------------------------------------------------------------------------------
// Output with EPIPE handling (`fjord consume t | head -1` must end quietly)

let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') {
    stdoutClosed = true;
    process.exit(0);
  }
});

function emit(buf: Buffer | string): void {
  if (!stdoutClosed) process.stdout.write(buf);
}

/** Back-pressure: wait while stdout's buffer is full (slow pipe reader). */
async function drained(): Promise<void> {
  if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once('drain', r));
}

// ---------------------------------------------------------------------------------------------

interface ConsumeOptions {
  topic: string;
  partitions?: number[];
  start: { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; ms: bigint };
  count?: number;
  exitAtEnd: boolean;
  timeoutMs?: number;
  group?: string;
  isolation: 0 | 1;
  write: (r: Rec) => void;
}

function parseTime(raw: string): bigint {
  if (/^\d+$/.test(raw)) return BigInt(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new UsageError(`--from-time expects an ISO date or epoch milliseconds, got "${raw}"`);
  return BigInt(ms);
}

export async function consumeCommand(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {
    '--from-beginning': false,
    '--offset': true,
    '-o': true,
    '--from-time': true,
    '--partition': true,
    '-P': true,
    '-n': true,
    '--count': true,
    '--exit-at-end': false,
    '-e': false,
    '--timeout': true,
    '--group': true,
    '-g': true,
    '--format': true,
    '-f': true,
    '--isolation': true,
  });
  const [topic] = positionals(args, ['topic']);
  const starts = ['--from-beginning', '--offset', '-o', '--from-time'].filter((f) => args.flags.has(f));
  if (starts.length > 1 && !(starts.length === 2 && starts.includes('--offset') && starts.includes('-o'))) {
    throw new UsageError('give at most one of --from-beginning, --offset, --from-time');
  }
  let start: ConsumeOptions['start'] = { kind: 'latest' };
  if (args.flags.has('--from-beginning')) start = { kind: 'earliest' };
  const off = lastFlag(args, '--offset', '-o');
  if (off !== undefined) {
    if (off === 'beginning' || off === 'earliest') start = { kind: 'earliest' };
    else if (off === 'end' || off === 'latest') start = { kind: 'latest' };
    else start = { kind: 'offset', offset: bigintArg(off, '--offset') };
  }
  const time = lastFlag(args, '--from-time');
  if (time !== undefined) start = { kind: 'time', ms: parseTime(time) };
  const partitions = allFlags(args, '--partition', '-P').map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--partition expects a partition number, got "${p}"`);
    return Number(p);
  });
  const count = intFlag(args, ['-n', '--count'], { min: 1 });
  const timeoutMs = intFlag(args, ['--timeout'], { min: 1 });
  const group = lastFlag(args, '--group', '-g');
  const isoRaw = lastFlag(args, '--isolation') ?? 'read_uncommitted';
  const isolation = isoRaw === 'read_committed' ? 1 : isoRaw === 'read_uncommitted' ? 0 : undefined;
  if (isolation === undefined) throw new UsageError(`--isolation must be read_committed or read_uncommitted (got "${isoRaw}")`);
  if (group !== undefined && (start.kind === 'offset' || start.kind === 'time')) {
    throw new UsageError('--offset/--from-time cannot be combined with --group (use fjord group reset-offsets)');
  }
  if (group !== undefined && partitions.length) throw new UsageError('--partition cannot be combined with --group');
  const fmt = lastFlag(args, '--format', '-f');
  if (fmt !== undefined && globals.json) throw new UsageError('--format and --json cannot be combined');
  const format = compileFormat(fmt ?? '%v\\n');
  const write = globals.json ? (r: Rec) => emit(recordJson(r) + '\n') : (r: Rec) => emit(format(r));

  const opts: ConsumeOptions = {
    topic: topic!,
    partitions: partitions.length ? partitions : undefined,
    start,
    count,
    exitAtEnd: args.flags.has('--exit-at-end') || args.flags.has('-e'),
    timeoutMs,
    group,
    isolation,
    write,
  };
  await ensureReachable(globals);
  const n = group === undefined ? await consumeAssigned(globals, opts) : await consumeGroup(globals, opts, group);
  if (process.stderr.isTTY) process.stderr.write(`fjord: consumed ${n} record(s)\n`);
}

async function topicInfo(consumer: Consumer, g: Globals, topic: string) {
  try {
    const md = await consumer.metadata({ topics: [topic] });
    const t = md.topics.get(topic);
    if (!t) throw new CliError(`unknown topic "${topic}"`);
    return t;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const msg = (err as Error).message ?? '';
    if (/unknown topic/i.test(msg) || /UNKNOWN_TOPIC/.test(JSON.stringify((err as { errors?: unknown }).errors ?? []))) {
      throw new CliError(`unknown topic "${topic}"`);
    }
    fail(`cannot read metadata for "${topic}"`, err, g);
  }
}

async function listOffsets(consumer: Consumer, topic: string, parts: number[], timestamp: bigint, isolation: number): Promise<Map<number, bigint>> {
  const res = await consumer.listOffsets({ topics: [topic], partitions: { [topic]: parts }, timestamp, isolationLevel: isolation });
  const arr = res.get(topic) ?? [];
  const m = new Map<number, bigint>();
  for (const p of parts) m.set(p, arr[p] ?? 0n);
  return m;
}

/** Plain partition assignment: Fetch loop per leader, offsets kept here. */
async function consumeAssigned(g: Globals, o: ConsumeOptions): Promise<number> {
  const consumer = newConsumer(g, 'fjord-cli-unused', { maxWaitTime: 500 });
  let consumed = 0;
  try {
    const meta = await topicInfo(consumer, g, o.topic);
    const all = meta.partitions.map((_, i) => i);
    const parts = o.partitions ?? all;
    for (const p of parts) if (p >= all.length) throw new CliError(`topic "${o.topic}" has no partition ${p} (it has ${all.length})`);
    if (parts.length === 0) throw new CliError(`topic "${o.topic}" has no partitions`);

    const positions = new Map<number, bigint>();
    try {
      const low = await listOffsets(consumer, o.topic, parts, -2n, o.isolation);
      const high = await listOffsets(consumer, o.topic, parts, -1n, o.isolation);
      for (const p of parts) {
        const lo = low.get(p)!;
        const hi = high.get(p)!;
        let pos: bigint;
        switch (o.start.kind) {
          case 'earliest':
            pos = lo;
            break;
          case 'latest':
            pos = hi;
            break;
          case 'offset':
            pos = o.start.offset >= 0n ? o.start.offset : hi + o.start.offset;
            if (pos < lo) pos = lo;
            if (pos > hi) pos = hi;
            break;
          case 'time':
            pos = -1n;
            break;
        }
        positions.set(p, pos);
      }
      if (o.start.kind === 'time') {
        const byTime = await listOffsets(consumer, o.topic, parts, o.start.ms, o.isolation);
        for (const p of parts) {
          const v = byTime.get(p)!;
          positions.set(p, v >= 0n ? v : high.get(p)!);
        }
      }
    } catch (err) {
      fail(`cannot list offsets of "${o.topic}"`, err, g);
    }

    const atEnd = new Set<number>();
    const aborted = new Map<number, { producerId: bigint; firstOffset: bigint }[]>();
    const activeAborted = new Map<number, Set<bigint>>();
    let lastRecordAt = Date.now();
    for (;;) {
      if (o.timeoutMs !== undefined && Date.now() - lastRecordAt >= o.timeoutMs) {
        if (o.count !== undefined) throw new CliError(`timed out after ${o.timeoutMs} ms waiting for records (got ${consumed} of ${o.count})`);
        return consumed;
      }
      // Group partitions by leader; one Fetch per leader.
      const md = await topicInfo(consumer, g, o.topic);
      const byLeader = new Map<number, number[]>();
      for (const p of parts) {
        const leader = md.partitions[p]?.leader ?? -1;
        if (leader < 0) continue;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      if (byLeader.size === 0) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const responses = await Promise.all(
        [...byLeader].map(async ([node, ps]) => {
          try {
            return await consumer.fetch({
              node,
              maxWaitTime: o.timeoutMs !== undefined ? Math.min(500, o.timeoutMs) : 500,
              isolationLevel: o.isolation,
              topics: [
                {
                  topicId: md.id,
                  partitions: ps.map((p) => ({
                    partition: p,
                    currentLeaderEpoch: -1,
                    fetchOffset: positions.get(p)!,
                    lastFetchedEpoch: -1,
                    partitionMaxBytes: 1024 * 1024,
                  })),
                },
              ],
            });
          } catch (err) {
            fail(`cannot fetch from "${o.topic}"`, err, g);
          }
        }),
      );
      for (const resp of responses) {
        for (const t of resp.responses) {
          for (const pr of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
            const p = pr.partitionIndex;
            if (pr.errorCode === 1) {
              // OFFSET_OUT_OF_RANGE: records were deleted under us; continue from the earliest.
              const low = await listOffsets(consumer, o.topic, [p], -2n, o.isolation);
              process.stderr.write(`fjord: partition ${p}: offset ${positions.get(p)} out of range, resetting to ${low.get(p)}\n`);
              positions.set(p, low.get(p)!);
              continue;
            }
            if (pr.errorCode !== 0) {
              if ([6, 3, 5].includes(pr.errorCode)) continue; // leadership moving; retry with fresh metadata
              throw new CliError(`cannot fetch from "${o.topic}" partition ${p}: Kafka error code ${pr.errorCode}`);
            }
            if (pr.abortedTransactions?.length) {
              aborted.set(p, [...(aborted.get(p) ?? []), ...pr.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)));
            }
            let pos = positions.get(p)!;
            for (const batch of pr.records ?? []) {
              const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
              if (last < pos) continue;
              const isControl = (batch.attributes & 0x20) !== 0;
              const isTxn = (batch.attributes & 0x10) !== 0;
              if (o.isolation === 1 && isTxn) {
                const pending = aborted.get(p) ?? [];
                const active = activeAborted.get(p) ?? new Set<bigint>();
                while (pending.length && pending[0]!.firstOffset <= batch.firstOffset) active.add(pending.shift()!.producerId);
                activeAborted.set(p, active);
                if (isControl) {
                  active.delete(batch.producerId);
                  pos = last + 1n;
                  continue;
                }
                if (active.has(batch.producerId)) {
                  pos = last + 1n;
                  continue;
                }
              }
              if (isControl) {
                pos = last + 1n;
                continue;
              }
              const logAppendTime = (batch.attributes & 0x08) !== 0;
              for (const rec of batch.records) {
                const offset = batch.firstOffset + BigInt(rec.offsetDelta);
                if (offset < pos) continue;
                o.write({
                  topic: o.topic,
                  partition: p,
                  offset,
                  timestamp: logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + rec.timestampDelta,
                  key: rec.key,
                  value: rec.value,
                  headers: rec.headers.map(([k, v]) => [k ?? Buffer.alloc(0), v]),
                });
                consumed++;
                lastRecordAt = Date.now();
                pos = offset + 1n;
                if (o.count !== undefined && consumed >= o.count) return consumed;
              }
              if (pos <= last) pos = last + 1n;
            }
            positions.set(p, pos);
            const end = o.isolation === 1 ? pr.lastStableOffset : pr.highWatermark;
            if (pos >= end) atEnd.add(p);
            else atEnd.delete(p);
          }
        }
      }
      await drained();
      if (o.exitAtEnd && parts.every((p) => atEnd.has(p))) return consumed;
    }
  } finally {
    await new Promise<void>((res) => consumer.close(true, () => res()));
  }
}

/** Group member: the client joins the group, we commit what we printed when we stop. */
async function consumeGroup(g: Globals, o: ConsumeOptions, group: string): Promise<number> {
  const consumer = newConsumer(g, group, { maxWaitTime: 500, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  let consumed = 0;
  const committed = new Map<string, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
  try {
    await topicInfo(consumer, g, o.topic);
    let endOffsets: Map<number, bigint> | undefined;
    if (o.exitAtEnd) {
      const meta = await topicInfo(consumer, g, o.topic);
      endOffsets = await listOffsets(consumer, o.topic, meta.partitions.map((_, i) => i), -1n, o.isolation);
    }
    let stream: Awaited<ReturnType<typeof consumer.consume>>;
    try {
      stream = await consumer.consume({
        topics: [o.topic],
        mode: 'committed',
        fallbackMode: o.start.kind === 'earliest' ? 'earliest' : 'latest',
        autocommit: false,
        isolationLevel: o.isolation,
        maxWaitTime: 500,
      });
    } catch (err) {
      fail(`cannot join group "${group}"`, err, g);
    }
    const iterator = stream[Symbol.asyncIterator]();
    let lastRecordAt = Date.now();
    // The stream advances its fetch positions (offsetsToFetch) when a fetch response arrives, before
    // the records are handed to us, so a partition counts as read to its end only from what was
    // delivered, or from the fetch positions at a moment the stream had nothing buffered (an idle
    // wait): then every fetched record has been delivered, and positions past trailing control
    // records (transaction markers) count too.
    let idlePositions = new Map<string, bigint>();
    const position = (p: number): bigint | undefined => {
      const key = `${o.topic}:${p}`;
      const delivered = committed.get(key)?.offset;
      const idle = idlePositions.get(key);
      if (delivered === undefined) return idle;
      return idle !== undefined && idle > delivered ? idle : delivered;
    };
    const assignedPartitions = (): number[] =>
      (consumer.assignments ?? []).flatMap((a) => (a.topic === o.topic ? a.partitions : []));
    const done = () => {
      if (o.count !== undefined && consumed >= o.count) return true;
      if (endOffsets) {
        const assigned = assignedPartitions();
        if (assigned.length === 0) return false;
        return assigned.every((p) => {
          const pos = position(p);
          return pos !== undefined && pos >= (endOffsets!.get(p) ?? 0n);
        });
      }
      return false;
    };
    // One pending next() at a time: a second call would take the record after the one a timed-out
    // wait is still owed.
    let pending: ReturnType<typeof iterator.next> | undefined;
    try {
      for (;;) {
        if (done()) break;
        const remaining = o.timeoutMs !== undefined ? o.timeoutMs - (Date.now() - lastRecordAt) : 500;
        if (o.timeoutMs !== undefined && remaining <= 0) {
          if (o.count !== undefined) throw new CliError(`timed out after ${o.timeoutMs} ms waiting for records (got ${consumed} of ${o.count})`);
          break;
        }
        pending ??= iterator.next();
        let timer: NodeJS.Timeout | undefined;
        const next = await Promise.race([
          pending,
          new Promise<'tick'>((r) => (timer = setTimeout(() => r('tick'), Math.min(500, Math.max(remaining, 1))))),
        ]);
        clearTimeout(timer);
        if (next === 'tick') {
          idlePositions = new Map(stream.offsetsToFetch);
          continue;
        }
        pending = undefined;
        if (next.done) break;
        const m = next.value;
        o.write({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: [...m.headers].map(([k, v]) => [k, v ?? null]),
        });
        consumed++;
        lastRecordAt = Date.now();
        await drained();
        committed.set(`${m.topic}:${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: -1 });
      }
    } catch (err) {
      fail(`error while consuming "${o.topic}" in group "${group}"`, err, g);
    }
    // Commit every assigned partition's position, including those that ended on control records.
    for (const p of assignedPartitions()) {
      const pos = position(p);
      if (pos !== undefined) committed.set(`${o.topic}:${p}`, { topic: o.topic, partition: p, offset: pos, leaderEpoch: -1 });
    }
    if (committed.size) {
      try {
        await consumer.commit({ offsets: [...committed.values()] });
      } catch (err) {
        fail(`cannot commit offsets for group "${group}"`, err, g);
      }
    }
    await stream.close().catch(() => {});
    return consumed;
  } finally {
    await new Promise<void>((res) => consumer.close(true, () => res()));
  }
}
