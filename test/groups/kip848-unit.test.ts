// KIP-848 consumer groups in-process: assignors, reconciliation (revocation before reassignment),
// request validation and the group state machine, without sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  defaultConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponseInput,
} from '../../src/protocol/gen/consumer-group-heartbeat.js';
import { fromWire, type TopicPartitions } from '../../src/coordinator/group/consumer-protocol/assignment.js';
import {
  checkAssignment,
  rangeAssignor,
  uniformAssignor,
  type AssignmentSpec,
} from '../../src/coordinator/group/consumer-protocol/assignors.js';
import { ConsumerGroup, type TopicView } from '../../src/coordinator/group/consumer-protocol/consumer-group.js';
import { reconcile, type MemberAssignmentState } from '../../src/coordinator/group/consumer-protocol/reconciliation.js';
import { ConsumerGroupService } from '../../src/coordinator/group/consumer-protocol/service.js';
import { waitFor } from '../helpers/broker.js';

class FakeTopics implements TopicView {
  private v = 0;
  readonly topics = new Map<string, { topicId: string; partitions: number }>();
  add(name: string, partitions: number): this {
    this.topics.set(name, { topicId: `id-${name}`, partitions });
    this.v++;
    return this;
  }
  remove(name: string): this {
    this.topics.delete(name);
    this.v++;
    return this;
  }
  byName(name: string) {
    return this.topics.get(name);
  }
  byId(id: string) {
    for (const [name, t] of this.topics) if (t.topicId === id) return { name, partitions: t.partitions };
    return undefined;
  }
  names() {
    return this.topics.keys();
  }
  version() {
    return this.v;
  }
}

const settings = { heartbeatIntervalMs: 100, sessionTimeoutMs: 60_000, maxSize: 3, assignors: [uniformAssignor, rangeAssignor] };

function req(over: Partial<ConsumerGroupHeartbeatRequest>): ConsumerGroupHeartbeatRequest {
  return { ...defaultConsumerGroupHeartbeatRequest(), groupId: 'g', ...over };
}
function join(memberId: string, topics: string[], over: Partial<ConsumerGroupHeartbeatRequest> = {}) {
  return req({ memberId, memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: topics, topicPartitions: [], ...over });
}
function hb(memberId: string, epoch: number, owned: TopicPartitions | null) {
  return req({
    memberId,
    memberEpoch: epoch,
    topicPartitions: owned === null ? null : [...owned].map(([topicId, ps]) => ({ topicId, partitions: [...ps] })),
  });
}
const ctx = { apiVersion: 1, clientId: 'unit', clientHost: '/127.0.0.1' };

/** Partitions of a response's assignment as "topicId:p" strings, sorted. */
function parts(res: ConsumerGroupHeartbeatResponseInput): string[] | null {
  if (!res.assignment) return null;
  return (res.assignment.topicPartitions ?? []).flatMap((t) => (t.partitions ?? []).map((p) => `${t.topicId}:${p}`)).sort();
}
function owned(res: ConsumerGroupHeartbeatResponseInput): TopicPartitions {
  return fromWire((res.assignment?.topicPartitions ?? []).map((t) => ({ topicId: t.topicId ?? '', partitions: t.partitions ?? [] })));
}

/** No partition is owned (assigned or pending revocation) by two members at once. */
function assertSingleOwner(group: ConsumerGroup): void {
  const seen = new Map<string, string>();
  for (const m of group.members.values()) {
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const [t, ps] of a) {
        for (const p of ps) {
          const k = `${t}:${p}`;
          assert.equal(seen.get(k), undefined, `${k} owned by ${seen.get(k)} and ${m.memberId}`);
          seen.set(k, m.memberId);
        }
      }
    }
  }
}

