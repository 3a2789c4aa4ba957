// The shape of an API handler: decoded request in, response object out. Handlers are thin;
// state lives in the services reached through the context.
import type { Connection } from '../net/connection.js';
import type { Broker } from './broker.js';

export interface RequestContext {
  readonly broker: Broker;
  readonly apiVersion: number;
  readonly clientId: string | null;
  readonly correlationId: number;
  readonly connection: Connection;
}

export interface Handler<Req = any, Res = any> {
  readonly apiKey: number;
  /** Lowest and highest version Fjord serves (advertised in ApiVersions). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Returns the response, or null for "send nothing" (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Promise<Res | null> | Res | null;
}

export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res> {
  return h;
}
