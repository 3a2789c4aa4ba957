// Every API this broker serves, one file each. ApiVersions advertises exactly this list.
import type { Handler } from '../handler.js';
// Admin APIs (issue #4)
import alterClientQuotas from './alter-client-quotas.js';
import alterConfigs from './alter-configs.js';
import alterPartitionReassignments from './alter-partition-reassignments.js';
import deleteRecords from './delete-records.js';
import describeClientQuotas from './describe-client-quotas.js';
import describeLogDirs from './describe-log-dirs.js';
import describeProducers from './describe-producers.js';
import describeTopicPartitions from './describe-topic-partitions.js';
import electLeaders from './elect-leaders.js';
import incrementalAlterConfigs from './incremental-alter-configs.js';
import listPartitionReassignments from './list-partition-reassignments.js';
import offsetForLeaderEpoch from './offset-for-leader-epoch.js';
// KIP-848 consumer groups (issue #3)
import consumerGroupDescribe from './consumer-group-describe.js';
import consumerGroupHeartbeat from './consumer-group-heartbeat.js';
// Classic group coordinator (issue #3)
import deleteGroups from './delete-groups.js';
import describeGroups from './describe-groups.js';
import findCoordinator from './find-coordinator.js';
import heartbeat from './heartbeat.js';
import joinGroup from './join-group.js';
import leaveGroup from './leave-group.js';
import listGroups from './list-groups.js';
import offsetCommit from './offset-commit.js';
import offsetDelete from './offset-delete.js';
import offsetFetch from './offset-fetch.js';
import syncGroup from './sync-group.js';
// KIP-932 share groups (issue #13)
import alterShareGroupOffsets from './alter-share-group-offsets.js';
import deleteShareGroupOffsets from './delete-share-group-offsets.js';
import readShareGroupState from './read-share-group-state.js';
import initializeShareGroupState from './initialize-share-group-state.js';
import writeShareGroupState from './write-share-group-state.js';
import deleteShareGroupState from './delete-share-group-state.js';
import readShareGroupStateSummary from './read-share-group-state-summary.js';
import describeShareGroupOffsets from './describe-share-group-offsets.js';
import shareAcknowledge from './share-acknowledge.js';
import shareFetch from './share-fetch.js';
import shareGroupDescribe from './share-group-describe.js';
import shareGroupHeartbeat from './share-group-heartbeat.js';
import streamsGroupDescribe from './streams-group-describe.js';
import streamsGroupHeartbeat from './streams-group-heartbeat.js';
import apiVersions from './api-versions.js';
import createPartitions from './create-partitions.js';
import createTopics from './create-topics.js';
import deleteTopics from './delete-topics.js';
import describeCluster from './describe-cluster.js';
import describeConfigs from './describe-configs.js';
import fetch from './fetch.js';
import initProducerId from './init-producer-id.js';
import listOffsets from './list-offsets.js';
import metadata from './metadata.js';
import produce from './produce.js';
// Transactions (issue #10)
import addOffsetsToTxn from './add-offsets-to-txn.js';
import addPartitionsToTxn from './add-partitions-to-txn.js';
import describeTransactions from './describe-transactions.js';
import endTxn from './end-txn.js';
import listTransactions from './list-transactions.js';
import txnOffsetCommit from './txn-offset-commit.js';
import writeTxnMarkers from './write-txn-markers.js';
// Security (issue #12)
import alterUserScramCredentials from './alter-user-scram-credentials.js';
import createAcls from './create-acls.js';
import deleteAcls from './delete-acls.js';
import describeAcls from './describe-acls.js';
import describeUserScramCredentials from './describe-user-scram-credentials.js';
import saslAuthenticate from './sasl-authenticate.js';
import saslHandshake from './sasl-handshake.js';

export const allHandlers: Handler[] = [
  // Security (issue #12)
  saslHandshake,
  saslAuthenticate,
  createAcls,
  describeAcls,
  deleteAcls,
  describeUserScramCredentials,
  alterUserScramCredentials,
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
  deleteGroups,
  offsetDelete,
  // Admin APIs (issue #4)
  alterClientQuotas,
  alterConfigs,
  alterPartitionReassignments,
  deleteRecords,
  describeClientQuotas,
  describeLogDirs,
  describeProducers,
  describeTopicPartitions,
  electLeaders,
  incrementalAlterConfigs,
  listPartitionReassignments,
  offsetForLeaderEpoch,
  // KIP-848 consumer groups (issue #3)
  consumerGroupHeartbeat,
  consumerGroupDescribe,
  // KIP-1071 streams groups (issue #15)
  streamsGroupHeartbeat,
  streamsGroupDescribe,
  // KIP-932 share groups (issue #13)
  shareGroupHeartbeat,
  shareGroupDescribe,
  shareFetch,
  shareAcknowledge,
  describeShareGroupOffsets,
  alterShareGroupOffsets,
  deleteShareGroupOffsets,
  readShareGroupState,
  initializeShareGroupState,
  writeShareGroupState,
  deleteShareGroupState,
  readShareGroupStateSummary,
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  createTopics,
  deleteTopics,
  initProducerId,
  describeConfigs,
  createPartitions,
  describeCluster,
  // Transactions (issue #10)
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  writeTxnMarkers,
  txnOffsetCommit,
  describeTransactions,
  listTransactions,
];
