// The streams group's task assignor: sticky and balanced, like Kafka's StickyTaskAssignor in
// spirit. Active tasks: each member first keeps up to its fair share of the tasks it had, the rest
// go one by one to the least loaded member (the previous owner when it is among the least loaded),
// so member loads differ by at most one. Standby tasks: `numStandbyReplicas` copies of each task on
// other members (another process when possible), least loaded first.
import { addPartition, type TopicPartitions } from '../consumer-protocol/assignment.js';

export interface TaskAssignment {
  active: TopicPartitions;
  standby: TopicPartitions;
}

export interface AssignorInput {
  /** memberId → processId, in a stable order. */
  members: Map<string, string>;
  /** subtopologyId → task count. */
  taskCounts: Map<string, number>;
  /** The previous target assignment. */
  previous: Map<string, TaskAssignment>;
  numStandbyReplicas: number;
}

const has = (a: TopicPartitions, s: string, p: number) => a.get(s)?.has(p) ?? false;

export function assignTasks(input: AssignorInput): Map<string, TaskAssignment> {
  const memberIds = [...input.members.keys()].sort();
  const out = new Map<string, TaskAssignment>();
  const load = new Map<string, number>();
  for (const m of memberIds) {
    out.set(m, { active: new Map(), standby: new Map() });
    load.set(m, 0);
  }
  if (memberIds.length === 0) return out;
  const tasks: [string, number][] = [];
  for (const [s, n] of [...input.taskCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let p = 0; p < n; p++) tasks.push([s, p]);
  }
  const fairShare = Math.floor(tasks.length / memberIds.length);
  const previousOwner = new Map<string, string>();
  for (const [m, a] of input.previous) {
    if (!out.has(m)) continue;
    for (const [s, ps] of a.active) for (const p of ps) previousOwner.set(`${s}:${p}`, m);
  }
  const unassigned: [string, number][] = [];
  for (const [s, p] of tasks) {
    const prev = previousOwner.get(`${s}:${p}`);
    if (prev !== undefined && load.get(prev)! < fairShare) {
      addPartition(out.get(prev)!.active, s, p);
      load.set(prev, load.get(prev)! + 1);
    } else unassigned.push([s, p]);
  }
  for (const [s, p] of unassigned) {
    let min = Infinity;
    for (const m of memberIds) min = Math.min(min, load.get(m)!);
    const prev = previousOwner.get(`${s}:${p}`);
    const target = prev !== undefined && load.get(prev) === min ? prev : memberIds.find((m) => load.get(m) === min)!;
    addPartition(out.get(target)!.active, s, p);
    load.set(target, load.get(target)! + 1);
  }

  if (input.numStandbyReplicas > 0) {
    for (const [s, p] of tasks) {
      for (let r = 0; r < input.numStandbyReplicas; r++) {
        const holders = memberIds.filter((m) => has(out.get(m)!.active, s, p) || has(out.get(m)!.standby, s, p));
        const holderProcesses = new Set(holders.map((m) => input.members.get(m)));
        const candidates = memberIds.filter((m) => !holders.includes(m));
        if (candidates.length === 0) break;
        const otherProcess = candidates.filter((m) => !holderProcesses.has(input.members.get(m)));
        const pool = otherProcess.length > 0 ? otherProcess : candidates;
        const wasStandby = pool.find((m) => input.previous.get(m) && has(input.previous.get(m)!.standby, s, p));
        let pick = wasStandby;
        if (pick === undefined) {
          pick = pool[0]!;
          for (const m of pool) if (load.get(m)! < load.get(pick)!) pick = m;
        }
        addPartition(out.get(pick)!.standby, s, p);
        load.set(pick, load.get(pick)! + 1);
      }
    }
  }
  return out;
}
