import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeConfigsRequest, DescribeConfigsResponseInput } from '../../protocol/gen/describe-configs.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { Broker } from '../broker.js';
import { resolveTopicConfig, type ConfigDef } from '../config.js';
import { defineHandler } from '../handler.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

const SOURCE_CODES: Record<string, number> = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
};

export function configSourceCode(source: string): number {
  return SOURCE_CODES[source] ?? 0;
}

const TYPE_CODES: Record<string, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

type Result = NonNullable<DescribeConfigsResponseInput['results']>[number];
type Entry = NonNullable<Result['configs']>[number];

interface Described {
  def: ConfigDef;
  value: string | null;
  source: string;
  synonyms: { name: string; value: string | null; source: string }[];
}

function toEntry(d: Described, req: DescribeConfigsRequest): Entry {
  const sensitive = d.def.sensitive ?? false;
  return {
    name: d.def.name,
    value: sensitive ? null : d.value,
    readOnly: d.def.dynamic === 'read-only',
    isDefault: d.source === 'DEFAULT_CONFIG',
    configSource: configSourceCode(d.source),
    isSensitive: sensitive,
    synonyms: req.includeSynonyms
      ? d.synonyms.map((s) => ({ name: s.name, value: sensitive ? null : s.value, source: configSourceCode(s.source) }))
      : [],
    configType: TYPE_CODES[d.def.type] ?? 0,
    documentation: req.includeDocumentation ? d.def.doc : null,
  };
}

function describeTopic(broker: Broker, name: string, keys: string[] | null, req: DescribeConfigsRequest): Result {
  const topic = broker.metadata.topic(name);
  if (!topic) {
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `Topic '${name}' does not exist.`,
      resourceType: ResourceType.TOPIC,
      resourceName: name,
      configs: [],
    };
  }
  const resolved = resolveTopicConfig(broker.config, topic.configs);
  const configs: Entry[] = [];
  for (const [configName, d] of resolved) {
    if (keys && !keys.includes(configName)) continue;
    configs.push(toEntry(d, req));
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: ResourceType.TOPIC, resourceName: name, configs };
}

function describeBroker(broker: Broker, name: string, keys: string[] | null, req: DescribeConfigsRequest): Result {
  if (name !== '' && name !== String(broker.nodeId)) {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${name}`,
      resourceType: ResourceType.BROKER,
      resourceName: name,
      configs: [],
    };
  }
  const configs: Entry[] = [];
  for (const e of broker.config.entries()) {
    if (keys && !keys.includes(e.def.name)) continue;
    configs.push(toEntry({ def: e.def, value: e.value, source: e.source, synonyms: [{ name: e.def.name, value: e.value, source: e.source }] }, req));
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: ResourceType.BROKER, resourceName: name, configs };
}

export default defineHandler<DescribeConfigsRequest, DescribeConfigsResponseInput>({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const results: Result[] = req.resources.map((r) => {
      if (r.resourceType === ResourceType.TOPIC) return describeTopic(ctx.broker, r.resourceName, r.configurationKeys, req);
      if (r.resourceType === ResourceType.BROKER) return describeBroker(ctx.broker, r.resourceName, r.configurationKeys, req);
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Unsupported resource type ${r.resourceType}`,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      };
    });
    return { throttleTimeMs: 0, results };
  },
});
