import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeConfigsRequest, DescribeConfigsResponseInput } from '../../protocol/gen/describe-configs.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { topicConfigDefs, type ConfigDef } from '../../config/config.js';
import { resolveTopicConfig } from '../../config/topic-config.js';
import { errorCodeOf } from '../errors.js';
import { defineHandler, type BrokerServices } from '../handler.js';
import { configResourceDenial, Op } from '../../security/authz.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, GROUP: 32 } as const;

const SOURCE_CODES: Record<string, number> = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
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

function describeTopic(broker: BrokerServices, name: string, keys: string[] | null, req: DescribeConfigsRequest): Result {
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
  const wanted = keysFilter(keys);
  const configs: Entry[] = [];
  for (const [configName, d] of resolved) {
    if (!wanted(configName)) continue;
    configs.push(toEntry(d, req));
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: ResourceType.TOPIC, resourceName: name, configs };
}

/**
 * BrokerServices configs that are synonyms of each other (log.retention.ms/minutes/hours, log.roll.ms/
 * hours, ...): DescribeConfigs lists every layer of every member as synonyms, like Kafka.
 */
const synonymGroups = new Map<string, string[]>();
for (const def of topicConfigDefs.values()) {
  const names = (def.brokerSynonyms ?? []).map((s) => s.name);
  if (names.length > 1) for (const n of names) synonymGroups.set(n, names);
}

function brokerSynonyms(broker: BrokerServices, name: string): Described['synonyms'] {
  const group = synonymGroups.get(name) ?? [name];
  return group.flatMap((n) => broker.config.layers(n));
}

function keysFilter(keys: string[] | null): ((name: string) => boolean) {
  if (keys === null || keys.length === 0) return () => true;
  const set = new Set(keys);
  return (name) => set.has(name);
}

function describeBroker(broker: BrokerServices, name: string, keys: string[] | null, req: DescribeConfigsRequest): Result {
  const wanted = keysFilter(keys);
  const configs: Entry[] = [];
  if (name === '') {
    // The cluster-wide default resource holds only the dynamic defaults that are set.
    for (const e of broker.config.entries()) {
      if (!wanted(e.def.name)) continue;
      const layer = broker.config.layers(e.def.name).find((l) => l.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG');
      if (!layer) continue;
      configs.push(toEntry({ def: e.def, value: layer.value, source: layer.source, synonyms: [layer] }, req));
    }
  } else if (name === String(broker.nodeId)) {
    for (const e of broker.config.entries()) {
      if (!wanted(e.def.name)) continue;
      configs.push(toEntry({ def: e.def, value: e.value, source: e.source, synonyms: brokerSynonyms(broker, e.def.name) }, req));
    }
  } else {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${name}`,
      resourceType: ResourceType.BROKER,
      resourceName: name,
      configs: [],
    };
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: ResourceType.BROKER, resourceName: name, configs };
}

const LOGGER_DEF: Omit<ConfigDef, 'name'> = {
  type: 'string',
  default: 'INFO',
  doc: 'Log level of this logger (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF).',
  scope: 'broker',
  dynamic: 'per-broker',
  supported: true,
};

function describeLoggers(broker: BrokerServices, name: string, keys: string[] | null, req: DescribeConfigsRequest): Result {
  const wanted = keysFilter(keys);
  try {
    const configs = broker.configAdmin
      .loggers(name)
      .filter((l) => wanted(l.name))
      .map((l) => {
        const source = l.set ? 'DYNAMIC_BROKER_LOGGER_CONFIG' : 'DEFAULT_CONFIG';
        return toEntry({ def: { ...LOGGER_DEF, name: l.name }, value: l.level, source, synonyms: [{ name: l.name, value: l.level, source }] }, req);
      });
    return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: ResourceType.BROKER_LOGGER, resourceName: name, configs };
  } catch (err) {
    return {
      errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR),
      errorMessage: (err as Error).message,
      resourceType: ResourceType.BROKER_LOGGER,
      resourceName: name,
      configs: [],
    };
  }
}

function describeGroup(broker: BrokerServices, name: string, keys: string[] | null, req: DescribeConfigsRequest): Result {
  const wanted = keysFilter(keys);
  try {
    const configs = broker.configAdmin.groups
      .describe(name)
      .filter((d) => wanted(d.def.name))
      .map((d) => toEntry(d, req));
    return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: ResourceType.GROUP, resourceName: name, configs };
  } catch (err) {
    return { errorCode: errorCodeOf(err, ErrorCode.UNKNOWN_SERVER_ERROR), errorMessage: (err as Error).message, resourceType: ResourceType.GROUP, resourceName: name, configs: [] };
  }
}

export default defineHandler<DescribeConfigsRequest, DescribeConfigsResponseInput>({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const results: Result[] = req.resources.map((r) => {
      const denial = configResourceDenial(ctx, Op.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
      if (denial !== 0) {
        return { errorCode: denial, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
      }
      if (r.resourceType === ResourceType.TOPIC) return describeTopic(ctx.broker, r.resourceName, r.configurationKeys, req);
      if (r.resourceType === ResourceType.BROKER) return describeBroker(ctx.broker, r.resourceName, r.configurationKeys, req);
      if (r.resourceType === ResourceType.BROKER_LOGGER) return describeLoggers(ctx.broker, r.resourceName, r.configurationKeys, req);
      if (r.resourceType === ResourceType.GROUP) return describeGroup(ctx.broker, r.resourceName, r.configurationKeys, req);
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
