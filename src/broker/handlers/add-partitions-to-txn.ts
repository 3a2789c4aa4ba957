// AddPartitionsToTxn: v0-3 is the client's form (one transaction); v4+ is the batched form brokers
// use, whose verifyOnly transactions only check that partitions are already in the transaction
// (KIP-890 part 1).
import { ErrorCode } from '../../protocol/errors.js';
import type {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponseAddPartitionsToTxnTopicResultInput,
  AddPartitionsToTxnResponseInput,
} from '../../protocol/gen/add-partitions-to-txn.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler, type BrokerServices, type RequestContext } from '../handler.js';
import { allowed, allowedOnCluster, allowedOnTopic, Op, Resource } from '../../security/authz.js';

type TopicResult = AddPartitionsToTxnResponseAddPartitionsToTxnTopicResultInput;
type Topics = { name: string; partitions: number[] }[];

function uniform(topics: Topics, code: (topic: string, p: number) => number): TopicResult[] {
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: code(t.name, partitionIndex) })),
  }));
}

async function addOne(broker: BrokerServices, id: string, producerId: number, producerEpoch: number, topics: Topics, fencedCode: number): Promise<TopicResult[]> {
  // Unknown partitions fail the request; the others are reported as not attempted, like Kafka.
  const unknown = (t: string, p: number) => {
    const topic = broker.metadata.topic(t);
    return !topic || p < 0 || p >= topic.partitions.length;
  };
  if (topics.some((t) => t.partitions.some((p) => unknown(t.name, p)))) {
    return uniform(topics, (t, p) => (unknown(t, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
  }
  let code = await broker.transactions.addPartitions(id, producerId, producerEpoch, topics);
  if (code === ErrorCode.PRODUCER_FENCED) code = fencedCode;
  return uniform(topics, () => code);
}

/** WRITE on the transactional id and on every topic; null when allowed. */
function authorize(ctx: RequestContext, id: string, topics: Topics): TopicResult[] | null {
  if (!allowed(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, id)) return uniform(topics, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const denied = new Set(topics.filter((t) => !allowedOnTopic(ctx, Op.WRITE, t.name)).map((t) => t.name));
  if (denied.size === 0) return null;
  return uniform(topics, (t) => (denied.has(t) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED));
}

export default defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponseInput>({
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const { broker, apiVersion: v } = ctx;
    if (v < 4) {
      const topics = req.v3AndBelowTopics.map((t) => ({ name: t.name, partitions: t.partitions }));
      const denied = authorize(ctx, req.v3AndBelowTransactionalId, topics);
      if (denied) return { throttleTimeMs: 0, resultsByTopicV3AndBelow: denied };
      const fenced = v >= 2 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH;
      const results = await addOne(broker, req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, topics, fenced);
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results };
    }
    // The batched form is for brokers verifying partitions: CLUSTER_ACTION, like Kafka.
    if (!allowedOnCluster(ctx, Op.CLUSTER_ACTION)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] };
    const resultsByTransaction = await Promise.all(
      req.transactions.map(async (txn) => {
        const topics = txn.topics.map((t) => ({ name: t.name, partitions: t.partitions }));
        if (!txn.verifyOnly) {
          return {
            transactionalId: txn.transactionalId,
            topicResults: await addOne(broker, txn.transactionalId, txn.producerId, txn.producerEpoch, topics, ErrorCode.PRODUCER_FENCED),
          };
        }
        const codes = await broker.transactions.verifyPartitions(txn.transactionalId, txn.producerId, txn.producerEpoch, topics);
        return { transactionalId: txn.transactionalId, topicResults: uniform(topics, (t, p) => codes.get(`${t}\u0000${p}`) ?? ErrorCode.NONE) };
      }),
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
  },
});
