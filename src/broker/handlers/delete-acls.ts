import { ErrorCode } from '../../protocol/errors.js';
import type { DeleteAclsRequest, DeleteAclsResponseInput } from '../../protocol/gen/delete-acls.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, filterMatches, ResourceType, type AclBinding } from '../../security/acl.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DeleteAclsRequest, DeleteAclsResponseInput>({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const { security } = ctx.broker;
    const fail = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!security.authorizer) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!security.authorize(ctx.connection.session, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    let remaining: AclBinding[] = security.authorizer.all();
    const filterResults = req.filters.map((f) => {
      const filter = {
        resourceType: f.resourceTypeFilter,
        resourceName: f.resourceNameFilter,
        patternType: ctx.apiVersion === 0 ? 3 : f.patternTypeFilter,
        principal: f.principalFilter,
        host: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      };
      const matched = remaining.filter((b) => filterMatches(filter, b));
      remaining = remaining.filter((b) => !matched.includes(b));
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: matched.map((b) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      };
    });
    try {
      await security.replaceAcls(remaining);
    } catch (err) {
      return fail(ErrorCode.UNKNOWN_SERVER_ERROR, `Could not store the ACLs: ${(err as Error).message}`);
    }
    return { throttleTimeMs: 0, filterResults };
  },
});
