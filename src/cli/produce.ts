// `fjord produce <topic>`: one record per input line (stdin or --file), like kcat -P.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { MessageToProduce } from '@platformatic/kafka';
import { allFlags, lastFlag, UsageError } from './args.js';
import {
  CliError,
  ensureReachable,
  fail,
  GLOBAL_USAGE,
  intFlag,
  newProducer,
  out,
  parseCommand,
  parseKeyValues,
  positionals,
  printJson,
  withAdmin,
} from './common.js';
import { topicMetadata } from './topic-commands.js';

export const produceUsage = `fjord produce <topic> [options]

Reads records from stdin (or --file), one per line, and sends them to <topic>.
Empty lines are skipped (as kcat does).

  -f, --file F              read lines from F instead of stdin
  -K, --key-separator SEP   split each line at the first SEP into key and value
  -H, --header k=v          add a header to every record (repeatable)
  -p, --partition N         send every record to partition N (default: the client's partitioner)
  -z, --compression C       none | gzip | snappy | lz4 | zstd
  --acks all|1|0            acknowledgements to wait for (default all)
  --json-input              each line is {"key","value","headers","partition"}; value/key may be
                            strings, null, or any JSON (encoded as JSON text); headers an object
                            or a list of [k, v] pairs
  --batch-size N            records per produce request (default 1000)
  -q, --quiet               no summary

Prints a summary (records, bytes, time) when done; a live rate on stderr when it is a terminal.

${GLOBAL_USAGE}`;

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
type Compression = (typeof COMPRESSIONS)[number];

type Msg = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

function toBuf(v: unknown, what: string, lineNo: number): Buffer | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return Buffer.from(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'object') return Buffer.from(JSON.stringify(v));
  throw new CliError(`line ${lineNo}: ${what} must be a string, null or JSON`);
}

function parseJsonLine(line: string, lineNo: number, topic: string, fixedPartition: number | undefined): Msg {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (err) {
    throw new CliError(`line ${lineNo}: invalid JSON (${(err as Error).message})`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new CliError(`line ${lineNo}: expected a JSON object with "value"`);
  const o = obj as Record<string, unknown>;
  const msg: Msg = { topic, value: toBuf(o.value, 'value', lineNo) };
  const key = toBuf(o.key, 'key', lineNo);
  if (key) msg.key = key;
  if (o.headers !== undefined && o.headers !== null) {
    const headers = new Map<Buffer, Buffer>();
    const pairs = Array.isArray(o.headers) ? o.headers : Object.entries(o.headers as object);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
        throw new CliError(`line ${lineNo}: headers must be an object or a list of [key, value] pairs`);
      }
      headers.set(Buffer.from(pair[0]), toBuf(pair[1], 'header value', lineNo) ?? Buffer.alloc(0));
    }
    msg.headers = headers;
  }
  const partition = fixedPartition ?? o.partition;
  if (partition !== undefined && partition !== null) {
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw new CliError(`line ${lineNo}: partition must be a non-negative integer`);
    msg.partition = partition;
  }
  return msg;
}

