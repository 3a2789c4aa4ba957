import type { AppendResult } from '../../storage/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type {
  ProduceRequest,
  ProduceResponseInput,
  ProduceResponsePartitionProduceResponseInput,
} from '../../protocol/gen/produce.js';
import { setLogAppendTime, validateBatches, type BatchInfo } from '../../protocol/records/batch.js';
import type { Partition } from '../../cluster/partition.js';
import { topicLogConfig } from '../../config/topic-config.js';
import { checkBatchRecords } from '../../protocol/records/validate.js';
import { codecForCompressionType, needsRecompression, recompressBatches, type KeylessRecord } from '../recompress.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { allowed, allowedOnTopic, Op, Resource, throttleFor } from '../../security/authz.js';
import { upconvertMessageSet } from '../../protocol/records/legacy.js';
import { brokerEndpoints } from '../endpoints.js';
import { verifyRemotely, verifyTransactionalProduce, VERIFY_REMOTELY } from '../../coordinator/transaction/produce-verification.js';

type PartitionOut = ProduceResponsePartitionProduceResponseInput;

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionOut {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
}

/**
 * Validates and appends one partition's records. The append is started synchronously (offsets
 * are assigned in request order), and the returned promise settles when it is durable.
 */
function produceToPartition(
  broker: BrokerServices,
  topic: string,
  index: number,
  records: Buffer | null,
  acks: number,
  apiVersion: number,
  transactionalId: string | null,
  timeoutMs: number,
): Promise<PartitionOut> | PartitionOut {
  const partition = broker.replicas.get(topic, index);
  if (!partition) {
    return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
  }
  if (partition.leaderId !== broker.nodeId || !partition.isLeader) return notLeader(broker, topic, index);
  // A broker that lost its metadata session (etcd lease) cannot prove it still leads: no writes.
  if ((broker.metadata as { sessionAlive?: () => boolean }).sessionAlive?.() === false) {
    return failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'This broker lost its cluster metadata session; it may no longer lead this partition.');
  }
  // Internal topics hold the coordinators' state in Kafka's formats; only the broker writes them.
  if (broker.internalTopics.isInternal(topic)) {
    return failed(index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic}`);
  }
  if (records === null || records.length === 0) {
    return failed(index, ErrorCode.CORRUPT_MESSAGE, 'Produce request carries no record batch.');
  }
  if (apiVersion < 3) {
    // Produce v0-2 carry message format v0/v1: stored as one record batch v2, as Kafka 3.x did.
    try {
      records = upconvertMessageSet(records, partition.settings.maxMessageBytes);
    } catch (err) {
      return failed(index, ErrorCode.CORRUPT_MESSAGE, (err as Error).message);
    }
  }
  const checked = validateBatches(records, partition.settings.maxMessageBytes, { singleBatch: true, apiVersion });
  if ('error' in checked) return failed(index, checked.error, checked.message);
  let remoteVerification: BatchInfo | undefined;
  for (const b of checked.batches) {
    if (b.isControl) return failed(index, ErrorCode.INVALID_RECORD, 'Clients may not produce control batches.');
    if (b.isTransactional) {
      const code = verifyTransactionalProduce(broker, transactionalId, partition, b);
      if (code === VERIFY_REMOTELY) remoteVerification = b;
      else if (code !== ErrorCode.NONE) return failed(index, code, 'The partition is not part of an ongoing transaction of this producer.');
    }
  }
  if (acks === -1) {
    const minIsr = partition.settings.minInsyncReplicas;
    if (partition.isr.length < minIsr) {
      return failed(
        index,
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR ${partition.isr.length} is insufficient to satisfy the min.isr requirement of ${minIsr}.`,
      );
    }
  }
  // Records are checked before the append, as Kafka's LogValidator does: framing, count and
  // offset deltas, compressed data inflated with a bound (../../protocol/records/validate.ts).
  const compacted = partition.settings.cleanupPolicy.includes('compact');
  let firstKeyless = -1;
  let recordIndex = 0;
  for (const b of checked.batches) {
    const r = checkBatchRecords(records, b.position, b.size, partition.settings.maxMessageBytes);
    if (typeof r !== 'number') return failed(index, r.error, r.message);
    if (r >= 0 && firstKeyless < 0) firstKeyless = recordIndex + r;
    recordIndex += b.recordCount;
  }
  if (compacted && firstKeyless >= 0) {
    return keylessFailure(index, {
      batchIndex: firstKeyless,
      message: `Compacted topic cannot accept message without key in topic partition ${topic}-${index}.`,
    });
  }
  // compression.type forcing a codec needs the records rebuilt (../recompress.ts). That work is
  // async (zstd), so it runs in a per-partition queue that keeps appends in request order;
  // later appends to the partition wait behind it.
  const target = codecForCompressionType(partition.settings.compressionType);
  const recompress = needsRecompression(checked.batches, target);
  const ack: AckMode = { acks, timeoutMs };
  // Schema validation asks the registry (async), so it runs in the ordered append queue too.
  const schemaValidation = partition.settings.schemaValidation;
  if (!recompress && !remoteVerification && !schemaValidation && !appendQueues.has(partition)) return appendChecked(partition, index, records, checked.batches, ack);
  return enqueueAppend(partition, index, ack, async () => {
    if (schemaValidation) {
      const bad = await broker.schemaValidator.validate(topic, records, checked.batches, schemaValidation);
      if (bad) {
        const out = failed(index, bad.errorCode, bad.message);
        if (bad.recordIndex !== undefined) out.recordErrors = [{ batchIndex: bad.recordIndex, batchIndexErrorMessage: bad.message }];
        return out;
      }
      if (!partition.isLeader) return notLeader(broker, topic, index);
    }
    if (remoteVerification) {
      // The transaction coordinator is another broker: it confirms the partition joined the transaction.
      const code = await verifyRemotely(broker, transactionalId!, partition, remoteVerification);
      if (code !== ErrorCode.NONE) return failed(index, code, 'The partition is not part of an ongoing transaction of this producer.');
      if (!partition.isLeader) return notLeader(broker, topic, index);
    }
    let buf = records;
    let batches = checked.batches;
    if (recompress) {
      const lc = topicLogConfig(broker.config, broker.metadata.topic(topic)?.configs ?? {});
      buf = await recompressBatches(buf, batches, target!, { gzip: lc.compressionGzipLevel, zstd: lc.compressionZstdLevel });
      const again = validateBatches(buf, partition.settings.maxMessageBytes, { apiVersion });
      if ('error' in again) return failed(index, again.error, again.message);
      batches = again.batches;
    }
    return { records: buf, batches };
  });
}

