// Replica fetchers: the follower side of replication, as Kafka's ReplicaFetcherThread does it.
// One fetcher (one connection) per leader broker, batching every partition this broker follows
// on that leader. A partition first truncates its log to where it agrees with the leader
// (OffsetForLeaderEpoch against the leader + the local leader-epoch checkpoint; never by the
// high watermark alone), then fetches with the Kafka Fetch protocol carrying this broker's
// replica id (ReplicaState), appends the leader's batches as they are, and makes them durable
// before the next fetch reports the new offset: the leader counts a follower's offset toward the
// high watermark only for data the follower holds durably (group commit keeps that to one fsync
// per fetch round). With fjord.flush.mode=kafka "durable" means written, as in Kafka.
import { ErrorCode, errorName } from '../protocol/errors.js';
import { ApiKey } from '../protocol/gen/index.js';
import type { FetchResponse } from '../protocol/gen/fetch.js';
import type { OffsetForLeaderEpochResponse } from '../protocol/gen/offset-for-leader-epoch.js';
import type { ListOffsetsResponse } from '../protocol/gen/list-offsets.js';
import { BrokerConnection } from './broker-client.js';
import type { BrokerRegistration } from './metadata-store.js';
import type { Partition } from './partition.js';
import { isThrottled, type ReplicationQuota } from './replication-quota.js';

const FETCH_VERSION = 15; // ReplicaState instead of ReplicaId, topics by id
import { interBrokerEndpoint, type InterBrokerSecurity } from './inter-broker-security.js';
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4;
const LIST_OFFSETS_VERSION = 7;

export interface FetcherSettings {
  nodeId: number;
  brokers: () => BrokerRegistration[];
  maxWaitMs: () => number;
  minBytes: () => number;
  maxBytes: () => number;
  partitionMaxBytes: () => number;
  backoffMs: () => number;
  socketTimeoutMs: () => number;
  log: (msg: string) => void;
  /** Listener, TLS and SASL for connections to leaders (inter.broker.listener.name...). */
  interBroker?: () => InterBrokerSecurity;
  /** follower.replication.throttled.rate, for partitions in follower.replication.throttled.replicas. */
  quota?: ReplicationQuota;
}

interface FetchState {
  partition: Partition;
  /** Partition.generation when it was added: work begun under another generation is dropped. */
  generation: number;
  truncated: boolean;
  /** Skip this partition until then (after a partition-level error). */
  delayedUntil: number;
  /** Leader's high watermark minus our log end after the last fetch (-1 = not known yet). */
  lag: number;
}

function followerThrottled(st: FetchState): boolean {
  return isThrottled(st.partition.settings.followerThrottled, st.partition.index);
}

function key(p: Partition): string {
  return `${p.topic}\u0000${p.index}`;
}

/** Every fetcher of this broker, by leader id. */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();

  constructor(private readonly settings: FetcherSettings) {}

  /** Starts following `leader` for the partition (it truncates first). */
  add(partition: Partition, leader: number): void {
    this.remove(partition);
    let f = this.fetchers.get(leader);
    if (!f || f.stopped) {
      f = new ReplicaFetcher(leader, this.settings);
      this.fetchers.set(leader, f);
    }
    f.add(partition);
  }

  /** Stops fetching the partition (it leads now, or it is gone). */
  remove(partition: Partition): void {
    for (const [leader, f] of this.fetchers) {
      if (!f.remove(partition)) continue;
      if (f.size === 0) {
        f.stop();
        this.fetchers.delete(leader);
      }
    }
  }

  /** Leader ids with a fetcher, and the partitions each follows (tests, diagnostics). */
  describe(): { leader: number; partitions: string[] }[] {
    return [...this.fetchers].map(([leader, f]) => ({ leader, partitions: f.partitionNames() }));
  }

  close(): void {
    for (const f of this.fetchers.values()) f.stop();
    this.fetchers.clear();
  }
}

