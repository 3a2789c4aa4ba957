// Every API this broker serves, one file each. ApiVersions advertises exactly this list.
//
// The APIs a plain producer/consumer uses (Metadata, Produce, Fetch, groups, idempotent producer
// ids, SASL) are imported here and dispatched synchronously. Every other API (ACL and SCRAM admin,
// configs and quotas admin, transactions, share and Streams groups, ...) is a `lazy` entry: its
// module is imported on its first request, so a cold `fjord dev` does not compile it (the CLI
// bundle puts each in its own chunk). Its version range is written here because ApiVersions
// must advertise it before the module is loaded; test/broker/lazy-handlers.test.ts checks that it
// matches the module's. Likewise the request/response codecs: the hot APIs' are imported here,
// every other API's with the table of all codecs (protocol/gen/specs.ts) on the first such request.
import type { Handler, RequestContext } from '../handler.js';
import { ApiKey } from '../../protocol/gen/index.js';
import type { Reader, Writer } from '../../protocol/primitives.js';
import { decodeSaslHandshakeRequest, encodeSaslHandshakeResponse } from '../../protocol/gen/sasl-handshake.js';
import { decodeSaslAuthenticateRequest, encodeSaslAuthenticateResponse } from '../../protocol/gen/sasl-authenticate.js';
import { decodeFindCoordinatorRequest, encodeFindCoordinatorResponse } from '../../protocol/gen/find-coordinator.js';
import { decodeJoinGroupRequest, encodeJoinGroupResponse } from '../../protocol/gen/join-group.js';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from '../../protocol/gen/sync-group.js';
import { decodeHeartbeatRequest, encodeHeartbeatResponse } from '../../protocol/gen/heartbeat.js';
import { decodeLeaveGroupRequest, encodeLeaveGroupResponse } from '../../protocol/gen/leave-group.js';
import { decodeOffsetCommitRequest, encodeOffsetCommitResponse } from '../../protocol/gen/offset-commit.js';
import { decodeOffsetFetchRequest, encodeOffsetFetchResponse } from '../../protocol/gen/offset-fetch.js';
import { decodeListGroupsRequest, encodeListGroupsResponse } from '../../protocol/gen/list-groups.js';
import { decodeDescribeGroupsRequest, encodeDescribeGroupsResponse } from '../../protocol/gen/describe-groups.js';
import { decodeConsumerGroupHeartbeatRequest, encodeConsumerGroupHeartbeatResponse } from '../../protocol/gen/consumer-group-heartbeat.js';
import { decodeOffsetForLeaderEpochRequest, encodeOffsetForLeaderEpochResponse } from '../../protocol/gen/offset-for-leader-epoch.js';
import { decodeProduceRequest, encodeProduceResponse } from '../../protocol/gen/produce.js';
import { decodeFetchRequest, encodeFetchResponse } from '../../protocol/gen/fetch.js';
import { decodeListOffsetsRequest, encodeListOffsetsResponse } from '../../protocol/gen/list-offsets.js';
import { decodeMetadataRequest, encodeMetadataResponse } from '../../protocol/gen/metadata.js';
import { decodeApiVersionsRequest, encodeApiVersionsResponse } from '../../protocol/gen/api-versions.js';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from '../../protocol/gen/create-topics.js';
import { decodeInitProducerIdRequest, encodeInitProducerIdResponse } from '../../protocol/gen/init-producer-id.js';
import { decodeDescribeClusterRequest, encodeDescribeClusterResponse } from '../../protocol/gen/describe-cluster.js';
import apiVersions from './api-versions.js';
import consumerGroupHeartbeat from './consumer-group-heartbeat.js';
import createTopics from './create-topics.js';
import describeCluster from './describe-cluster.js';
import describeGroups from './describe-groups.js';
import fetch from './fetch.js';
import findCoordinator from './find-coordinator.js';
import heartbeat from './heartbeat.js';
import initProducerId from './init-producer-id.js';
import joinGroup from './join-group.js';
import leaveGroup from './leave-group.js';
import listGroups from './list-groups.js';
import listOffsets from './list-offsets.js';
import metadata from './metadata.js';
import offsetCommit from './offset-commit.js';
import offsetFetch from './offset-fetch.js';
import offsetForLeaderEpoch from './offset-for-leader-epoch.js';
import produce from './produce.js';
import saslAuthenticate from './sasl-authenticate.js';
import saslHandshake from './sasl-handshake.js';
import syncGroup from './sync-group.js';

/** What the dispatcher needs of an API's generated codec. */
export interface ApiCodec {
  decodeRequest(r: Reader, v: number): unknown;
  encodeResponse(w: Writer, v: number, m: any): void;
}

