// Helpers for control-plane tests: `fjord broker --etcd` child processes next to a real etcd,
// and Metadata v12 read over a raw connection (kafkajs does not show leader epochs).
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';
import { fjordCommand, freePort, portOpen, repoRoot, tempDir } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

export interface ClusterChild {
  nodeId: number;
  port: number;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Short leases so failover tests finish quickly. */
export const FAST_SESSION = { 'broker.session.timeout.ms': '2000', 'broker.heartbeat.interval.ms': '500' };

export async function spawnClusterBroker(
  etcdEndpoint: string,
  nodeId: number,
  opts: { config?: Record<string, string>; rack?: string; dataDir?: string; port?: number; clusterId?: string } = {},
): Promise<ClusterChild> {
  const dataDir = opts.dataDir ?? (await tempDir(`fjord-ctl-${nodeId}-`));
  const port = opts.port ?? (await freePort());
  const { cmd, args } = fjordCommand();
  const config = { ...FAST_SESSION, ...opts.config };
  const argv = [...args, 'broker', '--node-id', String(nodeId), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--etcd', etcdEndpoint];
  if (opts.rack) argv.push('--rack', opts.rack);
  if (opts.clusterId) argv.push('--cluster-id', opts.clusterId);
  for (const [k, v] of Object.entries(config)) argv.push('--config', `${k}=${v}`);
  const child = spawn(cmd, argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const deadline = Date.now() + 20_000;
  // Listening comes before registration; wait for the "listening" line printed after both.
  while (!out.includes(`fjord broker ${nodeId} listening`)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`broker ${nodeId} exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`broker ${nodeId} did not start within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await portOpen(port))) throw new Error(`broker ${nodeId} not listening on ${port}`);
  return {
    nodeId,
    port,
    dataDir,
    child,
    output: () => out,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function disposeChildren(children: ClusterChild[]): Promise<void> {
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
  await Promise.all(children.map((c) => rm(c.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })));
}

export interface PartitionView {
  errorCode: number;
  partitionIndex: number;
  offlineReplicas: number[];
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
}

export interface MetadataView {
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  topics: { name: string; errorCode: number; partitions: PartitionView[] }[];
}

/** Metadata v12 over a raw connection: brokers, controller, and per partition leader + epoch + ISR. */
export async function metadataV12(port: number, topics: string[] | null): Promise<MetadataView> {
  const client = await RawClient.open(port);
  try {
    client.request(ApiKey.Metadata, 12, 1, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const res = await client.response(ApiKey.Metadata, 12);
    if (!res) throw new Error('connection closed before the Metadata response');
    return res.body as MetadataView;
  } finally {
    client.socket.destroy();
  }
}

/** Every partition of a topic as one broker reports it, sorted by index. */
export async function partitionsOf(port: number, topic: string): Promise<PartitionView[]> {
  const md = await metadataV12(port, [topic]);
  const t = md.topics.find((x) => x.name === topic);
  if (t?.errorCode !== 0) return [];
  return [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
}

/** AlterPartitionReassignments v1 for partition 0 of `topic` (null replicas cancels); the partition's result. */
export async function alterReassignment(
  port: number,
  topic: string,
  replicas: number[] | null,
  allowReplicationFactorChange = true,
): Promise<{ errorCode: number; errorMessage: string | null }> {
  const c = await RawClient.open(port);
  try {
    c.request(ApiKey.AlterPartitionReassignments, 1, 3, { timeoutMs: 10_000, allowReplicationFactorChange, topics: [{ name: topic, partitions: [{ partitionIndex: 0, replicas }] }] });
    return (await c.response(ApiKey.AlterPartitionReassignments, 1))!.body.responses[0].partitions[0];
  } finally {
    c.socket.destroy();
  }
}
