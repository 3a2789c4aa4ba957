// The share-group assignor `simple` (KIP-932): every partition of a subscribed topic goes to at
// least one subscriber; with more subscribers than partitions, subscribers are spread over the
// partitions so that several members share each one (work is handed out per record anyway).
import { addPartition, type TopicPartitions } from '../group/consumer-protocol/assignment.js';

export interface ShareAssignor {
  readonly name: string;
  /** members: memberId → subscribed topic ids; topics: topicId → partition count. */
  assign(members: ReadonlyMap<string, ReadonlySet<string>>, topics: ReadonlyMap<string, number>): Map<string, TopicPartitions>;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const simpleShareAssignor: ShareAssignor = {
  name: 'simple',
  assign(members, topics) {
    const ids = [...members.keys()].sort(byString);
    const out = new Map<string, TopicPartitions>(ids.map((m) => [m, new Map()]));
    const load = new Map<string, number>(ids.map((m) => [m, 0]));
    for (const topicId of [...topics.keys()].sort(byString)) {
      const n = topics.get(topicId)!;
      if (n <= 0) continue;
      // Least-loaded subscribers first, so several topics spread over different members.
      const subs = ids.filter((m) => members.get(m)!.has(topicId)).sort((a, b) => load.get(a)! - load.get(b)! || byString(a, b));
      if (subs.length === 0) continue;
      if (subs.length <= n) {
        for (let p = 0; p < n; p++) {
          const m = subs[p % subs.length]!;
          addPartition(out.get(m)!, topicId, p);
          load.set(m, load.get(m)! + 1);
        }
      } else {
        for (let i = 0; i < subs.length; i++) {
          const m = subs[i]!;
          addPartition(out.get(m)!, topicId, i % n);
          load.set(m, load.get(m)! + 1);
        }
      }
    }
    return out;
  },
};