const codecs = new Map<number, ApiCodec>([
  [ApiKey.SaslHandshake, { decodeRequest: decodeSaslHandshakeRequest, encodeResponse: encodeSaslHandshakeResponse }],
  [ApiKey.SaslAuthenticate, { decodeRequest: decodeSaslAuthenticateRequest, encodeResponse: encodeSaslAuthenticateResponse }],
  [ApiKey.FindCoordinator, { decodeRequest: decodeFindCoordinatorRequest, encodeResponse: encodeFindCoordinatorResponse }],
  [ApiKey.JoinGroup, { decodeRequest: decodeJoinGroupRequest, encodeResponse: encodeJoinGroupResponse }],
  [ApiKey.SyncGroup, { decodeRequest: decodeSyncGroupRequest, encodeResponse: encodeSyncGroupResponse }],
  [ApiKey.Heartbeat, { decodeRequest: decodeHeartbeatRequest, encodeResponse: encodeHeartbeatResponse }],
  [ApiKey.LeaveGroup, { decodeRequest: decodeLeaveGroupRequest, encodeResponse: encodeLeaveGroupResponse }],
  [ApiKey.OffsetCommit, { decodeRequest: decodeOffsetCommitRequest, encodeResponse: encodeOffsetCommitResponse }],
  [ApiKey.OffsetFetch, { decodeRequest: decodeOffsetFetchRequest, encodeResponse: encodeOffsetFetchResponse }],
  [ApiKey.ListGroups, { decodeRequest: decodeListGroupsRequest, encodeResponse: encodeListGroupsResponse }],
  [ApiKey.DescribeGroups, { decodeRequest: decodeDescribeGroupsRequest, encodeResponse: encodeDescribeGroupsResponse }],
  [ApiKey.ConsumerGroupHeartbeat, { decodeRequest: decodeConsumerGroupHeartbeatRequest, encodeResponse: encodeConsumerGroupHeartbeatResponse }],
  [ApiKey.OffsetForLeaderEpoch, { decodeRequest: decodeOffsetForLeaderEpochRequest, encodeResponse: encodeOffsetForLeaderEpochResponse }],
  [ApiKey.Produce, { decodeRequest: decodeProduceRequest, encodeResponse: encodeProduceResponse }],
  [ApiKey.Fetch, { decodeRequest: decodeFetchRequest, encodeResponse: encodeFetchResponse }],
  [ApiKey.ListOffsets, { decodeRequest: decodeListOffsetsRequest, encodeResponse: encodeListOffsetsResponse }],
  [ApiKey.Metadata, { decodeRequest: decodeMetadataRequest, encodeResponse: encodeMetadataResponse }],
  [ApiKey.ApiVersions, { decodeRequest: decodeApiVersionsRequest, encodeResponse: encodeApiVersionsResponse }],
  [ApiKey.CreateTopics, { decodeRequest: decodeCreateTopicsRequest, encodeResponse: encodeCreateTopicsResponse }],
  [ApiKey.InitProducerId, { decodeRequest: decodeInitProducerIdRequest, encodeResponse: encodeInitProducerIdResponse }],
  [ApiKey.DescribeCluster, { decodeRequest: decodeDescribeClusterRequest, encodeResponse: encodeDescribeClusterResponse }],
]);

/** The codec of an API, if loaded (the hot APIs' always are). */
export function apiCodec(apiKey: number): ApiCodec | undefined {
  return codecs.get(apiKey);
}

/** Imports every API's codec (once); afterwards apiCodec answers for all of them. */
export async function loadApiCodecs(): Promise<void> {
  const { apiSpecs } = await import('../../protocol/gen/specs.js');
  for (const [apiKey, spec] of apiSpecs) if (!codecs.has(apiKey)) codecs.set(apiKey, spec);
}

/** A handler whose module is imported on its first request; later requests call it directly. */
export interface LazyHandler extends Handler {
  /** Imports the module (once) and resolves to the real handler. */
  load(): Promise<Handler>;
}

function lazy(apiKey: number, minVersion: number, maxVersion: number, importModule: () => Promise<{ default: Handler }>): LazyHandler {
  let loaded: Handler | undefined;
  let loading: Promise<Handler> | undefined;
  const load = (): Promise<Handler> => {
    loading ??= importModule().then((m) => {
      loaded = m.default;
      return loaded;
    });
    return loading;
  };
  return {
    apiKey,
    minVersion,
    maxVersion,
    load,
    handle(request: unknown, ctx: RequestContext) {
      if (loaded) return loaded.handle(request, ctx);
      return load().then((h) => h.handle(request, ctx));
    },
  };
}

