// The coordinator runtime: state kept in an internal topic, the way Kafka's coordinators keep it.
// One runtime per state topic per broker. It creates the topic on first need, places a key on a
// partition (abs(hash) % n), appends records durably to the key's partition, replays a partition
// into the coordinator when this broker gains its leadership and unloads it when leadership goes.
// The coordinator behind it (a CoordinatorShard) only decodes records and answers requests.
import { KafkaError, errorCodeOf } from '../../protocol/kafka-error.js';
import type { MetadataChange, MetadataStore } from '../../cluster/metadata-store.js';
import type { Partition } from '../../cluster/partition.js';
import { ErrorCode } from '../../protocol/errors.js';
import { batchPositions, buildBatch, decodeRecords, readBatchHeader, validateBatches } from '../../protocol/records/batch.js';
import { partitionForKey } from './placement.js';

/** One record of a state topic: full Kafka record bytes (int16 version + body); value null = tombstone. */
export interface CoordinatorRecord {
  key: Buffer;
  value: Buffer | null;
}

/** How the state topic is created and read. Functions, so dynamic config changes apply. */
export interface StateTopicSpec {
  readonly name: string;
  /** Partitions when the runtime creates the topic (an existing topic's count wins). */
  numPartitions(): number;
  replicationFactor(): number;
  /** Topic configs at creation (normally cleanup.policy=compact). */
  configs(): Record<string, string>;
  /** Read size while replaying a partition. */
  loadBufferBytes(): number;
}

/** The coordinator's side: what to do with replayed records and with leadership changes. */
export interface CoordinatorShard {
  /** One record of `partition`, in log order, while the partition loads. Must not throw. */
  replay(partition: number, key: Buffer, value: Buffer | null): void;
  /** Every record of `partition` replayed: it serves from now on (start timers here). */
  loaded(partition: number): void;
  /** Leadership of `partition` left this broker (or the runtime closed): drop its state. */
  unloaded(partition: number): void;
}

/** The narrow services a runtime needs; the broker wires them in. */
export interface CoordinatorRuntimeDeps {
  readonly nodeId: number;
  readonly metadata: Pick<MetadataStore, 'topic' | 'partitionState' | 'brokers' | 'onChange'>;
  readonly partitions: { get(topic: string, partition: number): Partition | undefined };
  readonly topics: {
    create(req: { name: string; numPartitions: number; replicationFactor: number; configs: Record<string, string> }): Promise<unknown>;
  };
  readonly log: (msg: string) => void;
}

export interface CoordinatorLocation {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

/**
 * What a replay meets of transactions, for state written inside them (offsets committed by
 * TxnOffsetCommit): records of transactional batches, held until their producer's marker.
 */
export interface TransactionalReplay {
  record(partition: number, producerId: number, key: Buffer, value: Buffer | null): void;
  marker(partition: number, producerId: number, commit: boolean): void;
}

/** Producer of a transactional append (TxnOffsetCommit). */
export interface TransactionalProducer {
  producerId: number;
  producerEpoch: number;
}
/** Answers FindCoordinator for one key type; a CoordinatorRuntime is one. */
export interface CoordinatorLocator {
  locate(key: string): Promise<CoordinatorLocation>;
}

/** FindCoordinator key types (KIP-98: 1 = transaction; KIP-932: 2 = share). */
export const CoordinatorKeyType = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const;

type LoadState = { kind: 'loading'; generation: number } | { kind: 'loaded'; generation: number };

export class CoordinatorRuntime implements CoordinatorLocator {
  private creating: Promise<void> | undefined;
  private readonly states = new Map<number, LoadState>();
  private generation = 0;
  private started = false;
  private closed = false;
  /** Receives transactional records and markers during replay; without it they are skipped. */
  transactionalReplay: TransactionalReplay | undefined;

  constructor(
    private readonly deps: CoordinatorRuntimeDeps,
    readonly spec: StateTopicSpec,
    private readonly shard: CoordinatorShard,
  ) {}

  get topic(): string {
    return this.spec.name;
  }

  // ------------------------------------------------------------------ placement

  get numPartitions(): number {
    return this.deps.metadata.topic(this.spec.name)?.partitions.length ?? this.spec.numPartitions();
  }

  partitionFor(key: string): number {
    return partitionForKey(key, this.numPartitions);
  }

  exists(): boolean {
    return this.deps.metadata.topic(this.spec.name) !== undefined;
  }

  /** Leader broker id of the key's partition, or -1 when unknown. */
  leaderFor(key: string): number {
    if (!this.exists()) return -1;
    return this.deps.metadata.partitionState(this.spec.name, this.partitionFor(key))?.leader ?? -1;
  }

