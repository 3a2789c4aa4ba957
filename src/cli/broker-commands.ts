// `fjord broker` and `fjord dev`: run a broker in the foreground until SIGINT/SIGTERM.
import { resolve } from 'node:path';
import { Broker } from '../broker/broker.js';
import { UsageError, allFlags, lastFlag, parseArgs, parseConfigPairs, parseHostPort } from './args.js';
import { releaseMemoryWhenIdle } from './idle-memory.js';

const PARENT_POLL_MS = 250;

/**
 * Runs until SIGINT/SIGTERM. With `watchParent`, also stops when the process that started this one
 * exits: `npx fjord dev &` then `kill $!` signals npm's exec wrapper, which does not pass SIGTERM
 * on, and the orphaned broker would keep the port. An orphan is re-parented, so its ppid changes.
 */
async function runUntilSignalled(broker: { close(): Promise<void> }, opts: { watchParent?: boolean } = {}): Promise<void> {
  const stopIdleWatch = releaseMemoryWhenIdle();
  await new Promise<void>((done) => {
    let stopping = false;
    let parentWatch: NodeJS.Timeout | undefined;
    const stop = (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(parentWatch);
      process.stderr.write(`fjord: ${reason}, flushing and shutting down\n`);
      stopIdleWatch();
      broker.close().then(done, (err) => {
        process.stderr.write(`fjord: error during shutdown: ${(err as Error).message}\n`);
        process.exitCode = 1;
        done();
      });
    };
    process.on('SIGINT', () => stop('SIGINT received'));
    process.on('SIGTERM', () => stop('SIGTERM received'));
    if (opts.watchParent) {
      const parent = process.ppid;
      parentWatch = setInterval(() => {
        if (process.ppid !== parent) stop(`parent process ${parent} exited`);
      }, PARENT_POLL_MS);
      parentWatch.unref();
    }
  });
}

export const brokerUsage = `fjord broker --listen HOST:PORT --data-dir DIR [--config key=value]...
             [--node-id N] [--advertised HOST:PORT] [--etcd URL[,URL]] [--cluster-id ID] [--rack R]

Starts one broker (node id from --node-id or node.id, default 0). Without --etcd its metadata is
kept in the data dir (single node). With --etcd http://HOST:PORT[,...] it joins the cluster kept
in that etcd (fjord.etcd.endpoints; key prefix fjord.etcd.prefix, default /fjord): it registers
under a lease (broker.session.timeout.ms), takes part in the controller election, and stops when
etcd cannot be reached at start. --cluster-id creates the cluster with that id, or refuses to
join one with another id. --rack sets broker.rack (rack-aware replica placement).
Any Kafka broker or topic-default config name is accepted by --config.`;

export async function brokerCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, {
    '--listen': true,
    '--data-dir': true,
    '--config': true,
    '-c': true,
    '--advertised-host': true,
    '--advertised': true,
    '--node-id': true,
    '--etcd': true,
    '--cluster-id': true,
    '--rack': true,
    '--quiet': false,
  });
  const listen = parseHostPort(lastFlag(args, '--listen') ?? '127.0.0.1:9092');
  const dataDir = resolve(lastFlag(args, '--data-dir') ?? './.fjord');
  const config = parseConfigPairs(allFlags(args, '--config', '-c'));
  const nodeId = lastFlag(args, '--node-id');
  if (nodeId !== undefined) {
    if (!/^\d+$/.test(nodeId)) throw new UsageError(`--node-id needs a non-negative integer, got "${nodeId}"`);
    config['node.id'] = nodeId;
  }
  const etcd = lastFlag(args, '--etcd');
  if (etcd !== undefined) config['fjord.etcd.endpoints'] = etcd;
  const rack = lastFlag(args, '--rack');
  if (rack !== undefined) config['broker.rack'] = rack;
  const clusterId = lastFlag(args, '--cluster-id');
  if (clusterId !== undefined && !config['fjord.etcd.endpoints']) throw new UsageError('--cluster-id needs --etcd (a single node keeps its cluster id in the data dir)');
  const advertised = lastFlag(args, '--advertised');
  const advertisedAddress = advertised === undefined ? undefined : parseHostPort(advertised);
  const quiet = lastFlag(args, '--quiet') === 'true';
  const broker = await Broker.start({
    dataDir,
    host: listen.host,
    port: listen.port,
    config,
    clusterId,
    advertisedHost: advertisedAddress?.host ?? lastFlag(args, '--advertised-host'),
    advertisedPort: advertisedAddress?.port,
    logger: quiet ? undefined : (msg) => process.stderr.write(`fjord: ${msg}\n`),
  });
  const cluster = config['fjord.etcd.endpoints'] ? `, cluster ${broker.clusterId} via etcd ${config['fjord.etcd.endpoints']}` : '';
  process.stdout.write(`fjord broker ${broker.nodeId} listening on ${broker.host}:${broker.port} (data ${dataDir}${cluster})\n`);
  await runUntilSignalled(broker);
}

export const devUsage = `fjord dev [--port 9092] [--data-dir ./.fjord] [--config key=value]...
          [--registry-port 8081] [--rest-port 8082] [--connect-port 8083]
          [--no-registry] [--no-rest] [--no-connect]

A broker for local work with embedded defaults: 127.0.0.1:9092, data in ./.fjord, plus a
Schema Registry on 127.0.0.1:8081, a REST Proxy on 127.0.0.1:8082 and a Connect worker
(group "connect-cluster") with its REST API on 127.0.0.1:8083 (a taken port only skips that
service).

fjord dev --brokers N [--port 9092] [--etcd-port 2379] [--data-dir ./.fjord-cluster]
          [--config key=value]... [--verbose]

A local cluster instead: etcd (from PATH; Debian package etcd-server) on --etcd-port and N
broker processes on consecutive ports from --port, each logging to DIR/broker-N.log.`;

