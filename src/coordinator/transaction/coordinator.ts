// The transaction coordinator service (`broker.transactions`): hosts the transactional ids whose
// `__transaction_state` partition this broker leads. Each id moves through Kafka's states
// Empty → Ongoing → PrepareCommit/PrepareAbort → CompleteCommit/CompleteAbort; every transition
// is durable in `__transaction_state` before it takes effect, and a restart replays the topic and
// finishes every transaction it finds prepared. One method per API; handlers only translate.
import type { BrokerConfig } from '../../config/config.js';
import { errorCodeOf } from '../../protocol/kafka-error.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CONSUMER_OFFSETS_TOPIC as OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from '../runtime/internal-topics.js';
import { CoordinatorRuntime, type CoordinatorRuntimeDeps, type CoordinatorShard } from '../runtime/runtime.js';
import { isRetriableMarkerError, type TxnMarkerChannel } from './markers.js';
import {
  MAX_PRODUCER_EPOCH,
  TxnStates,
  cloneMetadata,
  fromLogValue,
  hasPartition,
  toLogValue,
  type TxnMetadata,
  type TxnState,
} from './metadata.js';
import { decodeTransactionLogRecord, transactionLogKey, transactionLogValue } from './records.js';

/** What the transaction coordinator needs from the broker. */
export interface TransactionCoordinatorDeps extends CoordinatorRuntimeDeps {
  readonly config: BrokerConfig;
  readonly producerIds: { allocate(): Promise<number> };
  /** The `__consumer_offsets` partition of a group (AddOffsetsToTxn), creating the topic if needed. */
  offsetsPartitionFor(groupId: string): Promise<number>;
  /** Where markers go; a cluster passes a channel that sends WriteTxnMarkers. */
  readonly markerChannel: TxnMarkerChannel;
}

export interface ProducerIdAndEpoch {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface TopicPartitions {
  name: string;
  partitions: number[];
}

export interface DescribedTransaction {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface ListedTransaction {
  transactionalId: string;
  producerId: number;
  transactionState: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

/** How long a request waits for the previous transaction's markers before CONCURRENT_TRANSACTIONS. */
const COMPLETION_WAIT_MS = 200;

export class TransactionCoordinator implements CoordinatorShard {
  /** The runtime of `__transaction_state`. */
  readonly stateTopic: CoordinatorRuntime;
  private readonly txns = new Map<string, TxnMetadata>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Transactions whose markers are being written (state PrepareCommit/PrepareAbort). */
  private readonly completions = new Map<string, Promise<void>>();
  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly config: BrokerConfig;
  private readonly log: (msg: string) => void;

  constructor(private readonly deps: TransactionCoordinatorDeps) {
    const config = (this.config = deps.config);
    this.log = deps.log;
    this.stateTopic = new CoordinatorRuntime(
      deps,
      {
        name: TRANSACTION_STATE_TOPIC,
        numPartitions: () => config.getInt('transaction.state.log.num.partitions'),
        replicationFactor: () => config.getInt('transaction.state.log.replication.factor'),
        configs: () => ({
          'cleanup.policy': 'compact',
          'compression.type': 'uncompressed',
          'segment.bytes': String(config.getInt('transaction.state.log.segment.bytes')),
          'unclean.leader.election.enable': 'false',
        }),
        loadBufferBytes: () => config.getInt('transaction.state.log.load.buffer.size'),
      },
      this,
    );
  }