  /** True when this broker leads the partition and has replayed it. */
  isLoaded(partition: number): boolean {
    return this.states.get(partition)?.kind === 'loaded';
  }

  /** Partitions this broker currently serves. */
  loadedPartitions(): number[] {
    return [...this.states].filter(([, s]) => s.kind === 'loaded').map(([p]) => p);
  }

  /** True when the key's partition is loaded here (the key's coordinator is this broker). */
  ownsKey(key: string): boolean {
    return this.exists() && this.isLoaded(this.partitionFor(key));
  }

  /**
   * Whether this broker coordinates the key now: NONE; NOT_COORDINATOR when another broker
   * leads its partition; COORDINATOR_LOAD_IN_PROGRESS while the partition replays;
   * COORDINATOR_NOT_AVAILABLE when the topic cannot be created or has no leader.
   */
  async status(key: string): Promise<number> {
    if (this.closed || !this.started) return this.closed ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    try {
      await this.ensure();
    } catch {
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const leader = this.leaderFor(key);
    if (leader < 0) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (leader !== this.deps.nodeId) return ErrorCode.NOT_COORDINATOR;
    const state = this.states.get(this.partitionFor(key));
    if (state?.kind === 'loaded') return ErrorCode.NONE;
    // Leader here but not loaded (e.g. the topic was created by an admin request): load now.
    if (!state) this.syncLeadership();
    return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
  }

  /** FindCoordinator: the leader of the key's partition, with its endpoint. */
  async locate(key: string): Promise<CoordinatorLocation> {
    const none = { nodeId: -1, host: '', port: -1 };
    try {
      await this.ensure();
    } catch (err) {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: (err as Error).message, ...none };
    }
    const leader = this.leaderFor(key);
    const node = this.deps.metadata.brokers().find((b) => b.nodeId === leader);
    if (leader < 0 || !node) {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'The coordinator is not available.', ...none };
    }
    if (leader === this.deps.nodeId && !this.isLoaded(this.partitionFor(key))) {
      if (!this.states.has(this.partitionFor(key))) this.syncLeadership();
      return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, errorMessage: null, ...none };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: node.nodeId, host: node.host, port: node.port };
  }

  // ------------------------------------------------------------------ lifecycle

  /** Loads every partition this broker leads and follows leadership changes from now on. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.deps.metadata.onChange((change) => this.onMetadataChange(change));
    await this.syncLeadership();
  }

  /** Unloads every partition; later calls answer COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const partition of [...this.states.keys()]) this.unload(partition);
  }

  /** Creates the topic on first need (compacted, internal) and loads its partitions led here. */
  ensure(): Promise<void> {
    // While a creation runs, the topic is in the metadata before its replicas are open: wait for it.
    if (this.creating) return this.creating;
    if (this.exists()) return Promise.resolve();
    this.creating ??= (async () => {
      const live = Math.max(1, this.deps.metadata.brokers().length);
      try {
        await this.deps.topics.create({
          name: this.spec.name,
          numPartitions: this.spec.numPartitions(),
          replicationFactor: Math.min(this.spec.replicationFactor(), live),
          configs: this.spec.configs(),
        });
      } catch (err) {
        if (!(err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
      } finally {
        this.creating = undefined;
      }
      await this.syncLeadership();
    })();
    return this.creating;
  }

  private onMetadataChange(change: MetadataChange): void {
    if (this.closed || change.kind === 'brokers-changed' || change.kind === 'security-updated' || change.kind === 'broker-configs-changed') return;
    const name = change.kind === 'topic-deleted' || change.kind === 'partition-state' ? (change.kind === 'topic-deleted' ? change.name : change.topic) : change.topic.name;
    if (name !== this.spec.name) return;
    void this.syncLeadership();
  }

  /** Starts loads of partitions led here that are not loaded; unloads partitions no longer led. */
  private syncLeadership(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const topic = this.deps.metadata.topic(this.spec.name);
    const led = new Set<number>();
    for (const assignment of topic?.partitions ?? []) {
      const index = assignment.partition;
      const state = this.deps.metadata.partitionState(this.spec.name, index);
      if (state?.leader === this.deps.nodeId && this.deps.partitions.get(this.spec.name, index)) led.add(index);
    }
    for (const partition of [...this.states.keys()]) if (!led.has(partition)) this.unload(partition);
    const loads: Promise<void>[] = [];
    for (const partition of led) if (!this.states.has(partition)) loads.push(this.load(partition));
    return Promise.all(loads).then(() => undefined);
  }

  private async load(partition: number): Promise<void> {
    const generation = ++this.generation;
    this.states.set(partition, { kind: 'loading', generation });
    const current = () => this.states.get(partition)?.generation === generation;
    try {
      await this.replay(partition, current);
    } catch (err) {
      this.deps.log(`${this.spec.name}-${partition}: loading failed: ${(err as Error).message}`);
      if (current()) {
        this.states.delete(partition);
        this.shard.unloaded(partition);
      }
      return;
    }
    if (!current()) return;
    this.states.set(partition, { kind: 'loaded', generation });
    this.shard.loaded(partition);
  }

  private unload(partition: number): void {
    if (!this.states.delete(partition)) return;
    this.shard.unloaded(partition);
  }

  /** Feeds every record of the partition to the shard, in log order, up to the high watermark. */
  private async replay(index: number, current: () => boolean): Promise<void> {
    const partition = this.deps.partitions.get(this.spec.name, index);
    if (!partition) throw new Error('replica is not hosted here');
    const log = partition.log;
    let offset = log.logStartOffset;
    // A new leader's whole log becomes committed (followers truncate to it), while its high
    // watermark may still lag (it advances when followers fetch): replay to the log end.
    await log.drained();
    const end = Math.max(log.highWatermark, log.writtenEndOffset);
    const maxBytes = Math.max(1, this.spec.loadBufferBytes());
    while (offset < end && current()) {
      const { chunks } = await log.read(offset, maxBytes, end, true);
      if (chunks.length === 0) break;
      let next = offset;
      for (const chunk of chunks) {
        for (const [pos] of batchPositions(chunk)) {
          const h = readBatchHeader(chunk, pos);
          next = Math.max(next, h.baseOffset + h.lastOffsetDelta + 1);
          const txn = this.transactionalReplay;
          if ((h.attributes & 0x20) !== 0) {
            // control batch: a transaction marker (key: version int16, type int16; 1 = commit)
            const marker = txn ? (await decodeRecords(chunk, pos))[0] : undefined;
            if (txn && marker?.key && marker.key.length >= 4 && current()) txn.marker(index, h.producerId, marker.key.readInt16BE(2) === 1);
            continue;
          }
          const transactional = (h.attributes & 0x10) !== 0;
          if (transactional && !txn) continue; // undecided without a transaction-aware reader
          const records = await decodeRecords(chunk, pos);
          if (!current()) return;
          for (const rec of records) {
            if (rec.offset < offset || rec.key === null) continue;
            if (transactional) txn!.record(index, h.producerId, rec.key, rec.value);
            else this.shard.replay(index, rec.key, rec.value);
          }
        }
      }
      if (next <= offset) break;
      offset = next;
    }
  }

  // ------------------------------------------------------------------ writes

  /**
   * Appends records to the key's partition as one batch; resolves when durable. Throws
   * KafkaError NOT_COORDINATOR when another broker leads it, COORDINATOR_NOT_AVAILABLE when the
   * write fails (Kafka maps coordinator append failures to that retriable error).
   */
  async append(key: string, records: CoordinatorRecord[], txn?: TransactionalProducer): Promise<void> {
    const written = await this.write(key, records, txn);
    await written?.durable;
  }

  /**
   * Appends records to the key's partition as one batch; resolves as soon as the batch has its
   * offsets (so every later write of the partition lands after it), with `durable` settling when
   * the batch is durable (same errors as append). A state change that only a later write of the
   * same partition depends on need not wait for `durable`: that write's durability covers it.
   */
  async write(key: string, records: CoordinatorRecord[], txn?: TransactionalProducer): Promise<{ durable: Promise<void> } | undefined> {
    if (records.length === 0) return undefined;
    await this.ensure();
    const index = this.partitionFor(key);
    const partition = this.deps.partitions.get(this.spec.name, index);
    if (!partition) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${this.spec.name}-${index} is not hosted here.`);
    if (partition.leaderId !== this.deps.nodeId) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker does not lead ${this.spec.name}-${index}.`);
    }
    const now = Date.now();
    const buf = await buildBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
      ...(txn ? { producerId: txn.producerId, producerEpoch: txn.producerEpoch, baseSequence: -1, isTransactional: true } : {}),
    });
    const checked = validateBatches(buf, Number.MAX_SAFE_INTEGER);
    if ('error' in checked) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, checked.message);
    // Offsets are assigned synchronously inside appendAsLeader, so nothing may await between the
    // leadership check above and this call returning.
    const durable = partition.appendAsLeader(buf, checked.batches).then(
      () => undefined,
      (err) => {
        // a fenced producer keeps its code (TxnOffsetCommit answers PRODUCER_FENCED)
        if (txn && errorCodeOf(err) === ErrorCode.INVALID_PRODUCER_EPOCH) throw err;
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
      },
    );
    return { durable };
  }
}