/** NOT_LEADER_OR_FOLLOWER with the current leader (KIP-951) when the store knows it. */
function notLeader(broker: BrokerServices, topic: string, index: number): PartitionOut {
  const out = failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const state = broker.metadata.partitionState(topic, index);
  if (state && state.leader >= 0 && state.leader !== broker.nodeId) out.currentLeader = { leaderId: state.leader, leaderEpoch: state.leaderEpoch };
  return out;
}

interface AckMode {
  acks: number;
  timeoutMs: number;
}

function keylessFailure(index: number, bad: KeylessRecord): PartitionOut {
  return { ...failed(index, ErrorCode.INVALID_RECORD, bad.message), recordErrors: [{ batchIndex: bad.batchIndex, batchIndexErrorMessage: bad.message }] };
}

/** Partitions with appends waiting for async preparation; the promise settles once the last has been started. */
const appendQueues = new WeakMap<Partition, Promise<void>>();

function enqueueAppend(
  partition: Partition,
  index: number,
  ack: AckMode,
  prepare: () => Promise<PartitionOut | { records: Buffer; batches: BatchInfo[] }>,
): Promise<PartitionOut> {
  const prev = appendQueues.get(partition) ?? Promise.resolve();
  let settle!: (r: Promise<PartitionOut> | PartitionOut) => void;
  const result = new Promise<PartitionOut>((res) => (settle = res));
  const step = prev.then(async () => {
    try {
      const prepared = await prepare();
      // appendChecked assigns offsets synchronously, before the next queued append starts.
      settle('batches' in prepared ? appendChecked(partition, index, prepared.records, prepared.batches, ack) : prepared);
    } catch (err) {
      settle(failed(index, errorCodeOf(err, ErrorCode.CORRUPT_MESSAGE), (err as Error).message ?? null));
    }
  });
  appendQueues.set(partition, step);
  void step.then(() => {
    if (appendQueues.get(partition) === step) appendQueues.delete(partition);
  });
  return result;
}

