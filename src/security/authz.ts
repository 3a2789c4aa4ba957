// Authorization helpers for handlers: one line per check, Kafka's operations and resource types.
import type { RequestContext } from '../broker/handler.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from './acl.js';
import type { QuotaKind } from './quota-manager.js';

export { AclOperation as Op, ResourceType as Resource };

export function allowed(ctx: RequestContext, operation: number, resourceType: number, resourceName: string): boolean {
  return ctx.broker.security.authorize(ctx.connection.session, operation, resourceType, resourceName);
}

export function allowedOnTopic(ctx: RequestContext, operation: number, topic: string): boolean {
  return allowed(ctx, operation, ResourceType.TOPIC, topic);
}

export function allowedOnGroup(ctx: RequestContext, operation: number, group: string): boolean {
  return allowed(ctx, operation, ResourceType.GROUP, group);
}

export function allowedOnCluster(ctx: RequestContext, operation: number): boolean {
  return allowed(ctx, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/**
 * Records bytes against the client's byte-rate quota; when over it, mutes the connection for the
 * throttle time and returns it for the response's throttle_time_ms (KIP-219).
 */
export function throttleFor(ctx: RequestContext, kind: QuotaKind, bytes: number): number {
  const principal = ctx.connection.session.principal;
  const user = principal.startsWith('User:') ? principal.slice(5) : principal;
  const ms = ctx.broker.quotaManager.record(kind, user, ctx.clientId ?? '', bytes);
  if (ms > 0) ctx.connection.throttle(ms);
  return ms;
}
