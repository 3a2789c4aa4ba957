// Cluster metadata in etcd (issue #11): the MetadataStore every broker of a cluster shares.
//
// Layout under `<fjord.etcd.prefix>/`:
//   cluster-id                      the cluster id (created once, checked by every broker)
//   topics/<name>                   TopicRecord JSON
//   partitions/<topicId>/<index>    PartitionState JSON (leader, leaderEpoch, isr); its etcd key
//                                   version - 1 is PartitionState.version, the CAS token
//   brokers/<nodeId>                BrokerRegistration JSON, attached to the broker's lease
//   config/brokers                  dynamic broker + group configs, one JSON map changed by CAS on
//                                   its mod revision (updateBrokerConfigs)
//   config/client-quotas, producer-ids
//   election/controller/...         etcd3 Election (controller campaign)
//
// Every broker loads the prefix once and then follows one watch on it: all changes, its own
// included, reach onChange in etcd revision order, each watch response applied as one batch. A write resolves only after the watch has
// delivered it, so a caller reads its own writes from the cache, as with the embedded store.
// Partition keys carry the topic id, so a deleted-and-recreated topic never sees stale state.
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type Campaign, type Election, type ElectionObserver, type IKeyValue, type Lease, type Namespace, type Watcher } from 'etcd3';
import { randomKafkaUuid } from './embedded-store.js';
import type {
  BrokerConfigsUpdate,
  BrokerRegistration,
  ClientQuotaRecord,
  MetadataChange,
  MetadataStore,
  PartitionAssignment,
  PartitionState,
  TopicRecord,
} from './metadata-store.js';
import { sameEntries } from './metadata-store.js';
import { ErrorCode } from '../protocol/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';

export interface EtcdStoreOptions {
  /** http://host:port endpoints of the etcd cluster. */
  endpoints: string[];
  /** Key prefix of this Fjord cluster (fjord.etcd.prefix). */
  prefix: string;
  nodeId: number;
  /** Expected cluster id: created when etcd has none yet, refused when etcd holds another. */
  clusterId?: string;
  /** broker.session.timeout.ms: the registration lease TTL (rounded up to whole seconds, etcd's unit). */
  sessionTimeoutMs: number;
  /** broker.heartbeat.interval.ms: how often the lease is renewed. */
  heartbeatIntervalMs: number;
  log?: (msg: string) => void;
}

/** etcd's transactions take at most 128 operations by default (--max-txn-ops). */
const MAX_TXN_OPS = 100;
const CONNECT_TIMEOUT_MS = 3000;
const CALL_TIMEOUT_MS = 5000;

interface StoredPartitionState {
  leader: number;
  leaderEpoch: number;
  isr: number[];
}

/** A broker cannot join the cluster (etcd unreachable, other cluster id, node id taken); the message says which and where. */
export class ClusterError extends Error {
  override name = 'ClusterError';
}

export class EtcdMetadataStore implements MetadataStore {
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private readonly log: (msg: string) => void;
  private readonly ttlSeconds: number;
  private clusterIdValue = '';

  private readonly byName = new Map<string, { record: TopicRecord; modRevision: string }>();
  private readonly byId = new Map<string, TopicRecord>();
  /** topicId → partition index → state. */
  private readonly states = new Map<string, Map<number, PartitionState>>();
  private readonly registrations = new Map<number, BrokerRegistration>();
  private brokerList: BrokerRegistration[] = [];
  private brokerConfigValues: Record<string, string> = {};
  /** etcd mod revision of config/brokers as cached (its CAS token); undefined while the key is absent. */
  private brokerConfigModRevision: string | undefined;
  private clientQuotaValues: ClientQuotaRecord[] = [];
  private readonly listeners: ((change: MetadataChange) => void)[] = [];

  private securityValue: unknown;
  private watcher: Watcher | undefined;
  /** Highest etcd revision whose changes are in the cache and were emitted. */
  private appliedRevision = 0n;
  private readonly revisionWaiters: { revision: bigint; resolve: () => void }[] = [];