export async function devCommand(argv: string[]): Promise<void> {
  if (argv.some((a) => a === '--brokers' || a.startsWith('--brokers='))) {
    const { devClusterCommand } = await import('./dev-cluster.js');
    return devClusterCommand(argv);
  }
  const args = parseArgs(argv, {
    '--port': true,
    '-p': true,
    '--data-dir': true,
    '--config': true,
    '-c': true,
    '--registry-port': true,
    '--rest-port': true,
    '--no-registry': false,
    '--no-rest': false,
    '--connect-port': true,
    '--no-connect': false,
  });
  const port = Number(lastFlag(args, '--port', '-p') ?? 9092);
  const registryPort = Number(lastFlag(args, '--registry-port') ?? 8081);
  const restPort = Number(lastFlag(args, '--rest-port') ?? 8082);
  const connectPort = Number(lastFlag(args, '--connect-port') ?? 8083);
  const dataDir = resolve(lastFlag(args, '--data-dir') ?? './.fjord');
  const started = performance.now();
  const broker = await Broker.start({
    dataDir,
    host: '127.0.0.1',
    port,
    config: parseConfigPairs(allFlags(args, '--config', '-c')),
    logger: (msg) => process.stderr.write(`fjord: ${msg}\n`),
  });
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    [
      '',
      `  Fjord is running — Kafka protocol on ${broker.bootstrap} (ready in ${ms} ms)`,
      '',
      `  bootstrap servers  ${broker.bootstrap}`,
      `  data directory     ${dataDir}`,
      `  cluster id         ${broker.clusterId}`,
      '',
      `  try:  kcat -b ${broker.bootstrap} -L`,
      '  stop: Ctrl-C (or end the process that started it)',
      '',
    ].join('\n') + '\n',
  );
  // The HTTP services start after the broker is ready (they are its clients); each one that
  // cannot start says why and the broker keeps running. Signals and the parent watch are armed
  // first, so a stop during their start-up is not missed.
  const services: { close(): Promise<void> }[] = [];
  let stopped = false;
  const running = runUntilSignalled(
    {
      close: async () => {
        stopped = true;
        for (const s of services.splice(0).reverse()) await s.close().catch(() => {});
        await broker.close();
      },
    },
    { watchParent: true },
  );
  const http = await startDevHttp(broker.bootstrap, args.flags.has('--no-registry') ? undefined : registryPort, args.flags.has('--no-rest') ? undefined : restPort);
  if (stopped) for (const s of http.services) await s.close().catch(() => {});
  else services.push(...http.services);
  // Topics with confluent.*.schema.validation are checked against the dev registry.
  broker.schemaValidator.localRegistryUrl = http.registryUrl;
  if (!stopped && !args.flags.has('--no-connect')) {
    const worker = await startDevConnect(broker.bootstrap, connectPort, http.registryUrl);
    if (worker && stopped) await worker.close().catch(() => {});
    else if (worker) services.push(worker);
  }
  await running;
}

/** A Connect worker for local work; a taken port (or any start failure) only skips it. */
async function startDevConnect(bootstrap: string, port: number, registryUrl: string | undefined): Promise<{ close(): Promise<void> } | undefined> {
  try {
    const { startWorker } = await import('../connect/index.js');
    const worker = await startWorker({
      bootstrap: [bootstrap],
      groupId: 'connect-cluster',
      host: '127.0.0.1',
      port,
      // Avro / JSON Schema / Protobuf converters find the built-in registry without more config.
      config: registryUrl ? { 'key.converter.schema.registry.url': registryUrl, 'value.converter.schema.registry.url': registryUrl } : {},
      log: (msg) => process.stderr.write(`fjord connect: ${msg}\n`),
    });
    process.stdout.write(`  Connect worker     ${worker.url}\n`);
    return worker;
  } catch (err) {
    process.stderr.write(`fjord: Connect worker not started: ${(err as Error).message} (use --connect-port or --no-connect)\n`);
    return undefined;
  }
}

async function startDevHttp(
  bootstrap: string,
  registryPort: number | undefined,
  restPort: number | undefined,
): Promise<{ services: { close(): Promise<void> }[]; registryUrl: string | undefined }> {
  if (registryPort === undefined && restPort === undefined) return { services: [], registryUrl: undefined };
  // On a thread of their own: they are the broker's clients and must not share its event loop.
  const { startDevHttpThread } = await import('../http/dev-thread.js');
  try {
    const http = await startDevHttpThread({ bootstrap, registryPort, restPort }, (m) => process.stderr.write(`fjord: ${m}\n`));
    if (http.registryUrl) process.stdout.write(`  schema registry    ${http.registryUrl}\n`);
    if (http.restUrl) process.stdout.write(`  REST proxy         ${http.restUrl}\n`);
    for (const f of http.failures) process.stderr.write(`fjord: ${f}\n`);
    return { services: [http], registryUrl: http.registryUrl };
  } catch (err) {
    process.stderr.write(`fjord: schema registry and REST proxy not started: ${(err as Error).message}\n`);
    return { services: [], registryUrl: undefined };
  }
}
