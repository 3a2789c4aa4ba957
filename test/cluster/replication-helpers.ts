// Three brokers in this process sharing one metadata store (the test plays the controller
// through store.updatePartitionState), for the replication tests.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { EmbeddedMetadataStore } from '../../src/cluster/embedded-store.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { tempDir } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;

export const LAG_MS = 1500;
const BROKER_CONFIG: Record<string, string> = {
  'replica.lag.time.max.ms': String(LAG_MS),
  'replica.fetch.wait.max.ms': '200',
  'replica.fetch.backoff.ms': '100',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
};

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Three brokers (ids 1..3) in this process on one shared embedded metadata store. */
export class InProcessCluster {
  readonly running = new Map<number, RunningBroker>();
  readonly dirs = new Map<number, string>();
  store!: EmbeddedMetadataStore;
  storeDir!: string;

  constructor(private readonly extraConfig: Record<string, string> = {}) {}

  async start(ids: number[]): Promise<void> {
    this.storeDir = await tempDir('fjord-repl-store-');
    this.store = new EmbeddedMetadataStore(this.storeDir, ids[0]!);
    for (const id of ids) {
      this.dirs.set(id, await tempDir(`fjord-repl-${id}-`));
      await this.startBroker(id);
    }
  }

  async startBroker(id: number): Promise<RunningBroker> {
    const b = await startBroker({
      dataDir: this.dirs.get(id)!,
      port: 0,
      config: { ...BROKER_CONFIG, ...this.extraConfig, 'node.id': String(id) },
      metadataStore: this.store,
    });
    this.running.set(id, b);
    return b;
  }

  async stopBroker(id: number): Promise<void> {
    const b = this.running.get(id);
    this.running.delete(id);
    await b?.close();
  }

  bootstrap(): string[] {
    return [...this.running.values()].map((b) => b.bootstrap);
  }

  partition(id: number, topic: string, index = 0) {
    return this.running.get(id)!.broker.replicas.get(topic, index)!;
  }

  /** The controller's part: a new leader (epoch + 1) and ISR, by compare-and-set. */
  async electLeader(topic: string, leader: number, isr: number[], index = 0): Promise<void> {
    for (;;) {
      const s = this.store.partitionState(topic, index)!;
      const ok = await this.store.updatePartitionState(topic, index, { leader, leaderEpoch: s.leaderEpoch + 1, isr, version: s.version }, s.version);
      if (ok) return;
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.stopBroker(id);
    for (const d of [...this.dirs.values(), this.storeDir]) await rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/** Every .log segment of the partition directory, concatenated in offset order. */
export async function logBytes(dataDir: string, topic: string, index = 0): Promise<Buffer> {
  const dir = join(dataDir, `${topic}-${index}`);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  return Buffer.concat(await Promise.all(names.map((n) => readFile(join(dir, n)))));
}

export function kafkaFor(cluster: InProcessCluster, clientId: string, retries = 8) {
  return new Kafka({ clientId, brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 } });
}

export async function consumeAll(cluster: InProcessCluster, topic: string, expected: number): Promise<string[]> {
  const kafka = kafkaFor(cluster, `reader-${topic}`);
  const consumer = kafka.consumer({ groupId: `g-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(`${expected} records of ${topic}`, () => seen.length >= expected, 20_000);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

