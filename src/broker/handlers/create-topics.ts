import { ErrorCode } from '../../protocol/errors.js';
import type { CreateTopicsRequest, CreateTopicsResponseInput } from '../../protocol/gen/create-topics.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { resolveTopicConfig } from '../../config/topic-config.js';
import { errorCodeOf } from '../errors.js';
import { allowedOnCluster, allowedOnTopic, Op } from '../../security/authz.js';
import { defineHandler } from '../handler.js';
import { warnRemovedTopicConfigs } from '../removed-configs.js';
import { configSourceCode } from './describe-configs.js';

type Result = NonNullable<CreateTopicsResponseInput['topics']>[number];

export default defineHandler<CreateTopicsRequest, CreateTopicsResponseInput>({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0, // v0-1 (removed by Kafka 4, KIP-896) differ only in fields the codec leaves out
  maxVersion: 7,
  async handle(req, ctx) {
    const { broker } = ctx;
    for (const t of req.topics) warnRemovedTopicConfigs(broker.loggers.warn('fjord.broker'), t.name, t.configs.map((c) => c.name));
    const results: Result[] = [];
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    // The partition limit applies to the request as a whole, like Kafka's controller limit.
    const perRequest = broker.config.getInt('fjord.max.partitions.per.request');
    let requested = 0;
    for (const t of req.topics) {
      if (seen.get(t.name)! > 1) {
        results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
        continue;
      }
      if (!allowedOnCluster(ctx, Op.CREATE) && !allowedOnTopic(ctx, Op.CREATE, t.name)) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
        continue;
      }
      requested += t.assignments.length > 0 ? t.assignments.length : t.numPartitions === -1 ? broker.config.numPartitions : Math.max(0, t.numPartitions);
      if (requested > perRequest) {
        results.push({
          name: t.name,
          errorCode: ErrorCode.INVALID_PARTITIONS,
          errorMessage: `This request asks for ${requested} partitions in total; the limit is ${perRequest} (fjord.max.partitions.per.request).`,
          configs: null,
        });
        continue;
      }
      const configs: Record<string, string | null> = {};
      for (const c of t.configs) configs[c.name] = c.value;
      const request = {
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments,
        configs,
      };
      try {
        const record = req.validateOnly ? broker.topics.plan(request) : await broker.topics.create(request);
        const resolved = resolveTopicConfig(broker.config, record.configs);
        results.push({
          name: t.name,
          topicId: req.validateOnly ? ZERO_UUID : record.topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: record.partitions.length,
          replicationFactor: record.partitions[0]?.replicas.length ?? -1,
          configs: [...resolved.values()].map((v) => ({
            name: v.def.name,
            value: v.def.sensitive ? null : v.value,
            readOnly: v.def.dynamic === 'read-only',
            configSource: configSourceCode(v.source),
            isSensitive: v.def.sensitive ?? false,
          })),
        });
      } catch (err) {
        results.push({
          name: t.name,
          errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR),
          errorMessage: (err as Error).message,
          configs: null,
        });
      }
    }
    return { throttleTimeMs: 0, topics: results };
  },
});
