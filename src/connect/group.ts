// Group membership for workers sharing a group.id, through the Kafka group protocol (a kafkajs
// consumer with Fjord's own assignor, so it works on any Kafka-compatible cluster). Each member
// advertises its REST URL in its protocol metadata. After every rebalance each worker reads the
// member list (DescribeGroups) and computes the same deterministic assignment of connectors and
// tasks from it and the shared config topic, so the assignment itself needs no extra channel:
// a dead worker's session expires, the group rebalances and its work moves to the survivors.
import { AssignerProtocol, type Admin, type Consumer, type Kafka } from 'kafkajs';

export interface Member {
  memberId: string;
  url: string;
  workerId: string;
}

export interface GroupView {
  generation: number;
  self: string;
  leader: Member | null;
  members: Member[];
}

const PROTOCOL = 'fjord-connect-v1';

export class GroupMembership {
  private consumer!: Consumer;
  private admin!: Admin;
  view: GroupView | null = null;
  rebalancing = true;
  private onChange: (view: GroupView) => void = () => {};
  private firstJoin!: Promise<void>;
  /** GROUP_JOIN events seen; a member-list refresh stops once a newer join started its own. */
  private joins = 0;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly self: { url: string; workerId: string },
    private readonly sessionTimeoutMs: number,
  ) {}

  changed(listener: (view: GroupView) => void): void {
    this.onChange = listener;
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const userData = Buffer.from(JSON.stringify(this.self));
    this.consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.sessionTimeoutMs, 10_000),
      heartbeatInterval: Math.max(500, Math.floor(this.sessionTimeoutMs / 5)),
      maxWaitTimeInMs: 500,
      partitionAssigners: [
        () => ({
          name: PROTOCOL,
          version: 1,
          protocol: ({ topics }: { topics: string[] }) => ({
            name: PROTOCOL,
            metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }),
          }),
          // Membership only: no partitions are consumed; work is derived from the member list.
          assign: async ({ members }: { members: { memberId: string }[] }) =>
            members.map((m) => ({
              memberId: m.memberId,
              memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: {}, userData: Buffer.alloc(0) }),
            })),
        }),
      ],
    });
    let resolveFirst!: () => void;
    this.firstJoin = new Promise((r) => (resolveFirst = r));
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.rebalancing = true;
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const join = ++this.joins;
      void this.refresh(join, e.payload.memberId, e.payload.leaderId).then(resolveFirst, resolveFirst);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    await this.consumer.run({ eachMessage: async () => {} });
    await this.firstJoin;
  }

  /**
   * Reads the member list once the group is Stable with this member in it. Keeps trying until a
   * newer join supersedes it or the worker stops: giving up would leave this worker computing the
   * assignment from a stale member list until the next rebalance, which may never come.
   */
  private async refresh(join: number, self: string, leaderId: string): Promise<void> {
    while (join === this.joins && !this.stopped) {
      let g: Awaited<ReturnType<Admin['describeGroups']>>['groups'][number] | undefined;
      try {
        g = (await this.admin.describeGroups([this.groupId])).groups[0];
      } catch {
        // broker moving or busy: try again
      }
      if (join !== this.joins || this.stopped) return;
      if (g && g.state === 'Stable' && g.members.some((m) => m.memberId === self)) {
        const members: Member[] = g.members
          .map((m) => {
            let meta: { url?: string; workerId?: string } = {};
            try {
              const decoded = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
              meta = JSON.parse(decoded?.userData.toString('utf8') || '{}');
            } catch {
              // a member of another kind: no URL
            }
            return { memberId: m.memberId, url: meta.url ?? '', workerId: meta.workerId ?? m.memberId };
          })
          .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
        const generation = (this.view?.generation ?? 0) + 1;
        this.view = { generation, self, leader: members.find((m) => m.memberId === leaderId) ?? null, members };
        this.rebalancing = false;
        this.onChange(this.view);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  isLeader(): boolean {
    return !!this.view && this.view.leader?.memberId === this.view.self;
  }

  /** Round-robin over the sorted members: connectors first, then tasks, each in name order. */
  owner(item: { connector: string; task?: number }, allConnectors: string[], taskCounts: Map<string, number>): string | null {
    const v = this.view;
    if (!v || v.members.length === 0) return null;
    const items: string[] = [...allConnectors];
    for (const c of allConnectors) for (let i = 0; i < (taskCounts.get(c) ?? 0); i++) items.push(`${c}\u0000${i}`);
    const key = item.task === undefined ? item.connector : `${item.connector}\u0000${item.task}`;
    const idx = items.indexOf(key);
    if (idx < 0) return null;
    return v.members[idx % v.members.length]!.memberId;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