describe('KIP-848 assignors', () => {
  const members = (subs: Record<string, string[]>) =>
    new Map(Object.entries(subs).map(([m, ts]) => [m, { subscribedTopicIds: new Set(ts), rackId: null }]));

  it('uniform balances 6 partitions over 3 members, 2 each', () => {
    const spec: AssignmentSpec = { members: members({ a: ['t'], b: ['t'], c: ['t'] }), topics: new Map([['t', 6]]), current: new Map() };
    const out = uniformAssignor.assign(spec);
    assert.equal(checkAssignment(spec, out), null);
    for (const m of ['a', 'b', 'c']) assert.equal(out.get(m)!.get('t')!.size, 2);
  });

  it('uniform is sticky: a new member takes partitions only from the loaded ones', () => {
    const spec1: AssignmentSpec = { members: members({ a: ['t'], b: ['t'] }), topics: new Map([['t', 6]]), current: new Map() };
    const first = uniformAssignor.assign(spec1);
    const spec2: AssignmentSpec = { members: members({ a: ['t'], b: ['t'], c: ['t'] }), topics: new Map([['t', 6]]), current: first };
    const second = uniformAssignor.assign(spec2);
    assert.equal(checkAssignment(spec2, second), null);
    for (const m of ['a', 'b']) {
      const kept = [...second.get(m)!.get('t')!].filter((p) => first.get(m)!.get('t')!.has(p));
      assert.equal(kept.length, 2, `member ${m} keeps 2 of its 3 partitions`);
    }
    assert.equal(second.get('c')!.get('t')!.size, 2);
  });

  it('uniform handles different subscriptions and uneven counts', () => {
    const spec: AssignmentSpec = {
      members: members({ a: ['t', 'u'], b: ['t'], c: ['u'], d: [] }),
      topics: new Map([['t', 5], ['u', 3], ['v', 4]]),
      current: new Map(),
    };
    const out = uniformAssignor.assign(spec);
    assert.equal(checkAssignment(spec, out), null);
    const count = (m: string) => [...out.get(m)!.values()].reduce((s, ps) => s + ps.size, 0);
    assert.equal(count('a') + count('b') + count('c'), 8);
    assert.equal(count('d'), 0);
    assert.ok(Math.abs(count('a') - count('b')) <= 1 && Math.abs(count('a') - count('c')) <= 1);
  });

  it('range gives contiguous ranges, first members one extra', () => {
    const spec: AssignmentSpec = { members: members({ b: ['t'], a: ['t'], c: ['t'] }), topics: new Map([['t', 7]]), current: new Map() };
    const out = rangeAssignor.assign(spec);
    assert.equal(checkAssignment(spec, out), null);
    assert.deepEqual([...out.get('a')!.get('t')!], [0, 1, 2]);
    assert.deepEqual([...out.get('b')!.get('t')!], [3, 4]);
    assert.deepEqual([...out.get('c')!.get('t')!], [5, 6]);
  });
});

describe('KIP-848 reconciliation', () => {
  const tp = (...ps: number[]): TopicPartitions => new Map([['t', new Set(ps)]]);
  const stable = (epoch: number, ...ps: number[]): MemberAssignmentState => ({
    memberEpoch: epoch,
    previousMemberEpoch: epoch - 1,
    state: 'stable',
    assigned: tp(...ps),
    pendingRevocation: new Map(),
  });

  it('revokes before advancing the epoch', () => {
    const m = stable(1, 0, 1, 2, 3);
    const r1 = reconcile(m, { targetEpoch: 2, target: tp(0, 1), ownedByOther: () => false, owned: tp(0, 1, 2, 3) });
    assert.equal(r1.state, 'unrevoked_partitions');
    assert.equal(r1.memberEpoch, 1);
    assert.deepEqual([...r1.assigned.get('t')!], [0, 1]);
    assert.deepEqual([...r1.pendingRevocation.get('t')!], [2, 3]);
    // Still owns 2: nothing moves.
    const r2 = reconcile(r1, { targetEpoch: 2, target: tp(0, 1), ownedByOther: () => false, owned: tp(0, 1, 2) });
    assert.equal(r2, r1);
    // Unknown ownership (no topicPartitions in the heartbeat): wait too.
    assert.equal(reconcile(r1, { targetEpoch: 2, target: tp(0, 1), ownedByOther: () => false, owned: null }), r1);
    const r3 = reconcile(r1, { targetEpoch: 2, target: tp(0, 1), ownedByOther: () => false, owned: tp(0, 1) });
    assert.equal(r3.state, 'stable');
    assert.equal(r3.memberEpoch, 2);
    assert.equal(r3.previousMemberEpoch, 1);
    assert.equal(r3.pendingRevocation.size, 0);
  });

  it('holds back partitions another member still owns', () => {
    const m = stable(1);
    const r1 = reconcile(m, { targetEpoch: 2, target: tp(2, 3), ownedByOther: (_t, p) => p === 3, owned: new Map() });
    assert.equal(r1.state, 'unreleased_partitions');
    assert.equal(r1.memberEpoch, 2);
    assert.deepEqual([...r1.assigned.get('t')!], [2]);
    const r2 = reconcile(r1, { targetEpoch: 2, target: tp(2, 3), ownedByOther: () => false, owned: tp(2) });
    assert.equal(r2.state, 'stable');
    assert.deepEqual([...r2.assigned.get('t')!].sort(), [2, 3]);
  });

  it('skips the revocation step when the member already released the partitions', () => {
    const m = stable(1, 0, 1);
    const r = reconcile(m, { targetEpoch: 2, target: tp(0), ownedByOther: () => false, owned: tp(0) });
    assert.equal(r.state, 'stable');
    assert.equal(r.memberEpoch, 2);
  });
});

