// KafkaStreams: runs a Topology against a Kafka cluster. application.id is the consumer group
// and the internal-topic prefix. Tasks (one per partition of a sub-topology) are handed out by a
// custom assignor over the classic consumer-group protocol, so co-partitioned inputs land on the
// same instance; a task restores its stores from their changelogs before processing, and
// commits (flush caches → send → commit offsets, or one transaction under exactly_once_v2).
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, Producer, type ClusterMetadata, type GroupPartitionsAssignments, type MessageToProduce } from '@platformatic/kafka';
import { resolveConfig, type ResolvedConfig, type StreamsConfig } from './config.js';
import { acquireProcessIdentity, type ProcessIdentity } from './process-identity.js';
import { baseClientOptions, ensureTopics, explainClientError, type InternalTopicSpec, KafkaAuthenticationError, partitionForKey, PartitionReader, type FetchedRecord, type FetchPosition } from './kafka-io.js';
import { prefetchRegistrySerdes } from './registry-serdes.js';
import { setGroupStandbyReplicas, StreamsGroupMember, streamsProtocolOffered, type StreamsAssignment, type TaskIds } from './streams-membership.js';
import type { Serializer } from './serdes.js';
import { KeyValueStore, SessionStore, WindowStore, type AnyStore, type Windowed } from './stores.js';
import { createStore, globalStoreApplier, Task, TaskContext, type StoreDef, type SubTopology, type TaskEnvironment, type Topology } from './topology.js';

const REPARTITION_TOPIC_CONFIGS = [{ name: 'cleanup.policy', value: 'delete' }];
/** Kafka's windowstore.changelog.additional.retention.ms default: changelog records outlive the store's retention by a day. */
const CHANGELOG_ADDITIONAL_RETENTION_MS = 86_400_000;

/** Compacted; a window or session store with a retention also deletes by time, like Kafka's windowed changelogs. */
function changelogConfigs(def: StoreDef): Array<{ name: string; value: string }> {
  if (def.kind !== 'kv' && def.retentionMs !== undefined && Number.isFinite(def.retentionMs)) {
    return [
      { name: 'cleanup.policy', value: 'compact,delete' },
      { name: 'retention.ms', value: String(def.retentionMs + CHANGELOG_ADDITIONAL_RETENTION_MS) },
    ];
  }
  return [{ name: 'cleanup.policy', value: 'compact' }];
}

export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

export interface KeyQueryMetadata {
  partition: number;
  /** application.server of the instance holding the active task, when known. */
  activeHost: string | null;
  /** Whether this instance holds the active task. */
  isLocal: boolean;
}

interface ActiveTask {
  task: Task;
  /** "topic:partition" → next offset to read. */
  positions: Map<string, bigint>;
  /** Offsets processed but not yet committed. */
  dirty: boolean;
}

