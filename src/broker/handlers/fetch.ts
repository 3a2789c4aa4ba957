import type { Partition } from '../../cluster/partition.js';
import { isThrottled, type ReplicationQuota } from '../../cluster/replication-quota.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { FetchRequest, FetchResponseInput, FetchResponsePartitionDataInput } from '../../protocol/gen/fetch.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { errorCodeOf } from '../errors.js';
import { allowedOnCluster, allowedOnTopic, Op, throttleFor } from '../../security/authz.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { downconvertBatches } from '../../protocol/records/legacy.js';
import { brokerEndpoints } from '../endpoints.js';
import { preferredReadReplica, replicaSelectorOf } from '../../cluster/replica-selector.js';

type PartitionOut = FetchResponsePartitionDataInput;
/** Empty record set. Never null: librdkafka (<= 2.x) rejects MessageSetSize -1 as a parse failure
 * ("invalid MessageSetSize -1") and never sees end-of-partition; Kafka sends empty records too. */
const NO_RECORDS = Buffer.alloc(0);
interface TopicOut {
  topic: string;
  topicId: string;
  partitions: PartitionOut[];
}

interface Wanted {
  topicOut: TopicOut;
  out: PartitionOut;
  partition: Partition | undefined;
  fetchOffset: number;
  maxBytes: number;
  /** The read bound (high watermark, last stable or written end) at the last read. */
  seenBound?: number;
  /** Follower fetch of a partition in leader.replication.throttled.replicas (with a rate set). */
  leaderQuota?: ReplicationQuota;
  /** The fetching follower is in the ISR: Kafka does not hold back in-sync replicas. */
  inSync?: boolean;
  /** Bytes of the last read (recorded against leaderQuota once the response is final). */
  readBytes?: number;
}

/** The offset a read of this partition may not pass (what decides whether there is more to read). */
function readBound(w: Wanted, readCommitted: boolean, replica: boolean): number {
  const log = w.partition!.log;
  return replica ? log.writtenEndOffset : readCommitted ? log.lastStableOffset : log.highWatermark;
}

/** Whether a new read of this partition could answer differently from the last one. */
function changedSinceRead(w: Wanted, readCommitted: boolean, replica: boolean): boolean {
  const log = w.partition!.log;
  return (
    w.seenBound !== readBound(w, readCommitted, replica) ||
    w.out.highWatermark !== log.highWatermark ||
    w.out.lastStableOffset !== log.lastStableOffset ||
    w.out.logStartOffset !== log.logStartOffset
  );
}

/**
 * KIP-392: a consumer may read from a follower replica hosted here. Kafka's follower answers
 * up to the high watermark it learned from the leader; an offset past that is OFFSET_NOT_AVAILABLE
 * while the follower lags, one outside its log OFFSET_OUT_OF_RANGE (the client asks the leader again).
 */
function followerReadError(p: Partition, fetchOffset: number): number {
  const log = p.log;
  if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) return ErrorCode.OFFSET_OUT_OF_RANGE;
  if (fetchOffset > log.highWatermark) return ErrorCode.OFFSET_NOT_AVAILABLE;
  return ErrorCode.NONE;
}

function resolveTopic(broker: BrokerServices, name: string, topicId: string, version: number) {
  return version >= 13 ? broker.metadata.topicById(topicId) : broker.metadata.topic(name);
}

/** A follower replica of this broker that may answer consumers (KIP-392). */
function servesAsFollower(p: Partition): boolean {
  return p.role === 'follower' && p.replicas.includes(p.nodeId);
}

/** Fills a partition's response with up to budget bytes from fetchOffset; returns the bytes read. */
async function readOne(w: Wanted, budget: number, minOneBatch: boolean, readCommitted: boolean, replica: boolean, alloc: ((size: number) => Buffer) | undefined): Promise<number> {
  const log = w.partition!.log;
  const out = w.out;
  out.highWatermark = log.highWatermark;
  out.lastStableOffset = log.lastStableOffset;
  out.logStartOffset = log.logStartOffset;
  out.abortedTransactions = readCommitted ? [] : null;
  if (w.leaderQuota && !w.inSync && w.leaderQuota.exceeded()) {
    // Over leader.replication.throttled.rate: this partition sits out this response (no error).
    out.errorCode = ErrorCode.NONE;
    out.records = NO_RECORDS;
    w.readBytes = 0;
    return 0;
  }
  try {
    // read_committed stops at the last stable offset (the first offset of an open transaction)
    // and names the aborted transactions in the range, whose records the client drops.
    // Followers copy the log past the high watermark (everything written on the leader).
    const upTo = readBound(w, readCommitted, replica);
    w.seenBound = upTo;
    const result = await log.read(w.fetchOffset, Math.max(0, budget), upTo, minOneBatch, alloc);
    if (readCommitted && result.bytes > 0) out.abortedTransactions = log.abortedTransactions(w.fetchOffset, upTo);
    out.errorCode = ErrorCode.NONE;
    out.records = result.chunks.length ? result.chunks : NO_RECORDS;
    if (w.leaderQuota) w.readBytes = result.bytes;
    return result.bytes;
  } catch (err) {
    out.errorCode = errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR);
    out.records = NO_RECORDS;
    return 0;
  }
}

