// Authorization helpers for handlers: one line per check, Kafka's operations and resource types.
import type { RequestContext } from '../broker/handler.js';
import { ErrorCode } from '../protocol/errors.js';
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

/** Config resource types of Describe/AlterConfigs (not the ACL resource types). */
const CONFIG_TOPIC = 2;
const CONFIG_GROUP = 32;

/**
 * Kafka's check for one config resource: topics and groups are authorized on themselves, broker,
 * broker-logger and client-metrics resources on the cluster. Returns the error code to answer for
 * the resource, or 0 when allowed.
 */
export function configResourceDenial(ctx: RequestContext, operation: number, configResourceType: number, name: string): number {
  if (configResourceType === CONFIG_TOPIC) return allowedOnTopic(ctx, operation, name) ? 0 : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  if (configResourceType === CONFIG_GROUP) return allowedOnGroup(ctx, operation, name) ? 0 : ErrorCode.GROUP_AUTHORIZATION_FAILED;
  return allowedOnCluster(ctx, operation) ? 0 : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
}

/** Splits share-fetch/acknowledge topics (by id) into the ones the principal may READ and the rest; unknown ids stay permitted (the service answers UNKNOWN_TOPIC_ID). */
export function topicsByReadPermission<T extends { topicId: string }>(ctx: RequestContext, topics: readonly T[]): { permitted: T[]; denied: T[] } {
  const permitted: T[] = [];
  const denied: T[] = [];
  for (const t of topics) {
    const name = ctx.broker.metadata.topicById(t.topicId)?.name;
    if (name === undefined || allowedOnTopic(ctx, AclOperation.READ, name)) permitted.push(t);
    else denied.push(t);
  }
  return { permitted, denied };
}