/** Timestamp checks (or LogAppendTime stamping) and the append itself, for validated batches. */
function appendChecked(
  partition: Partition,
  index: number,
  records: Buffer,
  batches: BatchInfo[],
  ack: AckMode,
): Promise<PartitionOut> | PartitionOut {
  let logAppendTime: number | undefined;
  if (partition.settings.messageTimestampType === 'LogAppendTime') {
    logAppendTime = Date.now();
    for (const b of batches) setLogAppendTime(records, b.position, logAppendTime);
  } else {
    const now = Date.now();
    const before = partition.settings.timestampBeforeMaxMs;
    const after = partition.settings.timestampAfterMaxMs;
    for (const b of batches) {
      if (b.baseTimestamp < now - before || b.maxTimestamp > now + after) {
        return failed(
          index,
          ErrorCode.INVALID_TIMESTAMP,
          `Timestamp of a record in the batch is out of the range allowed by message.timestamp.before.max.ms/after.max.ms.`,
        );
      }
    }
  }
  // acks=all waits for the high watermark (the ISR holds the batch durably); acks=0/1 for the
  // leader's own durable append. One node: the same thing.
  const appended = partition.appendAsLeader(records, batches, {
    logAppendTime,
    waitForReplication: ack.acks === -1,
    timeoutMs: ack.timeoutMs,
  });
  return appended.then(
    (r: AppendResult) => ({
      index,
      errorCode: ErrorCode.NONE,
      baseOffset: r.baseOffset,
      logAppendTimeMs: r.logAppendTime,
      logStartOffset: r.logStartOffset,
      recordErrors: [],
      errorMessage: null,
    }),
    (err: unknown) => failed(index, errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR), (err as Error).message ?? null),
  );
}

export default defineHandler<ProduceRequest, ProduceResponseInput>({
  apiKey: ApiKey.Produce,
  // v0-2 (message format v0/v1), removed by Kafka 4 (KIP-896), are converted to record batch v2.
  minVersion: 0,
  // v12 is v11 (KIP-890; a transactional client uses it only with transaction version 2, which
  // this broker does not advertise). v13 names topics by id (KIP-516).
  maxVersion: 13,
  async handle(req, ctx) {
    const { broker } = ctx;
    const acks = req.acks;
    const byId = ctx.apiVersion >= 13;
    const pending: { name: string; topicId: string; partitions: (Promise<PartitionOut> | PartitionOut)[] }[] = [];
    const txnDenied = req.transactionalId !== null && !allowed(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, req.transactionalId);
    for (const topic of req.topicData) {
      const name = byId ? broker.metadata.topicById(topic.topicId)?.name : topic.name;
      const denied = txnDenied
        ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        : name !== undefined && !allowedOnTopic(ctx, Op.WRITE, name)
          ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : 0;
      const partitions = topic.partitionData.map((p) =>
        denied !== 0
          ? failed(p.index, denied)
          : name === undefined
            ? failed(p.index, ErrorCode.UNKNOWN_TOPIC_ID)
            : acks === 0 || acks === 1 || acks === -1
              ? produceToPartition(broker, name, p.index, p.records, acks, ctx.apiVersion, req.transactionalId, req.timeoutMs)
            : failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS),
      );
      pending.push({ name: topic.name, topicId: topic.topicId, partitions });
    }
    const responses = [];
    for (const t of pending) responses.push({ name: t.name, topicId: t.topicId, partitionResponses: await Promise.all(t.partitions) });
    let requestBytes = 0;
    for (const t of req.topicData) for (const p of t.partitionData) requestBytes += p.records?.length ?? 0;
    const throttleTimeMs = throttleFor(ctx, 'producer_byte_rate', requestBytes);
    if (acks === 0) return null;
    // KIP-951: endpoints of the leaders named in NOT_LEADER_OR_FOLLOWER answers.
    const leaders = new Set<number>();
    for (const t of responses) for (const p of t.partitionResponses) if (p.currentLeader && p.currentLeader.leaderId !== undefined && p.currentLeader.leaderId >= 0) leaders.add(p.currentLeader.leaderId);
    const nodeEndpoints = leaders.size === 0 ? [] : brokerEndpoints(broker.metadata, ctx.connection.session.listener.name).filter((b) => leaders.has(b.nodeId));
    return { responses, throttleTimeMs, nodeEndpoints };
  },
});
