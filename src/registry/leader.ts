// Leader election of several Schema Registry instances through a Kafka consumer group, as
// Confluent's registry does with its `schema-registry` group: every instance joins the group
// (its URL in the member's protocol metadata) subscribed to `_schemas`; the member assigned
// `_schemas`-0 is the leader and the only one that allocates ids and writes. The others learn the
// leader's URL from DescribeGroups and forward writes to it (see ../http/index.ts).
import type { Admin, Consumer } from '@platformatic/kafka';
import { newAdmin, newConsumer, type KafkaAccess } from '../http/kafka.js';
import { SCHEMAS_TOPIC } from './store.js';

const DEFAULT_REGISTRY_GROUP = 'schema-registry';
const PROTOCOL = 'fjord-registry';

export interface ElectionOptions {
  kafka: KafkaAccess;
  /** This instance's base URL, as the others reach it. */
  url: string;
  groupId?: string;
  topic?: string;
  sessionTimeoutMs?: number;
  log?: (msg: string) => void;
}

export class RegistryElection {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private admin: Admin | undefined;
  private leader = false;
  private knownLeaderUrl: string | undefined;
  private closed = false;
  private readonly topic: string;
  private readonly groupId: string;

  constructor(private readonly options: ElectionOptions) {
    this.topic = options.topic ?? SCHEMAS_TOPIC;
    this.groupId = options.groupId ?? DEFAULT_REGISTRY_GROUP;
  }

  /** Joins the group; resolves once this instance knows whether it leads. */
  async start(): Promise<void> {
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = newConsumer({ ...this.options.kafka, clientId: `${this.options.kafka.clientId}-election` }, this.groupId, {
      sessionTimeout,
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: sessionTimeout,
      protocols: [{ name: PROTOCOL, version: 1, metadata: Buffer.from(this.options.url) }],
    });
    this.consumer = consumer;
    this.admin = newAdmin({ ...this.options.kafka, clientId: `${this.options.kafka.clientId}-election-admin` });
    // Every (re)join ends with an assignment: who holds _schemas-0 leads.
    consumer.on('consumer:group:join', () => this.onAssignment());
    consumer.topics.track(this.topic);
    await consumer.joinGroup({});
    this.onAssignment();
  }

  private onAssignment(): void {
    const assigned = this.consumer?.assignments ?? [];
    const wasLeader = this.leader;
    this.leader = assigned.some((a) => a.topic === this.topic && a.partitions.includes(0));
    if (this.leader) this.knownLeaderUrl = this.options.url;
    else this.knownLeaderUrl = undefined; // looked up again on the next forward
    if (wasLeader !== this.leader) this.options.log?.(`registry: ${this.leader ? 'elected leader' : 'follower'} in group ${this.groupId}`);
  }

  isLeader(): boolean {
    return this.leader && !this.closed;
  }

  /** The leader's URL (this instance's when it leads); undefined when no member holds `_schemas`-0. */
  async leaderUrl(): Promise<string | undefined> {
    if (this.leader) return this.options.url;
    if (this.knownLeaderUrl) return this.knownLeaderUrl;
    const groups = await this.admin!.describeGroups({ groups: [this.groupId] });
    const group = groups.get(this.groupId);
    for (const m of group?.members.values() ?? []) {
      const parts = m.assignments?.get(this.topic)?.partitions ?? [];
      if (parts.includes(0) && m.metadata?.metadata) {
        this.knownLeaderUrl = Buffer.from(m.metadata.metadata).toString('utf8');
        return this.knownLeaderUrl;
      }
    }
    return undefined;
  }

  /** Forgets the cached leader (a forward to it failed). */
  forgetLeader(): void {
    if (!this.leader) this.knownLeaderUrl = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.leader = false;
    await Promise.resolve(this.consumer?.leaveGroup(true)).catch(() => {});
    await Promise.resolve(this.consumer?.close(true)).catch(() => {});
    await Promise.resolve(this.admin?.close()).catch(() => {});
  }
}
