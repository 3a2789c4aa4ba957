import { ApiKey } from '../../protocol/gen/index.js';
import type { ApiVersionsRequest, ApiVersionsResponseInput } from '../../protocol/gen/api-versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type Handler } from '../handler.js';

export function supportedApiVersions(handlers: ReadonlyMap<number, Handler>) {
  return [...handlers.values()]
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
}

const STREAMS_APIS = new Set<number>([ApiKey.StreamsGroupHeartbeat, ApiKey.StreamsGroupDescribe]);

function features(shareEnabled: boolean, streamsEnabled: boolean) {
  const supportedFeatures = [{ name: 'transaction.version', minVersion: 0, maxVersion: 1 }];
  const finalizedFeatures = [{ name: 'transaction.version', minVersionLevel: 1, maxVersionLevel: 1 }];
  if (shareEnabled) {
    supportedFeatures.push({ name: 'share.version', minVersion: 0, maxVersion: 1 });
    finalizedFeatures.push({ name: 'share.version', minVersionLevel: 1, maxVersionLevel: 1 });
  }
  if (streamsEnabled) {
    supportedFeatures.push({ name: 'streams.version', minVersion: 0, maxVersion: 1 });
    finalizedFeatures.push({ name: 'streams.version', minVersionLevel: 1, maxVersionLevel: 1 });
  }
  return { supportedFeatures, finalizedFeaturesEpoch: 1, finalizedFeatures };
}

export default defineHandler<ApiVersionsRequest, ApiVersionsResponseInput>({
  apiKey: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    // v5 (KIP-1242): a client that knows which cluster and node it meant to reach says so; a
    // broker that is not that node asks it to rebootstrap (the address now points elsewhere).
    const streamsEnabled = ctx.broker.config.groupCoordinatorRebalanceProtocols.includes('streams');
    const wrongNode =
      ctx.apiVersion >= 5 && req.clusterId !== null && (req.clusterId !== ctx.broker.clusterId || req.nodeId !== ctx.broker.nodeId);
    return {
      errorCode: wrongNode ? ErrorCode.REBOOTSTRAP_REQUIRED : ErrorCode.NONE,
      // Like Kafka, the streams-group APIs are advertised only while the protocol is enabled.
      apiKeys: streamsEnabled ? supportedApiVersions(ctx.broker.handlers) : supportedApiVersions(ctx.broker.handlers).filter((k) => !STREAMS_APIS.has(k.apiKey)),
      throttleTimeMs: 0,
      // Finalized features: transaction.version as Kafka 4.0 reports it (level 1 = KIP-890 part 1,
      // partition verification; level 2, EndTxn v5, is not served yet) and share.version
      // (KIP-932) while share groups are enabled, streams.version (KIP-1071) while
      // group.coordinator.rebalance.protocols includes streams.
      ...features(ctx.broker.config.getBool('group.share.enable'), streamsEnabled),
    };
  },
});
