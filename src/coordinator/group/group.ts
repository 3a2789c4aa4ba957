// The group abstraction shared by every group type the coordinator hosts.
//
// HOW A GROUP TYPE PLUGS IN (classic is `ClassicGroup` in ./classic-group.ts; the KIP-848
// `ConsumerGroup` lives in ./consumer-protocol/):
//
//  - The coordinator (`GroupCoordinator`, ./coordinator.ts, reachable as `broker.groups`) keeps ONE
//    map `groupId → GroupLike`. Use `coordinator.getGroup(id)`, `coordinator.putGroup(group)` (add
//    a new group of your type), `coordinator.removeGroup(id)`. A classic group and a consumer group
//    never share an id: when ConsumerGroupHeartbeat finds a group of the other type, answer
//    GROUP_ID_NOT_FOUND (or convert per group.consumer.migration.policy, if you implement it).
//  - Committed offsets are stored by the coordinator, not by groups (`coordinator.offsets`), and
//    are shared by both types. OffsetCommit calls `group.validateOffsetCommit(...)` (the
//    generation id for classic groups is the member epoch for consumer groups) and OffsetFetch
//    (v9+, with memberId/memberEpoch) calls `group.validateOffsetFetch(...)`. An offset commit
//    for an id that has no group creates an empty *classic* group ("simple" commits, like
//    Kafka), unless the request carries a member id / generation.
//  - ListGroups / DescribeGroups / DeleteGroups use `type`, `state`, `protocolType`,
//    `isEmpty()`. DescribeGroups on a consumer group answers like Kafka 4 does for v0-5: state
//    'Dead', no members (the consumer-protocol helper serves ConsumerGroupDescribe).
//    DeleteGroups (only when isEmpty()) calls `group.close()`, removes the group and writes
//    tombstones for its offsets plus every key from `group.tombstones()`.
//  - Persistence: `coordinator.appendRecords(groupId, records)` appends key/value pairs to the
//    group's `__consumer_offsets` partition through the coordinator runtime (../runtime/; keys
//    and values are full Kafka record bytes: int16 version + body; value null = tombstone) and
//    resolves when durable. When this broker gains a partition's leadership the runtime replays
//    it into `coordinator.replay(...)`: key versions 0/1 (offsets) and 2 (classic group metadata)
//    are decoded there, 3..8 (ConsumerGroup* records) go to ./consumer-protocol/records.ts. A new
//    group type adds its key versions to that switch and its restore step to
//    `coordinator.loaded(partition)`; `coordinator.unloaded(partition)` closes the partition's groups.
//  - Timers: a group owns its timers and clears them in `close()`; the coordinator calls close()
//    on every group at broker shutdown.
//  - The periodic offset-expiration sweep (`offsetExpirationBaseTimestamp`) deletes an empty group
//    once it has no offsets left (close() + tombstones()).
//  - Coordinator placement: `coordinator.checkCoordinator(groupId)` → NONE | NOT_COORDINATOR |
//    COORDINATOR_NOT_AVAILABLE | COORDINATOR_LOAD_IN_PROGRESS | INVALID_GROUP_ID; call it first in
//    every group request handler.
/** An ErrorCode value (`ErrorCode.NONE`, ...). */
export type ErrorCodeValue = number;

export type GroupType = 'classic' | 'consumer' | 'share' | 'streams';

export interface GroupLike {
  readonly groupId: string;
  readonly type: GroupType;
  /**
   * State as ListGroups / DescribeGroups print it. Classic: 'Empty' | 'PreparingRebalance' |
   * 'CompletingRebalance' | 'Stable' | 'Dead'. Consumer: 'Empty' | 'Assigning' | 'Reconciling' |
   * 'Stable' | 'Dead'.
   */
  readonly state: string;
  /** Protocol type ('consumer' for consumers, '' for simple/offset-only groups, 'connect', ...). */
  readonly protocolType: string;
  /** True when the group has no members (DeleteGroups allowed, expiry allowed). */
  isEmpty(): boolean;
  /**
   * Checks an OffsetCommit / TxnOffsetCommit from this member. Return ErrorCode.NONE to accept.
   * Classic: generationId -1 with empty memberId = "simple" commit, allowed only when empty.
   * Consumer (KIP-848): generationIdOrMemberEpoch is the member epoch (STALE_MEMBER_EPOCH, ...).
   */
  validateOffsetCommit(memberId: string, generationIdOrMemberEpoch: number, groupInstanceId: string | null): ErrorCodeValue;
  /** OffsetFetch v9+ carries memberId/memberEpoch (null/-1 for admin fetches, always allowed). */
  validateOffsetFetch(memberId: string | null, memberEpoch: number): ErrorCodeValue;
  /**
   * OffsetDelete: GROUP_ID_NOT_FOUND when dead, NON_EMPTY_GROUP when active and not a consumer
   * group; NONE lets the per-partition check (`isSubscribedToTopic`) run.
   */
  validateOffsetDelete(): ErrorCodeValue;
  /** True when an active member subscribes to the topic (OffsetDelete → GROUP_SUBSCRIBED_TO_TOPIC). */
  isSubscribedToTopic(topic: string): boolean;
  /**
   * Offset expiry (offsets.retention.minutes): the time an offset committed at commitTimestamp
   * starts ageing from, or null while it must not expire (group has members). Classic: the time
   * the group became empty (consumer groups), or the commit time (simple groups).
   */
  offsetExpirationBaseTimestamp(commitTimestamp: number): number | null;
  /** Extra keys to tombstone when the group is deleted (classic: its GroupMetadataKey). */
  tombstones(): Buffer[];
  /** Clears timers; pending requests are answered with COORDINATOR_NOT_AVAILABLE. */
  close(): void;
}
