// The controller of an etcd cluster: one broker at a time (etcd election, see EtcdMetadataStore)
// keeps partition leadership consistent with the live brokers. It reconciles every partition
// whenever membership changes (a lease expired, a broker registered or entered controlled
// shutdown, the controller moved) and periodically as a safety net:
// - leader dead (or -1): the first live ISR member in replica order leads, leader epoch + 1;
//   none → unclean.leader.election.enable picks the first live replica, else the partition goes
//   offline (leader -1) keeping its ISR, so the first ISR member to return leads again;
// - dead or shutting-down brokers leave the ISR (never emptying it);
// - leaders in controlled shutdown hand over to another live ISR member.
// Every write is a compare-and-set on the partition state version; a lost race re-reads and
// re-decides on the next pass. ElectLeaders and the preferred-leader rebalance use the same CAS.
import type { BrokerConfig } from '../config/config.js';
import { topicLogConfig } from '../config/topic-config.js';
import type { EtcdMetadataStore } from './etcd-store.js';
import type { PartitionAssignment, PartitionState, TopicRecord } from './metadata-store.js';

const SAFETY_RECONCILE_MS = 5000;

export type ElectionType = 'preferred' | 'unclean';

export type ElectionOutcome =
  | { kind: 'elected'; leader: number }
  | { kind: 'not-needed' }
  | { kind: 'unknown-partition' }
  | { kind: 'not-available'; message: string };

/** Leadership decision for one partition given the live brokers; undefined = nothing to change. */
export function decidePartition(
  assignment: PartitionAssignment,
  state: PartitionState,
  eligible: ReadonlySet<number>,
  registered: ReadonlySet<number>,
  uncleanAllowed: boolean,
): PartitionState | undefined {
  // Only assigned replicas may lead or be in the ISR (a finished reassignment removed some).
  const ok = (b: number) => eligible.has(b) && assignment.replicas.includes(b);
  const isrEligible = state.isr.filter(ok);
  const leaderOk = state.leader >= 0 && ok(state.leader);
  if (leaderOk) {
    // Drop dead / shutting-down followers from the ISR; the leader stays, so does its epoch.
    // A shutting-down leader is not "ok" and is handled below; a registered but shutting-down
    // follower leaves the ISR like a dead one (Kafka's controlled shutdown does the same).
    const isr = state.isr.filter(ok);
    if (!isr.includes(state.leader)) isr.unshift(state.leader);
    if (sameSet(isr, state.isr)) return undefined;
    return { leader: state.leader, leaderEpoch: state.leaderEpoch, isr, version: state.version };
  }
  const candidate = assignment.replicas.find((r) => isrEligible.includes(r));
  if (candidate !== undefined) {
    return { leader: candidate, leaderEpoch: state.leaderEpoch + 1, isr: isrEligible, version: state.version };
  }
  // No eligible ISR member. A shutting-down leader that is the last ISR member keeps leading
  // until it is gone: there is no one to hand over to.
  if (state.leader >= 0 && registered.has(state.leader) && assignment.replicas.includes(state.leader)) return undefined;
  if (uncleanAllowed) {
    const live = assignment.replicas.find((r) => eligible.has(r));
    if (live !== undefined) return { leader: live, leaderEpoch: state.leaderEpoch + 1, isr: [live], version: state.version };
  }
  if (state.leader === -1) return undefined;
  // Offline: no leader; the ISR is kept (its members hold every acknowledged record).
  return { leader: -1, leaderEpoch: state.leaderEpoch + 1, isr: state.isr.length ? state.isr : [state.leader], version: state.version };
}

function sameOrder(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => b[i] === x);
}

