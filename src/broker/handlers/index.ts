// Every API this broker serves, one file each. ApiVersions advertises exactly this list.
import type { Handler } from '../handler.js';
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

export const allHandlers: Handler[] = [
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
];
