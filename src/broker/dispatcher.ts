// Turns one request frame into one response frame: header, version check, decode, handler,
// encode. Malformed requests close the connection like Kafka does (the client reconnects);
// they never reach storage and never take the broker down.
import type { Connection, RequestDispatcher, ResponseChunks } from '../net/connection.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiKey,
  decodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../protocol/gen/index.js';
import { encodeApiVersionsResponse } from '../protocol/gen/api-versions.js';
import { Reader, Writer } from '../protocol/primitives.js';
import type { BrokerServices, Handler, RequestContext } from './handler.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { authenticateStep } from '../security/authenticate.js';
import { supportedApiVersions } from './handlers/api-versions.js';
import { apiCodec, loadApiCodecs } from './handlers/index.js';

const apiNames = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));

/**
 * APIs whose handlers check ACLs per resource with Kafka's error codes. With an authorizer
 * configured, every other API is served only to principals allowed ALTER on the cluster (super
 * users, operators); anyone else has the connection closed — refusing is safer than serving an
 * API whose resources were never checked.
 */
const SELF_AUTHORIZING_APIS = new Set<number>([
  ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.Metadata, ApiKey.OffsetCommit, ApiKey.OffsetFetch,
  ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.SyncGroup,
  ApiKey.DescribeGroups, ApiKey.ListGroups, ApiKey.SaslHandshake, ApiKey.ApiVersions, ApiKey.CreateTopics,
  ApiKey.DeleteTopics, ApiKey.InitProducerId, ApiKey.OffsetForLeaderEpoch, ApiKey.DescribeAcls, ApiKey.CreateAcls,
  ApiKey.DeleteAcls, ApiKey.SaslAuthenticate, ApiKey.DeleteGroups, ApiKey.DescribeUserScramCredentials,
  ApiKey.AlterUserScramCredentials, ApiKey.ConsumerGroupHeartbeat, ApiKey.AddPartitionsToTxn, ApiKey.AddOffsetsToTxn,
  ApiKey.EndTxn, ApiKey.TxnOffsetCommit, ApiKey.WriteTxnMarkers, ApiKey.DescribeTransactions, ApiKey.ListTransactions,
  ApiKey.DescribeConfigs, ApiKey.AlterConfigs, ApiKey.IncrementalAlterConfigs, ApiKey.CreatePartitions, ApiKey.DeleteRecords,
  ApiKey.DescribeProducers, ApiKey.DescribeTopicPartitions, ApiKey.OffsetDelete, ApiKey.ConsumerGroupDescribe,
  ApiKey.ShareGroupHeartbeat, ApiKey.ShareGroupDescribe, ApiKey.ShareFetch, ApiKey.ShareAcknowledge,
  ApiKey.DescribeShareGroupOffsets, ApiKey.AlterShareGroupOffsets, ApiKey.DeleteShareGroupOffsets, ApiKey.ReadShareGroupState,
  ApiKey.InitializeShareGroupState, ApiKey.WriteShareGroupState, ApiKey.DeleteShareGroupState, ApiKey.ReadShareGroupStateSummary,
  ApiKey.DescribeLogDirs, ApiKey.DescribeClientQuotas, ApiKey.AlterClientQuotas, ApiKey.DescribeCluster, ApiKey.ElectLeaders,
  ApiKey.AlterPartitionReassignments, ApiKey.ListPartitionReassignments, ApiKey.StreamsGroupHeartbeat, ApiKey.StreamsGroupDescribe,
]);

const PRE_AUTH_APIS = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

export class Dispatcher implements RequestDispatcher {
  constructor(
    private readonly broker: BrokerServices,
    private readonly handlers: ReadonlyMap<number, Handler>,
  ) {}

