// The internal-topic registry: what Kafka flags internal (and closes to client produce) and what
// is only a state topic of a Fjord component.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONSUMER_OFFSETS_TOPIC,
  INTERNAL_TOPICS,
  isInternalTopic,
  SCHEMAS_TOPIC,
  SHARE_GROUP_STATE_TOPIC,
  TRANSACTION_STATE_TOPIC,
} from '../../src/coordinator/runtime/internal-topics.js';
import { javaStringHashCode, partitionForKey } from '../../src/coordinator/runtime/placement.js';

describe('internal topics', () => {
  it('flags Kafka internal topics, not the schema registry topic', () => {
    for (const name of [CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC, SHARE_GROUP_STATE_TOPIC]) assert.ok(isInternalTopic(name), name);
    assert.equal(isInternalTopic(SCHEMAS_TOPIC), false);
    assert.equal(isInternalTopic('orders'), false);
    const names = INTERNAL_TOPICS.map((t) => t.name);
    assert.equal(new Set(names).size, names.length, 'one entry a topic');
  });

  it('places keys like Kafka: abs(hashCode) % partitions, Integer.MIN_VALUE to 0', () => {
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(partitionForKey('polygenelubricants', 50), 0);
    assert.equal(partitionForKey('my-transactional-id', 50), (javaStringHashCode('my-transactional-id') & 0x7fffffff) % 50);
  });
});
