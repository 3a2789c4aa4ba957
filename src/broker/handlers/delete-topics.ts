import { ErrorCode } from '../../protocol/errors.js';
import type { DeleteTopicsRequest, DeleteTopicsResponseInput } from '../../protocol/gen/delete-topics.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { errorCodeOf } from '../errors.js';
import { allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';

type Result = NonNullable<DeleteTopicsResponseInput['responses']>[number];

export default defineHandler<DeleteTopicsRequest, DeleteTopicsResponseInput>({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0, // v0 (removed by Kafka 4) is v1 without the throttle time
  maxVersion: 6,
  async handle(req, ctx) {
    const { broker, apiVersion } = ctx;
    const wanted =
      apiVersion >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: Result[] = [];
    for (const w of wanted) {
      const topic = w.name !== null ? broker.metadata.topic(w.name) : broker.metadata.topicById(w.topicId);
      const name = topic?.name ?? w.name;
      if (name !== null && !allowedOnTopic(ctx, Op.DELETE, name)) {
        responses.push({ name: w.name, topicId: w.topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
        continue;
      }
      if (!topic) {
        responses.push({
          name: w.name,
          topicId: w.topicId,
          errorCode: w.name !== null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: 'This server does not host this topic.',
        });
        continue;
      }
      try {
        await broker.topics.delete(topic.name);
        responses.push({ name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        responses.push({
          name: topic.name,
          topicId: topic.topicId,
          errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR),
          errorMessage: (err as Error).message,
        });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