  dispatch(frame: Buffer, connection: Connection): Promise<ResponseChunks> | ResponseChunks {
    const session = connection.session;
    if (session.rawTokens) return this.rawSaslToken(frame, connection);
    if (frame.length < 8) throw new Error(`request frame of ${frame.length} bytes is too short for a header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    // On SASL listeners nothing but the handshake is served before authentication, nor after the
    // session's lifetime (KIP-368) unless the client re-authenticates.
    if ((!session.authenticated || Date.now() > session.expiresAtMs) && !PRE_AUTH_APIS.has(apiKey)) {
      throw new Error(
        session.authenticated
          ? `SASL session of ${session.principal} expired; request ${apiKey} refused`
          : `API ${apiKey} requested before SASL authentication completed`,
      );
    }
    const handler = this.handlers.get(apiKey);
    if (!handler) throw new Error(`unsupported API key ${apiKey}`);
    const codec = apiCodec(apiKey);
    if (codec === undefined) {
      // The first request of a rarely used API: load every codec, then dispatch it again.
      return loadApiCodecs().then(() => {
        if (apiCodec(apiKey) === undefined) throw new Error(`unsupported API key ${apiKey}`);
        return this.dispatch(frame, connection);
      });
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) return this.unsupportedApiVersions(correlationId);
      throw new Error(`unsupported version ${apiVersion} of API ${apiNames.get(apiKey)}`);
    }
    if (
      this.broker.security.authorizationEnabled &&
      !SELF_AUTHORIZING_APIS.has(apiKey) &&
      !this.broker.security.authorize(session, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
    ) {
      throw new Error(`${session.principal} may not use API ${apiNames.get(apiKey)} (it needs ALTER on the cluster)`);
    }
    const reader = new Reader(frame);
    const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
    const request = codec.decodeRequest(reader, apiVersion);
    const ctx: RequestContext = {
      broker: this.broker,
      apiVersion,
      clientId: header.clientId,
      correlationId,
      connection,
    };
    if (this.broker.quotaManager.requestQuotasPresent && !PRE_AUTH_APIS.has(apiKey)) return this.dispatchTimed(handler, request, ctx, apiKey);
    const result = handler.handle(request, ctx);
    if (result instanceof Promise) return result.then((res) => this.encodeFor(ctx, apiKey, res));
    return this.encodeFor(ctx, apiKey, result);
  }

  /** Encodes a handler's response; pooled buffers it holds go back once the bytes are written. */
  private encodeFor(ctx: RequestContext, apiKey: number, response: unknown): ResponseChunks {
    const chunks = this.encode(apiKey, ctx.apiVersion, ctx.correlationId, response);
    if (ctx.onResponseWritten) {
      if (chunks) chunks.release = ctx.onResponseWritten;
      else ctx.onResponseWritten();
    }
    return chunks;
  }

  /**
   * request_percentage quotas: the event-loop time of the request's synchronous handling (what
   * one JavaScript thread spends on it; awaited I/O and long polls cost no thread time) is
   * recorded, and an over-quota client gets throttle_time_ms and a muted connection (KIP-219).
   */
  private dispatchTimed(handler: Handler, request: unknown, ctx: RequestContext, apiKey: number): Promise<ResponseChunks> | ResponseChunks {
    const started = performance.now();
    const result = handler.handle(request, ctx);
    const syncMs = performance.now() - started;
    const finish = (res: unknown): ResponseChunks => {
      const principal = ctx.connection.session.principal;
      const user = principal.startsWith('User:') ? principal.slice(5) : principal;
      const throttleMs = this.broker.quotaManager.recordRequestTime(user, ctx.clientId ?? '', syncMs);
      if (throttleMs > 0 && res !== null && typeof res === 'object') {
        ctx.connection.throttle(throttleMs);
        const withThrottle = res as { throttleTimeMs?: number };
        withThrottle.throttleTimeMs = Math.max(withThrottle.throttleTimeMs ?? 0, throttleMs);
      }
      return this.encodeFor(ctx, apiKey, res);
    };
    return result instanceof Promise ? result.then(finish) : finish(result);
  }

  private encode(apiKey: number, apiVersion: number, correlationId: number, response: unknown): ResponseChunks {
    if (response === null) return null;
    const w = new Writer();
    const size = w.reserveInt32();
    encodeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), { correlationId });
    apiCodec(apiKey)!.encodeResponse(w, apiVersion, response);
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
  }

  /** SaslHandshake v0 clients send SASL tokens as bare size-prefixed frames; answer in kind. */
  private async rawSaslToken(token: Buffer, connection: Connection): Promise<ResponseChunks> {
    const r = await authenticateStep(this.broker.security, connection, token);
    if (!r.ok) throw new Error(`SASL authentication of ${connection.remote} failed: ${r.message}`);
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(r.response.length, 0);
    return [size, r.response];
  }

  /** A client asked for an ApiVersions version we don't know: answer in the v0 layout with the ranges we do. */
  private unsupportedApiVersions(correlationId: number): ResponseChunks {
    const w = new Writer();
    const size = w.reserveInt32();
    encodeResponseHeader(w, 0, { correlationId });
    encodeApiVersionsResponse(w, 0, {
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      apiKeys: supportedApiVersions(this.handlers),
    });
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
  }
}
