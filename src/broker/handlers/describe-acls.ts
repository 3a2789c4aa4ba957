import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeAclsRequest, DescribeAclsResponseInput } from '../../protocol/gen/describe-acls.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, filterMatches, ResourceType, type AclBinding } from '../../security/acl.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DescribeAclsRequest, DescribeAclsResponseInput>({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  handle(req, ctx) {
    const { security } = ctx.broker;
    const fail = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
    if (!security.authorizer) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!security.authorize(ctx.connection.session, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    const filter = {
      resourceType: req.resourceTypeFilter,
      resourceName: req.resourceNameFilter,
      patternType: ctx.apiVersion === 0 ? 3 : req.patternTypeFilter,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permissionType: req.permissionType,
    };
    const groups = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }>();
    for (const b of security.authorizer.all()) {
      if (!filterMatches(filter, b)) continue;
      const key = `${b.resourceType}|${b.patternType}|${b.resourceName}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
      g.acls.push(b);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resources: [...groups.values()].map((g) => ({
        resourceType: g.resourceType,
        resourceName: g.resourceName,
        patternType: g.patternType,
        acls: g.acls.map((a) => ({ principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
      })),
    };
  },
});
