// The chaos run behind `npm run chaos` and test/cluster/chaos.test.ts: etcd + 3 brokers, a topic
// with RF=3 and min.insync.replicas=2, idempotent acks=all producers and read_committed consumers
// running throughout while faults are injected one after the other; then a final read of the log
// and the checker (checker.ts). Every loop is bounded in count and time.
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { startCluster, type ClusterBroker, type RunningCluster } from '../../../src/cluster/start-cluster.js';
import { ChaosLedger, checkChaos, type FinalLog } from './checker.js';

export const FAULT_KINDS = ['kill-leader', 'kill-follower', 'pause', 'isolate', 'etcd-restart', 'restart-all'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  /** Length of the fault phase. */
  durationMs: number;
  partitions?: number;
  faults?: readonly FaultKind[];
  /** etcd lease TTL of the brokers (broker.session.timeout.ms). */
  sessionTimeoutMs?: number;
  /** Quiet time after the cluster has recovered from one fault, before the next. */
  calmMs?: number;
  /** Sends per second per producer (each send carries `batchSize` records). */
  sendsPerSecond?: number;
  batchSize?: number;
  consumers?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  recordsAcked: number;
  failedSends: number;
  recordsInLog: number;
  recordsConsumed: Record<string, number>;
  faults: Record<string, number>;
  leaderChanges: number;
  /** Longest time without an acknowledged produce, per partition, during the fault phase (ms). */
  longestUnavailabilityMs: Record<number, number>;
  /** How long the cluster took to be whole again after each kind of fault (max, ms). */
  recoveryMs: Record<string, number>;
  /** Faults after which the cluster was not whole again within 60 s. */
  faultsWithoutRecovery: number;
  violations: string[];
  durationMs: number;
}

const TOPIC = 'chaos';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PartitionView {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** Partition leaders/ISR from the first broker that answers Metadata (forced refresh). */
async function describeTopic(cluster: RunningCluster, topic: string): Promise<PartitionView[] | undefined> {
  for (const b of cluster.brokers) {
    if (!b.running) continue;
    const admin = new PlatformaticAdmin({ clientId: 'chaos-observer', bootstrapBrokers: [`127.0.0.1:${b.port}`], retries: 0, timeout: 3000 });
    try {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true });
      const t = md.topics.get(topic);
      if (t) return t.partitions.map((p) => ({ leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr }));
    } catch {
      // try the next broker
    } finally {
      await admin.close().catch(() => {});
    }
  }
  return undefined;
}

