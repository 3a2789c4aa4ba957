// Server-side assignors of consumer-protocol (KIP-848) groups: `uniform` (sticky and balanced, the
// default) and `range` (contiguous ranges per topic). They compute the group's TARGET assignment;
// members converge to it through reconciliation (./reconciliation.ts).
import { addPartition, type TopicPartitions } from './assignment.js';

export interface AssignmentMemberSpec {
  /** Topic ids the member subscribes to (names and regex already resolved). */
  readonly subscribedTopicIds: ReadonlySet<string>;
  readonly rackId: string | null;
}

export interface AssignmentSpec {
  readonly members: ReadonlyMap<string, AssignmentMemberSpec>;
  /** topicId → partition count, for every topic some member subscribes to. */
  readonly topics: ReadonlyMap<string, number>;
  /** The current target assignment (stickiness: keep what can be kept). */
  readonly current: ReadonlyMap<string, TopicPartitions>;
}

export interface ServerAssignor {
  readonly name: string;
  assign(spec: AssignmentSpec): Map<string, TopicPartitions>;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Uniform: every partition goes to one subscribed member; member partition counts differ by at
 * most one among members that could take each other's partitions; partitions stay where they
 * were whenever balance allows.
 */
export const uniformAssignor: ServerAssignor = {
  name: 'uniform',
  assign(spec) {
    const memberIds = [...spec.members.keys()].sort(byString);
    const result = new Map<string, TopicPartitions>(memberIds.map((m) => [m, new Map()]));
    const counts = new Map<string, number>(memberIds.map((m) => [m, 0]));
    const owner = new Map<string, string>(); // "topicId:partition" → member
    const subscribers = new Map<string, string[]>(); // topicId → members, sorted
    for (const m of memberIds) {
      for (const t of spec.members.get(m)!.subscribedTopicIds) {
        if (!spec.topics.has(t)) continue;
        let list = subscribers.get(t);
        if (!list) subscribers.set(t, (list = []));
        list.push(m);
      }
    }
    const give = (m: string, t: string, p: number) => {
      addPartition(result.get(m)!, t, p);
      counts.set(m, counts.get(m)! + 1);
      owner.set(`${t}:${p}`, m);
    };
    const take = (m: string, t: string, p: number) => {
      const ps = result.get(m)!.get(t)!;
      ps.delete(p);
      if (ps.size === 0) result.get(m)!.delete(t);
      counts.set(m, counts.get(m)! - 1);
      owner.delete(`${t}:${p}`);
    };

    // 1. Sticky: keep current partitions that are still valid for their member.
    for (const m of memberIds) {
      const cur = spec.current.get(m);
      if (!cur) continue;
      const subs = spec.members.get(m)!.subscribedTopicIds;
      for (const [t, ps] of cur) {
        const n = spec.topics.get(t);
        if (n === undefined || !subs.has(t)) continue;
        for (const p of [...ps].sort((a, b) => a - b)) if (p < n && !owner.has(`${t}:${p}`)) give(m, t, p);
      }
    }
    // 2. Every unowned partition to its least loaded subscriber.
    const leastLoaded = (cands: readonly string[], exclude?: string): string | undefined => {
      let best: string | undefined;
      for (const c of cands) if (c !== exclude && (best === undefined || counts.get(c)! < counts.get(best)!)) best = c;
      return best;
    };
    for (const t of [...subscribers.keys()].sort(byString)) {
      const n = spec.topics.get(t)!;
      for (let p = 0; p < n; p++) {
        if (owner.has(`${t}:${p}`)) continue;
        give(leastLoaded(subscribers.get(t)!)!, t, p);
      }
    }
    // 3. Balance: move a partition from a member to another subscriber with at least two fewer.
    const totalPartitions = [...subscribers.keys()].reduce((s, t) => s + spec.topics.get(t)!, 0);
    const maxMoves = totalPartitions * Math.max(1, memberIds.length);
    for (let moves = 0; moves < maxMoves; moves++) {
      let moved = false;
      const heaviest = [...memberIds].sort((a, b) => counts.get(b)! - counts.get(a)! || byString(a, b));
      for (const from of heaviest) {
        const assigned = result.get(from)!;
        const topics = [...assigned.keys()].sort(byString).reverse();
        for (const t of topics) {
          const ps = [...assigned.get(t)!].sort((a, b) => b - a);
          for (const p of ps) {
            const to = leastLoaded(subscribers.get(t)!, from);
            if (to !== undefined && counts.get(to)! < counts.get(from)! - 1) {
              take(from, t, p);
              give(to, t, p);
              moved = true;
              break;
            }
          }
          if (moved) break;
        }
        if (moved) break;
      }
      if (!moved) break;
    }
    return result;
  },
};

/** Range: per topic, subscribers sorted by member id get contiguous ranges (first ones one extra). */
export const rangeAssignor: ServerAssignor = {
  name: 'range',
  assign(spec) {
    const memberIds = [...spec.members.keys()].sort(byString);
    const result = new Map<string, TopicPartitions>(memberIds.map((m) => [m, new Map()]));
    for (const [t, n] of [...spec.topics.entries()].sort(([a], [b]) => byString(a, b))) {
      const subs = memberIds.filter((m) => spec.members.get(m)!.subscribedTopicIds.has(t));
      if (subs.length === 0) continue;
      const per = Math.floor(n / subs.length);
      const extra = n % subs.length;
      let p = 0;
      subs.forEach((m, i) => {
        const count = per + (i < extra ? 1 : 0);
        for (let k = 0; k < count; k++) addPartition(result.get(m)!, t, p++);
      });
    }
    return result;
  },
};

const BUILT_IN: Record<string, ServerAssignor> = {
  uniform: uniformAssignor,
  range: rangeAssignor,
  'org.apache.kafka.coordinator.group.assignor.UniformAssignor': uniformAssignor,
  'org.apache.kafka.coordinator.group.assignor.RangeAssignor': rangeAssignor,
};

/** Resolves `group.consumer.assignors` entries (names or Kafka class names) to assignors. */
export function resolveAssignors(names: readonly string[]): ServerAssignor[] {
  const out: ServerAssignor[] = [];
  for (const n of names) {
    const a = BUILT_IN[n.trim()];
    if (a && !out.includes(a)) out.push(a);
  }
  return out.length > 0 ? out : [uniformAssignor];
}

/** Checks that every subscribed partition is assigned exactly once (for tests and assertions). */
export function checkAssignment(spec: AssignmentSpec, result: ReadonlyMap<string, TopicPartitions>): string | null {
  const seen = new Set<string>();
  for (const [m, a] of result) {
    const subs = spec.members.get(m)?.subscribedTopicIds;
    for (const [t, ps] of a) {
      for (const p of ps) {
        if (!subs?.has(t)) return `member ${m} got ${t}:${p} without subscribing`;
        const k = `${t}:${p}`;
        if (seen.has(k)) return `${k} assigned twice`;
        seen.add(k);
      }
    }
  }
  for (const [t, n] of spec.topics) {
    const subscribed = [...spec.members.values()].some((s) => s.subscribedTopicIds.has(t));
    if (!subscribed) continue;
    for (let p = 0; p < n; p++) if (!seen.has(`${t}:${p}`)) return `${t}:${p} unassigned`;
  }
  return null;
}