  // Session: the lease that keeps this broker's registration alive.
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  /** Until when etcd surely still holds our lease (time of the last acknowledged renewal's request + TTL). */
  private sessionValidUntil = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private registration: BrokerRegistration | undefined;
  private reRegistering = false;

  // Controller election.
  private election: Election | undefined;
  private campaign: Campaign | undefined;
  private observer: ElectionObserver | undefined;
  private elected = false;
  private controller = -1;
  private closed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error('fjord.etcd.endpoints is empty');
    this.log = options.log ?? (() => {});
    this.ttlSeconds = Math.max(1, Math.ceil(options.sessionTimeoutMs / 1000));
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: CONNECT_TIMEOUT_MS,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      // Recover quickly when etcd comes back: short circuit-breaker pauses, fast watch reconnects.
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(5) }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: 1 }),
        // etcd3 calls next() on it for the first backoff (cockatiel's factory shape), as with its own default.
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) as never,
      },
    });
    const prefix = options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
    this.ns = this.client.namespace(prefix);
  }

  get clusterId(): string {
    return this.clusterIdValue;
  }

  get endpointsText(): string {
    return this.options.endpoints.join(',');
  }

  // ------------------------------------------------------------------ start-up

  async load(): Promise<void> {
    let existing: string | null;
    try {
      existing = await this.ns.get('cluster-id').options({ deadline: Date.now() + CONNECT_TIMEOUT_MS }).string();
    } catch (err) {
      this.client.close();
      throw new ClusterError(`cannot reach etcd at ${this.endpointsText}: ${(err as Error).message}`);
    }
    if (existing === null) {
      const wanted = this.options.clusterId ?? randomKafkaUuid();
      const res = await this.ns.if('cluster-id', 'Create', '==', 0).then(this.ns.put('cluster-id').value(wanted)).else(this.ns.get('cluster-id')).commit();
      existing = res.succeeded ? wanted : res.responses[0]!.response_range.kvs[0]!.value.toString();
    }
    if (this.options.clusterId !== undefined && existing !== this.options.clusterId) {
      this.client.close();
      throw new ClusterError(`etcd at ${this.endpointsText} (prefix ${this.options.prefix}) holds cluster ${existing}, not the requested cluster id ${this.options.clusterId}`);
    }
    this.clusterIdValue = existing;

    const snapshot = await this.ns.getAll().exec();
    for (const kv of snapshot.kvs) this.apply('Put', kv, []);
    this.appliedRevision = BigInt(snapshot.header.revision);
    this.rebuildBrokerList();

    this.watcher = await this.ns.watch().prefix('').startRevision((this.appliedRevision + 1n).toString()).create();
    this.watcher.on('data', (res) => {
      // One response holds whole revisions (etcd never splits one across responses unless the
      // watch asks for fragments): every key of a transaction is in the cache before any listener
      // hears of one of them (updatePartitionStateAndTopic relies on it).
      const changes: MetadataChange[] = [];
      for (const ev of res.events) this.apply(ev.type === 'Delete' ? 'Delete' : 'Put', ev.kv, changes);
      const revision = BigInt(res.header.revision);
      if (revision > this.appliedRevision) this.appliedRevision = revision;
      this.emitAll(changes);
      this.releaseRevisionWaiters();
    });
    this.watcher.on('disconnected', (err) => this.log(`etcd watch disconnected (${err.message}); reconnecting`));
    this.watcher.on('error', (err) => this.log(`etcd watch failed: ${err.message}`));

    await this.startSession();
  }

  /** Applies one key's change to the cache; appends the change listeners must hear. */
  private apply(type: 'Put' | 'Delete', kv: IKeyValue, changes: MetadataChange[]): void {
    const key = kv.key.toString();
    const slash = key.indexOf('/');
    const kind = slash < 0 ? key : key.slice(0, slash);
    const rest = slash < 0 ? '' : key.slice(slash + 1);
    switch (kind) {
      case 'topics': {
        if (type === 'Delete') {
          const old = this.byName.get(rest);
          if (!old) return;
          this.byName.delete(rest);
          this.byId.delete(old.record.topicId);
          this.states.delete(old.record.topicId);
          changes.push({ kind: 'topic-deleted', name: rest, topicId: old.record.topicId });
          return;
        }
        const record = JSON.parse(kv.value.toString()) as TopicRecord;
        const old = this.byName.get(record.name);
        if (old && old.record.topicId !== record.topicId) {
          // Deleted and recreated between two watch events we saw as one.
          this.byId.delete(old.record.topicId);
          this.states.delete(old.record.topicId);
          changes.push({ kind: 'topic-deleted', name: record.name, topicId: old.record.topicId });
        }
        this.byName.set(record.name, { record, modRevision: kv.mod_revision });
        this.byId.set(record.topicId, record);
        changes.push(old && old.record.topicId === record.topicId ? { kind: 'topic-updated', topic: record } : { kind: 'topic-created', topic: record });
        return;
      }
      case 'partitions': {
        const [topicId, index] = rest.split('/');
        if (topicId === undefined || index === undefined) return;
        const partition = Number(index);
        if (type === 'Delete') {
          this.states.get(topicId)?.delete(partition);
          return;
        }
        const stored = JSON.parse(kv.value.toString()) as StoredPartitionState;
        const state: PartitionState = { leader: stored.leader, leaderEpoch: stored.leaderEpoch, isr: stored.isr, version: Number(kv.version) - 1 };
        let map = this.states.get(topicId);
        if (!map) this.states.set(topicId, (map = new Map()));
        map.set(partition, state);
        const topic = this.byId.get(topicId);
        // Before its topic record exists a state is only cached: topic-created will carry it.
        if (topic) changes.push({ kind: 'partition-state', topic: topic.name, partition, state });
        return;
      }
      case 'brokers': {
        const nodeId = Number(rest);
        if (type === 'Delete') this.registrations.delete(nodeId);
        else this.registrations.set(nodeId, JSON.parse(kv.value.toString()) as BrokerRegistration);
        this.rebuildBrokerList();
        changes.push({ kind: 'brokers-changed' });
        return;
      }
      case 'config':
        if (rest === 'brokers') {
          this.brokerConfigValues = type === 'Delete' ? {} : (JSON.parse(kv.value.toString()) as Record<string, string>);
          this.brokerConfigModRevision = type === 'Delete' ? undefined : kv.mod_revision;
          changes.push({ kind: 'broker-configs-changed' });
        } else if (rest === 'client-quotas') this.clientQuotaValues = type === 'Delete' ? [] : (JSON.parse(kv.value.toString()) as ClientQuotaRecord[]);
        else if (rest === 'security') {
          this.securityValue = type === 'Delete' ? undefined : JSON.parse(kv.value.toString());
          changes.push({ kind: 'security-updated' });
        }
        return;
      default:
        return;
    }
  }

  private rebuildBrokerList(): void {
    this.brokerList = [...this.registrations.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  private emitAll(changes: MetadataChange[]): void {
    for (const change of changes) {
      for (const l of this.listeners) {
        try {
          l(change);
        } catch (err) {
          this.log(`a metadata listener failed on ${change.kind}: ${(err as Error).message}`);
        }
      }
    }
  }

  /** Resolves once the watch has delivered (and listeners heard) every change up to `revision`. */
  private waitForRevision(revision: string): Promise<void> {
    const r = BigInt(revision);
    if (this.appliedRevision >= r) return Promise.resolve();
    return new Promise((resolve) => {
      // Bounded: a watch that stays cut off must not hang the write's caller forever.
      const timer = setTimeout(() => {
        const i = this.revisionWaiters.indexOf(waiter);
        if (i >= 0) this.revisionWaiters.splice(i, 1);
        this.log(`the etcd watch has not delivered revision ${revision} yet; answering without it`);
        resolve();
      }, CALL_TIMEOUT_MS * 2);
      const waiter = {
        revision: r,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.revisionWaiters.push(waiter);
    });
  }

  private releaseRevisionWaiters(): void {
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      const w = this.revisionWaiters[i]!;
      if (w.revision <= this.appliedRevision) {
        this.revisionWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  // ------------------------------------------------------------------ session (lease) and registration

  /** True while etcd surely still holds this broker's lease: a leader may only acknowledge writes then. */
  sessionAlive(): boolean {
    return !this.closed && Date.now() < this.sessionValidUntil;
  }

  /** Grants a lease and starts renewing it every broker.heartbeat.interval.ms. */
  private async startSession(): Promise<void> {
    const sentAt = Date.now();
    const lease = this.ns.lease(this.ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', (err) => this.onLeaseLost(lease, err));
    this.leaseId = await lease.grant();
    this.lease = lease;
    this.sessionValidUntil = sentAt + this.ttlSeconds * 1000;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => void this.renew(lease), Math.min(this.options.heartbeatIntervalMs, (this.ttlSeconds * 1000) / 3));
    this.keepaliveTimer.unref?.();
  }

  private async renew(lease: Lease): Promise<void> {
    if (this.renewing || this.closed || lease !== this.lease) return;
    this.renewing = true;
    const sentAt = Date.now();
    try {
      const res = await lease.keepaliveOnce({ deadline: sentAt + Math.max(1000, this.options.heartbeatIntervalMs) });
      const ttl = Number(res.TTL);
      if (lease === this.lease && ttl > 0) this.sessionValidUntil = sentAt + ttl * 1000;
    } catch (err) {
      if (lease === this.lease && Date.now() > this.sessionValidUntil) {
        this.log(`etcd session at ${this.endpointsText} not renewed: ${(err as Error).message}`);
      }
    } finally {
      this.renewing = false;
    }
  }

  /** etcd says the lease is gone (expired while we were cut off): start a new session and register again. */
  private onLeaseLost(lease: Lease, err: Error): void {
    if (lease !== this.lease || this.closed) return;
    this.log(`etcd session lost (${err.message}); registering again`);
    this.lease = undefined;
    this.sessionValidUntil = 0;
    clearInterval(this.keepaliveTimer);
    void this.restartSession();
  }

  private async restartSession(): Promise<void> {
    if (this.reRegistering || this.closed) return;
    this.reRegistering = true;
    let delay = 200;
    try {
      while (!this.closed) {
        try {
          await this.startSession();
          if (this.registration) await this.putRegistration(this.registration);
          this.log('etcd session re-established');
          return;
        } catch (e) {
          this.log(`etcd session not re-established yet: ${(e as Error).message}`);
          this.lease?.release();
          this.lease = undefined;
          this.sessionValidUntil = 0;
          await this.sleep(delay);
          delay = Math.min(delay * 2, 2000);
        }
      }
    } finally {
      this.reRegistering = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.retryTimers.delete(t);
        resolve();
      }, ms);
      this.retryTimers.add(t);
    });
  }

  controllerId(): number {
    return this.controller;
  }

  /** True while this broker holds the controller election (and its session is alive). */
  isController(): boolean {
    return this.elected && this.sessionAlive();
  }

  brokers(): BrokerRegistration[] {
    return this.brokerList;
  }

  /**
   * Registers this broker under its lease. A registration left by an earlier run of the same node
   * id (killed before its lease expired) is waited out, so the controller sees that run die; a
   * registration that outlives the lease TTL belongs to another live broker with this id.
   */
  async registerBroker(broker: BrokerRegistration): Promise<void> {
    const key = `brokers/${broker.nodeId}`;
    const deadline = Date.now() + this.ttlSeconds * 2000 + 2000;
    let warned = false;
    for (;;) {
      const res = await this.ns
        .if(key, 'Create', '==', 0)
        .then(this.ns.put(key).value(JSON.stringify(broker)).lease(this.leaseId!))
        .commit();
      if (res.succeeded) {
        this.registration = broker;
        await this.waitForRevision(res.header.revision);
        break;
      }
      if (Date.now() > deadline) {
        throw new ClusterError(`node id ${broker.nodeId} is already registered in etcd at ${this.endpointsText} by another live broker`);
      }
      if (!warned) {
        this.log(`node id ${broker.nodeId} is still registered by an earlier run; waiting for its etcd lease (${this.ttlSeconds}s) to expire`);
        warned = true;
      }
      await this.sleep(200);
    }
    this.startElection();
  }

  /** Rewrites this broker's registration (same lease), e.g. to flag a controlled shutdown. */
  async updateRegistration(patch: Partial<BrokerRegistration>): Promise<void> {
    if (!this.registration) return;
    this.registration = { ...this.registration, ...patch };
    await this.putRegistration(this.registration);
  }

  private async putRegistration(broker: BrokerRegistration): Promise<void> {
    const res = await this.ns.put(`brokers/${broker.nodeId}`).value(JSON.stringify(broker)).lease(this.leaseId!).exec();
    await this.waitForRevision(res.header.revision);
  }

  // ------------------------------------------------------------------ controller election

  private startElection(): void {
    if (this.election || this.closed) return;
    this.election = this.ns.election('controller', this.ttlSeconds);
    this.runCampaign();
    void this.observeController();
  }

  private runCampaign(): void {
    if (this.closed || !this.election) return;
    const campaign = this.election.campaign(String(this.options.nodeId));
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (campaign !== this.campaign) return;
      this.elected = true;
      this.log(`broker ${this.options.nodeId} is now the controller`);
      this.emitAll([{ kind: 'brokers-changed' }]);
    });
    campaign.on('error', (err) => {
      if (campaign !== this.campaign) return;
      const was = this.elected;
      this.elected = false;
      this.campaign = undefined;
      if (this.closed) return;
      this.log(`controller campaign failed (${err.message}); campaigning again`);
      if (was) this.emitAll([{ kind: 'brokers-changed' }]);
      void this.sleep(500).then(() => this.runCampaign());
    });
  }

  private async observeController(): Promise<void> {
    let delay = 200;
    while (!this.closed && this.election) {
      try {
        const observer = await this.election.observe();
        if (this.closed) {
          await observer.cancel();
          return;
        }
        this.observer = observer;
        this.setController(observer.leader());
        observer.on('change', (value) => this.setController(value));
        await new Promise<void>((resolve) => observer.on('error', (err) => {
          this.log(`controller observer failed (${err.message}); observing again`);
          resolve();
        }));
        delay = 200;
      } catch (err) {
        this.log(`cannot observe the controller election: ${(err as Error).message}`);
      }
      this.setController(undefined);
      await this.sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }

  private setController(value: string | undefined): void {
    const id = value === undefined ? -1 : Number(value);
    if (id === this.controller) return;
    this.controller = Number.isInteger(id) ? id : -1;
    this.emitAll([{ kind: 'brokers-changed' }]);
  }

  // ------------------------------------------------------------------ topics and partitions

  topics(): Iterable<TopicRecord> {
    return this.byId.values();
  }

  topic(name: string): TopicRecord | undefined {
    return this.byName.get(name)?.record;
  }

  topicById(topicId: string): TopicRecord | undefined {
    return this.byId.get(topicId);
  }

  /** etcd's modification revision of the topic record as cached (CAS token for topic updates). */
  private topicModRevision(name: string): string | undefined {
    return this.byName.get(name)?.modRevision;
  }

  private stateKey(topicId: string, partition: number): string {
    return `partitions/${topicId}/${partition}`;
  }

  private stateValue(state: PartitionState): string {
    const stored: StoredPartitionState = { leader: state.leader, leaderEpoch: state.leaderEpoch, isr: state.isr };
    return JSON.stringify(stored);
  }

  /** Puts partition states that no one else can be writing yet (new topic id or new indexes), in chunks. */
  private async putNewStates(topicId: string, added: PartitionAssignment[], states: PartitionState[]): Promise<void> {
    for (let i = 0; i < added.length; i += MAX_TXN_OPS) {
      const txn = this.ns.if('cluster-id', 'Create', '>', 0);
      const ops = added.slice(i, i + MAX_TXN_OPS).map((p, j) => this.ns.put(this.stateKey(topicId, p.partition)).value(this.stateValue(states[i + j]!)));
      await txn.then(...ops).commit();
    }
  }

  async createTopic(topic: TopicRecord, states: PartitionState[]): Promise<void> {
    const topicKey = `topics/${topic.name}`;
    const small = topic.partitions.length < MAX_TXN_OPS;
    // Small topics: one transaction. Large ones: states first (under the new topic id, which
    // nothing reads until the topic record appears), then the record, created only if absent.
    if (!small) await this.putNewStates(topic.topicId, topic.partitions, states);
    const ops = small ? topic.partitions.map((p, i) => this.ns.put(this.stateKey(topic.topicId, p.partition)).value(this.stateValue(states[i]!))) : [];
    const res = await this.ns
      .if(topicKey, 'Create', '==', 0)
      .then(...ops, this.ns.put(topicKey).value(JSON.stringify(topic)))
      .commit();
    if (!res.succeeded) {
      if (!small) await this.ns.delete().prefix(`partitions/${topic.topicId}/`).exec();
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic.name}' already exists.`);
    }
    await this.waitForRevision(res.header.revision);
  }

  async deleteTopic(name: string): Promise<void> {
    const entry = this.byName.get(name);
    if (!entry) return;
    const res = await this.ns
      .if(`topics/${name}`, 'Mod', '==', entry.modRevision)
      .then(this.ns.delete().key(`topics/${name}`), this.ns.delete().prefix(`partitions/${entry.record.topicId}/`))
      .commit();
    if (!res.succeeded) {
      // Changed meanwhile (configs, partitions): delete whatever incarnation is there now.
      const current = await this.readTopic(name);
      if (!current) return;
      const again = await this.ns
        .if(`topics/${name}`, 'Mod', '==', current.modRevision)
        .then(this.ns.delete().key(`topics/${name}`), this.ns.delete().prefix(`partitions/${current.record.topicId}/`))
        .commit();
      if (!again.succeeded) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Topic '${name}' changed concurrently; retry the deletion.`);
      await this.waitForRevision(again.header.revision);
      return;
    }
    await this.waitForRevision(res.header.revision);
  }

  private async readTopic(name: string): Promise<{ record: TopicRecord; modRevision: string } | undefined> {
    const res = await this.ns.get(`topics/${name}`).exec();
    const kv = res.kvs[0];
    if (!kv) return undefined;
    return { record: JSON.parse(kv.value.toString()) as TopicRecord, modRevision: kv.mod_revision };
  }

  /** Read-modify-CAS of a topic record, retried while other writers get in between. */
  async updateTopic(name: string, change: (record: TopicRecord) => TopicRecord): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = attempt === 0 && this.topicModRevision(name) ? this.byName.get(name) : await this.readTopic(name);
      if (!current) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unknown topic ${name}.`);
      const next = change(structuredClone(current.record));
      const res = await this.ns
        .if(`topics/${name}`, 'Mod', '==', current.modRevision)
        .then(this.ns.put(`topics/${name}`).value(JSON.stringify(next)))
        .commit();
      if (res.succeeded) {
        await this.waitForRevision(res.header.revision);
        return;
      }
    }
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Topic '${name}' keeps changing concurrently; retry.`);
  }

  updateTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    return this.updateTopic(name, (record) => ({ ...record, configs: { ...configs } }));
  }

  async addPartitions(name: string, added: PartitionAssignment[], states: PartitionState[]): Promise<void> {
    const current = (this.topicModRevision(name) ? this.byName.get(name) : undefined) ?? (await this.readTopic(name));
    if (!current) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unknown topic ${name}.`);
    if (added.length > 0 && added[0]!.partition !== current.record.partitions.length) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic '${name}' changed concurrently: it has ${current.record.partitions.length} partitions now.`);
    }
    const record: TopicRecord = { ...current.record, partitions: [...current.record.partitions, ...added] };
    const small = added.length < MAX_TXN_OPS;
    if (!small) await this.putNewStates(record.topicId, added, states);
    const ops = small ? added.map((p, i) => this.ns.put(this.stateKey(record.topicId, p.partition)).value(this.stateValue(states[i]!))) : [];
    const res = await this.ns
      .if(`topics/${name}`, 'Mod', '==', current.modRevision)
      .then(...ops, this.ns.put(`topics/${name}`).value(JSON.stringify(record)))
      .commit();
    if (!res.succeeded) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic '${name}' changed concurrently; retry.`);
    }
    await this.waitForRevision(res.header.revision);
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    const record = this.byName.get(topic)?.record;
    if (!record) return undefined;
    return this.states.get(record.topicId)?.get(partition);
  }

  /** etcd transaction: writes only if the key's version is still expectedVersion + 1. */
  async updatePartitionState(topic: string, partition: number, state: PartitionState, expectedVersion: number): Promise<boolean> {
    const record = this.byName.get(topic)?.record;
    if (!record) return false;
    const key = this.stateKey(record.topicId, partition);
    const res = await this.ns
      .if(key, 'Version', '==', expectedVersion + 1)
      .then(this.ns.put(key).value(this.stateValue(state)))
      .commit();
    if (!res.succeeded) return false;
    await this.waitForRevision(res.header.revision);
    return true;
  }

  /**
   * One etcd transaction over both keys: it applies only while the state key's version is still
   * expectedVersion + 1 and the topic record is the one `change` edited (its mod revision). Both
   * keys then change at one revision, which etcd's watch never splits across responses, and the
   * watch handler applies a whole response to the cache before telling any listener: no broker
   * sees the new state with the old topic record or the other way round. A lost race on the topic
   * record alone (a config change, another partition's reassignment) re-reads it and runs
   * `change` again; a moved state returns false for the caller to re-decide.
   */
  async updatePartitionStateAndTopic(
    topic: string,
    partition: number,
    state: PartitionState,
    expectedVersion: number,
    change: (record: TopicRecord) => TopicRecord | undefined,
  ): Promise<boolean> {
    const topicKey = `topics/${topic}`;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = attempt === 0 ? this.byName.get(topic) : await this.readTopic(topic);
      if (!current) return false;
      const next = change(structuredClone(current.record));
      if (!next) return false;
      const key = this.stateKey(current.record.topicId, partition);
      const res = await this.ns
        .if(key, 'Version', '==', expectedVersion + 1)
        .and(topicKey, 'Mod', '==', current.modRevision)
        .then(this.ns.put(topicKey).value(JSON.stringify(next)), this.ns.put(key).value(this.stateValue(state)))
        .else(this.ns.get(key))
        .commit();
      if (res.succeeded) {
        await this.waitForRevision(res.header.revision);
        return true;
      }
      const stored = res.responses[0]?.response_range?.kvs[0];
      if (!stored || Number(stored.version) !== expectedVersion + 1) return false;
    }
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Topic '${topic}' keeps changing concurrently; retry.`);
  }

  // ------------------------------------------------------------------ producer ids, configs, quotas

  async allocateProducerIdBlock(size: number): Promise<number> {
    for (;;) {
      const res = await this.ns.get('producer-ids').exec();
      const kv = res.kvs[0];
      const first = kv ? Number(kv.value.toString()) : 0;
      const txn = kv ? this.ns.if('producer-ids', 'Mod', '==', kv.mod_revision) : this.ns.if('producer-ids', 'Create', '==', 0);
      const done = await txn.then(this.ns.put('producer-ids').value(String(first + size))).commit();
      if (done.succeeded) return first;
    }
  }

  brokerConfigs(): Record<string, string> {
    return this.brokerConfigValues;
  }

  /**
   * Read-modify-CAS of config/brokers (compare on its mod revision, or on its absence): a lost race
   * re-reads etcd and runs `update` again on the fresh map, so no broker's change is overwritten.
   */
  async updateBrokerConfigs(update: BrokerConfigsUpdate): Promise<void> {
    const key = 'config/brokers';
    // The cache is usually current: try it first, re-read etcd only after losing a race.
    let current: { values: Record<string, string>; modRevision: string | undefined; revision: string | undefined } = {
      values: this.brokerConfigValues,
      modRevision: this.brokerConfigModRevision,
      revision: undefined,
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      if (attempt > 0) {
        if (attempt > 2) await this.sleep(Math.floor(Math.random() * 10 * attempt));
        current = await this.readBrokerConfigs();
      }
      const next = update(current.values);
      if (sameEntries(next, current.values)) {
        // Nothing to write; still let the caller read what it saw in etcd from the cache.
        if (current.revision !== undefined) await this.waitForRevision(current.revision);
        return;
      }
      const txn = current.modRevision === undefined ? this.ns.if(key, 'Create', '==', 0) : this.ns.if(key, 'Mod', '==', current.modRevision);
      const res = await txn.then(this.ns.put(key).value(JSON.stringify(next))).commit();
      if (res.succeeded) {
        await this.waitForRevision(res.header.revision);
        return;
      }
    }
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'Dynamic broker configs keep changing concurrently; retry.');
  }

  private async readBrokerConfigs(): Promise<{ values: Record<string, string>; modRevision: string | undefined; revision: string }> {
    const res = await this.ns.get('config/brokers').exec();
    const kv = res.kvs[0];
    return {
      values: kv ? (JSON.parse(kv.value.toString()) as Record<string, string>) : {},
      modRevision: kv?.mod_revision,
      revision: res.header.revision,
    };
  }

  clientQuotas(): ClientQuotaRecord[] {
    return this.clientQuotaValues;
  }

  async updateClientQuotas(quotas: ClientQuotaRecord[]): Promise<void> {
    const kept = quotas.filter((q) => Object.keys(q.values).length > 0);
    const res = await this.ns.put('config/client-quotas').value(JSON.stringify(kept)).exec();
    await this.waitForRevision(res.header.revision);
  }

  securityState(): unknown {
    return this.securityValue;
  }

  /** ACLs and SCRAM credentials for every broker; a write resolves once this broker has applied it. */
  async updateSecurityState(state: unknown): Promise<void> {
    const res = await this.ns.put('config/security').value(JSON.stringify(state)).exec();
    await this.waitForRevision(res.header.revision);
  }

  onChange(listener: (change: MetadataChange) => void): void {
    this.listeners.push(listener);
  }

  /** Leaves the cluster: resigns the election and revokes the lease (the registration goes at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    const quick = <T>(p: Promise<T> | undefined) =>
      Promise.race([p?.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref?.())]);
    await quick(this.campaign?.resign());
    await quick(this.observer?.cancel());
    await quick(this.lease?.revoke());
    await quick(this.watcher?.cancel());
    this.elected = false;
    for (const w of this.revisionWaiters.splice(0)) w.resolve();
    this.client.close();
  }
}
