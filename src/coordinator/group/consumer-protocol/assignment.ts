// Assignment values used by the consumer-protocol (KIP-848) group: topic id → partition set.
// Small helpers keep the reconciliation code readable; nothing here knows about members.

/** topicId → partitions. Empty sets are never stored. */
export type TopicPartitions = Map<string, Set<number>>;

export function cloneAssignment(a: TopicPartitions): TopicPartitions {
  const out: TopicPartitions = new Map();
  for (const [t, ps] of a) if (ps.size > 0) out.set(t, new Set(ps));
  return out;
}

function assignmentSize(a: TopicPartitions): number {
  let n = 0;
  for (const ps of a.values()) n += ps.size;
  return n;
}

export function addPartition(a: TopicPartitions, topicId: string, partition: number): void {
  let ps = a.get(topicId);
  if (!ps) a.set(topicId, (ps = new Set()));
  ps.add(partition);
}

function hasPartition(a: TopicPartitions, topicId: string, partition: number): boolean {
  return a.get(topicId)?.has(partition) ?? false;
}

export function assignmentsEqual(a: TopicPartitions, b: TopicPartitions): boolean {
  if (assignmentSize(a) !== assignmentSize(b)) return false;
  for (const [t, ps] of a) for (const p of ps) if (!hasPartition(b, t, p)) return false;
  return true;
}

/** Every partition of `a` is in `b`. */
export function isSubset(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [t, ps] of a) for (const p of ps) if (!hasPartition(b, t, p)) return false;
  return true;
}

/** Some partition is in both. */
export function intersects(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [t, ps] of a) for (const p of ps) if (hasPartition(b, t, p)) return true;
  return false;
}

/** From the wire form ({topicId, partitions}[]). */
export function fromWire(list: readonly { topicId: string; partitions: readonly number[] }[]): TopicPartitions {
  const out: TopicPartitions = new Map();
  for (const tp of list) for (const p of tp.partitions) addPartition(out, tp.topicId, p);
  return out;
}

/** To the wire form, topics and partitions sorted for stable output. */
export function toWire(a: TopicPartitions): { topicId: string; partitions: number[] }[] {
  return [...a.entries()]
    .filter(([, ps]) => ps.size > 0)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}
