// The topology of a streams group (KIP-1071): what the first member sends, checked, and "configured"
// against the cluster's topics — how many tasks each subtopology has, which source topics are
// missing, and which internal topics (repartition, changelog) the broker must create.
import type { StreamsGroupHeartbeatRequestTopology } from '../../../protocol/gen/streams-group-heartbeat.js';
import { compileTopicRegex } from '../consumer-protocol/consumer-group.js';

/** StreamsGroupHeartbeatResponse.Status codes (Kafka's values). */
export const StreamsStatus = {
  STALE_TOPOLOGY: 0,
  MISSING_SOURCE_TOPICS: 1,
  INCORRECTLY_PARTITIONED_TOPICS: 2,
  MISSING_INTERNAL_TOPICS: 3,
  SHUTDOWN_APPLICATION: 4,
  ASSIGNMENT_DELAYED: 5,
} as const;

export interface InternalTopic {
  name: string;
  /** 0 = derived from the subtopology's source topics. */
  partitions: number;
  /** 0 = broker default. */
  replicationFactor: number;
  configs: { key: string; value: string }[];
}

export interface Subtopology {
  subtopologyId: string;
  sourceTopics: string[];
  sourceTopicRegex: string[];
  stateChangelogTopics: InternalTopic[];
  repartitionSinkTopics: string[];
  repartitionSourceTopics: InternalTopic[];
  copartitionGroups: { sourceTopics: number[]; sourceTopicRegex: number[]; repartitionSourceTopics: number[] }[];
}

export interface StreamsTopology {
  epoch: number;
  subtopologies: Subtopology[];
}

export class InvalidTopologyError extends Error {}