  get markerChannel(): TxnMarkerChannel {
    return this.deps.markerChannel;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Loads the `__transaction_state` partitions led here and starts the timeout / expiry timers. */
  async start(): Promise<void> {
    await this.stateTopic.start();
    const cfg = this.config;
    const abortEvery = Math.max(10, cfg.getInt('transaction.abort.timed.out.transaction.cleanup.interval.ms'));
    const expireEvery = Math.max(10, cfg.getInt('transaction.remove.expired.transaction.cleanup.interval.ms'));
    const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
      const t = setInterval(() => {
        fn().catch((err) => this.log(`${what} failed: ${(err as Error).message}`));
      }, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(abortEvery, () => this.abortTimedOutTransactions(Date.now()), 'aborting timed-out transactions');
    every(expireEvery, () => this.expireTransactionalIds(Date.now()), 'expiring transactional ids');
  }

  /** CoordinatorShard: one `__transaction_state` record of a loading partition. */
  replay(_partition: number, key: Buffer, value: Buffer | null): void {
    let rec;
    try {
      rec = decodeTransactionLogRecord(key, value);
    } catch (err) {
      this.log(`__transaction_state: skipping undecodable record: ${(err as Error).message}`);
      return;
    }
    if (rec.value === null) this.txns.delete(rec.transactionalId);
    else this.txns.set(rec.transactionalId, fromLogValue(rec.transactionalId, rec.value));
  }

  /** CoordinatorShard: the partition is loaded; finish the transactions it left prepared (restart in PrepareCommit). */
  loaded(partition: number): void {
    for (const m of this.txns.values()) {
      if (this.stateTopic.partitionFor(m.transactionalId) !== partition) continue;
      if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') this.startCompletion(m);
    }
  }

  /** CoordinatorShard: leadership of the partition left; forget its transactional ids. */
  unloaded(partition: number): void {
    for (const id of [...this.txns.keys()]) if (this.stateTopic.partitionFor(id) === partition) this.txns.delete(id);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.stateTopic.close();
  }

  private isLoaded(transactionalId: string): boolean {
    return this.stateTopic.ownsKey(transactionalId);
  }

  /** Runs fn after every earlier operation on the same transactional id. */
  private withLock<T>(transactionalId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(transactionalId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(transactionalId, tail);
    void tail.then(() => {
      if (this.locks.get(transactionalId) === tail) this.locks.delete(transactionalId);
    });
    return run;
  }

  /** Writes the state durably, then makes it current. */
  private async persist(next: TxnMetadata): Promise<void> {
    const written = await this.writeState(next);
    await written?.durable;
    this.txns.set(next.transactionalId, next);
  }

  private writeState(next: TxnMetadata): Promise<{ durable: Promise<void> } | undefined> {
    const version = next.clientTransactionVersion >= 2 ? 1 : 0;
    return this.stateTopic.write(next.transactionalId, [
      { key: transactionLogKey(next.transactionalId), value: transactionLogValue(toLogValue(next), version) },
    ]);
  }

  /**
   * Kafka answers CONCURRENT_TRANSACTIONS while the previous transaction's markers are being
   * written, and clients retry after a backoff (librdkafka 20 ms, Java and kafkajs 100 ms) that
   * is longer than the markers take. A request arriving then waits here for the completion
   * instead (at most COMPLETION_WAIT_MS), which ends the same way without the backoff; a
   * completion still running after that is answered CONCURRENT_TRANSACTIONS, as Kafka does.
   */
  private async awaitCompletion(transactionalId: string): Promise<void> {
    const done = this.completions.get(transactionalId);
    if (done) await Promise.race([done, sleep(COMPLETION_WAIT_MS)]);
  }

  // ------------------------------------------------------------------ placement

  /** NONE when this broker coordinates the id; NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ... otherwise. */
  checkCoordinator(transactionalId: string): Promise<number> {
    if (this.closed) return Promise.resolve(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return this.stateTopic.status(transactionalId);
  }

  /** FindCoordinator key type 1: the leader of the id's `__transaction_state` partition. */
  findCoordinator(transactionalId: string): Promise<{ errorCode: number; errorMessage: string | null; nodeId: number; host: string; port: number }> {
    return this.stateTopic.locate(transactionalId);
  }

  get(transactionalId: string): TxnMetadata | undefined {
    return this.txns.get(transactionalId);
  }

  // ------------------------------------------------------------------ InitProducerId

  async initProducerId(
    transactionalId: string,
    timeoutMs: number,
    expectedProducerId: number,
    expectedEpoch: number,
  ): Promise<ProducerIdAndEpoch> {
    const fail = (errorCode: number): ProducerIdAndEpoch => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (timeoutMs <= 0 || timeoutMs > this.config.getInt('transaction.max.timeout.ms')) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const err = await this.checkCoordinator(transactionalId);
    if (err !== ErrorCode.NONE) return fail(err);
    await this.awaitCompletion(transactionalId);
    return this.withLock(transactionalId, async () => {
      const now = Date.now();
      const cur = this.txns.get(transactionalId);
      try {
        if (!cur) {
          const fresh: TxnMetadata = {
            transactionalId,
            producerId: await this.deps.producerIds.allocate(),
            previousProducerId: -1,
            producerEpoch: 0,
            lastProducerEpoch: -1,
            timeoutMs,
            state: 'Empty',
            partitions: new Map(),
            startTimestamp: -1,
            lastUpdateTimestamp: now,
            clientTransactionVersion: 0,
          };
          await this.persist(fresh);
          return { errorCode: ErrorCode.NONE, producerId: fresh.producerId, producerEpoch: fresh.producerEpoch };
        }
        // KIP-360: a producer that names its current id and epoch may bump it; anyone else is fenced.
        if (expectedProducerId >= 0) {
          const exhaustedRetry = expectedProducerId === cur.previousProducerId && expectedEpoch >= MAX_PRODUCER_EPOCH - 1;
          if (expectedProducerId !== cur.producerId && !exhaustedRetry) return fail(ErrorCode.PRODUCER_FENCED);
        }
        switch (cur.state) {
          case 'PrepareCommit':
          case 'PrepareAbort':
          case 'PrepareEpochFence':
          case 'Dead':
            return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
          case 'Ongoing': {
            // A new producer instance: fence the old one (epoch bump) and abort its transaction.
            if (expectedProducerId >= 0 && expectedEpoch !== cur.producerEpoch) return fail(ErrorCode.PRODUCER_FENCED);
            await this.fenceAndAbort(cur, now);
            return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
          }
          default: {
            if (expectedProducerId >= 0 && expectedEpoch >= 0) {
              if (expectedProducerId === cur.producerId && expectedEpoch === cur.lastProducerEpoch) {
                // retry of a bump whose answer was lost
                return { errorCode: ErrorCode.NONE, producerId: cur.producerId, producerEpoch: cur.producerEpoch };
              }
              if (expectedProducerId === cur.producerId && expectedEpoch !== cur.producerEpoch) return fail(ErrorCode.PRODUCER_FENCED);
            }
            const next = cloneMetadata(cur);
            await this.bumpEpoch(next);
            next.state = 'Empty';
            next.timeoutMs = timeoutMs;
            next.partitions = new Map();
            next.startTimestamp = -1;
            next.lastUpdateTimestamp = now;
            await this.persist(next);
            return { errorCode: ErrorCode.NONE, producerId: next.producerId, producerEpoch: next.producerEpoch };
          }
        }
      } catch (e) {
        return fail(errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
    });
  }

  /** Next epoch; past the epoch range the id moves to a new producer id at epoch 0. */
  private async bumpEpoch(m: TxnMetadata): Promise<void> {
    if (m.producerEpoch >= MAX_PRODUCER_EPOCH - 1) {
      m.previousProducerId = m.producerId;
      m.producerId = await this.deps.producerIds.allocate();
      m.lastProducerEpoch = -1;
      m.producerEpoch = 0;
    } else {
      m.lastProducerEpoch = m.producerEpoch;
      m.producerEpoch++;
    }
  }

  /** Caller holds the lock. Bumps the epoch (fencing the producer) and aborts the ongoing transaction. */
  private async fenceAndAbort(cur: TxnMetadata, now: number): Promise<void> {
    const next = cloneMetadata(cur);
    // The markers carry the bumped epoch, so the partitions fence the old producer too.
    next.lastProducerEpoch = cur.producerEpoch;
    next.producerEpoch = Math.min(cur.producerEpoch + 1, MAX_PRODUCER_EPOCH);
    next.state = 'PrepareAbort';
    next.lastUpdateTimestamp = now;
    await this.persist(next);
    this.startCompletion(next);
  }

  // ------------------------------------------------------------------ producer checks

  /** Checks id, producer id and epoch of a request against the current metadata. */
  private validateProducer(cur: TxnMetadata | undefined, producerId: number, producerEpoch: number): number {
    if (!cur) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (cur.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (cur.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    return ErrorCode.NONE;
  }

  /**
   * KIP-890 part 1: may this producer write transactional data to this partition now? Answered
   * synchronously from memory so nothing can end the transaction between check and append.
   */
  verifyPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): number {
    const cur = this.txns.get(transactionalId);
    if (!cur || cur.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch < cur.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (producerEpoch !== cur.producerEpoch || cur.state !== 'Ongoing' || !hasPartition(cur, topic, partition)) {
      return ErrorCode.INVALID_TXN_STATE;
    }
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------------ AddPartitionsToTxn / AddOffsetsToTxn

  /** Adds partitions to the transaction (starting it when needed); one error code for all of them. */
  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: TopicPartitions[]): Promise<number> {
    const err = await this.checkCoordinator(transactionalId);
    if (err !== ErrorCode.NONE) return err;
    await this.awaitCompletion(transactionalId);
    return this.withLock(transactionalId, async () => {
      const cur = this.txns.get(transactionalId);
      const bad = this.validateProducer(cur, producerId, producerEpoch);
      if (bad !== ErrorCode.NONE) return bad;
      const m = cur!;
      if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort' || m.state === 'PrepareEpochFence') return ErrorCode.CONCURRENT_TRANSACTIONS;
      if (m.state === 'Dead') return ErrorCode.INVALID_TXN_STATE;
      if (m.state === 'Ongoing' && topics.every((t) => t.partitions.every((p) => hasPartition(m, t.name, p)))) return ErrorCode.NONE;
      const now = Date.now();
      const next = cloneMetadata(m);
      if (m.state !== 'Ongoing') {
        next.partitions = new Map();
        next.startTimestamp = now;
      }
      next.state = 'Ongoing';
      next.lastUpdateTimestamp = now;
      for (const t of topics) {
        let set = next.partitions.get(t.name);
        if (!set) next.partitions.set(t.name, (set = new Set()));
        for (const p of t.partitions) set.add(p);
      }
      try {
        await this.persist(next);
      } catch (e) {
        return errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
      return ErrorCode.NONE;
    });
  }

  /** AddPartitionsToTxn v4+ verifyOnly: per-partition answer, nothing changes. */
  async verifyPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: TopicPartitions[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const err = await this.checkCoordinator(transactionalId);
    for (const t of topics) {
      for (const p of t.partitions) {
        const code = err !== ErrorCode.NONE ? err : this.verifyPartition(transactionalId, producerId, producerEpoch, t.name, p);
        out.set(`${t.name}\u0000${p}`, code === ErrorCode.INVALID_PRODUCER_EPOCH ? ErrorCode.PRODUCER_FENCED : code);
      }
    }
    return out;
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  async addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): Promise<number> {
    let partition: number;
    try {
      partition = await this.deps.offsetsPartitionFor(groupId);
    } catch {
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return this.addPartitions(transactionalId, producerId, producerEpoch, [{ name: OFFSETS_TOPIC, partitions: [partition] }]);
  }

  // ------------------------------------------------------------------ EndTxn

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    const err = await this.checkCoordinator(transactionalId);
    if (err !== ErrorCode.NONE) return err;
    // a retried or concurrent EndTxn meets the finished transaction rather than CONCURRENT_TRANSACTIONS
    await this.awaitCompletion(transactionalId);
    return this.withLock(transactionalId, async (): Promise<number> => {
      const cur = this.txns.get(transactionalId);
      const bad = this.validateProducer(cur, producerId, producerEpoch);
      if (bad !== ErrorCode.NONE) return bad;
      const m = cur!;
      switch (m.state) {
        case 'Ongoing': {
          const next = cloneMetadata(m);
          next.state = commit ? 'PrepareCommit' : 'PrepareAbort';
          next.lastUpdateTimestamp = Date.now();
          try {
            await this.persist(next);
          } catch (e) {
            return errorCodeOf(e, ErrorCode.COORDINATOR_NOT_AVAILABLE);
          }
          // Like Kafka, answer once the decision is durable; the markers follow (startCompletion).
          this.startCompletion(next);
          return ErrorCode.NONE;
        }
        case 'CompleteCommit':
          return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE; // a retried commit
        case 'CompleteAbort':
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
        case 'PrepareCommit':
          return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
        case 'PrepareAbort':
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
        default:
          return ErrorCode.INVALID_TXN_STATE;
      }
    });
  }

  // ------------------------------------------------------------------ markers and completion

  private startCompletion(m: TxnMetadata): void {
    if (this.completions.has(m.transactionalId)) return;
    const p = this.completeTransaction(m)
      .catch((err) => this.log(`completing transaction ${m.transactionalId} failed: ${(err as Error).message}`))
      .finally(() => {
        if (this.completions.get(m.transactionalId) === p) this.completions.delete(m.transactionalId);
      });
    this.completions.set(m.transactionalId, p);
  }

  /** Writes the markers to every partition (retrying until written), then the Complete* state. */
  private async completeTransaction(prepared: TxnMetadata): Promise<void> {
    const commit = prepared.state === 'PrepareCommit';
    // The coordinator epoch is the leader epoch of the id's __transaction_state partition.
    const coordinatorEpoch = this.deps.partitions.get(TRANSACTION_STATE_TOPIC, this.stateTopic.partitionFor(prepared.transactionalId))?.leaderEpoch ?? -1;
    let pending: { topic: string; partition: number }[] = [];
    for (const [topic, set] of prepared.partitions) for (const partition of set) pending.push({ topic, partition });
    let backoff = 20;
    while (pending.length > 0) {
      if (this.closed) return;
      const byLeader = new Map<number, Map<string, number[]>>();
      const retry: { topic: string; partition: number }[] = [];
      for (const tp of pending) {
        if (!this.deps.metadata.topic(tp.topic)) continue; // topic deleted: nothing to mark
        const leader = this.deps.metadata.partitionState(tp.topic, tp.partition)?.leader ?? -1;
        if (leader < 0) {
          retry.push(tp);
          continue;
        }
        let topics = byLeader.get(leader);
        if (!topics) byLeader.set(leader, (topics = new Map()));
        let parts = topics.get(tp.topic);
        if (!parts) topics.set(tp.topic, (parts = []));
        parts.push(tp.partition);
      }
      await Promise.all(
        [...byLeader].map(async ([leader, topics]) => {
          const marker = {
            producerId: prepared.producerId,
            producerEpoch: prepared.producerEpoch,
            coordinatorEpoch,
            commit,
            topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
          };
          let results;
          try {
            results = await this.markerChannel.send(leader, [marker]);
          } catch {
            for (const t of marker.topics) for (const partition of t.partitions) retry.push({ topic: t.name, partition });
            return;
          }
          for (const r of results) {
            for (const t of r.topics) {
              for (const p of t.partitions) {
                if (p.errorCode === ErrorCode.NONE) continue;
                if (isRetriableMarkerError(p.errorCode)) retry.push({ topic: t.name, partition: p.partitionIndex });
                else this.log(`transaction ${prepared.transactionalId}: marker for ${t.name}-${p.partitionIndex} failed with error ${p.errorCode}`);
              }
            }
          }
        }),
      );
      pending = retry;
      if (pending.length > 0) {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
    // Every marker is durable: record the outcome. The Complete* state takes effect once its
    // record has its place in the log, without waiting for the fsync: the next state of this id
    // (the next transaction's Ongoing, an epoch bump) is written after it in the same partition,
    // and is answered only when durable, which makes this record durable too. Lost in a crash
    // before that, the id restarts in Prepare* and writes the same markers again, which is
    // harmless. So the next transaction's AddPartitionsToTxn waits for one fsync, not two.
    for (let attempt = 0; !this.closed; attempt++) {
      const done = await this.withLock(prepared.transactionalId, async () => {
        const cur = this.txns.get(prepared.transactionalId);
        if (!cur || cur.state !== prepared.state || cur.producerEpoch !== prepared.producerEpoch) return true;
        const next = cloneMetadata(cur);
        next.state = commit ? 'CompleteCommit' : 'CompleteAbort';
        next.partitions = new Map();
        next.lastUpdateTimestamp = Date.now();
        try {
          const written = await this.writeState(next);
          this.txns.set(next.transactionalId, next);
          written?.durable.catch((e) => this.log(`transaction ${next.transactionalId}: ${next.state} is not durable (a restart writes its markers again): ${(e as Error).message}`));
          return true;
        } catch (e) {
          this.log(`transaction ${prepared.transactionalId}: writing ${next.state} failed: ${(e as Error).message}`);
          return false;
        }
      });
      if (done) return;
      await sleep(Math.min(1000, 20 << Math.min(attempt, 6)));
    }
  }

  // ------------------------------------------------------------------ timeouts and expiry

  /** Aborts (and fences) every ongoing transaction older than its timeout. Returns how many. */
  async abortTimedOutTransactions(now: number): Promise<number> {
    
    let n = 0;
    for (const m of [...this.txns.values()]) {
      if (m.state !== 'Ongoing' || now < m.startTimestamp + m.timeoutMs) continue;
      const aborted = await this.withLock(m.transactionalId, async () => {
        const cur = this.txns.get(m.transactionalId);
        if (cur?.state !== 'Ongoing' || now < cur.startTimestamp + cur.timeoutMs) return false;
        this.log(`aborting transaction ${cur.transactionalId} (producer ${cur.producerId}): it exceeded its ${cur.timeoutMs} ms timeout`);
        await this.fenceAndAbort(cur, now);
        return true;
      });
      if (aborted) n++;
    }
    return n;
  }

  /** Removes transactional ids idle for transactional.id.expiration.ms (tombstones in the log). */
  async expireTransactionalIds(now: number): Promise<number> {
    
    const expiration = this.config.getInt('transactional.id.expiration.ms');
    let n = 0;
    for (const m of [...this.txns.values()]) {
      const idle = m.state === 'Empty' || m.state === 'CompleteCommit' || m.state === 'CompleteAbort';
      if (!idle || now - m.lastUpdateTimestamp < expiration) continue;
      await this.withLock(m.transactionalId, async () => {
        const cur = this.txns.get(m.transactionalId);
        if (cur !== m) return;
        await this.stateTopic.append(m.transactionalId, [{ key: transactionLogKey(m.transactionalId), value: null }]);
        this.txns.delete(m.transactionalId);
        n++;
      });
    }
    return n;
  }

  // ------------------------------------------------------------------ admin

  async describe(transactionalId: string): Promise<DescribedTransaction> {
    const base = {
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1,
      producerId: -1,
      producerEpoch: -1,
      topics: [],
    };
    const err = await this.checkCoordinator(transactionalId);
    if (err !== ErrorCode.NONE) return { errorCode: err, ...base };
    const m = this.txns.get(transactionalId);
    if (!m) return { errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, ...base };
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: m.state,
      transactionTimeoutMs: m.timeoutMs,
      transactionStartTimeMs: m.state === 'Empty' ? -1 : m.startTimestamp,
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      topics: [...m.partitions].map(([topic, s]) => ({ topic, partitions: [...s].sort((a, b) => a - b) })),
    };
  }

  /**
   * ListTransactions: ids coordinated here, filtered by state names, producer ids, minimum running
   * time (durationMs >= 0) and an id regular expression.
   */
  list(
    stateFilters: string[],
    producerIdFilters: number[],
    durationMs: number,
    idPattern: RegExp | null,
  ): { errorCode: number; unknownStateFilters: string[]; transactionStates: ListedTransaction[] } {
    const known = new Set(Object.keys(TxnStates));
    const unknownStateFilters = stateFilters.filter((s) => !known.has(s));
    const states = new Set(stateFilters.filter((s) => known.has(s)) as TxnState[]);
    const pids = new Set(producerIdFilters);
    const now = Date.now();
    const out: ListedTransaction[] = [];
    for (const m of this.txns.values()) {
      if (!this.isLoaded(m.transactionalId)) continue;
      if (stateFilters.length > 0 && !states.has(m.state)) continue;
      if (pids.size > 0 && !pids.has(m.producerId)) continue;
      if (durationMs >= 0 && (m.state !== 'Ongoing' || now - m.startTimestamp < durationMs)) continue;
      if (idPattern && !idPattern.test(m.transactionalId)) continue;
      out.push({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: m.state });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates: out };
  }
}
