// The replication quota's arithmetic (Kafka's windowed Rate with its minimum span) and the
// parsing of leader./follower.replication.throttled.replicas for one broker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isThrottled, parseThrottledReplicas, ReplicationQuota } from '../../src/cluster/replication-quota.js';

describe('replication quota', () => {
  it('measures over the kept windows, never over less than (windows - 1) of them', () => {
    const q = new ReplicationQuota({ rate: () => 1000, windows: () => 11, windowMs: () => 1000 });
    assert.equal(q.limited, true);
    const t0 = 1_000_000;
    q.record(9000, t0);
    // 9000 bytes over the minimum span of 10 s: 900 B/s, under the quota.
    assert.equal(q.measuredRate(t0), 900);
    assert.equal(q.exceeded(t0), false);
    q.record(2000, t0 + 10);
    assert.equal(q.exceeded(t0 + 10), true);
    // 12 s later every sample has expired.
    assert.equal(q.exceeded(t0 + 12_000), false);
    assert.equal(q.measuredRate(t0 + 12_000), 0);
  });

  it('the default rate (Long.MAX_VALUE) is unlimited', () => {
    const q = new ReplicationQuota({ rate: () => 9223372036854775807, windows: () => 11, windowMs: () => 1000 });
    q.record(1e12);
    assert.equal(q.limited, false);
    assert.equal(q.exceeded(), false);
  });

  it('throttled replicas: the partitions listed with this broker, or all with *', () => {
    const list = parseThrottledReplicas('0:1, 1:2,2:1', 1);
    assert.deepEqual([0, 1, 2].map((p) => isThrottled(list, p)), [true, false, true]);
    assert.equal(isThrottled(parseThrottledReplicas('0:2', 1), 0), false);
    assert.equal(isThrottled(parseThrottledReplicas('*', 7), 42), true);
    assert.equal(isThrottled(parseThrottledReplicas('', 1), 0), false);
    assert.equal(isThrottled(undefined, 0), false);
  });
});
