// Turns one request frame into one response frame: header, version check, decode, handler,
// encode. Malformed requests close the connection like Kafka does (the client reconnects);
// they never reach storage and never take the broker down.
import type { Connection, RequestDispatcher, ResponseChunks } from '../net/connection.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiKey,
  apiSpecs,
  decodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../protocol/gen/index.js';
import { encodeApiVersionsResponse } from '../protocol/gen/api-versions.js';
import { Reader, Writer } from '../protocol/primitives.js';
import type { BrokerServices, Handler, RequestContext } from './handler.js';
import { supportedApiVersions } from './handlers/api-versions.js';

export class Dispatcher implements RequestDispatcher {
  constructor(
    private readonly broker: BrokerServices,
    private readonly handlers: ReadonlyMap<number, Handler>,
  ) {}

  dispatch(frame: Buffer, connection: Connection): Promise<ResponseChunks> | ResponseChunks {
    if (frame.length < 8) throw new Error(`request frame of ${frame.length} bytes is too short for a header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.handlers.get(apiKey);
    const spec = apiSpecs.get(apiKey);
    if (!handler || !spec) throw new Error(`unsupported API key ${apiKey}`);
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) return this.unsupportedApiVersions(correlationId);
      throw new Error(`unsupported version ${apiVersion} of API ${spec.name}`);
    }
    const reader = new Reader(frame);
    const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
    const request = spec.decodeRequest(reader, apiVersion);
    const ctx: RequestContext = {
      broker: this.broker,
      apiVersion,
      clientId: header.clientId,
      correlationId,
      connection,
    };
    const result = handler.handle(request, ctx);
    if (result instanceof Promise) return result.then((res) => this.encode(apiKey, apiVersion, correlationId, res));
    return this.encode(apiKey, apiVersion, correlationId, result);
  }

  private encode(apiKey: number, apiVersion: number, correlationId: number, response: unknown): ResponseChunks {
    if (response === null) return null;
    const w = new Writer();
    const size = w.reserveInt32();
    encodeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), { correlationId });
    apiSpecs.get(apiKey)!.encodeResponse(w, apiVersion, response);
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
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