export async function produceCommand(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {
    '--file': true,
    '-f': true,
    '--key-separator': true,
    '-K': true,
    '--header': true,
    '-H': true,
    '--partition': true,
    '-p': true,
    '--compression': true,
    '-z': true,
    '--acks': true,
    '--json-input': false,
    '--batch-size': true,
    '--quiet': false,
    '-q': false,
  });
  const [topic] = positionals(args, ['topic']);
  const file = lastFlag(args, '--file', '-f');
  const keySep = lastFlag(args, '--key-separator', '-K');
  if (keySep === '') throw new UsageError('--key-separator must not be empty');
  const headerPairs = parseKeyValues(allFlags(args, '--header', '-H'), '--header');
  const partition = intFlag(args, ['--partition', '-p'], { min: 0 });
  const compression = (lastFlag(args, '--compression', '-z') ?? 'none') as Compression;
  if (!COMPRESSIONS.includes(compression)) throw new UsageError(`--compression must be one of none, gzip, snappy, lz4, zstd (got "${compression}")`);
  const acksRaw = lastFlag(args, '--acks') ?? 'all';
  const acks = { all: -1, '-1': -1, '1': 1, '0': 0 }[acksRaw];
  if (acks === undefined) throw new UsageError(`--acks must be all, 1 or 0 (got "${acksRaw}")`);
  const jsonInput = args.flags.has('--json-input');
  if (jsonInput && keySep !== undefined) throw new UsageError('--json-input and --key-separator cannot be combined');
  const batchSize = intFlag(args, ['--batch-size'], { min: 1 }) ?? 1000;
  const quiet = args.flags.has('--quiet') || args.flags.has('-q');

  const headers = Object.keys(headerPairs).length
    ? () => new Map<Buffer, Buffer>(Object.entries(headerPairs).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))
    : undefined;

  // Check the topic (and partition) first: a clear "unknown topic" beats a produce timeout.
  const meta = await withAdmin(globals, (admin) => topicMetadata(admin, globals, topic!));
  if (partition !== undefined && partition >= meta.partitionsCount) {
    throw new CliError(`topic "${topic}" has no partition ${partition} (it has ${meta.partitionsCount})`);
  }

  const input = file ? createReadStream(file) : process.stdin;
  if (file) {
    await new Promise<void>((res, rej) => {
      (input as ReturnType<typeof createReadStream>).once('open', () => res());
      input.once('error', (err: Error) => rej(new CliError(`cannot read ${file}: ${(err as Error).message}`)));
    });
  }
  await ensureReachable(globals);
  const producer = newProducer(globals);
  const started = performance.now();
  let records = 0;
  let bytes = 0;
  let lineNo = 0;
  const live = process.stderr.isTTY === true && !quiet;
  let lastLive = started;
  const showLive = (force = false) => {
    const now = performance.now();
    if (!live || (!force && (now - started < 1000 || now - lastLive < 250))) return;
    lastLive = now;
    const secs = (now - started) / 1000;
    process.stderr.write(`\r\x1b[K${records} records, ${fmtBytes(bytes)} — ${Math.round(records / secs)} rec/s, ${fmtBytes(bytes / secs)}/s`);
  };
  let batch: Msg[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const msgs = batch;
    batch = [];
    batchBytes = 0;
    try {
      await producer.send({ messages: msgs, acks, compression });
    } catch (err) {
      fail(`cannot produce to "${topic}" (after ${records} records)`, err, globals);
    }
    records += msgs.length;
    showLive();
  };
  try {
    const rl = createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      if (line.length === 0) continue;
      let msg: Msg;
      if (jsonInput) {
        msg = parseJsonLine(line, lineNo, topic!, partition);
      } else {
        msg = { topic: topic! };
        const at = keySep === undefined ? -1 : line.indexOf(keySep);
        if (at >= 0) {
          msg.key = Buffer.from(line.slice(0, at));
          msg.value = Buffer.from(line.slice(at + keySep!.length));
        } else {
          msg.value = Buffer.from(line);
        }
        if (partition !== undefined) msg.partition = partition;
      }
      if (headers) {
        const h = headers();
        if (msg.headers) for (const [k, v] of msg.headers as Map<Buffer, Buffer>) h.set(k, v);
        msg.headers = h;
      }
      const size = (msg.key?.length ?? 0) + (msg.value?.length ?? 0);
      bytes += size;
      batch.push(msg);
      batchBytes += size;
      if (batch.length >= batchSize || batchBytes >= 512 * 1024) await flush();
    }
    await flush();
  } finally {
    await producer.close().catch(() => {});
  }
  const ms = performance.now() - started;
  if (live) process.stderr.write('\r\x1b[K');
  const summary = { topic: topic!, records, bytes, ms: Math.round(ms), recordsPerSec: ms > 0 ? Math.round((records * 1000) / ms) : 0 };
  if (globals.json) printJson(summary);
  else if (!quiet) out(`produced ${records} records (${fmtBytes(bytes)}) to "${topic}" in ${fmtMs(ms)}${records > 0 ? ` — ${summary.recordsPerSec} rec/s` : ''}`);
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
