// `fjord dev --brokers N`: etcd plus N broker processes on 127.0.0.1 for local work (startCluster).
import { resolve } from 'node:path';
import { startCluster } from '../cluster/start-cluster.js';
import { allFlags, lastFlag, parseArgs, parseConfigPairs, UsageError } from './args.js';

const PARENT_POLL_MS = 250;

export async function devClusterCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, {
    '--brokers': true,
    '--port': true,
    '-p': true,
    '--data-dir': true,
    '--config': true,
    '-c': true,
    '--etcd-port': true,
    '--verbose': false,
  });
  const brokers = Number(lastFlag(args, '--brokers'));
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 16) throw new UsageError('--brokers must be an integer from 1 to 16');
  const basePort = Number(lastFlag(args, '--port', '-p') ?? 9092);
  const etcdPort = Number(lastFlag(args, '--etcd-port') ?? 2379);
  const dataDir = resolve(lastFlag(args, '--data-dir') ?? './.fjord-cluster');
  const verbose = args.flags.has('--verbose');
  const started = performance.now();
  const cluster = await startCluster({
    brokers,
    basePort,
    etcdPort,
    dataDir,
    config: parseConfigPairs(allFlags(args, '--config', '-c')),
    logger: verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    [
      '',
      `  Fjord cluster is running — ${brokers} brokers and etcd (ready in ${ms} ms)`,
      '',
      `  bootstrap servers  ${cluster.bootstrap}`,
      `  etcd               ${cluster.etcdEndpoint}`,
      `  data directory     ${dataDir} (logs: broker-N.log, etcd.log)`,
      `  cluster id         ${cluster.clusterId}`,
      '',
      `  try:  fjord topic create demo -p 3 -r 3 -b ${cluster.bootstrapServers[0]}`,
      `        fjord cluster info -b ${cluster.bootstrapServers[0]}`,
      '  stop: Ctrl-C (or end the process that started it)',
      '',
    ].join('\n') + '\n',
  );
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(parentWatch);
      process.stderr.write(`fjord: ${reason}, stopping the brokers and etcd\n`);
      cluster.stop().then(done, (err) => {
        process.stderr.write(`fjord: error during shutdown: ${(err as Error).message}\n`);
        process.exitCode = 1;
        done();
      });
    };
    process.on('SIGINT', () => stop('SIGINT received'));
    process.on('SIGTERM', () => stop('SIGTERM received'));
    const parent = process.ppid;
    const parentWatch = setInterval(() => {
      if (process.ppid !== parent) stop(`parent process ${parent} exited`);
    }, PARENT_POLL_MS);
    parentWatch.unref();
  });
}
