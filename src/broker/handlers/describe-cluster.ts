import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeClusterRequest, DescribeClusterResponseInput } from '../../protocol/gen/describe-cluster.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { brokerEndpoints, reportedControllerId } from '../endpoints.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

const ENDPOINT_TYPE_BROKER = 1;

export default defineHandler<DescribeClusterRequest, DescribeClusterResponseInput>({
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    const { broker } = ctx;
    if (!allowedOnCluster(ctx, Op.DESCRIBE)) {
      return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, clusterId: broker.clusterId, brokers: [] };
    }
    if (req.endpointType !== ENDPOINT_TYPE_BROKER) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'Only broker endpoints are served.',
        clusterId: broker.clusterId,
        brokers: [],
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: ENDPOINT_TYPE_BROKER,
      clusterId: broker.clusterId,
      controllerId: reportedControllerId(broker.metadata, broker.nodeId),
      // v2 (KIP-1073): IncludeFencedBrokers adds fenced brokers; registered brokers here are never fenced.
      brokers: brokerEndpoints(broker.metadata, ctx.connection.session.listener.name).map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack, isFenced: false })),
    };
  },
});
