// `fjord txn list | describe ID | abort ...` (kafka-transactions.sh). The client library has no
// transaction admin calls, so these speak the Kafka protocol directly with Fjord's generated
// codec over a plain connection (plaintext listeners only).
import { connect, type Socket } from 'node:net';
import { ErrorCode, errorName } from '../protocol/errors.js';
import { ApiKey, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../protocol/gen/index.js';
import { apiSpecs } from '../protocol/gen/specs.js';
import { Reader, Writer } from '../protocol/primitives.js';
import { lastFlag, UsageError } from './args.js';
import { CliError, GLOBAL_USAGE, intFlag, out, parseCommand, positionals, printJson, printTable, type Globals } from './common.js';

export const txnUsage = `fjord txn list [--state STATE]... [--producer-id N] [--min-duration-ms MS]
fjord txn describe <transactional-id>
fjord txn abort <transactional-id>
fjord txn abort --topic T --partition N [--producer-id N]

list      transactional ids with state and producer id (filters as kafka-transactions.sh list)
describe  state, producer id/epoch, timeout, start time and partitions of one id
abort ID  ends the id's ongoing transaction with an abort and fences its producer (the epoch
          bump a new producer instance would do)
abort --topic/--partition
          aborts a hanging transaction in one partition (no coordinator knows it any more):
          finds the producer with an open transaction there (DescribeProducers) and writes an
          ABORT marker with WriteTxnMarkers, like kafka-transactions.sh abort

${GLOBAL_USAGE}`;

/** One connection speaking the Kafka protocol with the generated codec. */
class KafkaConnection {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;
  private correlationId = 1;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static open(hostPort: string): Promise<KafkaConnection> {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(hostPort.slice(i + 1));
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.setTimeout(15_000, () => s.destroy(new Error(`no answer from ${hostPort}`)));
      s.once('connect', () => resolve(new KafkaConnection(s)));
      s.once('error', (err) => reject(new CliError(`cannot connect to ${hostPort}: ${err.message}`)));
    });
  }

  async call(apiKey: number, version: number, body: unknown): Promise<any> {
    const w = new Writer();
    const size = w.reserveInt32();
    const correlationId = this.correlationId++;
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'fjord-cli' });
    apiSpecs.get(apiKey)!.encodeRequest(w, version, body);
    w.patchInt32(size, w.length - 4);
    this.socket.write(w.toBuffer());
    for (;;) {
      if (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const frame = this.buf.subarray(4, 4 + this.buf.readInt32BE(0));
        this.buf = this.buf.subarray(4 + frame.length);
        const r = new Reader(frame);
        decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
        return apiSpecs.get(apiKey)!.decodeResponse(r, version);
      }
      if (this.closed) throw new CliError('the broker closed the connection');
      await new Promise<void>((res) => (this.wake = res));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withConnection<T>(hostPort: string, fn: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const c = await KafkaConnection.open(hostPort);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function check(code: number, what: string): void {
  if (code !== ErrorCode.NONE) throw new CliError(`${what}: ${errorName(code)}`);
}

/** Every broker of the cluster (ListTransactions must ask each one). */
async function brokerAddresses(g: Globals): Promise<string[]> {
  return withConnection(g.brokers[0]!, async (c) => {
    const md = await c.call(ApiKey.Metadata, 9, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    return md.brokers.map((b: { host: string; port: number }) => `${b.host}:${b.port}`);
  });
}

async function coordinatorOf(g: Globals, transactionalId: string): Promise<string> {
  return withConnection(g.brokers[0]!, async (c) => {
    for (let attempt = 0; ; attempt++) {
      const r = await c.call(ApiKey.FindCoordinator, 4, { keyType: 1, coordinatorKeys: [transactionalId] });
      const k = r.coordinators[0];
      if (k.errorCode === ErrorCode.NONE) return `${k.host}:${k.port}`;
      if (attempt >= 20 || (k.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && k.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE)) {
        check(k.errorCode, `cannot find the coordinator of "${transactionalId}"`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  });
}

async function describe(g: Globals, transactionalId: string): Promise<any> {
  const coordinator = await coordinatorOf(g, transactionalId);
  const r = await withConnection(coordinator, (c) => c.call(ApiKey.DescribeTransactions, 0, { transactionalIds: [transactionalId] }));
  const s = r.transactionStates[0];
  check(s.errorCode, `cannot describe "${transactionalId}"`);
  return s;
}

export async function txnCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return list(rest);
  if (sub === 'describe') return describeCommand(rest);
  if (sub === 'abort') return abort(rest);
  throw new UsageError(sub === undefined ? `missing subcommand\n\n${txnUsage}` : `unknown txn subcommand "${sub}"\n\n${txnUsage}`);
}

async function list(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--state': true, '--producer-id': true, '--min-duration-ms': true });
  positionals(args, []);
  const states = args.flags.get('--state') ?? [];
  const pid = intFlag(args, ['--producer-id'], { min: 0 });
  const duration = intFlag(args, ['--min-duration-ms'], { min: 0 });
  const rows: { transactionalId: string; producerId: number; state: string; coordinator: string }[] = [];
  for (const address of await brokerAddresses(globals)) {
    const r = await withConnection(address, (c) =>
      c.call(ApiKey.ListTransactions, 1, { stateFilters: states, producerIdFilters: pid === undefined ? [] : [pid], durationFilter: duration ?? -1 }),
    );
    check(r.errorCode, `cannot list transactions on ${address}`);
    if (r.unknownStateFilters.length > 0) throw new UsageError(`unknown transaction state(s): ${r.unknownStateFilters.join(', ')}`);
    for (const t of r.transactionStates) rows.push({ transactionalId: t.transactionalId, producerId: Number(t.producerId), state: t.transactionState, coordinator: address });
  }
  rows.sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : 1));
  if (globals.json) printJson(rows);
  else printTable(['TRANSACTIONAL ID', 'PRODUCER ID', 'STATE', 'COORDINATOR'], rows.map((r) => [r.transactionalId, r.producerId, r.state, r.coordinator]));
}

async function describeCommand(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, {});
  const [id] = positionals(args, ['transactional-id']);
  const s = await describe(globals, id!);
  const view = {
    transactionalId: s.transactionalId,
    state: s.transactionState,
    producerId: Number(s.producerId),
    producerEpoch: s.producerEpoch,
    timeoutMs: s.transactionTimeoutMs,
    startTimeMs: Number(s.transactionStartTimeMs),
    partitions: s.topics.flatMap((t: { topic: string; partitions: number[] }) => t.partitions.map((p) => ({ topic: t.topic, partition: p }))),
  };
  if (globals.json) {
    printJson(view);
    return;
  }
  out(`transactional id  ${view.transactionalId}`);
  out(`state             ${view.state}`);
  out(`producer          ${view.producerId} (epoch ${view.producerEpoch})`);
  out(`timeout           ${view.timeoutMs} ms`);
  if (view.startTimeMs >= 0) out(`started           ${new Date(view.startTimeMs).toISOString()}`);
  if (view.partitions.length > 0) {
    out();
    printTable(['TOPIC', 'PARTITION'], view.partitions.map((p: { topic: string; partition: number }) => [p.topic, p.partition]));
  }
}

async function abort(argv: string[]): Promise<void> {
  const { args, globals } = parseCommand(argv, { '--topic': true, '--partition': true, '-p': true, '--producer-id': true });
  const topic = lastFlag(args, '--topic');
  if (topic !== undefined) return abortHanging(globals, topic, args);
  const [id] = positionals(args, ['transactional-id']);
  const before = await describe(globals, id!);
  if (before.transactionState !== 'Ongoing') throw new CliError(`"${id}" has no ongoing transaction (state ${before.transactionState})`);
  const coordinator = await coordinatorOf(globals, id!);
  // InitProducerId for the id fences the producer (epoch bump) and aborts its transaction; the
  // coordinator answers CONCURRENT_TRANSACTIONS until the abort markers are written.
  await withConnection(coordinator, async (c) => {
    for (let attempt = 0; ; attempt++) {
      const r = await c.call(ApiKey.InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: before.transactionTimeoutMs, producerId: -1, producerEpoch: -1 });
      if (r.errorCode === ErrorCode.NONE) return;
      if (r.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS || attempt >= 100) check(r.errorCode, `cannot abort "${id}"`);
      await new Promise((res) => setTimeout(res, 50));
    }
  });
  const after = await describe(globals, id!);
  if (globals.json) printJson({ transactionalId: id, aborted: true, producerId: Number(after.producerId), producerEpoch: after.producerEpoch });
  else out(`aborted the transaction of "${id}" (producer ${after.producerId} fenced, now epoch ${after.producerEpoch})`);
}

async function abortHanging(g: Globals, topic: string, args: Parameters<typeof intFlag>[0]): Promise<void> {
  positionals(args, []);
  const partition = intFlag(args, ['--partition', '-p'], { min: 0 });
  if (partition === undefined) throw new UsageError('abort --topic needs --partition N');
  const wantedPid = intFlag(args, ['--producer-id'], { min: 0 });
  const leader = await withConnection(g.brokers[0]!, async (c) => {
    const md = await c.call(ApiKey.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    const t = md.topics[0];
    check(t.errorCode, `cannot find topic "${topic}"`);
    const p = t.partitions.find((x: { partitionIndex: number }) => x.partitionIndex === partition);
    if (!p) throw new CliError(`topic "${topic}" has no partition ${partition}`);
    const b = md.brokers.find((x: { nodeId: number }) => x.nodeId === p.leaderId);
    if (!b) throw new CliError(`partition ${partition} of "${topic}" has no leader`);
    return `${b.host}:${b.port}`;
  });
  const result = await withConnection(leader, async (c) => {
    const dp = await c.call(ApiKey.DescribeProducers, 0, { topics: [{ name: topic, partitionIndexes: [partition] }] });
    const p = dp.topics[0].partitions[0];
    check(p.errorCode, `cannot describe the producers of "${topic}" partition ${partition}`);
    const open = p.activeProducers.filter(
      (x: { producerId: number; currentTxnStartOffset: number }) => Number(x.currentTxnStartOffset) >= 0 && (wantedPid === undefined || Number(x.producerId) === wantedPid),
    );
    if (open.length === 0) throw new CliError(`no open transaction in "${topic}" partition ${partition}`);
    if (open.length > 1) throw new CliError(`several open transactions in "${topic}" partition ${partition}: pick one with --producer-id (${open.map((x: { producerId: number }) => x.producerId).join(', ')})`);
    const txn = open[0];
    const r = await c.call(ApiKey.WriteTxnMarkers, 1, {
      markers: [{ producerId: txn.producerId, producerEpoch: txn.producerEpoch, transactionResult: false, topics: [{ name: topic, partitionIndexes: [partition] }], coordinatorEpoch: txn.coordinatorEpoch }],
    });
    check(r.markers[0].topics[0].partitions[0].errorCode, `cannot write the abort marker`);
    return { topic, partition, producerId: Number(txn.producerId), producerEpoch: txn.producerEpoch, startOffset: Number(txn.currentTxnStartOffset) };
  });
  if (g.json) printJson({ ...result, aborted: true });
  else out(`aborted the transaction of producer ${result.producerId} (epoch ${result.producerEpoch}) open since offset ${result.startOffset} in "${topic}" partition ${partition}`);
}
