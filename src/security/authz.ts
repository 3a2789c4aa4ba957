// Authorization helpers for handlers: one line per check, Kafka's operations and resource types.
import type { RequestContext } from '../broker/handler.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from './acl.js';

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