class ReplicaFetcher {
  private readonly partitions = new Map<string, FetchState>();
  private connection: BrokerConnection | undefined;
  private wake: (() => void) | undefined;
  private sleeping: NodeJS.Timeout | undefined;
  stopped = false;

  constructor(
    readonly leader: number,
    private readonly s: FetcherSettings,
  ) {
    void this.run();
  }

  get size(): number {
    return this.partitions.size;
  }

  partitionNames(): string[] {
    return [...this.partitions.values()].map((st) => `${st.partition.topic}-${st.partition.index}`);
  }

  add(partition: Partition): void {
    this.partitions.set(key(partition), { partition, generation: partition.generation, truncated: false, delayedUntil: 0, lag: -1 });
    this.wake?.();
  }

  remove(partition: Partition): boolean {
    return this.partitions.delete(key(partition));
  }

  stop(): void {
    this.stopped = true;
    this.connection?.close();
    this.connection = undefined;
    this.wake?.();
  }

  private current(st: FetchState): boolean {
    return !this.stopped && this.partitions.get(key(st.partition)) === st && st.partition.generation === st.generation;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.sleeping);
        this.wake = undefined;
        resolve();
      };
      this.sleeping = setTimeout(() => this.wake?.(), ms);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.partitions.size === 0) {
          await this.sleep(60_000);
          continue;
        }
        const conn = await this.connect();
        if (!conn) {
          await this.sleep(this.s.backoffMs());
          continue;
        }
        await this.truncatePending(conn);
        const did = await this.fetchOnce(conn);
        if (!did) await this.sleep(Math.min(this.s.backoffMs(), 100));
      } catch (err) {
        if (this.stopped) break;
        this.s.log(`replica fetcher for leader ${this.leader}: ${(err as Error).message}`);
        this.connection?.close();
        this.connection = undefined;
        await this.sleep(this.s.backoffMs());
      }
    }
  }

  private async connect(): Promise<BrokerConnection | undefined> {
    if (this.connection && !this.connection.closed) return this.connection;
    this.connection = undefined;
    const b = this.s.brokers().find((x) => x.nodeId === this.leader);
    if (!b) return undefined;
    const security = this.s.interBroker?.();
    const e = interBrokerEndpoint(b, security);
    this.connection = await BrokerConnection.open(e.host, e.port, {
      clientId: `fjord-replica-fetcher-${this.s.nodeId}`,
      timeoutMs: this.s.socketTimeoutMs(),
      security,
    });
    return this.connection;
  }

  /** OffsetForLeaderEpoch for every partition not truncated yet; truncates each to the agreed offset. */
  private async truncatePending(conn: BrokerConnection): Promise<void> {
    const pending = [...this.partitions.values()].filter((st) => !st.truncated && st.delayedUntil <= Date.now());
    if (pending.length === 0) return;
    const byTopic = new Map<string, FetchState[]>();
    const requested = new Map<FetchState, number>();
    for (const st of pending) {
      const latest = st.partition.log.leaderEpochCache.latestEpoch();
      if (latest < 0) {
        // Nothing with an epoch here (empty log): nothing can diverge.
        st.truncated = true;
        continue;
      }
      requested.set(st, latest);
      const list = byTopic.get(st.partition.topic) ?? [];
      list.push(st);
      byTopic.set(st.partition.topic, list);
    }
    if (byTopic.size === 0) return;
    const resp = await conn.request<OffsetForLeaderEpochResponse>(
      ApiKey.OffsetForLeaderEpoch,
      OFFSET_FOR_LEADER_EPOCH_VERSION,
      {
        replicaId: this.s.nodeId,
        topics: [...byTopic].map(([topic, sts]) => ({
          topic,
          partitions: sts.map((st) => ({
            partition: st.partition.index,
            currentLeaderEpoch: st.partition.leaderEpoch,
            leaderEpoch: requested.get(st)!,
          })),
        })),
      },
      this.s.socketTimeoutMs(),
    );
    for (const t of resp.topics) {
      for (const r of t.partitions) {
        const st = byTopic.get(t.topic)?.find((x) => x.partition.index === r.partition);
        if (!st || !this.current(st)) continue;
        if (r.errorCode !== ErrorCode.NONE) {
          this.partitionError(st, r.errorCode, 'OffsetForLeaderEpoch');
          continue;
        }
        await this.truncate(st, requested.get(st)!, r.leaderEpoch, r.endOffset);
      }
    }
  }

  /** Kafka's follower truncation rule. */
  private async truncate(st: FetchState, requestedEpoch: number, leaderEpoch: number, leaderEndOffset: number): Promise<void> {
    const p = st.partition;
    const log = p.log;
    let target: number;
    if (leaderEpoch < 0 || leaderEndOffset < 0) {
      // The leader knows no epoch at or below ours (its log is empty): keep only what is committed.
      target = Math.min(log.highWatermark, log.logEndOffset);
    } else if (leaderEpoch === requestedEpoch) {
      target = Math.min(leaderEndOffset, log.logEndOffset);
    } else {
      // The leader's largest epoch <= ours is older: cut at the end of that epoch on both sides.
      const mine = log.endOffsetForEpoch(leaderEpoch);
      target = Math.min(leaderEndOffset, mine.endOffset < 0 ? log.logEndOffset : mine.endOffset, log.logEndOffset);
    }
    if (target < log.logEndOffset) {
      const work = log.truncateTo(target);
      p.followerWork = work;
      try {
        await work;
      } finally {
        if (p.followerWork === work) p.followerWork = undefined;
      }
      this.s.log(`${p.topic}-${p.index}: truncated to ${target} (leader ${this.leader} epoch ${leaderEpoch} ends at ${leaderEndOffset})`);
    }
    if (this.current(st)) st.truncated = true;
  }

  private partitionError(st: FetchState, code: number, what: string): void {
    // FENCED_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER: the store will tell us about the new leader;
    // UNKNOWN_LEADER_EPOCH: the leader has not heard of its leadership yet. Retry after a pause.
    st.delayedUntil = Date.now() + this.s.backoffMs();
    if (code !== ErrorCode.UNKNOWN_LEADER_EPOCH && code !== ErrorCode.NOT_LEADER_OR_FOLLOWER && code !== ErrorCode.FENCED_LEADER_EPOCH) {
      this.s.log(`${st.partition.topic}-${st.partition.index}: ${what} from leader ${this.leader} failed: ${errorName(code)}`);
    }
  }

  /** One fetch round. Returns false when nothing could be fetched (all delayed or truncating). */
  private async fetchOnce(conn: BrokerConnection): Promise<boolean> {
    const now = Date.now();
    const quota = this.s.quota;
    // Kafka's ReplicaFetcherThread leaves throttled partitions out of the request while the
    // follower quota is exceeded, unless the replica is caught up (in sync).
    const quotaExceeded = quota?.limited && quota.exceeded(now);
    const ready = [...this.partitions.values()].filter(
      (st) => st.truncated && st.delayedUntil <= now && this.current(st) && !(quotaExceeded && st.lag !== 0 && followerThrottled(st)),
    );
    if (ready.length === 0) return false;
    const byTopic = new Map<string, FetchState[]>();
    for (const st of ready) {
      const list = byTopic.get(st.partition.topicId) ?? [];
      list.push(st);
      byTopic.set(st.partition.topicId, list);
    }
    const offsets = new Map<FetchState, number>();
    const resp = await conn.request<FetchResponse>(
      ApiKey.Fetch,
      FETCH_VERSION,
      {
        replicaState: { replicaId: this.s.nodeId, replicaEpoch: -1 },
        maxWaitMs: this.s.maxWaitMs(),
        minBytes: this.s.minBytes(),
        maxBytes: this.s.maxBytes(),
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topicId, sts]) => ({
          topicId,
          partitions: sts.map((st) => {
            const log = st.partition.log;
            offsets.set(st, log.logEndOffset);
            return {
              partition: st.partition.index,
              currentLeaderEpoch: st.partition.leaderEpoch,
              fetchOffset: log.logEndOffset,
              lastFetchedEpoch: log.leaderEpochCache.latestEpoch(),
              logStartOffset: log.logStartOffset,
              partitionMaxBytes: this.s.partitionMaxBytes(),
            };
          }),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      this.s.socketTimeoutMs() + this.s.maxWaitMs(),
    );
    const appends: Promise<unknown>[] = [];
    for (const t of resp.responses) {
      const sts = byTopic.get(t.topicId);
      if (!sts) continue;
      for (const r of t.partitions) {
        const st = sts.find((x) => x.partition.index === r.partitionIndex);
        if (!st || !this.current(st)) continue;
        const log = st.partition.log;
        if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          appends.push(this.outOfRange(conn, st));
          continue;
        }
        if (r.errorCode !== ErrorCode.NONE) {
          this.partitionError(st, r.errorCode, 'Fetch');
          continue;
        }
        if (log.logEndOffset !== offsets.get(st)) continue; // truncated meanwhile
        const records = r.records;
        const hw = r.highWatermark;
        const logStart = r.logStartOffset;
        if (quota?.limited && records && records.length > 0 && followerThrottled(st)) quota.record(records.length);
        const append = records && records.length > 0 ? log.appendAsFollower(records) : Promise.resolve(log.logEndOffset);
        appends.push(
          append.then(
            (end) => {
              // A follower's high watermark: the leader's, bounded by what it holds.
              if (this.current(st) && hw >= 0) log.setHighWatermark(Math.min(hw, end));
              if (hw >= 0) st.lag = Math.max(0, hw - end);
              // DeleteRecords / retention on the leader moved its log start: follow it.
              if (this.current(st) && logStart > log.logStartOffset && logStart <= log.highWatermark) {
                void log.deleteRecordsBefore(logStart).catch(() => undefined);
              }
            },
            (err: Error) => {
              this.s.log(`${st.partition.topic}-${st.partition.index}: appending from leader ${this.leader} failed: ${err.message}`);
              st.truncated = false; // re-agree with the leader before fetching again
              st.delayedUntil = Date.now() + this.s.backoffMs();
            },
          ),
        );
      }
    }
    // The next fetch reports these offsets: they must be durable first.
    await Promise.all(appends);
    return true;
  }

  /** The leader has no data at our offset: start over at its log start when we are behind it, else re-truncate. */
  private async outOfRange(conn: BrokerConnection, st: FetchState): Promise<void> {
    const p = st.partition;
    const resp = await conn.request<ListOffsetsResponse>(
      ApiKey.ListOffsets,
      LIST_OFFSETS_VERSION,
      {
        replicaId: this.s.nodeId,
        isolationLevel: 0,
        topics: [{ name: p.topic, partitions: [{ partitionIndex: p.index, currentLeaderEpoch: p.leaderEpoch, timestamp: -2 }] }],
      },
      this.s.socketTimeoutMs(),
    );
    const r = resp.topics[0]?.partitions[0];
    if (!r || r.errorCode !== ErrorCode.NONE || !this.current(st)) {
      st.delayedUntil = Date.now() + this.s.backoffMs();
      return;
    }
    if (p.log.logEndOffset < r.offset) {
      const work = p.log.truncateFullyAndStartAt(r.offset);
      p.followerWork = work;
      try {
        await work;
      } finally {
        if (p.followerWork === work) p.followerWork = undefined;
      }
      this.s.log(`${p.topic}-${p.index}: behind the leader's log start; restarted the log at ${r.offset}`);
    } else {
      st.truncated = false;
    }
  }
}