/** Waits until every partition has a live leader and at least `minIsr` in-sync replicas. */
async function waitHealthy(cluster: RunningCluster, topic: string, minIsr: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const parts = await describeTopic(cluster, topic);
    const live = new Set(cluster.brokers.filter((b) => b.running).map((b) => b.nodeId));
    if (parts?.every((p) => live.has(p.leader) && p.isr.length >= minIsr)) return true;
    await sleep(250);
  }
  return false;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const partitions = options.partitions ?? 3;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 3000;
  const calmMs = options.calmMs ?? 3000;
  const sendsPerSecond = options.sendsPerSecond ?? 20;
  const batchSize = options.batchSize ?? 10;
  const faultKinds = options.faults ?? FAULT_KINDS;
  const started = Date.now();
  const ledger = new ChaosLedger();
  const faults: Record<string, number> = {};
  const recoveryMs: Record<string, number> = {};

  const cluster = await startCluster({
    brokers: 3,
    faultProxies: true,
    config: {
      'broker.session.timeout.ms': String(sessionTimeoutMs),
      'broker.heartbeat.interval.ms': String(Math.max(200, Math.floor(sessionTimeoutMs / 4))),
      'offsets.topic.replication.factor': '3',
      'offsets.topic.num.partitions': '3',
      'replica.lag.time.max.ms': '5000',
    },
  });
  log(`cluster up: ${cluster.bootstrap} (etcd ${cluster.etcdEndpoint}, data ${cluster.dataDir})`);
  const stopping = { producers: false, consumers: false, observers: false };
  const kafka = new Kafka({
    clientId: 'chaos',
    brokers: cluster.bootstrapServers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 10_000,
    retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1500 },
  });
  const tasks: Promise<void>[] = [];
  const consumers: Consumer[] = [];
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: TOPIC, numPartitions: partitions, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    });
    await admin.disconnect();
    if (!(await waitHealthy(cluster, TOPIC, 3, 30_000))) throw new Error('topic never became fully replicated');
    const initial = (await describeTopic(cluster, TOPIC))!;

    // Producers: one writer per partition, sequential acks=all sends of `batchSize` records.
    const lastAck = new Map<number, number>();
    const longestGap = new Map<number, number>();
    let faultPhase = false;
    for (let p = 0; p < partitions; p++) {
      tasks.push(
        (async () => {
          const writer = `w${p}`;
          let seq = 0;
          let producer: Producer | undefined;
          const interval = 1000 / sendsPerSecond;
          while (!stopping.producers) {
            const t0 = Date.now();
            try {
              if (!producer) {
                producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1500 } });
                await producer.connect();
              }
              const values = Array.from({ length: batchSize }, () => `${writer}:${seq++}`);
              const [meta] = await producer.send({ topic: TOPIC, acks: -1, timeout: 10_000, messages: values.map((value) => ({ value, partition: p })) });
              const base = Number(meta!.baseOffset);
              values.forEach((value, i) => ledger.acked.push({ partition: p, offset: base + i, value }));
              const now = Date.now();
              const prev = lastAck.get(p);
              if (faultPhase && prev !== undefined) longestGap.set(p, Math.max(longestGap.get(p) ?? 0, now - prev));
              lastAck.set(p, now);
            } catch (err) {
              ledger.failedSends++;
              ledger.failedRecords += batchSize;
              log(`producer ${writer}: send failed after retries (${(err as Error).message}); new producer`);
              await producer?.disconnect().catch(() => {});
              producer = undefined;
              await sleep(200);
            }
            const wait = interval - (Date.now() - t0);
            if (wait > 0) await sleep(wait);
          }
          await producer?.disconnect().catch(() => {});
        })(),
      );
    }

    // Consumers: each its own group (so each reads every partition), read_committed, auto commit.
    const consumerCount = options.consumers ?? 2;
    for (let c = 0; c < consumerCount; c++) {
      const name = `c${c}`;
      const consumer = kafka.consumer({
        groupId: `chaos-${name}`,
        readUncommitted: false,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
        maxWaitTimeInMs: 500,
        retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1500 },
      });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        autoCommitInterval: 500,
        eachBatch: async ({ batch }) => {
          const partition = batch.partition;
          for (const m of batch.messages) ledger.recordConsumed(name, { partition, offset: Number(m.offset), value: m.value?.toString() ?? '' });
        },
      });
    }

    // Observer: committed offsets of every group, polled throughout.
    const groups = Array.from({ length: consumerCount }, (_, c) => `chaos-c${c}`);
    tasks.push(
      (async () => {
        const observer = kafka.admin({ retry: { retries: 0 } });
        await observer.connect().catch(() => {});
        while (!stopping.observers) {
          for (const g of groups) {
            try {
              const res = await observer.fetchOffsets({ groupId: g, topics: [TOPIC] });
              for (const p of res[0]?.partitions ?? []) {
                const off = Number(p.offset);
                const seen = ledger.committed.get(g)?.get(p.partition);
                // -1 before the first commit is normal; after one it would be a lost commit.
                if (off >= 0 || (seen && seen.length > 0)) ledger.recordCommitted(g, p.partition, off);
              }
            } catch {
              // coordinator moving: try again next round
            }
          }
          await sleep(500);
        }
        await observer.disconnect().catch(() => {});
      })(),
    );

    // Let the workload run before the first fault.
    const warmDeadline = Date.now() + 20_000;
    while (ledger.acked.length < partitions * batchSize * 5 && Date.now() < warmDeadline) await sleep(100);
    log(`workload running: ${ledger.acked.length} records acked before the first fault`);

    faultPhase = true;
    const faultDeadline = Date.now() + options.durationMs;
    let round = 0;
    let notHealthy = 0;
    while (Date.now() < faultDeadline) {
      const kind = faultKinds[round % faultKinds.length]!;
      const parts = (await describeTopic(cluster, TOPIC)) ?? [];
      const target = parts[round % Math.max(1, parts.length)];
      round++;
      const byId = (id: number | undefined) => cluster.brokers.find((b) => b.nodeId === id);
      const leader = byId(target?.leader) ?? cluster.brokers[round % 3]!;
      const follower = byId(target?.replicas.find((r) => r !== target?.leader)) ?? cluster.brokers[(round + 1) % 3]!;
      const downMs = sessionTimeoutMs + 1000;
      log(`fault ${round}: ${kind} (${describeTarget(kind, leader, follower)})`);
      const t0 = Date.now();
      switch (kind) {
        case 'kill-leader':
          await leader.kill();
          await sleep(downMs);
          await leader.start();
          break;
        case 'kill-follower':
          await follower.kill();
          await sleep(downMs);
          await follower.start();
          break;
        case 'pause':
          // Longer than the lease: the paused leader is replaced while it still holds its sockets.
          leader.pause();
          await sleep(downMs + 1000);
          leader.resume();
          break;
        case 'isolate':
          leader.isolate();
          await sleep(downMs + 2000);
          leader.heal();
          break;
        case 'etcd-restart':
          await cluster.stopEtcd({ kill: true });
          await sleep(2000);
          await cluster.startEtcd();
          break;
        case 'restart-all':
          await Promise.all(cluster.brokers.map((b) => b.kill()));
          await Promise.all(cluster.brokers.map((b) => b.start()));
          break;
      }
      faults[kind] = (faults[kind] ?? 0) + 1;
      const healthy = await waitHealthy(cluster, TOPIC, 2, 60_000);
      const took = Date.now() - t0;
      recoveryMs[kind] = Math.max(recoveryMs[kind] ?? 0, took);
      log(`fault ${round}: ${kind} done, cluster ${healthy ? 'healthy' : 'NOT healthy'} after ${took} ms, ${ledger.acked.length} acked so far`);
      if (!healthy) notHealthy++;
      await sleep(calmMs);
    }
    faultPhase = false;

    // Quiesce: everything healed and running, producers stopped, consumers caught up.
    for (const b of cluster.brokers) b.heal();
    await cluster.startEtcd();
    for (const b of cluster.brokers) if (!b.running) await b.start();
    await waitHealthy(cluster, TOPIC, 3, 60_000);
    stopping.producers = true;
    await Promise.all(tasks.slice(0, partitions));
    const final = await readFinalLog(kafka, cluster, partitions);
    const catchUpDeadline = Date.now() + 60_000;
    const caughtUp = () =>
      [...Array(consumerCount).keys()].every((c) => {
        const got = ledger.consumed.get(`c${c}`) ?? [];
        const max = new Map<number, number>();
        for (const r of got) max.set(r.partition, Math.max(max.get(r.partition) ?? -1, r.offset));
        return [...final].every(([p, values]) => values.length === 0 || (max.get(p) ?? -1) >= values.length - 1);
      });
    while (!caughtUp() && Date.now() < catchUpDeadline) await sleep(250);
    // One more round of committed offsets after the consumers' last auto commit.
    await sleep(1500);
    stopping.observers = true;
    await Promise.all(tasks.slice(partitions));
    for (const c of consumers) await c.disconnect().catch(() => {});
    consumers.length = 0;

    const violations = checkChaos(ledger, final);
    if (!caughtUp()) violations.push('consumers did not reach the end of the log within 60 s');
    const after = (await describeTopic(cluster, TOPIC)) ?? [];
    const leaderChanges = after.reduce((sum, p, i) => sum + Math.max(0, p.leaderEpoch - (initial[i]?.leaderEpoch ?? 0)), 0);
    let inLog = 0;
    for (const values of final.values()) inLog += values.filter((v) => v !== undefined).length;
    return {
      recordsAcked: ledger.acked.length,
      failedSends: ledger.failedSends,
      recordsInLog: inLog,
      recordsConsumed: Object.fromEntries([...ledger.consumed].map(([k, v]) => [k, v.length])),
      faults,
      leaderChanges,
      longestUnavailabilityMs: Object.fromEntries(longestGap),
      recoveryMs,
      faultsWithoutRecovery: notHealthy,
      violations,
      durationMs: Date.now() - started,
    };
  } finally {
    stopping.producers = stopping.consumers = stopping.observers = true;
    for (const c of consumers) await c.disconnect().catch(() => {});
    await Promise.race([Promise.allSettled(tasks), sleep(20_000)]);
    await cluster.stop();
  }
}

