// Unit tests of the share-partition state machine and the share assignor (pure logic).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleShareAssignor } from '../../src/coordinator/share/assignor.js';
import { AckError, AckType, RecordState, SharePartition } from '../../src/coordinator/share/share-partition.js';

const settings = { deliveryCountLimit: 3, lockDurationMs: 1000, maxInFlight: 100 };
const batch = (baseOffset: number, lastOffset: number, isControl = false) => ({ baseOffset, lastOffset, isControl });

test('acquires new records once, below the high watermark, in record-limit mode exactly', () => {
  const sp = new SharePartition(0, settings);
  assert.deepEqual(sp.acquire('a', [batch(0, 4), batch(5, 9)], 3, 8, 0, true), [{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
  // Batch-optimized mode finishes the batch it started, never past the high watermark.
  assert.deepEqual(sp.acquire('b', [batch(0, 4), batch(5, 9)], 1, 8, 0), [{ firstOffset: 3, lastOffset: 4, deliveryCount: 1 }]);
  assert.deepEqual(sp.acquire('b', [batch(5, 9)], 10, 8, 0), [{ firstOffset: 5, lastOffset: 7, deliveryCount: 1 }]);
  assert.equal(sp.endOffset, 8);
  assert.equal(sp.acquiredCount, 8);
  assert.equal(sp.canAcquire(8), false);
});

test('ACCEPT advances the start offset past the acknowledged prefix; other members cannot ack', () => {
  const sp = new SharePartition(10, settings);
  sp.acquire('a', [batch(10, 14)], 100, 15, 0);
  assert.throws(() => sp.acknowledge('b', 10, 10, [AckType.ACCEPT], 0), (e) => e instanceof AckError && e.code === 'INVALID_RECORD_STATE');
  assert.throws(() => sp.acknowledge('a', 20, 21, [AckType.ACCEPT], 0), (e) => e instanceof AckError && e.code === 'INVALID_RECORD_STATE');
  sp.acknowledge('a', 11, 12, [AckType.ACCEPT], 0);
  assert.equal(sp.startOffset, 10);
  sp.acknowledge('a', 10, 10, [AckType.ACCEPT], 0);
  assert.equal(sp.startOffset, 13);
  // A record acknowledged twice is not acquired any more.
  sp.acknowledge('a', 13, 13, [AckType.ACCEPT], 0);
  assert.throws(() => sp.acknowledge('a', 13, 13, [AckType.ACCEPT], 0), (e) => e instanceof AckError && e.code === 'INVALID_RECORD_STATE');
});

test('RELEASE redelivers with a higher delivery count until the limit archives it; REJECT archives', () => {
  const sp = new SharePartition(0, settings);
  sp.acquire('a', [batch(0, 1)], 100, 2, 0);
  sp.acknowledge('a', 0, 1, [AckType.RELEASE, AckType.REJECT], 0);
  assert.equal(sp.stateOf(0)?.state, RecordState.AVAILABLE);
  assert.equal(sp.startOffset, 0);
  assert.equal(sp.nextFetchOffset(), 0);
  assert.deepEqual(sp.acquire('b', [batch(0, 1)], 100, 2, 0), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
  sp.acknowledge('b', 0, 0, [AckType.RELEASE], 0);
  assert.deepEqual(sp.acquire('c', [batch(0, 1)], 100, 2, 0), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 3 }]);
  sp.acknowledge('c', 0, 0, [AckType.RELEASE], 0); // third delivery = limit → archived
  assert.equal(sp.startOffset, 2);
  assert.equal(sp.inFlightCount, 0);
});

test('locks expire and are renewable; a leaving member releases its records', () => {
  const sp = new SharePartition(0, settings);
  sp.acquire('a', [batch(0, 3)], 2, 4, 1000, true);
  assert.equal(sp.nextLockDeadline(), 2000);
  sp.acknowledge('a', 0, 0, [AckType.RENEW], 1500);
  assert.equal(sp.expireLocks(2000), true); // offset 1 expired, offset 0 renewed to 2500
  assert.equal(sp.stateOf(0)?.state, RecordState.ACQUIRED);
  assert.equal(sp.stateOf(1)?.state, RecordState.AVAILABLE);
  sp.acquire('b', [batch(0, 3)], 100, 4, 2000);
  assert.equal(sp.stateOf(1)?.memberId, 'b');
  assert.equal(sp.stateOf(1)?.deliveryCount, 2);
  assert.equal(sp.releaseMember('b'), true);
  assert.equal(sp.stateOf(3)?.state, RecordState.AVAILABLE);
  // Records a leaving member held were not (known to be) delivered: their count goes back down.
  assert.equal(sp.stateOf(1)?.deliveryCount, 1);
  assert.equal(sp.stateOf(3)?.deliveryCount, 0);
  assert.equal(sp.stateOf(0)?.memberId, 'a');
});

test('control batches are archived, never delivered; in-flight window is bounded', () => {
  const sp = new SharePartition(0, { ...settings, maxInFlight: 4 });
  const got = sp.acquire('a', [batch(0, 1), batch(2, 2, true), batch(3, 9)], 100, 10, 0);
  assert.deepEqual(got, [{ firstOffset: 0, lastOffset: 1, deliveryCount: 1 }, { firstOffset: 3, lastOffset: 3, deliveryCount: 1 }]);
  assert.equal(sp.inFlightCount, 4);
});

test('a full in-flight window stops acquisition without skipping the rest of the log', () => {
  const sp = new SharePartition(0, { ...settings, maxInFlight: 3 });
  assert.deepEqual(sp.acquire('a', [batch(0, 1), batch(2, 4), batch(5, 9)], 100, 10, 0), [{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
  assert.equal(sp.endOffset, 3);
  sp.acknowledge('a', 0, 2, [AckType.ACCEPT], 0);
  assert.deepEqual(sp.acquire('a', [batch(2, 4), batch(5, 9)], 100, 10, 0), [{ firstOffset: 3, lastOffset: 5, deliveryCount: 1 }]);
});

test('persisted state restores acquired records as available, keeps counts and acks', () => {
  const sp = new SharePartition(0, settings);
  sp.acquire('a', [batch(0, 5)], 100, 6, 0);
  sp.acknowledge('a', 1, 1, [AckType.ACCEPT], 0);
  sp.acknowledge('a', 2, 2, [AckType.REJECT], 0);
  const batches = sp.stateBatches();
  assert.ok(batches.every((b) => b.deliveryState !== RecordState.ACQUIRED));
  const back = SharePartition.restore(sp.startOffset, batches, settings);
  assert.equal(back.acquiredCount, 0);
  assert.equal(back.stateOf(0)?.state, RecordState.AVAILABLE);
  assert.equal(back.stateOf(0)?.deliveryCount, 1);
  assert.equal(back.stateOf(1)?.state, RecordState.ACKNOWLEDGED);
  assert.deepEqual(back.acquire('b', [batch(0, 5)], 100, 6, 0), [
    { firstOffset: 0, lastOffset: 0, deliveryCount: 2 },
    { firstOffset: 3, lastOffset: 5, deliveryCount: 2 },
  ]);
});

test('simple assignor: every partition covered; more members than partitions share them', () => {
  const members = new Map<string, Set<string>>();
  for (let i = 0; i < 10; i++) members.set(`m${i}`, new Set(['t']));
  const out = simpleShareAssignor.assign(members, new Map([['t', 2]]));
  const perPartition = [0, 0];
  for (const a of out.values()) {
    assert.equal(a.get('t')?.size, 1);
    for (const p of a.get('t')!) perPartition[p]!++;
  }
  assert.deepEqual(perPartition, [5, 5]);
  const few = simpleShareAssignor.assign(new Map([['a', new Set(['t'])]]), new Map([['t', 3]]));
  assert.deepEqual([...few.get('a')!.get('t')!].sort(), [0, 1, 2]);
});

test('a long run of out-of-order acks, releases and expiries through the ring: every record accepted exactly once', () => {
  // The window lives in a ring that wraps and grows; drive it far past its first capacity.
  const sp = new SharePartition(0, { deliveryCountLimit: 1000, lockDurationMs: 50, maxInFlight: 300 });
  const total = 20_000;
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const held = new Map<string, number[]>();
  const accepted = new Set<number>();
  let now = 0;
  for (let round = 0; round < 100_000 && accepted.size < total; round++) {
    now += 7;
    const member = `m${rand(5)}`;
    const from = sp.nextFetchOffset();
    const spans = [];
    for (let o = from; o < Math.min(total, from + 400); o += 10) spans.push(batch(o, Math.min(total, o + 10) - 1));
    for (const r of sp.acquire(member, spans, 1 + rand(60), total, now)) {
      for (let o = r.firstOffset; o <= r.lastOffset; o++) held.set(member, [...(held.get(member) ?? []), o]);
    }
    for (const [m, offsets] of held) {
      const keep: number[] = [];
      for (const o of offsets) {
        const st = sp.stateOf(o);
        if (st?.state !== RecordState.ACQUIRED || st.memberId !== m) continue; // expired meanwhile
        const roll = rand(10);
        if (roll < 6) {
          sp.acknowledge(m, o, o, [AckType.ACCEPT], now);
          assert.ok(!accepted.has(o), `offset ${o} accepted twice`);
          accepted.add(o);
        } else if (roll < 7) sp.acknowledge(m, o, o, [AckType.RELEASE], now);
        else keep.push(o); // held on; its lock may expire
      }
      held.set(m, keep);
    }
    if (round % 13 === 0) sp.expireLocks(now);
    const c = sp.counts();
    assert.equal(c.acquired, sp.acquiredCount);
    assert.equal(c.available + c.acquired + c.acknowledged + c.archived, sp.inFlightCount);
    assert.ok(sp.inFlightCount <= 300 + 10);
  }
  assert.equal(accepted.size, total);
  assert.equal(sp.startOffset, total);
  assert.equal(sp.inFlightCount, 0);
});
