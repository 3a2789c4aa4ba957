// KIP-392, fetch from the closest replica: which replica a consumer should read a partition from.
// The leader answers a consumer Fetch that names its rack with preferred_read_replica (and no
// records); the client then fetches from that follower, which serves up to the high watermark it
// has learned from the leader. Kafka plugs this in through replica.selector.class; Fjord knows
// Kafka's two selectors by their class names.
import type { Partition } from './partition.js';

export const RACK_AWARE_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';

export type ReplicaSelector = 'leader' | 'rack-aware';

/** The selector a replica.selector.class value names (unset = leader: today's behaviour). */
export function replicaSelectorOf(className: string | null): ReplicaSelector {
  return className === RACK_AWARE_SELECTOR ? 'rack-aware' : 'leader';
}

/**
 * RackAwareReplicaSelector as the leader of `p` applies it: an in-sync follower in the client's
 * rack that holds `fetchOffset` (the most caught-up one, then the most recently caught up), or -1
 * when the leader itself is in that rack or no such follower exists (Kafka never names the leader:
 * the leader then answers with records as usual).
 */
export function preferredReadReplica(
  p: Partition,
  clientRack: string,
  fetchOffset: number,
  rackOf: (nodeId: number) => string | null | undefined,
  now: number,
): number {
  if (!clientRack || p.role !== 'leader' || rackOf(p.nodeId) === clientRack) return -1;
  let best = -1;
  let bestOffset = -1;
  let bestLagMs = Infinity;
  for (const id of p.isr) {
    if (id === p.nodeId || rackOf(id) !== clientRack) continue;
    const f = p.followers.get(id);
    // Excludes followers that do not hold the offset yet (the client would get an error there).
    if (!f || f.offset < fetchOffset || fetchOffset < p.log.logStartOffset) continue;
    const lagMs = now - f.lastCaughtUpMs;
    if (f.offset > bestOffset || (f.offset === bestOffset && lagMs < bestLagMs)) {
      best = id;
      bestOffset = f.offset;
      bestLagMs = lagMs;
    }
  }
  return best;
}