function describeTarget(kind: FaultKind, leader: ClusterBroker, follower: ClusterBroker): string {
  if (kind === 'kill-follower') return `broker ${follower.nodeId}`;
  if (kind === 'etcd-restart' || kind === 'restart-all') return 'all';
  return `broker ${leader.nodeId}`;
}

/** Reads every partition from offset 0 to its high watermark with a fresh read_committed consumer. */
async function readFinalLog(kafka: Kafka, cluster: RunningCluster, partitions: number): Promise<FinalLog> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(TOPIC);
  await admin.disconnect();
  const high = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const final: FinalLog = new Map();
  for (let p = 0; p < partitions; p++) final.set(p, new Array<string | undefined>(high.get(p) ?? 0));
  const remaining = new Set([...high].filter(([, h]) => h > 0).map(([p]) => p));
  if (remaining.size === 0) return final;
  const consumer = kafka.consumer({ groupId: `chaos-final-${Date.now()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const values = final.get(batch.partition)!;
        for (const m of batch.messages) {
          const off = Number(m.offset);
          if (off < values.length) values[off] = m.value?.toString() ?? '';
          if (off >= values.length - 1) remaining.delete(batch.partition);
        }
        if (remaining.size === 0) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`final read did not reach the high watermark of partitions ${[...remaining].join(',')} within 60 s (${cluster.bootstrap})`)),
      60_000,
    );
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
  return final;
}