describe('KIP-848 consumer group state machine', () => {
  it('moves partitions only after the old owner revoked them', () => {
    const topics = new FakeTopics().add('t', 4);
    const g = new ConsumerGroup('g', topics, settings);
    try {
      const a1 = g.heartbeat(join('A', ['t']), ctx);
      assert.equal(a1.errorCode, ErrorCode.NONE);
      assert.equal(a1.memberEpoch, 1);
      assert.deepEqual(parts(a1), ['id-t:0', 'id-t:1', 'id-t:2', 'id-t:3']);
      assert.equal(g.state, 'Stable');

      const b1 = g.heartbeat(join('B', ['t']), ctx);
      assert.equal(g.groupEpoch, 2);
      assert.equal(b1.memberEpoch, 2);
      assert.deepEqual(parts(b1), [], 'B gets nothing while A still owns everything');
      assert.equal(g.state, 'Reconciling');
      assertSingleOwner(g);

      const a2 = g.heartbeat(hb('A', 1, owned(a1)), ctx);
      assert.equal(a2.memberEpoch, 1, 'A stays at epoch 1 until it revoked');
      assert.equal(parts(a2)!.length, 2);
      assertSingleOwner(g);

      const b2 = g.heartbeat(hb('B', 2, owned(b1)), ctx);
      assert.equal(b2.assignment, null, 'still nothing new for B');
      assertSingleOwner(g);

      const a3 = g.heartbeat(hb('A', 1, owned(a2)), ctx);
      assert.equal(a3.memberEpoch, 2);
      assertSingleOwner(g);

      const b3 = g.heartbeat(hb('B', 2, owned(b1)), ctx);
      assert.equal(parts(b3)!.length, 2);
      assert.deepEqual([...parts(a2)!, ...parts(b3)!].sort(), ['id-t:0', 'id-t:1', 'id-t:2', 'id-t:3']);
      assert.equal(g.state, 'Stable');
      assertSingleOwner(g);

      // Offset commits carry the member epoch.
      assert.equal(g.validateOffsetCommit('A', 2, null), ErrorCode.NONE);
      assert.equal(g.validateOffsetCommit('A', 1, null), ErrorCode.STALE_MEMBER_EPOCH);
      assert.equal(g.validateOffsetCommit('A', 3, null), ErrorCode.FENCED_MEMBER_EPOCH);
      assert.equal(g.validateOffsetCommit('nobody', 2, null), ErrorCode.UNKNOWN_MEMBER_ID);
      assert.equal(g.validateOffsetCommit('', -1, null), ErrorCode.UNKNOWN_MEMBER_ID, 'admin commit to a non-empty group');
      assert.equal(g.validateOffsetFetch(null, -1), ErrorCode.NONE);
      assert.equal(g.validateOffsetFetch('B', 1), ErrorCode.STALE_MEMBER_EPOCH);

      // A leaves: B gets everything at a new epoch.
      const leave = g.leave(req({ memberId: 'A', memberEpoch: -1 }));
      assert.equal(leave.memberEpoch, -1);
      assert.equal(g.groupEpoch, 3);
      const b4 = g.heartbeat(hb('B', 2, owned(b3)), ctx);
      assert.equal(b4.memberEpoch, 3);
      assert.equal(parts(b4)!.length, 4);
      assert.equal(g.validateOffsetCommit('', -1, null), ErrorCode.UNKNOWN_MEMBER_ID);
    } finally {
      g.close();
    }
  });

  it('fences stale and future epochs, tolerates a lost response', () => {
    const g = new ConsumerGroup('g', new FakeTopics().add('t', 2), settings);
    try {
      const a1 = g.heartbeat(join('A', ['t']), ctx);
      assert.equal(a1.memberEpoch, 1);
      assert.throws(() => g.heartbeat(hb('A', 5, null), ctx), (e: any) => e.code === ErrorCode.FENCED_MEMBER_EPOCH);
      assert.throws(() => g.heartbeat(hb('X', 1, null), ctx), (e: any) => e.code === ErrorCode.UNKNOWN_MEMBER_ID);
      // B joins (epoch 2); A revokes and moves to epoch 2, but pretend A never saw that response.
      const b1 = g.heartbeat(join('B', ['t']), ctx);
      const a2 = g.heartbeat(hb('A', 1, owned(a1)), ctx);
      const a3 = g.heartbeat(hb('A', 1, owned(a2)), ctx);
      assert.equal(a3.memberEpoch, 2);
      const again = g.heartbeat(hb('A', 1, owned(a2)), ctx);
      assert.equal(again.memberEpoch, 2, 'previous epoch + subset of the assignment is accepted');
      assert.throws(() => g.heartbeat(hb('A', 1, owned(a1)), ctx), (e: any) => e.code === ErrorCode.FENCED_MEMBER_EPOCH);
      assert.ok(b1.memberEpoch === 2);
    } finally {
      g.close();
    }
  });

  it('bumps the epoch when partitions are added and when regex matches a new topic', () => {
    const topics = new FakeTopics().add('orders', 2);
    const g = new ConsumerGroup('g', topics, settings);
    try {
      const a1 = g.heartbeat(join('A', [], { subscribedTopicNames: null, subscribedTopicRegex: 'ord.*' }), ctx);
      assert.equal(parts(a1)!.length, 2);
      topics.add('orders', 3);
      const a2 = g.heartbeat(hb('A', a1.memberEpoch!, owned(a1)), ctx);
      assert.equal(g.groupEpoch, 2);
      assert.equal(parts(a2)!.length, 3);
      topics.add('orders-eu', 1).add('xorders', 1);
      const a3 = g.heartbeat(hb('A', a2.memberEpoch!, owned(a2)), ctx);
      assert.deepEqual(parts(a3), ['id-orders-eu:0', 'id-orders:0', 'id-orders:1', 'id-orders:2']);
    } finally {
      g.close();
    }
  });

  it('removes a member that does not revoke within its rebalance timeout', async () => {
    const g = new ConsumerGroup('g', new FakeTopics().add('t', 2), settings);
    try {
      g.heartbeat(join('A', ['t'], { rebalanceTimeoutMs: 50 }), ctx);
      const b1 = g.heartbeat(join('B', ['t']), ctx);
      const a2 = g.heartbeat(hb('A', 1, new Map([['id-t', new Set([0, 1])]])), ctx);
      assert.equal(a2.memberEpoch, 1);
      assert.equal(g.members.get('A')!.state, 'unrevoked_partitions');
      // The rebalance timeout (50 ms) fences A; wait for that, not for a fixed time.
      await waitFor(() => !g.members.has('A'), 5_000, 'A to be fenced after its rebalance timeout');
      const b2 = g.heartbeat(hb('B', b1.memberEpoch!, owned(b1)), ctx);
      assert.equal(parts(b2)!.length, 2);
      assertSingleOwner(g);
    } finally {
      g.close();
    }
  });

  it('drops partitions of a deleted topic without a revocation step', () => {
    const topics = new FakeTopics().add('t', 2).add('u', 1);
    const g = new ConsumerGroup('g', topics, settings);
    try {
      const a1 = g.heartbeat(join('A', ['t', 'u']), ctx);
      assert.equal(parts(a1)!.length, 3);
      topics.remove('t');
      const a2 = g.heartbeat(hb('A', a1.memberEpoch!, owned(a1)), ctx);
      assert.equal(a2.memberEpoch, 2);
      assert.deepEqual(parts(a2), ['id-u:0']);
      assert.equal(g.members.get('A')!.state, 'stable');
    } finally {
      g.close();
    }
  });

  it('static members keep their assignment across a restart', () => {
    const g = new ConsumerGroup('g', new FakeTopics().add('t', 2), settings);
    try {
      const a1 = g.heartbeat(join('A1', ['t'], { instanceId: 'i-1' }), ctx);
      assert.throws(() => g.heartbeat(join('A2', ['t'], { instanceId: 'i-1' }), ctx), (e: any) => e.code === ErrorCode.UNRELEASED_INSTANCE_ID);
      const left = g.leave(req({ memberId: 'A1', memberEpoch: -2, instanceId: 'i-1' }));
      assert.equal(left.memberEpoch, -2);
      const epochBefore = g.groupEpoch;
      const a2 = g.heartbeat(join('A2', ['t'], { instanceId: 'i-1' }), ctx);
      assert.equal(g.groupEpoch, epochBefore, 'no rebalance');
      assert.equal(a2.memberEpoch, a1.memberEpoch);
      assert.deepEqual(parts(a2), parts(a1));
      assert.equal(g.members.has('A1'), false);
    } finally {
      g.close();
    }
  });

  it('service: validation errors, unknown groups, max size, unsupported assignor, describe', () => {
    const svc = new ConsumerGroupService({ settings, topics: new FakeTopics().add('t', 3) });
    try {
      const code = (r: ConsumerGroupHeartbeatRequest, v = 1) => svc.heartbeatSync(r, { ...ctx, apiVersion: v }).errorCode;
      assert.equal(code(join('A', ['t'], { groupId: '' })), ErrorCode.INVALID_REQUEST);
      assert.equal(code(join('', ['t'])), ErrorCode.INVALID_REQUEST, 'v1 needs a client-generated member id');
      assert.equal(code(join('A', ['t'], { rebalanceTimeoutMs: -1 })), ErrorCode.INVALID_REQUEST);
      assert.equal(code(join('A', ['t'], { topicPartitions: null })), ErrorCode.INVALID_REQUEST);
      assert.equal(code(join('A', [], { subscribedTopicNames: null })), ErrorCode.INVALID_REQUEST);
      assert.equal(code(join('A', [], { subscribedTopicNames: null, subscribedTopicRegex: '(' })), ErrorCode.INVALID_REGULAR_EXPRESSION);
      assert.equal(code(join('A', ['t'], { serverAssignor: 'sticky' })), ErrorCode.UNSUPPORTED_ASSIGNOR);
      assert.equal(code(req({ memberId: 'A', memberEpoch: -3 })), ErrorCode.INVALID_REQUEST);
      assert.equal(code(req({ memberId: 'A', memberEpoch: -2 })), ErrorCode.INVALID_REQUEST, 'static leave needs an instance id');
      assert.equal(code(hb('A', 1, null)), ErrorCode.GROUP_ID_NOT_FOUND);
      const v0 = svc.heartbeatSync(join('', ['t']), { ...ctx, apiVersion: 0 });
      assert.equal(v0.errorCode, ErrorCode.NONE);
      assert.ok(v0.memberId && v0.memberId.length > 0, 'v0: the coordinator picks the member id');
      assert.equal(code(join('B', ['t'], { serverAssignor: 'range' })), ErrorCode.NONE);
      assert.equal(code(join('C', ['t'])), ErrorCode.NONE);
      assert.equal(code(join('D', ['t'])), ErrorCode.GROUP_MAX_SIZE_REACHED);
      assert.equal(code(hb('nobody', 1, null)), ErrorCode.UNKNOWN_MEMBER_ID);
      const [d, missing] = svc.describe(['g', 'nope']);
      assert.equal(d!.errorCode, ErrorCode.NONE);
      assert.equal(d!.members!.length, 3);
      assert.equal(d!.assignorName, 'range');
      assert.equal(missing!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    } finally {
      svc.close();
    }
  });
});
