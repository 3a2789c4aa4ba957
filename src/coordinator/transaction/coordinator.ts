// The transaction coordinator service (`broker.transactions`): hosts the transactional ids whose
// `__transaction_state` partition this broker leads. Each id moves through Kafka's states
// Empty → Ongoing → PrepareCommit/PrepareAbort → CompleteCommit/CompleteAbort; every transition
// is durable in `__transaction_state` before it takes effect, and a restart replays the topic and
// finishes every transaction it finds prepared. One method per API; handlers only translate.
import type { Broker } from '../../broker/broker.js';
import { errorCodeOf } from '../../broker/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import { OFFSETS_TOPIC } from '../offsets-topic.js';
import { LocalTxnMarkerChannel, isRetriableMarkerError, type TxnMarkerChannel } from './markers.js';
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
import { TransactionStateTopic, decodeTransactionLogRecord, transactionLogKey, transactionLogValue } from './state-topic.js';

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

export class TransactionCoordinator {
  readonly stateTopic: TransactionStateTopic;
  /** Where markers go; a cluster replaces it with a channel that sends WriteTxnMarkers. */
  markerChannel: TxnMarkerChannel;
  private readonly txns = new Map<string, TxnMetadata>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Transactions whose markers are being written (state PrepareCommit/PrepareAbort). */
  private readonly completions = new Map<string, Promise<void>>();
  private loaded = false;
  private closed = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly broker: Broker) {
    this.stateTopic = new TransactionStateTopic(broker);
    this.markerChannel = new LocalTxnMarkerChannel(broker);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Replays `__transaction_state`, then finishes every transaction that was being committed or aborted. */
  async load(): Promise<void> {
    await this.stateTopic.replay((_partition, key, value) => {
      let rec;
      try {
        rec = decodeTransactionLogRecord(key, value);
      } catch (err) {
        this.broker.log(`__transaction_state: skipping undecodable record: ${(err as Error).message}`);
        return;
      }
      if (rec.value === null) this.txns.delete(rec.transactionalId);
      else this.txns.set(rec.transactionalId, fromLogValue(rec.transactionalId, rec.value));
    });
    this.loaded = true;
    for (const m of this.txns.values()) {
      if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') this.startCompletion(m);
    }
    const cfg = this.broker.config;
    const abortEvery = Math.max(10, cfg.getInt('transaction.abort.timed.out.transaction.cleanup.interval.ms'));
    const expireEvery = Math.max(10, cfg.getInt('transaction.remove.expired.transaction.cleanup.interval.ms'));
    const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
      const t = setInterval(() => {
        fn().catch((err) => this.broker.log(`${what} failed: ${(err as Error).message}`));
      }, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(abortEvery, () => this.abortTimedOutTransactions(Date.now()), 'aborting timed-out transactions');
    every(expireEvery, () => this.expireTransactionalIds(Date.now()), 'expiring transactional ids');
  }

  close(): void {
    this.closed = true;
    this.loaded = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
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

  private async persist(next: TxnMetadata): Promise<void> {
    const version = next.clientTransactionVersion >= 2 ? 1 : 0;
    await this.stateTopic.append(next.transactionalId, transactionLogKey(next.transactionalId), transactionLogValue(toLogValue(next), version));
    this.txns.set(next.transactionalId, next);
  }

  // ------------------------------------------------------------------ placement

  async checkCoordinator(transactionalId: string): Promise<number> {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      await this.stateTopic.ensure();
    } catch {
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const leader = this.stateTopic.leaderFor(transactionalId);
    if (leader < 0) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (leader !== this.broker.nodeId) return ErrorCode.NOT_COORDINATOR;
    if (!this.loaded) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** FindCoordinator key type 1: the leader of the id's `__transaction_state` partition. */
  async findCoordinator(
    transactionalId: string,
  ): Promise<{ errorCode: number; errorMessage: string | null; nodeId: number; host: string; port: number }> {
    const none = { nodeId: -1, host: '', port: -1 };
    try {
      await this.stateTopic.ensure();
    } catch (err) {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: (err as Error).message, ...none };
    }
    const leader = this.stateTopic.leaderFor(transactionalId);
    const node = this.broker.metadata.brokers().find((b) => b.nodeId === leader);
    if (leader < 0 || !node) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'The coordinator is not available.', ...none };
    if (leader === this.broker.nodeId && !this.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, errorMessage: null, ...none };
    return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: node.nodeId, host: node.host, port: node.port };
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
    if (timeoutMs <= 0 || timeoutMs > this.broker.config.getInt('transaction.max.timeout.ms')) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const err = await this.checkCoordinator(transactionalId);
    if (err !== ErrorCode.NONE) return fail(err);
    return this.withLock(transactionalId, async () => {
      const now = Date.now();
      const cur = this.txns.get(transactionalId);
      try {
        if (!cur) {
          const fresh: TxnMetadata = {
            transactionalId,
            producerId: await this.broker.producerIds.allocate(),
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
      m.producerId = await this.broker.producerIds.allocate();
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
    try {
      await this.broker.groups.offsetsTopic.ensure();
    } catch {
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const partition = this.broker.groups.offsetsTopic.partitionFor(groupId);
    return this.addPartitions(transactionalId, producerId, producerEpoch, [{ name: OFFSETS_TOPIC, partitions: [partition] }]);
  }

  // ------------------------------------------------------------------ EndTxn

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    const err = await this.checkCoordinator(transactionalId);
    if (err !== ErrorCode.NONE) return err;
    const result = await this.withLock(transactionalId, async (): Promise<number> => {
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
    if (result === ErrorCode.NONE) {
      // Kafka answers once the prepare record is durable; waiting (briefly) for the markers too
      // spares the client a round of CONCURRENT_TRANSACTIONS retries on its next call.
      const done = this.completions.get(transactionalId);
      if (done) await Promise.race([done, sleep(5000)]);
    }
    return result;
  }

  // ------------------------------------------------------------------ markers and completion

  private startCompletion(m: TxnMetadata): void {
    if (this.completions.has(m.transactionalId)) return;
    const p = this.completeTransaction(m)
      .catch((err) => this.broker.log(`completing transaction ${m.transactionalId} failed: ${(err as Error).message}`))
      .finally(() => {
        if (this.completions.get(m.transactionalId) === p) this.completions.delete(m.transactionalId);
      });
    this.completions.set(m.transactionalId, p);
  }

  /** Writes the markers to every partition (retrying until written), then the Complete* state. */
  private async completeTransaction(prepared: TxnMetadata): Promise<void> {
    const commit = prepared.state === 'PrepareCommit';
    const coordinatorEpoch = this.stateTopic.coordinatorEpochFor(prepared.transactionalId);
    let pending: { topic: string; partition: number }[] = [];
    for (const [topic, set] of prepared.partitions) for (const partition of set) pending.push({ topic, partition });
    let backoff = 20;
    while (pending.length > 0) {
      if (this.closed) return;
      const byLeader = new Map<number, Map<string, number[]>>();
      const retry: { topic: string; partition: number }[] = [];
      for (const tp of pending) {
        if (!this.broker.metadata.topic(tp.topic)) continue; // topic deleted: nothing to mark
        const leader = this.broker.metadata.partitionState(tp.topic, tp.partition)?.leader ?? -1;
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
                else this.broker.log(`transaction ${prepared.transactionalId}: marker for ${t.name}-${p.partitionIndex} failed with error ${p.errorCode}`);
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
    // Every marker is written: record the outcome (retried until it is durable).
    for (let attempt = 0; !this.closed; attempt++) {
      const done = await this.withLock(prepared.transactionalId, async () => {
        const cur = this.txns.get(prepared.transactionalId);
        if (!cur || cur.state !== prepared.state || cur.producerEpoch !== prepared.producerEpoch) return true;
        const next = cloneMetadata(cur);
        next.state = commit ? 'CompleteCommit' : 'CompleteAbort';
        next.partitions = new Map();
        next.lastUpdateTimestamp = Date.now();
        try {
          await this.persist(next);
          return true;
        } catch (e) {
          this.broker.log(`transaction ${prepared.transactionalId}: writing ${next.state} failed: ${(e as Error).message}`);
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
    if (!this.loaded) return 0;
    let n = 0;
    for (const m of [...this.txns.values()]) {
      if (m.state !== 'Ongoing' || now < m.startTimestamp + m.timeoutMs) continue;
      const aborted = await this.withLock(m.transactionalId, async () => {
        const cur = this.txns.get(m.transactionalId);
        if (!cur || cur.state !== 'Ongoing' || now < cur.startTimestamp + cur.timeoutMs) return false;
        this.broker.log(`aborting transaction ${cur.transactionalId} (producer ${cur.producerId}): it exceeded its ${cur.timeoutMs} ms timeout`);
        await this.fenceAndAbort(cur, now);
        return true;
      });
      if (aborted) n++;
    }
    return n;
  }

  /** Removes transactional ids idle for transactional.id.expiration.ms (tombstones in the log). */
  async expireTransactionalIds(now: number): Promise<number> {
    if (!this.loaded) return 0;
    const expiration = this.broker.config.getInt('transactional.id.expiration.ms');
    let n = 0;
    for (const m of [...this.txns.values()]) {
      const idle = m.state === 'Empty' || m.state === 'CompleteCommit' || m.state === 'CompleteAbort';
      if (!idle || now - m.lastUpdateTimestamp < expiration) continue;
      await this.withLock(m.transactionalId, async () => {
        const cur = this.txns.get(m.transactionalId);
        if (cur !== m) return;
        await this.stateTopic.append(m.transactionalId, transactionLogKey(m.transactionalId), null);
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
    if (!this.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, unknownStateFilters: [], transactionStates: [] };
    const known = new Set(Object.keys(TxnStates));
    const unknownStateFilters = stateFilters.filter((s) => !known.has(s));
    const states = new Set(stateFilters.filter((s) => known.has(s)) as TxnState[]);
    const pids = new Set(producerIdFilters);
    const now = Date.now();
    const out: ListedTransaction[] = [];
    for (const m of this.txns.values()) {
      if (this.stateTopic.leaderFor(m.transactionalId) !== this.broker.nodeId) continue;
      if (stateFilters.length > 0 && !states.has(m.state)) continue;
      if (pids.size > 0 && !pids.has(m.producerId)) continue;
      if (durationMs >= 0 && (m.state !== 'Ongoing' || now - m.startTimestamp < durationMs)) continue;
      if (idPattern && !idPattern.test(m.transactionalId)) continue;
      out.push({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: m.state });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates: out };
  }
}