function sameSet(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export class ClusterController {
  private running: Promise<void> | undefined;
  /** What the next pass must look at: every topic, or these. */
  private dirty: Set<string> | 'all' = new Set();
  private timer: NodeJS.Timeout | undefined;
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly store: EtcdMetadataStore,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  start(): void {
    this.store.onChange((change) => {
      if (change.kind === 'brokers-changed') this.schedule();
      // A new topic may have replicas on a broker that is already gone; a reassignment advances
      // when its topic changes or an ISR grows; an ISR naming a broker that is no replica (written
      // by an older version against a stale replica list) is cleaned up at once, not at the next
      // safety pass.
      else if (change.kind === 'topic-created' || change.kind === 'topic-updated') this.schedule(change.topic.name);
      else if (change.kind === 'partition-state') {
        const a = this.store.topic(change.topic)?.partitions.find((p) => p.partition === change.partition);
        if (a && (a.addingReplicas?.length || change.state.isr.some((b) => !a.replicas.includes(b)))) this.schedule(change.topic);
      }
    });
    this.timer = setInterval(() => this.schedule(), SAFETY_RECONCILE_MS);
    this.timer.unref?.();
    if (this.config.getBool('auto.leader.rebalance.enable')) {
      const everyMs = Number(this.config.getLong('leader.imbalance.check.interval.seconds')) * 1000;
      this.rebalanceTimer = setInterval(() => void this.rebalanceIfImbalanced().catch((err) => this.log(`leader rebalance failed: ${(err as Error).message}`)), everyMs);
      this.rebalanceTimer.unref?.();
    }
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.rebalanceTimer);
  }

  /** Runs a reconcile pass soon over one topic or (no name) all of them; coalesced, one at a time. */
  schedule(topic?: string): void {
    if (this.closed || !this.store.isController()) return;
    if (topic === undefined) this.dirty = 'all';
    else if (this.dirty !== 'all') this.dirty.add(topic);
    if (this.running) return;
    this.running = (async () => {
      try {
        while (!this.closed && (this.dirty === 'all' || this.dirty.size > 0)) {
          const work = this.dirty;
          this.dirty = new Set();
          await this.reconcile(work === 'all' ? undefined : work);
        }
      } catch (err) {
        this.log(`controller reconcile failed: ${(err as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
  }

  /** Resolves when the current reconcile pass (if any) has finished; for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private uncleanAllowed(topic: TopicRecord): boolean {
    return topicLogConfig(this.config, topic.configs).uncleanLeaderElectionEnable;
  }

  /** Live brokers that may lead or stay in an ISR (registered, not in controlled shutdown). */
  eligibleBrokers(): Set<number> {
    return new Set(this.store.brokers().filter((b) => !b.shuttingDown).map((b) => b.nodeId));
  }

  private async reconcile(only?: Set<string>): Promise<void> {
    if (!this.store.isController()) return;
    const eligible = this.eligibleBrokers();
    const registered = new Set(this.store.brokers().map((b) => b.nodeId));
    const topics = only ? [...only].map((n) => this.store.topic(n)).filter((t): t is TopicRecord => t !== undefined) : [...this.store.topics()];
    for (const topic of topics) {
      const unclean = this.uncleanAllowed(topic);
      for (const assignment of topic.partitions) {
        if (this.closed || !this.store.isController()) return;
        const state = this.store.partitionState(topic.name, assignment.partition);
        if (!state) continue;
        const next = decidePartition(assignment, state, eligible, registered, unclean);
        if (!next) continue;
        const ok = await this.store.updatePartitionState(topic.name, assignment.partition, next, state.version);
        if (ok) {
          if (next.leader !== state.leader) {
            this.log(
              `partition ${topic.name}-${assignment.partition}: leader ${state.leader} -> ${next.leader} (epoch ${next.leaderEpoch}), isr [${next.isr.join(',')}]`,
            );
          }
        } else {
          // The state moved under us: decide again on fresh state once the watch delivered it.
          setTimeout(() => this.schedule(topic.name), 50).unref?.();
        }
      }
      await this.advanceReassignments(topic.name);
    }
  }

  /**
   * ElectLeaders for one partition. Preferred: the first replica, if it is live and in the ISR.
   * Unclean: only when the partition has no live leader; the first live replica leads (ISR = it).
   */
  async elect(topicName: string, partition: number, type: ElectionType): Promise<ElectionOutcome> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const topic = this.store.topic(topicName);
      const assignment = topic?.partitions.find((p) => p.partition === partition);
      const state = this.store.partitionState(topicName, partition);
      if (!topic || !assignment || !state) return { kind: 'unknown-partition' };
      const eligible = this.eligibleBrokers();
      let next: PartitionState;
      if (type === 'preferred') {
        const preferred = assignment.replicas[0]!;
        if (state.leader === preferred) return { kind: 'not-needed' };
        if (!eligible.has(preferred) || !state.isr.includes(preferred)) {
          return { kind: 'not-available', message: `Failed to elect leader for partition ${topicName}-${partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy` };
        }
        next = { leader: preferred, leaderEpoch: state.leaderEpoch + 1, isr: state.isr, version: state.version };
      } else {
        if (state.leader >= 0 && eligible.has(state.leader)) return { kind: 'not-needed' };
        const inIsr = assignment.replicas.find((r) => eligible.has(r) && state.isr.includes(r));
        const any = inIsr ?? assignment.replicas.find((r) => eligible.has(r));
        if (any === undefined) {
          return { kind: 'not-available', message: `Failed to elect leader for partition ${topicName}-${partition} under strategy UncleanLeaderElectionStrategy` };
        }
        next = { leader: any, leaderEpoch: state.leaderEpoch + 1, isr: inIsr !== undefined ? state.isr.filter((b) => eligible.has(b)) : [any], version: state.version };
      }
      if (await this.store.updatePartitionState(topicName, partition, next, state.version)) {
        this.log(`partition ${topicName}-${partition}: ${type} election, leader ${state.leader} -> ${next.leader} (epoch ${next.leaderEpoch})`);
        return { kind: 'elected', leader: next.leader };
      }
    }
    return { kind: 'not-available', message: `Partition ${topicName}-${partition} kept changing during the election; retry.` };
  }

  /**
   * auto.leader.rebalance.enable: per broker, the share of partitions it should lead (preferred
   * replica) but does not; above leader.imbalance.per.broker.percentage, those partitions get a
   * preferred election. Returns the number of partitions moved.
   */
  async rebalanceIfImbalanced(): Promise<number> {
    if (!this.store.isController()) return 0;
    const threshold = this.config.getInt('leader.imbalance.per.broker.percentage');
    const preferredOf = new Map<number, { topic: string; partition: number; leads: boolean }[]>();
    for (const topic of this.store.topics()) {
      for (const a of topic.partitions) {
        const preferred = a.replicas[0];
        const state = this.store.partitionState(topic.name, a.partition);
        if (preferred === undefined || !state) continue;
        const list = preferredOf.get(preferred) ?? [];
        list.push({ topic: topic.name, partition: a.partition, leads: state.leader === preferred });
        preferredOf.set(preferred, list);
      }
    }
    const eligible = this.eligibleBrokers();
    let moved = 0;
    for (const [broker, parts] of preferredOf) {
      if (!eligible.has(broker)) continue;
      const notLed = parts.filter((p) => !p.leads);
      if (notLed.length === 0 || (notLed.length * 100) / parts.length <= threshold) continue;
      for (const p of notLed) {
        const out = await this.elect(p.topic, p.partition, 'preferred');
        if (out.kind === 'elected') moved++;
      }
    }
    return moved;
  }

  /**
   * AlterPartitionReassignments for one partition (KIP-455): replicas become target + the current
   * ones not in it, with addingReplicas / removingReplicas recorded in the topic. The new replicas
   * open their logs and replicate from the leader; once all of them are in the ISR the controller
   * finishes it (advanceReassignments). `target` null cancels: back to the original replicas.
   * Returns an error message, or undefined when accepted.
   */
  async reassign(topicName: string, partition: number, target: number[] | null): Promise<{ code: 'none' | 'no-reassignment' | 'unknown'; message?: string }> {
    let outcome: { code: 'none' | 'no-reassignment' | 'unknown'; message?: string } = { code: 'none' };
    await this.store.updateTopic(topicName, (record) => {
      const a = record.partitions.find((p) => p.partition === partition);
      if (!a) {
        outcome = { code: 'unknown' };
        return record;
      }
      const original = a.replicas.filter((r) => !(a.addingReplicas ?? []).includes(r));
      if (target === null) {
        if (a.addingReplicas === undefined) {
          outcome = { code: 'no-reassignment', message: `No ongoing reassignment for partition ${topicName}-${partition}.` };
          return record;
        }
        a.replicas = original;
        delete a.addingReplicas;
        delete a.removingReplicas;
        return record;
      }
      if (a.addingReplicas === undefined && sameOrder(target, a.replicas)) return record; // nothing to move
      a.replicas = [...target, ...original.filter((r) => !target.includes(r))];
      a.addingReplicas = target.filter((r) => !original.includes(r));
      a.removingReplicas = original.filter((r) => !target.includes(r));
      return record;
    });
    if (outcome.code === 'none') this.schedule(topicName);
    return outcome;
  }

  /** Partitions of a topic with a reassignment in flight whose new replicas all joined the ISR: finish them. */
  private async advanceReassignments(topicName: string): Promise<void> {
    const topic = this.store.topic(topicName);
    if (!topic) return;
    const eligible = this.eligibleBrokers();
    for (const a of topic.partitions) {
      if (a.addingReplicas === undefined || !this.store.isController()) continue;
      const state = this.store.partitionState(topicName, a.partition);
      if (!state) continue;
      const removing = a.removingReplicas ?? [];
      const target = a.replicas.filter((r) => !removing.includes(r));
      if (!a.addingReplicas.every((r) => state.isr.includes(r))) continue; // still catching up
      const isr = state.isr.filter((r) => target.includes(r));
      // Leadership goes to the first live target replica in the ISR when the leader is removed.
      let next: PartitionState = { ...state, isr };
      if (!target.includes(state.leader) || !eligible.has(state.leader)) {
        const leader = target.find((r) => isr.includes(r) && eligible.has(r));
        if (leader === undefined) continue; // no target replica can lead yet
        next = { leader, leaderEpoch: state.leaderEpoch + 1, isr, version: state.version };
      }
      // One write for the state and the replica list (Kafka's single PartitionChangeRecord): a
      // leader never sees the removed replicas gone from the ISR but still assigned. The state is
      // written even when unchanged: its version bump fences an ISR expansion a leader computed
      // against the old replica list and has in flight.
      const done = await this.store.updatePartitionStateAndTopic(topicName, a.partition, next, state.version, (record) => {
        const r = record.partitions.find((p) => p.partition === a.partition);
        if (!r || r.addingReplicas === undefined || !sameOrder(r.replicas, a.replicas)) return undefined; // changed meanwhile
        r.replicas = target;
        delete r.addingReplicas;
        delete r.removingReplicas;
        return record;
      });
      if (!done) {
        // The state or this partition's assignment moved: decide again once the watch delivered it.
        setTimeout(() => this.schedule(topicName), 50).unref?.();
        continue;
      }
      this.log(`partition ${topicName}-${a.partition}: reassignment done, replicas [${target.join(',')}], leader ${next.leader}`);
    }
  }

  /**
   * Controlled shutdown (SIGTERM): flags this broker as shutting down so that the controller
   * moves leadership of its partitions to other ISR members and drops it from ISRs, then waits
   * until it leads no partition another live ISR member could take, or the timeout passes.
   */
  async controlledShutdown(timeoutMs: number): Promise<{ remaining: number }> {
    await this.store.updateRegistration({ shuttingDown: true });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = this.movableLeaderships();
      if (remaining === 0 || Date.now() > deadline || !this.store.sessionAlive()) return { remaining };
      this.schedule();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Partitions this broker leads although another eligible ISR member could. */
  private movableLeaderships(): number {
    const eligible = this.eligibleBrokers();
    eligible.delete(this.nodeId);
    let count = 0;
    for (const topic of this.store.topics()) {
      for (const a of topic.partitions) {
        const state = this.store.partitionState(topic.name, a.partition);
        if (state?.leader === this.nodeId && state.isr.some((b) => eligible.has(b))) count++;
      }
    }
    return count;
  }
}