/** Reads every wanted partition once; returns the bytes gathered. */
async function readAll(
  wanted: Wanted[],
  responseMaxBytes: number,
  readCommitted: boolean,
  replica: boolean,
  alloc: ((size: number) => Buffer) | undefined,
): Promise<number> {
  const live = wanted.filter((w) => w.partition);
  let sumOfLimits = 0;
  for (const w of live) sumOfLimits += w.maxBytes;
  if (live.length > 1 && sumOfLimits <= responseMaxBytes) {
    // Every partition's limit fits in the response: read them all at once, so the thread pool
    // overlaps the file reads instead of paying them one after another.
    const sizes = await Promise.all(live.map((w) => readOne(w, w.maxBytes, false, readCommitted, replica, alloc)));
    const total = sizes.reduce((a, b) => a + b, 0);
    // Nothing fit: a first batch may be larger than its limit, so take the sequential path below,
    // which returns the first batch whole (consumers must always make progress).
    const starved = (w: Wanted) =>
      w.out.errorCode === ErrorCode.NONE &&
      w.fetchOffset < (replica ? w.partition!.log.writtenEndOffset : readCommitted ? w.out.lastStableOffset! : w.out.highWatermark!);
    if (total > 0 || !live.some(starved)) return total;
  }
  let total = 0;
  for (const w of live) {
    const budget = Math.min(w.maxBytes, responseMaxBytes - total);
    if (budget <= 0 && total > 0) {
      w.out.records = NO_RECORDS;
      continue;
    }
    // The first partition with data may exceed the limits by one batch so consumers always progress.
    total += await readOne(w, budget, total === 0, readCommitted, replica, alloc);
  }
  return total;
}

/** Fetch v0-3: replaces each partition's v2 batches with messages of the old format. */
async function downconvert(wanted: Wanted[], magic: 0 | 1): Promise<void> {
  for (const w of wanted) {
    const records = w.out.records;
    if (w.out.errorCode !== ErrorCode.NONE || !records) continue;
    const chunks = Array.isArray(records) ? records : [records as Buffer];
    if (chunks.every((c) => c.length === 0)) continue;
    try {
      const messages = await downconvertBatches(chunks, magic, w.fetchOffset, w.maxBytes);
      w.out.records = messages.length ? messages : NO_RECORDS;
    } catch (err) {
      w.out.errorCode = errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR);
      w.out.records = NO_RECORDS;
    }
  }
}

