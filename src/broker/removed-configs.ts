// Topic configs Kafka 4.0 removed (message.format.version, ...) are still sent by older tools:
// Fjord accepts them (DescribeConfigs documents them as removed and ignored) and says so in the log.
import { REMOVED_TOPIC_CONFIGS } from '../config/config-defs.js';

const TOPIC_RESOURCE = 2;

export function warnRemovedTopicConfigs(log: (msg: string) => void, topic: string, names: Iterable<string>): void {
  for (const name of names) {
    if (REMOVED_TOPIC_CONFIGS.has(name)) log(`topic ${topic}: config ${name} was removed in Kafka 4.0; accepted and ignored`);
  }
}

/** For AlterConfigs / IncrementalAlterConfigs resources. */
export function warnRemovedInResources(
  log: (msg: string) => void,
  resources: readonly { resourceType: number; resourceName: string; configs: readonly { name: string }[] }[],
): void {
  for (const r of resources) {
    if (r.resourceType === TOPIC_RESOURCE) warnRemovedTopicConfigs(log, r.resourceName, r.configs.map((c) => c.name));
  }
}
