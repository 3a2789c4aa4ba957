// The one registry of topics whose contents the platform itself owns. `kafkaInternal` topics are
// what Kafka flags `isInternal` (Metadata, DescribeTopicPartitions, pattern subscriptions skip
// them) and what clients may not produce to; the others (the schema registry's `_schemas`) are
// ordinary topics that a Fjord component keeps its state in.

export interface InternalTopicDefinition {
  readonly name: string;
  /** Flagged internal to clients and closed to client produce, as Kafka does. */
  readonly kafkaInternal: boolean;
  /** Who keeps state there. */
  readonly owner: string;
}

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
export const TRANSACTION_STATE_TOPIC = '__transaction_state';
export const SHARE_GROUP_STATE_TOPIC = '__share_group_state';
export const SCHEMAS_TOPIC = '_schemas';

export const INTERNAL_TOPICS: readonly InternalTopicDefinition[] = [
  { name: CONSUMER_OFFSETS_TOPIC, kafkaInternal: true, owner: 'group coordinator' },
  { name: TRANSACTION_STATE_TOPIC, kafkaInternal: true, owner: 'transaction coordinator' },
  { name: SHARE_GROUP_STATE_TOPIC, kafkaInternal: true, owner: 'share coordinator' },
  { name: SCHEMAS_TOPIC, kafkaInternal: false, owner: 'schema registry' },
];

const kafkaInternalNames = new Set(INTERNAL_TOPICS.filter((t) => t.kafkaInternal).map((t) => t.name));

/** True for topics Kafka reports as internal (`isInternal`) and closes to client produce. */
export function isInternalTopic(name: string): boolean {
  return kafkaInternalNames.has(name);
}