export default defineHandler<FetchRequest, FetchResponseInput>({
  apiKey: ApiKey.Fetch,
  // v0-3 (removed by Kafka 4, KIP-896) get the stored batches down-converted to message format
  // v0 (Fetch v0-1) or v1 (Fetch v2-3), as Kafka 3.x did.
  minVersion: 0,
  maxVersion: 18, // 17 and 18 add follower-only tagged fields (KIP-853, KIP-1166); consumers see no change
  async handle(req, ctx) {
    const { broker, apiVersion } = ctx;
    const responses: TopicOut[] = [];
    const wanted: Wanted[] = [];
    // Follower fetches (replica id >= 0) read past the high watermark and report the follower's
    // (durable) log end; they need CLUSTER_ACTION, consumers need READ on the topic.
    const replicaId = Math.max(req.replicaId ?? -1, req.replicaState?.replicaId ?? -1);
    const replicaFetch = replicaId >= 0;
    const leaderHints = new Map<number, number>();
    const now = Date.now();
    let throttledReplicaFetch = false;
    // KIP-392 needs the client's metadata (Fetch v11+: rack_id); without a selector only leaders
    // serve consumers, as before.
    const followerReads = !replicaFetch && apiVersion >= 11 && replicaSelectorOf(broker.config.getString('replica.selector.class')) === 'rack-aware';
    const clientRack = followerReads ? (req.rackId ?? '') : '';
    let racks: Map<number, string | null> | undefined;
    const rackOf = (nodeId: number) => {
      racks ??= new Map(broker.metadata.brokers().map((b) => [b.nodeId, b.rack]));
      return racks.get(nodeId);
    };
    for (const t of req.topics) {
      const topic = resolveTopic(broker, t.topic, t.topicId, apiVersion);
      const topicOut: TopicOut = { topic: t.topic, topicId: t.topicId, partitions: [] };
      responses.push(topicOut);
      for (const fp of t.partitions) {
        const partition = topic ? broker.replicas.get(topic.name, fp.partition) : undefined;
        let errorCode: number = ErrorCode.NONE;
        if (replicaFetch ? !allowedOnCluster(ctx, Op.CLUSTER_ACTION) : !allowedOnTopic(ctx, Op.READ, topic?.name ?? t.topic)) {
          errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        } else if (!topic) errorCode = apiVersion >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (!partition) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if ((partition.leaderId !== broker.nodeId || !partition.isLeader) && !(followerReads && servesAsFollower(partition))) {
          errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        } else if (fp.currentLeaderEpoch !== -1 && fp.currentLeaderEpoch > partition.leaderEpoch) {
          errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
        } else if (fp.currentLeaderEpoch !== -1 && fp.currentLeaderEpoch < partition.leaderEpoch) {
          errorCode = ErrorCode.FENCED_LEADER_EPOCH;
        }
        const out: PartitionOut = {
          partitionIndex: fp.partition,
          errorCode,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: NO_RECORDS,
        };
        if (topic && (errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || errorCode === ErrorCode.FENCED_LEADER_EPOCH)) {
          // KIP-951: tell the client who leads now, so it re-routes without a Metadata round trip.
          const state = broker.metadata.partitionState(topic.name, fp.partition);
          if (state && state.leader >= 0 && state.leader !== broker.nodeId) {
            out.currentLeader = { leaderId: state.leader, leaderEpoch: state.leaderEpoch };
            leaderHints.set(state.leader, state.leaderEpoch);
          }
        }
        if (errorCode === ErrorCode.NONE && replicaFetch) partition!.recordFollowerFetch(replicaId, fp.fetchOffset, now);
        let read = errorCode === ErrorCode.NONE;
        if (read && followerReads && !partition!.isLeader) {
          out.errorCode = followerReadError(partition!, fp.fetchOffset);
          read = out.errorCode === ErrorCode.NONE;
        } else if (read && clientRack) {
          const preferred = preferredReadReplica(partition!, clientRack, fp.fetchOffset, rackOf, now);
          if (preferred >= 0) {
            // Kafka skips the read: the client fetches this partition from the preferred replica.
            const log = partition!.log;
            out.preferredReadReplica = preferred;
            out.highWatermark = log.highWatermark;
            out.lastStableOffset = log.lastStableOffset;
            out.logStartOffset = log.logStartOffset;
            read = false;
          }
        }
        topicOut.partitions.push(out);
        const w: Wanted = {
          topicOut,
          out,
          partition: read ? partition : undefined,
          fetchOffset: fp.fetchOffset,
          maxBytes: fp.partitionMaxBytes,
        };
        if (replicaFetch && errorCode === ErrorCode.NONE) {
          const quota = broker.replicas.leaderQuota;
          if (quota.limited && isThrottled(partition!.settings.leaderThrottled, partition!.index)) {
            w.leaderQuota = quota;
            w.inSync = partition!.isr.includes(replicaId);
            throttledReplicaFetch = true;
          }
        }
        wanted.push(w);
      }
    }
    const readCommitted = req.isolationLevel === 1;
    const maxBytes = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    // Read buffers come from the listener's pool and go back once this response is written.
    const lease = ctx.connection.readBuffers?.lease();
    if (lease) ctx.onResponseWritten = lease.release;
    const alloc = lease?.alloc;
    let bytes = await readAll(wanted, maxBytes, readCommitted, replicaFetch, alloc);
    const live = wanted.filter((w) => w.partition).map((w) => w.partition!);
    // Long poll: park until an append reaches one of these partitions or maxWait passes.
    while (req.minBytes > 0 && bytes < req.minBytes && live.length > 0 && !ctx.connection.isClosed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      if (wanted.some((w) => w.out.errorCode !== ErrorCode.NONE)) break;
      await broker.replicas.waitForAppend(live, remaining, { replica: replicaFetch });
      // Nothing was readable before the wait, so partitions whose bounds did not move still have
      // nothing: re-read only those an append (or a truncation) reached, not every partition.
      const reread = bytes === 0 ? wanted.filter((w) => w.partition && changedSinceRead(w, readCommitted, replicaFetch)) : wanted;
      if (reread.length > 0) bytes = await readAll(reread, maxBytes, readCommitted, replicaFetch, alloc);
    }
    if (throttledReplicaFetch) {
      // Like Kafka, every byte sent for a throttled partition counts, in-sync follower or not.
      let throttledBytes = 0;
      for (const w of wanted) if (w.leaderQuota) throttledBytes += w.readBytes ?? 0;
      broker.replicas.leaderQuota.record(throttledBytes);
    }
    if (followerReads) {
      for (const w of wanted) {
        if (w.partition && !w.partition.isLeader && w.out.records !== NO_RECORDS) w.partition.noteConsumerReadAsFollower();
      }
    }
    if (apiVersion < 4) await downconvert(wanted, apiVersion >= 2 ? 1 : 0);
    return {
      throttleTimeMs: throttleFor(ctx, 'consumer_byte_rate', bytes),
      errorCode: ErrorCode.NONE,
      // Sessionless: every fetch is a full fetch (KIP-227 allows a broker to decline sessions).
      sessionId: 0,
      responses,
      nodeEndpoints: leaderHints.size === 0 ? [] : brokerEndpoints(broker.metadata, ctx.connection.session.listener.name).filter((b) => leaderHints.has(b.nodeId)),
    };
  },
});