/** A copy of the wire topology (the request object is not kept). */
export function topologyFromWire(t: StreamsGroupHeartbeatRequestTopology): StreamsTopology {
  const topic = (i: { name: string; partitions: number; replicationFactor: number; topicConfigs: { key: string; value: string }[] }) => ({
    name: i.name,
    partitions: i.partitions,
    replicationFactor: i.replicationFactor,
    configs: i.topicConfigs.map((c) => ({ key: c.key, value: c.value })),
  });
  return {
    epoch: t.epoch,
    subtopologies: t.subtopologies.map((s) => ({
      subtopologyId: s.subtopologyId,
      sourceTopics: [...s.sourceTopics],
      sourceTopicRegex: [...s.sourceTopicRegex],
      stateChangelogTopics: s.stateChangelogTopics.map(topic),
      repartitionSinkTopics: [...s.repartitionSinkTopics],
      repartitionSourceTopics: s.repartitionSourceTopics.map(topic),
      copartitionGroups: s.copartitionGroups.map((g) => ({
        sourceTopics: [...g.sourceTopics],
        sourceTopicRegex: [...g.sourceTopicRegex],
        repartitionSourceTopics: [...g.repartitionSourceTopics],
      })),
    })),
  };
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka's structural checks of a topology; throws InvalidTopologyError with the reason. */
export function validateTopology(t: StreamsTopology): void {
  const bad = (msg: string) => new InvalidTopologyError(msg);
  const ids = new Set<string>();
  const sources = new Set<string>();
  const internal = new Set<string>();
  const repartitionSources = new Set<string>();
  for (const s of t.subtopologies) {
    if (s.subtopologyId === '') throw bad('Subtopology ids must not be empty.');
    if (ids.has(s.subtopologyId)) throw bad(`Duplicate subtopology id ${s.subtopologyId}.`);
    ids.add(s.subtopologyId);
    if (s.sourceTopics.length + s.sourceTopicRegex.length + s.repartitionSourceTopics.length === 0) {
      throw bad(`Subtopology ${s.subtopologyId} has no source topics.`);
    }
    for (const name of s.sourceTopics) {
      if (!LEGAL_TOPIC.test(name)) throw bad(`Source topic name ${name} is not a legal topic name.`);
      sources.add(name);
    }
    for (const re of s.sourceTopicRegex) {
      try {
        compileTopicRegex(re);
      } catch {
        throw bad(`Source topic regex ${re} of subtopology ${s.subtopologyId} is not a valid regular expression.`);
      }
    }
    for (const i of [...s.stateChangelogTopics, ...s.repartitionSourceTopics]) {
      if (!LEGAL_TOPIC.test(i.name)) throw bad(`Internal topic name ${i.name} is not a legal topic name.`);
      if (i.partitions < 0) throw bad(`Internal topic ${i.name} has a negative partition count.`);
      if (internal.has(i.name)) throw bad(`Internal topic ${i.name} is declared twice.`);
      internal.add(i.name);
    }
    for (const r of s.repartitionSourceTopics) repartitionSources.add(r.name);
    for (const g of s.copartitionGroups) {
      for (const i of g.sourceTopics) if (i < 0 || i >= s.sourceTopics.length) throw bad(`Copartition group of subtopology ${s.subtopologyId} refers to source topic index ${i}.`);
      for (const i of g.sourceTopicRegex) if (i < 0 || i >= s.sourceTopicRegex.length) throw bad(`Copartition group of subtopology ${s.subtopologyId} refers to source topic regex index ${i}.`);
      for (const i of g.repartitionSourceTopics) {
        if (i < 0 || i >= s.repartitionSourceTopics.length) throw bad(`Copartition group of subtopology ${s.subtopologyId} refers to repartition source topic index ${i}.`);
      }
    }
  }
  for (const name of sources) if (internal.has(name)) throw bad(`Topic ${name} is both a source topic and an internal topic.`);
  for (const s of t.subtopologies) {
    for (const sink of s.repartitionSinkTopics) {
      if (!repartitionSources.has(sink)) throw bad(`Repartition sink topic ${sink} of subtopology ${s.subtopologyId} is not a repartition source topic of any subtopology.`);
    }
  }
}

export interface TopicLookup {
  partitionsOf(name: string): number | undefined;
  names(): Iterable<string>;
}

/** The topology set against the cluster: task counts when ready, else what is missing. */
export interface ConfiguredTopology {
  /** subtopologyId → number of tasks (partitions), only when every topic is there. */
  taskCounts: Map<string, number> | null;
  missingSourceTopics: string[];
  /** Internal topics to create, with their partition count resolved. */
  missingInternalTopics: (InternalTopic & { partitions: number; cleanupPolicy: 'compact' | 'delete' })[];
  /** Copartitioned topics with different partition counts. */
  incorrectlyPartitioned: string[];
  /** subtopologyId → the resolved source topic names (for partitionsByUserEndpoint). */
  sourceTopicsOf: Map<string, string[]>;
}

/**
 * Resolves the topology against existing topics, like Kafka's InternalTopicManager: a subtopology
 * has as many tasks as its largest source topic; a repartition topic without an explicit count
 * gets the task count of the subtopology writing into it; a changelog gets its subtopology's count.
 */
export function configureTopology(t: StreamsTopology, topics: TopicLookup): ConfiguredTopology {
  const missingSourceTopics: string[] = [];
  const sourceTopicsOf = new Map<string, string[]>();
  const allNames = [...topics.names()];
  for (const s of t.subtopologies) {
    const names = [...s.sourceTopics];
    for (const re of s.sourceTopicRegex) {
      const r = compileTopicRegex(re);
      for (const n of allNames) if (r.test(n) && !n.startsWith('__')) names.push(n);
    }
    for (const n of s.sourceTopics) if (topics.partitionsOf(n) === undefined) missingSourceTopics.push(n);
    sourceTopicsOf.set(s.subtopologyId, [...new Set([...names, ...s.repartitionSourceTopics.map((r) => r.name)])]);
  }
  const empty = { taskCounts: null, missingInternalTopics: [], incorrectlyPartitioned: [], sourceTopicsOf };
  if (missingSourceTopics.length > 0) return { ...empty, missingSourceTopics: [...new Set(missingSourceTopics)].sort() };

  // Repartition topic partition counts: explicit, existing, or from the writing subtopology (fixpoint).
  const repartitionCount = new Map<string, number>();
  for (const s of t.subtopologies) {
    for (const r of s.repartitionSourceTopics) {
      const existing = topics.partitionsOf(r.name);
      if (r.partitions > 0) repartitionCount.set(r.name, r.partitions);
      else if (existing !== undefined) repartitionCount.set(r.name, existing);
    }
  }
  const taskCount = (s: Subtopology): number | undefined => {
    let n = 0;
    for (const name of sourceTopicsOf.get(s.subtopologyId)!) {
      const p = s.repartitionSourceTopics.some((r) => r.name === name) ? repartitionCount.get(name) : topics.partitionsOf(name);
      if (p === undefined) return undefined;
      n = Math.max(n, p);
    }
    return n;
  };
  for (let round = 0; round <= t.subtopologies.length; round++) {
    let progressed = false;
    for (const s of t.subtopologies) {
      const n = taskCount(s);
      if (n === undefined) continue;
      for (const sink of s.repartitionSinkTopics) {
        if (!repartitionCount.has(sink)) {
          repartitionCount.set(sink, n);
          progressed = true;
        }
      }
    }
    if (!progressed) break;
  }
  const taskCounts = new Map<string, number>();
  for (const s of t.subtopologies) {
    const n = taskCount(s);
    if (n === undefined || n === 0) throw new InvalidTopologyError(`The number of partitions of subtopology ${s.subtopologyId} cannot be determined.`);
    taskCounts.set(s.subtopologyId, n);
  }

  const incorrectlyPartitioned: string[] = [];
  for (const s of t.subtopologies) {
    for (const g of s.copartitionGroups) {
      const names = [...g.sourceTopics.map((i) => s.sourceTopics[i]!), ...g.repartitionSourceTopics.map((i) => s.repartitionSourceTopics[i]!.name)];
      const counts = new Set(names.map((n) => repartitionCount.get(n) ?? topics.partitionsOf(n)));
      if (counts.size > 1) incorrectlyPartitioned.push(...names.filter((n) => !repartitionCount.has(n)));
    }
  }

  const missingInternalTopics: ConfiguredTopology['missingInternalTopics'] = [];
  for (const s of t.subtopologies) {
    for (const r of s.repartitionSourceTopics) {
      if (topics.partitionsOf(r.name) === undefined) {
        missingInternalTopics.push({ ...r, partitions: repartitionCount.get(r.name)!, cleanupPolicy: 'delete' });
      }
    }
    for (const c of s.stateChangelogTopics) {
      if (topics.partitionsOf(c.name) === undefined) {
        missingInternalTopics.push({ ...c, partitions: c.partitions > 0 ? c.partitions : taskCounts.get(s.subtopologyId)!, cleanupPolicy: 'compact' });
      }
    }
  }
  return {
    taskCounts: missingInternalTopics.length === 0 && incorrectlyPartitioned.length === 0 ? taskCounts : null,
    missingSourceTopics: [],
    missingInternalTopics,
    incorrectlyPartitioned: [...new Set(incorrectlyPartitioned)].sort(),
    sourceTopicsOf,
  };
}