interface StreamsTransaction {
  send(o: { messages: MessageToProduce[] }): Promise<unknown>;
  addConsumer(c: Consumer): Promise<void>;
  addOffset(m: never): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * InitProducerId as a new producer instance (no expected id/epoch): @platformatic/kafka otherwise
 * sends producer id 0 / epoch 0, which a coordinator holding another id for this transactional id
 * (our predecessor's) must answer with PRODUCER_FENCED.
 */
const NEW_PRODUCER = { producerId: -1n, producerEpoch: -1 } as never;

const HOSTS_PSEUDO_TOPIC = '__fjord_streams_hosts:';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KafkaStreams extends EventEmitter {
  private readonly cfg: ResolvedConfig;
  private readonly subs: SubTopology[];
  private currentState: KafkaStreamsState = 'CREATED';
  private reader: PartitionReader | null = null;
  private member: Consumer | null = null;
  /** KIP-1071 membership when group.protocol is streams (then `member` never joins: it only reads committed offsets). */
  private streamsMember: StreamsGroupMember | null = null;
  /** A fenced streams member lost its tasks: close them without committing. */
  private assignmentLost = false;
  private warmupIds = new Set<string>();
  private producer: Producer | null = null;
  private transaction: StreamsTransaction | null = null;
  private readonly tasks = new Map<string, ActiveTask>();
  private readonly globals = new Map<string, { store: AnyStore; topic: string; positions: Map<number, bigint>; apply: (partition: number, r: FetchedRecord) => void }>();
  private readonly partitionCounts = new Map<string, number>();
  private pendingAssignment: Array<{ topic: string; partitions: number[] }> | null = null;
  private outbox: MessageToProduce[] = [];
  private loop: Promise<void> | null = null;
  private stopping = false;
  private killed = false;
  private commitRequested = false;
  private lastCommit = Date.now();
  private firstAssignment: (() => void) | null = null;
  private rr = 0;
  private readonly env: TaskEnvironment;
  private readonly instanceId = Math.random().toString(36).slice(2, 10);
  private identity: ProcessIdentity = { processId: this.instanceId, release: () => {} };

  constructor(
    readonly topology: Topology,
    config: StreamsConfig,
  ) {
    super();
    this.cfg = resolveConfig(config, true);
    this.subs = topology.subTopologies();
    this.env = {
      applicationId: this.cfg.applicationId,
      defaults: this.cfg.defaults,
      stateDir: this.cfg.stateDir,
      cacheMaxBytesPerStore: this.cfg.cacheMaxBytes / Math.max(1, topology.storeDefs.size * 4),
      send: (topic, key, value, timestamp, partition, headers) => this.enqueue(topic, key, value, timestamp, partition, headers),
      numPartitions: (topic) => this.partitionCounts.get(topic) ?? 1,
      globalStore: (name) => {
        const g = this.globals.get(name);
        if (!g) throw new Error(`no global store ${name}`);
        return g.store;
      },
      internalTopic: (name) => `${this.cfg.applicationId}-${name}`,
      onDeserializationError: (err, topic, offset) => {
        this.skippedRecords++;
        this.emit('warning', new Error(`skipping undecodable record at ${topic} offset ${offset}: ${(err as Error).message}`));
        return this.cfg.skipUndecodable;
      },
      requestCommit: () => {
        this.commitRequested = true;
      },
    };
  }

  state(): KafkaStreamsState {
    return this.currentState;
  }

  private setState(s: KafkaStreamsState): void {
    if (s === this.currentState) return;
    const old = this.currentState;
    this.currentState = s;
    this.emit('stateChange', s, old);
  }

  private sourceTopicsOf(sub: SubTopology): string[] {
    return sub.sourceTopics.map((t) => (sub.internalSources.has(t) ? this.env.internalTopic(t) : t));
  }

  private allSourceTopics(): string[] {
    return [...new Set(this.subs.flatMap((s) => this.sourceTopicsOf(s)))];
  }

  /** Creates internal topics, loads global tables, joins the group; resolves once running. */
  async start(): Promise<void> {
    if (this.currentState !== 'CREATED') throw new Error(`start() called in state ${this.currentState}`);
    this.setState('REBALANCING');
    this.identity = acquireProcessIdentity(join(this.cfg.stateDir, this.cfg.applicationId));
    const opts = baseClientOptions(`${this.cfg.clientId}-${this.instanceId}`, this.cfg.bootstrapServers, this.cfg.security);
    this.reader = new PartitionReader(opts, this.cfg.exactlyOnce);
    try {
      await this.prepareTopics();
      this.producer = new Producer({
        ...opts,
        acks: -1,
        idempotent: true,
        // Kafka Streams' `<application.id>-<processId>-<thread>`: stable across restarts on one state dir.
        ...(this.cfg.exactlyOnce ? { transactionalId: `${this.cfg.applicationId}-${this.identity.processId}-1` } : {}),
      } as ConstructorParameters<typeof Producer>[0]) as Producer;
      // Schema-registry serdes are synchronous: resolve their schema ids before any record flows.
      for (const err of await prefetchRegistrySerdes()) this.emit('warning', err);
      await this.loadGlobals();
      const offered = this.cfg.groupProtocol === 'classic' ? false : await streamsProtocolOffered(this.cfg.bootstrapServers, opts.clientId!, this.cfg.security).catch((e) => {
              if (e instanceof KafkaAuthenticationError) throw e;
              return false;
            });
      if (this.cfg.groupProtocol === 'streams' && !offered) throw new Error('group.protocol=streams but the cluster does not offer StreamsGroupHeartbeat (KIP-1071)');
      if (offered) {
        await this.startStreamsProtocol(opts);
        return;
      }
      this.member = new Consumer({
        ...opts,
        groupId: this.cfg.applicationId,
        sessionTimeout: this.cfg.sessionTimeoutMs,
        rebalanceTimeout: Math.max(this.cfg.sessionTimeoutMs, 10_000),
        heartbeatInterval: this.cfg.heartbeatIntervalMs,
        protocols: [{ name: 'fjord-streams', version: 1, metadata: Buffer.from(this.cfg.applicationServer) }],
        partitionAssigner: (_current: string, members: Map<string, { memberId: string; metadata?: Buffer | string }>, _topics: Set<string>, metadata: ClusterMetadata) => this.assign(members, metadata),
      } as unknown as ConstructorParameters<typeof Consumer>[0]) as Consumer;
      for (const t of this.allSourceTopics()) this.member.topics.track(t);
      this.member.on('consumer:group:join', (p: { assignments?: Array<{ topic: string; partitions: number[] }> }) => {
        const all = p.assignments ?? [];
        const hostEntry = all.find((a) => a.topic.startsWith(HOSTS_PSEUDO_TOPIC));
        this.hostByTask.clear();
        if (hostEntry) {
          try {
            const hosts = JSON.parse(hostEntry.topic.slice(HOSTS_PSEUDO_TOPIC.length)) as Record<string, string[]>;
            for (const [host, tasks] of Object.entries(hosts)) for (const t of tasks) this.hostByTask.set(t, host);
          } catch {
            // an assignment from another client version: no host information
          }
        }
        this.pendingAssignment = all.filter((a) => a !== hostEntry);
        this.setState('REBALANCING');
        this.rebalances++;
        this.emit('rebalance', p.assignments);
      });
      this.member.on('consumer:group:rebalance', () => {
        this.commitRequested = true;
      });
      await this.runUntilFirstAssignment(() => this.member!.joinGroup({}));
    } catch (err) {
      await this.shutdownClients();
      this.identity.release();
      this.setState('ERROR');
      throw explainClientError(err, this.cfg.bootstrapServers, this.cfg.security);
    }
  }

  /** Protocol in use once started: 'streams' (KIP-1071) or 'classic'. */
  groupProtocol(): 'classic' | 'streams' | null {
    return this.streamsMember ? 'streams' : this.member ? 'classic' : null;
  }

  /** KIP-1071: the broker assigns tasks; the member reads its partitions directly (no classic group join). */
  private async startStreamsProtocol(opts: ReturnType<typeof baseClientOptions>): Promise<void> {
    // Not joined: reads committed offsets and names the group in transactions.
    this.member = new Consumer({ ...opts, groupId: this.cfg.applicationId } as unknown as ConstructorParameters<typeof Consumer>[0]) as Consumer;
    if (this.cfg.standbyReplicasExplicit) {
      await setGroupStandbyReplicas(this.cfg.bootstrapServers, opts.clientId!, this.cfg.applicationId, this.cfg.numStandbyReplicas, this.cfg.security).catch((e) => this.emit('warning', e));
    }
    const grouped = (ids: Iterable<string>): TaskIds[] => {
      const m = new Map<string, number[]>();
      for (const id of ids) {
        const i = id.lastIndexOf('_');
        const l = m.get(id.slice(0, i)) ?? [];
        l.push(Number(id.slice(i + 1)));
        m.set(id.slice(0, i), l);
      }
      return [...m].map(([subtopologyId, partitions]) => ({ subtopologyId, partitions: partitions.sort((a, b) => a - b) }));
    };
    this.streamsMember = new StreamsGroupMember({
      servers: this.cfg.bootstrapServers,
      security: this.cfg.security,
      groupId: this.cfg.applicationId,
      clientId: opts.clientId!,
      processId: this.identity.processId,
      rebalanceTimeoutMs: Math.max(this.cfg.sessionTimeoutMs, 10_000),
      userEndpoint: this.cfg.applicationServer,
      topology: () => this.streamsTopology(),
      owned: () => ({
        active: grouped(this.tasks.keys()),
        standby: grouped([...this.standbys.keys()].filter((id) => !this.warmupIds.has(id))),
        warmup: grouped([...this.standbys.keys()].filter((id) => this.warmupIds.has(id))),
      }),
      taskOffsets: () =>
        [...this.standbys].map(([id, sb]) => ({
          subtopologyId: id.slice(0, id.lastIndexOf('_')),
          partition: sb.task.partition,
          offset: Number([...sb.positions.values()].reduce((a, b) => a + b, 0n)),
        })),
      onAssignment: (a) => this.onStreamsAssignment(a),
      onEndpoints: (endpoints) => {
        this.hostByTask.clear();
        for (const e of endpoints) {
          for (const tp of e.partitions) {
            const s = this.subs.find((st) => this.sourceTopicsOf(st).includes(tp.topic));
            if (s) for (const p of tp.partitions) this.hostByTask.set(`${s.id}_${p}`, `${e.host}:${e.port}`);
          }
        }
      },
      onWarning: (e) => this.emit('warning', e),
      onFatal: (e) => {
        this.fatal = e;
        this.stopping = true;
      },
    });
    await this.runUntilFirstAssignment(() => this.streamsMember!.start());
  }

  /** Joins (either protocol), starts the processing loop and resolves once the first assignment runs. */
  private async runUntilFirstAssignment(join: () => Promise<unknown>): Promise<void> {
    const first = new Promise<void>((resolve) => (this.firstAssignment = resolve));
    await join();
    this.loop = this.run().catch((err) => {
      this.setState('ERROR');
      // Like Kafka's default uncaught-exception handling, the instance stops; the error goes to 'error' listeners if any.
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else process.emitWarning(`fjord streams ${this.cfg.applicationId} stopped: ${(err as Error).message}`);
    });
    await Promise.race([first, this.loop]);
    if ((this.currentState as KafkaStreamsState) === 'ERROR') throw this.fatal ?? new Error('streams failed during start');
  }
  private fatal: Error | null = null;

  /** The topology as StreamsGroupHeartbeat carries it: subtopologies with source, repartition and changelog topics. */
  private streamsTopology(): { epoch: number; subtopologies: unknown[] } {
    const info = (name: string, partitions: number, configs: Array<{ name: string; value: string }>) => ({
      name,
      partitions,
      replicationFactor: 0,
      topicConfigs: configs.map((c) => ({ key: c.name, value: c.value })),
    });
    return {
      epoch: 1,
      subtopologies: this.subs.map((sub) => ({
        subtopologyId: String(sub.id),
        sourceTopics: sub.sourceTopics.filter((t) => !sub.internalSources.has(t)),
        sourceTopicRegex: [],
        repartitionSourceTopics: [...sub.internalSources].map((t) => info(this.env.internalTopic(t), this.partitionCounts.get(this.env.internalTopic(t)) ?? 0, REPARTITION_TOPIC_CONFIGS)),
        repartitionSinkTopics: [...this.topology.internalTopics.values()].filter((it) => it.writers?.some((w) => sub.nodes.includes(w))).map((it) => this.env.internalTopic(it.name)),
        // Changelogs get as many partitions as the subtopology has tasks (0 = the broker derives it).
        stateChangelogTopics: sub.stores.filter((st) => this.topology.storeDefs.get(st)?.logged).map((st) => info(this.env.internalTopic(`${st}-changelog`), 0, changelogConfigs(this.topology.storeDefs.get(st)!))),
        // The runtime itself puts partition p of every source of a subtopology in task p, whatever the counts.
        copartitionGroups: [],
      })),
    };
  }

  /** Turns broker-assigned tasks into the topic-partition form reconcile works on. */
  private onStreamsAssignment(a: StreamsAssignment): void {
    const out = new Map<string, number[]>();
    const add = (topic: string, p: number) => {
      if (p >= (this.partitionCounts.get(topic) ?? 0)) return;
      const l = out.get(topic) ?? [];
      if (!l.includes(p)) l.push(p);
      out.set(topic, l);
    };
    const sub = (id: string) => this.subs.find((s) => String(s.id) === id);
    for (const t of a.active) for (const p of t.partitions) for (const topic of this.sourceTopicsOf(sub(t.subtopologyId) ?? ({ sourceTopics: [], internalSources: new Set() } as unknown as SubTopology))) add(topic, p);
    this.warmupIds = new Set(a.warmup.flatMap((t) => t.partitions.map((p) => `${t.subtopologyId}_${p}`)));
    for (const t of [...a.standby, ...a.warmup]) {
      const s = sub(t.subtopologyId);
      if (s) for (const p of t.partitions) for (const topic of this.changelogTopicsOf(s)) add(topic, p);
    }
    if (a.lost) this.assignmentLost = true;
    this.pendingAssignment = [...out].map(([topic, partitions]) => ({ topic, partitions }));
    this.setState('REBALANCING');
    this.rebalances++;
    this.emit('rebalance', this.pendingAssignment);
  }

  private async prepareTopics(): Promise<void> {
    const reader = this.reader!;
    const external = [...new Set(this.subs.flatMap((s) => s.sourceTopics.filter((t) => !s.internalSources.has(t))))];
    for (const g of this.topology.globalStores.values()) external.push(g.topic);
    try {
      await reader.refresh(external);
    } catch (err) {
      const explained = explainClientError(err, this.cfg.bootstrapServers, this.cfg.security);
      if (explained instanceof KafkaAuthenticationError) throw explained;
      for (const t of external) {
        await reader.refresh([t]).catch(() => {
          throw new Error(`source topic ${t} does not exist (MissingSourceTopicException)`, { cause: err });
        });
      }
      throw err;
    }
    let maxPartitions = 1;
    for (const t of external) {
      const n = await reader.partitionsOf(t);
      if (n === 0) throw new Error(`source topic ${t} does not exist (MissingSourceTopicException)`);
      this.partitionCounts.set(t, n);
      maxPartitions = Math.max(maxPartitions, n);
    }
    const wanted: InternalTopicSpec[] = [];
    const internalCounts = this.topology.internalTopicPartitions(this.partitionCounts, maxPartitions);
    for (const it of this.topology.internalTopics.values()) {
      const name = this.env.internalTopic(it.name);
      const partitions = internalCounts.get(it.name) ?? maxPartitions;
      this.partitionCounts.set(name, partitions);
      wanted.push({ name, partitions, configs: REPARTITION_TOPIC_CONFIGS });
    }
    for (const sub of this.subs) {
      const n = Math.max(...this.sourceTopicsOf(sub).map((t) => this.partitionCounts.get(t) ?? 1));
      for (const store of sub.stores) {
        const def = this.topology.storeDefs.get(store);
        if (!def?.logged) continue;
        const name = this.env.internalTopic(`${store}-changelog`);
        this.partitionCounts.set(name, n);
        wanted.push({ name, partitions: n, configs: changelogConfigs(def) });
      }
    }
    await ensureTopics(baseClientOptions(`${this.cfg.clientId}-admin`, this.cfg.bootstrapServers, this.cfg.security), wanted, this.cfg.replicationFactor);
    // Existing internal topics keep their partition count; read the real numbers back.
    await reader.refresh([...this.partitionCounts.keys()]);
    for (const t of this.partitionCounts.keys()) {
      const n = await reader.partitionsOf(t);
      if (n > 0) this.partitionCounts.set(t, n);
    }
  }

  private async loadGlobals(): Promise<void> {
    for (const [name, g] of this.topology.globalStores) {
      const ctx = new TaskContext('global', 0, { ...this.env, stateDir: undefined });
      const store = createStore({ ...g.store, keySerde: g.store.keySerde ?? g.keySerde, valueSerde: g.store.valueSerde ?? g.valueSerde }, ctx, false, null, 0);
      const n = this.partitionCounts.get(g.topic) ?? 1;
      const parts = [...Array(n).keys()];
      const start = await this.reader!.startOffsets(g.topic, parts);
      const apply = globalStoreApplier(name, g, store, ctx);
      const entry = { store, topic: g.topic, positions: new Map(parts.map((p) => [p, start.get(p) ?? 0n])), apply };
      this.globals.set(name, entry);
      const end = await this.reader!.endOffsets(g.topic, parts);
      await this.readUntil(g.topic, parts, entry.positions, end, (p, recs) => {
        for (const r of recs) apply(p, r);
      });
    }
  }

  /** Reads partitions of topic from positions up to end offsets, handing records to apply. */
  private async readUntil(topic: string, parts: number[], positions: Map<number, bigint>, end: Map<number, bigint>, apply: (partition: number, records: FetchedRecord[]) => void): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const todo: FetchPosition[] = parts.filter((p) => (positions.get(p) ?? 0n) < (end.get(p) ?? 0n)).map((p) => ({ topic, partition: p, offset: positions.get(p) ?? 0n }));
      if (todo.length === 0 || this.killed) return;
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic} up to its end offsets`);
      const res = await this.reader!.fetch(todo, 50, 4 << 20);
      for (const pos of todo) {
        const r = res.get(`${topic}:${pos.partition}`);
        if (!r) continue;
        apply(pos.partition, r.records);
        positions.set(pos.partition, r.next);
      }
    }
  }

  /** Leader side: tasks (sub-topology × partition) spread over members; partition p of all sub-topologies stays together. */
  private assign(members: Map<string, { memberId: string; metadata?: Buffer | string }>, metadata: ClusterMetadata): GroupPartitionsAssignments[] {
    const ids = [...members.keys()].sort();
    const result = new Map(ids.map((id) => [id, new Map<string, { topic: string; partitions: number[] }>()]));
    let maxTasks = 0;
    const perSub = this.subs.map((sub) => {
      const topics = this.sourceTopicsOf(sub);
      const n = Math.max(...topics.map((t) => metadata.topics.get(t)?.partitionsCount ?? this.partitionCounts.get(t) ?? 0));
      maxTasks = Math.max(maxTasks, n);
      return { topics, n };
    });
    for (let p = 0; p < maxTasks; p++) {
      const owner = result.get(ids[p % ids.length]!)!;
      for (const { topics, n } of perSub) {
        if (p >= n) continue;
        for (const t of topics) {
          if (p >= (metadata.topics.get(t)?.partitionsCount ?? this.partitionCounts.get(t) ?? 0)) continue;
          const a = owner.get(t) ?? { topic: t, partitions: [] };
          a.partitions.push(p);
          owner.set(t, a);
        }
      }
    }
    // Standby replicas travel as changelog partitions in the assignment of members other than the active owner.
    const standbys = Math.min(this.cfg.numStandbyReplicas, ids.length - 1);
    for (let p = 0; p < maxTasks && standbys > 0; p++) {
      for (const sub of this.subs) {
        const changelogs = this.changelogTopicsOf(sub).filter((t) => p < (metadata.topics.get(t)?.partitionsCount ?? this.partitionCounts.get(t) ?? 0));
        if (changelogs.length === 0) continue;
        for (let r = 1; r <= standbys; r++) {
          const holder = result.get(ids[(p + r) % ids.length]!)!;
          for (const t of changelogs) {
            const a = holder.get(t) ?? { topic: t, partitions: [] };
            a.partitions.push(p);
            holder.set(t, a);
          }
        }
      }
    }
    // Which application.server holds which active tasks, for queryMetadataForKey on every member.
    // The client library's assignment has no user-data field, so it rides as a pseudo-topic name.
    const hosts: Record<string, string[]> = {};
    for (const id of ids) {
      const raw = members.get(id)?.metadata;
      const host = raw ? Buffer.from(raw as Buffer).toString() : '';
      if (!host) continue;
      const tasks = new Set<string>();
      for (const a of result.get(id)!.values()) {
        const sub = this.subs.find((st) => this.sourceTopicsOf(st).includes(a.topic));
        if (sub) for (const p of a.partitions) tasks.add(`${sub.id}_${p}`);
      }
      hosts[host] = [...(hosts[host] ?? []), ...tasks];
    }
    const hostEntry = `${HOSTS_PSEUDO_TOPIC}${JSON.stringify(hosts)}`;
    for (const id of ids) result.get(id)!.set(hostEntry, { topic: hostEntry, partitions: [] });
    return ids.map((memberId) => ({ memberId, assignments: result.get(memberId)! }));
  }

  private changelogTopicsOf(sub: SubTopology): string[] {
    return sub.stores.filter((s) => this.topology.storeDefs.get(s)?.logged).map((s) => this.env.internalTopic(`${s}-changelog`));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.pendingAssignment) {
        const a = this.pendingAssignment;
        this.pendingAssignment = null;
        await this.reconcile(a);
        // Tell the broker at once what we own now (acknowledges revocations, so others get their tasks).
        if (this.streamsMember) void this.streamsMember.heartbeat().catch(() => {});
        if (this.pendingAssignment) continue;
        this.setState('RUNNING');
        this.firstAssignment?.();
        this.firstAssignment = null;
      }
      const positions: FetchPosition[] = [];
      for (const t of this.tasks.values()) for (const [k, offset] of t.positions) positions.push({ topic: k.slice(0, k.lastIndexOf(':')), partition: Number(k.slice(k.lastIndexOf(':') + 1)), offset });
      for (const g of this.globals.values()) for (const [partition, offset] of g.positions) positions.push({ topic: g.topic, partition, offset });
      for (const sb of this.standbys.values()) for (const [k, offset] of sb.positions) positions.push({ topic: k.slice(0, k.lastIndexOf(':')), partition: Number(k.slice(k.lastIndexOf(':') + 1)), offset });
      if (positions.length === 0) {
        await sleep(50);
        continue;
      }
      const results = await this.reader!.fetch(positions, 100);
      if (this.stopping || this.pendingAssignment) {
        if (this.pendingAssignment) continue;
        break;
      }
      for (const g of this.globals.values()) {
        for (const [p] of g.positions) {
          const r = results.get(`${g.topic}:${p}`);
          if (!r) continue;
          for (const rec of r.records) g.apply(p, rec);
          g.positions.set(p, r.next);
        }
      }
      for (const sb of this.standbys.values()) {
        for (const [k] of sb.positions) {
          const r = results.get(k);
          if (!r) continue;
          const store = [...sb.task.ctx.stores.entries()].find(([name]) => k.startsWith(this.env.internalTopic(`${name}-changelog:`)))?.[1];
          if (store) for (const rec of r.records) rec.key && store.restore(rec.key, rec.value);
          sb.positions.set(k, r.next);
        }
      }
      let processed = 0;
      for (const at of this.tasks.values()) {
        const batch: Array<{ topic: string; rec: FetchedRecord }> = [];
        for (const key of at.positions.keys()) {
          const r = results.get(key);
          if (!r) continue;
          const topic = key.slice(0, key.lastIndexOf(':'));
          for (const rec of r.records) batch.push({ topic, rec });
          this.lag.set(key, Math.max(0, Number(r.end - r.next)));
          if (r.next !== at.positions.get(key)) {
            at.positions.set(key, r.next);
            at.dirty = true;
          }
        }
        if (batch.length === 0) continue;
        // Across the task's partitions, process in timestamp order (stable within a partition).
        if (at.positions.size > 1) batch.sort((x, y) => x.rec.timestamp - y.rec.timestamp);
        for (const { topic, rec } of batch) at.task.process(topic, Number(rec.offset), rec.key, rec.value, rec.timestamp, rec.headers);
        processed += batch.length;
      }
      if (processed) this.emit('processed', processed);
      const now = Date.now();
      for (const at of this.tasks.values()) if (at.task.punctuateWallClock(now)) at.dirty = true;
      await this.flushSends(false);
      if (this.commitRequested || Date.now() - this.lastCommit >= this.cfg.commitIntervalMs) await this.commit([...this.tasks.values()]);
    }
    if (this.fatal) throw this.fatal;
  }

  private enqueue(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, partition?: number, headers?: Map<string, Buffer>): void {
    if (partition === undefined) {
      const n = this.partitionCounts.get(topic) ?? 1;
      partition = key ? partitionForKey(key, n) : this.rr++ % n;
    }
    this.outbox.push({ topic, key: key ?? undefined, value: value as Buffer, partition, timestamp: BigInt(timestamp), headers } as MessageToProduce);
  }

  /**
   * Hands queued records to the producer. Sends are chained (one in flight, so per-partition order
   * holds for changelogs) and not awaited unless `wait` or too much is in flight; commit waits.
   */
  private async flushSends(wait = true): Promise<void> {
    while (this.outbox.length) {
      const chunk = this.outbox.splice(0, 2000);
      this.inFlight += chunk.length;
      this.sendChain = this.sendChain.then(async () => {
        if (this.sendError) return;
        try {
          if (this.cfg.exactlyOnce) {
            if (!this.transaction) this.transaction = (await this.producer!.beginTransaction(NEW_PRODUCER)) as unknown as StreamsTransaction;
            await this.transaction.send({ messages: chunk });
          } else {
            await this.producer!.send({ messages: chunk });
          }
        } catch (err) {
          this.sendError = err as Error;
        } finally {
          this.inFlight -= chunk.length;
        }
      });
    }
    if (wait || this.inFlight > 20_000) await this.sendChain;
    if (this.sendError) {
      const err = this.sendError;
      this.sendError = null;
      throw err;
    }
  }
  private sendChain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private sendError: Error | null = null;

  /** Commit point for tasks: flush caches, send everything, then commit input offsets (in the transaction under EOS). */
  private async commit(tasks: ActiveTask[]): Promise<void> {
    if (this.killed) return; // a crashed instance commits nothing
    this.commitRequested = false;
    this.lastCommit = Date.now();
    for (const t of tasks) t.task.flush();
    await this.flushSends();
    // Everything of this commit is written; only the offsets (and the transaction) remain.
    this.emit('committing');
    if (this.killed) return;
    const offsets = tasks.filter((t) => t.dirty).flatMap((t) => [...t.positions].map(([k, offset]) => ({ topic: k.slice(0, k.lastIndexOf(':')), partition: Number(k.slice(k.lastIndexOf(':') + 1)), offset, leaderEpoch: -1 })));
    if (this.cfg.exactlyOnce) {
      if (offsets.length && !this.transaction) this.transaction = (await this.producer!.beginTransaction(NEW_PRODUCER)) as unknown as StreamsTransaction;
      const txn = this.transaction;
      if (!txn) return;
      const m = this.member!;
      if (offsets.length) {
        await txn.addConsumer(m);
        for (const o of offsets) {
          const sm = this.streamsMember;
          const consumer = sm
            ? { groupId: m.groupId, generationId: sm.memberEpoch, memberId: sm.memberId, coordinatorId: sm.coordinatorId }
            : { groupId: m.groupId, generationId: m.generationId, memberId: m.memberId, coordinatorId: m.coordinatorId };
          await txn.addOffset({ topic: o.topic, partition: o.partition, offset: o.offset - 1n, metadata: { consumer } } as never);
        }
      }
      await txn.commit();
      this.transaction = null;
    } else if (offsets.length) {
      if (this.streamsMember) await this.streamsMember.commitOffsets(offsets);
      else await this.member!.commit({ offsets });
    }
    for (const t of tasks) t.dirty = false;
    this.emit('commit', offsets.length);
  }

  private tasksFor(assignment: Array<{ topic: string; partitions: number[] }>): Array<{ sub: SubTopology; partition: number }> {
    const assigned = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)));
    const out: Array<{ sub: SubTopology; partition: number }> = [];
    for (const sub of this.subs) {
      const topics = this.sourceTopicsOf(sub);
      const n = Math.max(...topics.map((t) => this.partitionCounts.get(t) ?? 1));
      for (let p = 0; p < n; p++) if (topics.some((t) => assigned.has(`${t}:${p}`))) out.push({ sub, partition: p });
    }
    return out;
  }

  private async reconcile(assignment: Array<{ topic: string; partitions: number[] }>): Promise<void> {
    const wanted = this.tasksFor(assignment);
    const wantedIds = new Set(wanted.map((w) => `${w.sub.id}_${w.partition}`));
    const lost = this.assignmentLost;
    this.assignmentLost = false;
    // Lost tasks may have been processed elsewhere meanwhile: reopen even those assigned again, from committed offsets.
    const revoked = [...this.tasks.values()].filter((t) => lost || !wantedIds.has(t.task.id));
    // Commit everything before handing tasks over (revoked tasks' offsets must be final); lost tasks
    // (a fenced member) belong to someone else already: close them without committing, as Kafka does.
    if (lost) this.outbox = [];
    else if (this.tasks.size) await this.commit([...this.tasks.values()]).catch((err) => this.emit('warning', err));
    for (const t of revoked) {
      await this.closeTask(t, !lost);
      this.tasks.delete(t.task.id);
    }
    this.reconcileStandbys(assignment, wantedIds);
    const added = wanted.filter((w) => !this.tasks.has(`${w.sub.id}_${w.partition}`));
    if (added.length === 0) return;
    // Classic protocol: the previous owner commits right after the same rebalance; give it a moment so
    // we start from its final offsets. KIP-1071 hands a task over only after its owner released it.
    if (this.streamsMember) this.generationSeen++;
    else if (this.generationSeen++ > 0 || revoked.length > 0) await sleep(300);
    else await sleep(100);
    for (const w of added) {
      if (this.pendingAssignment || this.stopping) return;
      const at = await this.openTask(w.sub, w.partition);
      this.tasks.set(at.task.id, at);
    }
  }
  private generationSeen = 0;
  private readonly hostByTask = new Map<string, string>();
  /** Standby tasks: stores kept warm from the changelog, promoted when the task moves here. */
  private readonly standbys = new Map<string, { task: Task; positions: Map<string, bigint> }>();

  private reconcileStandbys(assignment: Array<{ topic: string; partitions: number[] }>, activeIds: Set<string>): void {
    const assigned = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)));
    const wanted = new Map<string, { sub: SubTopology; partition: number }>();
    for (const sub of this.subs) {
      const changelogs = this.changelogTopicsOf(sub);
      const n = Math.max(...this.sourceTopicsOf(sub).map((t) => this.partitionCounts.get(t) ?? 1));
      for (let p = 0; p < n; p++) {
        const id = `${sub.id}_${p}`;
        if (!activeIds.has(id) && changelogs.some((t) => assigned.has(`${t}:${p}`))) wanted.set(id, { sub, partition: p });
      }
    }
    for (const [id, sb] of this.standbys) {
      if (wanted.has(id) && !activeIds.has(id)) continue;
      if (!activeIds.has(id)) sb.task.close(); // promoted standbys are taken over by openTask
      else continue;
      this.standbys.delete(id);
    }
    for (const [id, w] of wanted) {
      if (this.standbys.has(id)) continue;
      const task = new Task(this.topology, w.sub, w.partition, { ...this.env, stateDir: undefined, send: () => {} }, false);
      for (const s of task.ctx.stores.values()) s.backend.clear();
      this.standbys.set(id, { task, positions: new Map(this.changelogTopicsOf(w.sub).map((t) => [`${t}:${w.partition}`, 0n])) });
    }
  }

  /** Standby task ids on this instance. */
  standbyTasks(): string[] {
    return [...this.standbys.keys()].sort();
  }
  private skippedRecords = 0;
  private rebalances = 0;
  private readonly lag = new Map<string, number>();
  private readonly restored = new Map<string, number>();

  /** Per-task progress (records processed, input lag), rebalances, restores, skipped records. */
  metrics(): { state: KafkaStreamsState; rebalances: number; skippedRecords: number; tasks: Array<{ taskId: string; processed: number; lag: number; restoredRecords: number }> } {
    return {
      state: this.currentState,
      rebalances: this.rebalances,
      skippedRecords: this.skippedRecords,
      tasks: [...this.tasks.values()].map((t) => ({
        taskId: t.task.id,
        processed: t.task.processed,
        lag: [...t.positions.keys()].reduce((n, k) => n + (this.lag.get(k) ?? 0), 0),
        restoredRecords: this.restored.get(t.task.id) ?? 0,
      })),
    };
  }

  private taskDir(taskId: string): string {
    return join(this.cfg.stateDir, this.cfg.applicationId, taskId);
  }

  private async openTask(sub: SubTopology, partition: number): Promise<ActiveTask> {
    const taskId = `${sub.id}_${partition}`;
    const dir = this.taskDir(taskId);
    const checkpointFile = join(dir, '.checkpoint');
    let checkpoint: Record<string, string> = {};
    if (existsSync(checkpointFile)) {
      try {
        checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8')) as Record<string, string>;
      } catch {
        checkpoint = {};
      }
      unlinkSync(checkpointFile); // a crash from here on means a full restore, as in Kafka
    }
    const standby = this.standbys.get(taskId);
    this.standbys.delete(taskId);
    let task: Task;
    if (standby) {
      // Promote: same stores, now logging; only the changelog tail since the standby's position is read.
      standby.task.close = () => {};
      task = new Task(this.topology, sub, partition, this.env, true);
      for (const [name, store] of task.ctx.stores) {
        const warm = standby.task.ctx.stores.get(name)!;
        store.backend.clear();
        store.backend.write(warm.backend.range().map(([k, v]) => [k, v]));
        warm.backend.close();
        if (store instanceof WindowStore && warm instanceof WindowStore) (store as unknown as { seq: number }).seq = (warm as unknown as { seq: number }).seq;
      }
    } else task = new Task(this.topology, sub, partition, this.env, true);
    // Restore every logged store from its changelog partition.
    const restoreStart = Date.now();
    let restored = 0;
    for (const [name, store] of task.ctx.stores) {
      const def = this.topology.storeDefs.get(name)!;
      if (!def.logged) continue;
      const topic = this.env.internalTopic(`${name}-changelog`);
      const persistent = (def.storeType ?? this.cfg.defaults.storeType) === 'persistent';
      let from: bigint;
      const warmFrom = standby?.positions.get(`${topic}:${partition}`);
      if (warmFrom !== undefined) from = warmFrom;
      else if (persistent && checkpoint[name] !== undefined) from = BigInt(checkpoint[name]);
      else {
        store.backend.clear();
        from = (await this.reader!.startOffsets(topic, [partition])).get(partition) ?? 0n;
      }
      const end = await this.reader!.endOffsets(topic, [partition]);
      await this.readUntil(topic, [partition], new Map([[partition, from]]), end, (_p, recs) => {
        if (store instanceof WindowStore) store.restoreBatch(recs.filter((r) => r.key).map((r) => [r.key!, r.value]));
        else if (store instanceof SessionStore) store.restoreBatch(recs.filter((r) => r.key).map((r) => [r.key!, r.value]));
        else store.backend.write(recs.filter((r) => r.key).map((r) => [r.key!, r.value]));
        restored += recs.length;
      });
    }
    this.restored.set(taskId, restored);
    this.emit('restore', { taskId, records: restored, ms: Date.now() - restoreStart });
    const positions = new Map<string, bigint>();
    const topics = this.sourceTopicsOf(sub).filter((t) => partition < (this.partitionCounts.get(t) ?? 0));
    const committed = await this.member!.listCommittedOffsets({ topics: topics.map((t) => ({ topic: t, partitions: [partition] })) });
    for (const t of topics) {
      let off = committed.get(t)?.[partition] ?? -1n;
      if (off < 0n) {
        const reset = sub.sources.find((s) => s.topics.includes(t) || s.topics.map((x) => this.env.internalTopic(x)).includes(t))?.offsetReset ?? this.cfg.autoOffsetReset;
        off = (reset === 'latest' ? await this.reader!.endOffsets(t, [partition]) : await this.reader!.startOffsets(t, [partition])).get(partition) ?? 0n;
      }
      positions.set(`${t}:${partition}`, off);
    }
    return { task, positions, dirty: false };
  }

  private async closeTask(at: ActiveTask, clean: boolean): Promise<void> {
    const task = at.task;
    if (clean) {
      const checkpoint: Record<string, string> = {};
      for (const [name] of task.ctx.stores) {
        const def = this.topology.storeDefs.get(name)!;
        if (!def.logged || (def.storeType ?? this.cfg.defaults.storeType) !== 'persistent') continue;
        const topic = this.env.internalTopic(`${name}-changelog`);
        const end = await this.reader!.endOffsets(topic, [task.partition]).catch(() => null);
        if (end) checkpoint[name] = String(end.get(task.partition) ?? 0n);
      }
      if (Object.keys(checkpoint).length) {
        mkdirSync(this.taskDir(task.id), { recursive: true });
        writeFileSync(join(this.taskDir(task.id), '.checkpoint'), JSON.stringify(checkpoint));
      }
    }
    task.close();
  }

  /** Stops processing, commits, writes checkpoints and leaves the group. */
  async close(): Promise<void> {
    if (this.currentState === 'NOT_RUNNING' || this.currentState === 'PENDING_SHUTDOWN') return;
    this.setState('PENDING_SHUTDOWN');
    this.stopping = true;
    await this.loop?.catch(() => {});
    try {
      if (this.tasks.size && !this.killed) await this.commit([...this.tasks.values()]);
    } catch (err) {
      this.emit('warning', err);
    }
    for (const t of this.tasks.values()) await this.closeTask(t, !this.killed).catch(() => {});
    this.tasks.clear();
    for (const sb of this.standbys.values()) sb.task.close();
    this.standbys.clear();
    if (this.streamsMember) await this.streamsMember.stop(!this.killed);
    else if (this.member && !this.killed) await (this.member.leaveGroup() as unknown as Promise<void>).catch(() => {});
    await this.shutdownClients();
    this.identity.release();
    this.setState('NOT_RUNNING');
  }

  /** Simulates a crash: stops without committing, flushing or leaving the group (for tests). */
  async kill(): Promise<void> {
    this.killed = true;
    this.stopping = true;
    this.outbox = [];
    await this.loop?.catch(() => {});
    for (const t of this.tasks.values()) t.task.close();
    this.tasks.clear();
    if (this.transaction) await this.transaction.abort().catch(() => {});
    this.transaction = null;
    await this.shutdownClients(true);
    this.identity.release();
    this.setState('NOT_RUNNING');
  }

  private async shutdownClients(force = false): Promise<void> {
    if (this.transaction) await this.transaction.abort().catch(() => {});
    this.transaction = null;
    void force;
    await this.streamsMember?.stop(false);
    await this.member?.close().catch(() => {});
    await this.producer?.close().catch(() => {});
    await this.reader?.close();
    for (const g of this.globals.values()) g.store.close();
  }

  /** Deletes this application's local state directory (call before start or after close). */
  cleanUp(): void {
    if (this.currentState !== 'CREATED' && this.currentState !== 'NOT_RUNNING') throw new Error('cleanUp() only before start() or after close()');
    rmSync(join(this.cfg.stateDir, this.cfg.applicationId), { recursive: true, force: true });
  }

  // ---- interactive queries -------------------------------------------------------------------

  /** Local stores named storeName, one per active task holding it (global stores: the one copy). */
  private localStores(name: string): AnyStore[] {
    const g = this.globals.get(name);
    if (g) return [g.store];
    const out: AnyStore[] = [];
    for (const t of this.tasks.values()) {
      const s = t.task.ctx.stores.get(name);
      if (s) out.push(s);
    }
    return out;
  }

  /** Read-only view over this instance's partitions of a key-value store. */
  keyValueStore<K = any, V = any>(name: string): { get(key: K): V | null; all(): Array<{ key: K; value: V }>; range(from: K, to: K): Array<{ key: K; value: V }>; approximateNumEntries(): number } {
    const stores = () => this.localStores(name).filter((s): s is KeyValueStore<K, V> => s instanceof KeyValueStore);
    return {
      get: (key) => {
        for (const s of stores()) {
          const v = s.get(key);
          if (v !== null) return v;
        }
        return null;
      },
      all: () => stores().flatMap((s) => s.all()),
      range: (from, to) => stores().flatMap((s) => s.range(from, to)),
      approximateNumEntries: () => stores().reduce((n, s) => n + s.approximateNumEntries(), 0),
    };
  }

  /** Read-only view over a window store: fetch(key, from, to) → [{ window start, value }]. */
  windowStore<K = any, V = any>(name: string): { fetch(key: K, timeFrom: number, timeTo: number): Array<{ start: number; value: V }>; all(): Array<{ key: Windowed<K>; value: V }> } {
    const stores = () => this.localStores(name).filter((s): s is WindowStore<K, V> => s instanceof WindowStore);
    return {
      fetch: (key, from, to) => stores().flatMap((s) => s.fetchRange(key, from, to).map((e) => ({ start: e.start, value: e.value }))),
      all: () => stores().flatMap((s) => s.all()),
    };
  }

  /** Read-only view over a session store (live sessions only: expired ones are gone once stream time passes retention). */
  sessionStore<K = any, V = any>(
    name: string,
  ): {
    fetch(key: K): Array<{ key: Windowed<K>; value: V }>;
    findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): Array<{ key: Windowed<K>; value: V }>;
    fetchSession(key: K, sessionStart: number, sessionEnd: number): V | null;
  } {
    const stores = () => this.localStores(name).filter((s): s is SessionStore<K, V> => s instanceof SessionStore);
    return {
      fetch: (key) => stores().flatMap((s) => s.fetch(key)),
      findSessions: (key, earliestEnd, latestStart) => stores().flatMap((s) => s.findSessions(key, earliestEnd, latestStart)),
      fetchSession: (key, start, end) => {
        for (const s of stores()) {
          const v = s.fetchSession(key, start, end);
          if (v !== null) return v;
        }
        return null;
      },
    };
  }

  /** Which partition holds key in storeName, and whether this instance has it. */
  queryMetadataForKey<K>(storeName: string, key: K, keySerializer: Serializer<K>): KeyQueryMetadata {
    const sub = this.subs.find((s) => s.stores.includes(storeName));
    if (!sub) throw new Error(`unknown store ${storeName}`);
    const n = Math.max(...this.sourceTopicsOf(sub).map((t) => this.partitionCounts.get(t) ?? 1));
    const kb = keySerializer.serialize('', key);
    const partition = kb ? partitionForKey(kb, n) : 0;
    const taskId = `${sub.id}_${partition}`;
    const isLocal = this.tasks.has(taskId);
    const activeHost = isLocal && this.cfg.applicationServer ? this.cfg.applicationServer : (this.hostByTask.get(taskId) ?? null);
    return { partition, isLocal, activeHost };
  }

  /** Active task ids on this instance, e.g. ["0_0", "1_0"]. */
  activeTasks(): string[] {
    return [...this.tasks.keys()].sort();
  }
}
