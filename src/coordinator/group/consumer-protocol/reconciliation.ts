// Per-member reconciliation of a consumer-protocol (KIP-848) group: moves a member from its
// current assignment towards its target assignment, one heartbeat at a time.
//
// Rules (KIP-848 "Reconciliation"):
//  - Partitions that leave the member are revoked first: while the member still owns any of them
//    it stays in UNREVOKED_PARTITIONS at its old epoch, and its assignment is the kept partitions
//    only (no new ones).
//  - Once the member reports (owned partitions in its heartbeat) that it released them, it gets the
//    new epoch (the target assignment epoch) and every new partition that is FREE. A partition
//    another member still owns (assigned or pending revocation) is held back: the member is then
//    UNRELEASED_PARTITIONS at the new epoch and gets it on a later heartbeat, after the old owner
//    let go. So a partition never has two owners.
//  - Partitions of a deleted topic are dropped at once: nobody else can get them.
import { addPartition, cloneAssignment, intersects, type TopicPartitions } from './assignment.js';

export type MemberState = 'stable' | 'unrevoked_partitions' | 'unreleased_partitions';

export interface MemberAssignmentState {
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  /** What the member may consume now (sent in heartbeat responses). */
  readonly assigned: TopicPartitions;
  /** What the member must give up before it advances. */
  readonly pendingRevocation: TopicPartitions;
}

export interface ReconcileInput {
  readonly targetEpoch: number;
  readonly target: TopicPartitions;
  /** Whether (topicId, partition) is owned by a member OTHER than this one. */
  readonly ownedByOther: (topicId: string, partition: number) => boolean;
  /** Partitions the member says it owns in this heartbeat; null when it did not say. */
  readonly owned: TopicPartitions | null;
  /** False for deleted topics: their partitions are dropped without a revocation step. */
  readonly topicExists?: (topicId: string) => boolean;
}

/** The member's next state. Returns the same object when nothing changes. */
export function reconcile(member: MemberAssignmentState, input: ReconcileInput): MemberAssignmentState {
  switch (member.state) {
    case 'stable':
      if (member.memberEpoch === input.targetEpoch) return member;
      return computeNext(member, input);
    case 'unrevoked_partitions':
      // Still owns (or did not tell us it released) partitions being revoked: wait.
      if (input.owned === null || intersects(input.owned, member.pendingRevocation)) return member;
      return computeNext(member, input);
    case 'unreleased_partitions':
      return computeNext(member, input);
  }
}

function computeNext(member: MemberAssignmentState, input: ReconcileInput): MemberAssignmentState {
  const kept: TopicPartitions = new Map();
  const revoking: TopicPartitions = new Map();
  const withNew = cloneAssignment(member.assigned);
  let unreleased = false;
  const topics = new Set<string>([...input.target.keys(), ...member.assigned.keys()]);
  for (const t of topics) {
    const target = input.target.get(t) ?? new Set<number>();
    const current = member.assigned.get(t) ?? new Set<number>();
    const deleted = input.topicExists ? !input.topicExists(t) : false;
    for (const p of current) {
      if (target.has(p)) addPartition(kept, t, p);
      else {
        if (!deleted) addPartition(revoking, t, p);
        withNew.get(t)?.delete(p);
        if (withNew.get(t)?.size === 0) withNew.delete(t);
      }
    }
    for (const p of target) {
      if (current.has(p)) continue;
      if (input.ownedByOther(t, p)) unreleased = true;
      else addPartition(withNew, t, p);
    }
  }
  // Revocation first, unless the member already told us it no longer owns those partitions.
  if (revoking.size > 0 && (input.owned === null || intersects(input.owned, revoking))) {
    return next(member, member.memberEpoch, 'unrevoked_partitions', kept, revoking);
  }
  if (unreleased) return next(member, input.targetEpoch, 'unreleased_partitions', withNew, new Map());
  return next(member, input.targetEpoch, 'stable', withNew, new Map());
}

function next(
  member: MemberAssignmentState,
  epoch: number,
  state: MemberState,
  assigned: TopicPartitions,
  pendingRevocation: TopicPartitions,
): MemberAssignmentState {
  return {
    memberEpoch: epoch,
    previousMemberEpoch: epoch !== member.memberEpoch ? member.memberEpoch : member.previousMemberEpoch,
    state,
    assigned,
    pendingRevocation,
  };
}