/** The APIs loaded on first use (exported for the test that checks their version ranges). */
export const lazyHandlers: LazyHandler[] = [
  lazy(ApiKey.CreateAcls, 0, 3, () => import('./create-acls.js')),
  lazy(ApiKey.DescribeAcls, 0, 3, () => import('./describe-acls.js')),
  lazy(ApiKey.DeleteAcls, 0, 3, () => import('./delete-acls.js')),
  lazy(ApiKey.DescribeUserScramCredentials, 0, 0, () => import('./describe-user-scram-credentials.js')),
  lazy(ApiKey.AlterUserScramCredentials, 0, 0, () => import('./alter-user-scram-credentials.js')),
  lazy(ApiKey.DeleteGroups, 0, 3, () => import('./delete-groups.js')),
  lazy(ApiKey.OffsetDelete, 0, 0, () => import('./offset-delete.js')),
  lazy(ApiKey.AlterClientQuotas, 0, 1, () => import('./alter-client-quotas.js')),
  lazy(ApiKey.AlterConfigs, 0, 2, () => import('./alter-configs.js')),
  lazy(ApiKey.AlterPartitionReassignments, 0, 1, () => import('./alter-partition-reassignments.js')),
  lazy(ApiKey.DeleteRecords, 0, 2, () => import('./delete-records.js')),
  lazy(ApiKey.DescribeClientQuotas, 0, 1, () => import('./describe-client-quotas.js')),
  lazy(ApiKey.DescribeLogDirs, 0, 5, () => import('./describe-log-dirs.js')),
  lazy(ApiKey.DescribeProducers, 0, 0, () => import('./describe-producers.js')),
  lazy(ApiKey.DescribeTopicPartitions, 0, 0, () => import('./describe-topic-partitions.js')),
  lazy(ApiKey.ElectLeaders, 0, 2, () => import('./elect-leaders.js')),
  lazy(ApiKey.IncrementalAlterConfigs, 0, 1, () => import('./incremental-alter-configs.js')),
  lazy(ApiKey.ListPartitionReassignments, 0, 0, () => import('./list-partition-reassignments.js')),
  lazy(ApiKey.ConsumerGroupDescribe, 0, 1, () => import('./consumer-group-describe.js')),
  lazy(ApiKey.StreamsGroupHeartbeat, 0, 0, () => import('./streams-group-heartbeat.js')),
  lazy(ApiKey.StreamsGroupDescribe, 0, 0, () => import('./streams-group-describe.js')),
  lazy(ApiKey.ShareGroupHeartbeat, 1, 1, () => import('./share-group-heartbeat.js')),
  lazy(ApiKey.ShareGroupDescribe, 1, 1, () => import('./share-group-describe.js')),
  lazy(ApiKey.ShareFetch, 1, 2, () => import('./share-fetch.js')),
  lazy(ApiKey.ShareAcknowledge, 1, 2, () => import('./share-acknowledge.js')),
  lazy(ApiKey.DescribeShareGroupOffsets, 0, 1, () => import('./describe-share-group-offsets.js')),
  lazy(ApiKey.AlterShareGroupOffsets, 0, 0, () => import('./alter-share-group-offsets.js')),
  lazy(ApiKey.DeleteShareGroupOffsets, 0, 0, () => import('./delete-share-group-offsets.js')),
  lazy(ApiKey.ReadShareGroupState, 0, 0, () => import('./read-share-group-state.js')),
  lazy(ApiKey.InitializeShareGroupState, 0, 0, () => import('./initialize-share-group-state.js')),
  lazy(ApiKey.WriteShareGroupState, 0, 1, () => import('./write-share-group-state.js')),
  lazy(ApiKey.DeleteShareGroupState, 0, 0, () => import('./delete-share-group-state.js')),
  lazy(ApiKey.ReadShareGroupStateSummary, 0, 1, () => import('./read-share-group-state-summary.js')),
  lazy(ApiKey.DeleteTopics, 0, 6, () => import('./delete-topics.js')),
  lazy(ApiKey.DescribeConfigs, 0, 4, () => import('./describe-configs.js')),
  lazy(ApiKey.CreatePartitions, 0, 3, () => import('./create-partitions.js')),
  lazy(ApiKey.AddPartitionsToTxn, 0, 4, () => import('./add-partitions-to-txn.js')),
  lazy(ApiKey.AddOffsetsToTxn, 0, 3, () => import('./add-offsets-to-txn.js')),
  lazy(ApiKey.EndTxn, 0, 4, () => import('./end-txn.js')),
  lazy(ApiKey.WriteTxnMarkers, 0, 1, () => import('./write-txn-markers.js')),
  lazy(ApiKey.TxnOffsetCommit, 0, 4, () => import('./txn-offset-commit.js')),
  lazy(ApiKey.DescribeTransactions, 0, 0, () => import('./describe-transactions.js')),
  lazy(ApiKey.ListTransactions, 0, 2, () => import('./list-transactions.js')),
];

export const allHandlers: Handler[] = [
  // Security (issue #12)
  saslHandshake,
  saslAuthenticate,
  // Classic group coordinator (issue #3)
  findCoordinator,
  joinGroup,
  syncGroup,
  heartbeat,
  leaveGroup,
  offsetCommit,
  offsetFetch,
  listGroups,
  describeGroups,
  // KIP-848 consumer groups (issue #3)
  consumerGroupHeartbeat,
  offsetForLeaderEpoch,
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  createTopics,
  initProducerId,
  describeCluster,
  ...lazyHandlers,
];
