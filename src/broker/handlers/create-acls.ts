import { ErrorCode } from '../../protocol/errors.js';
import type { CreateAclsRequest, CreateAclsResponseInput } from '../../protocol/gen/create-acls.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { AclOperation, bindingKey, CLUSTER_RESOURCE_NAME, invalidBindingReason, ResourceType, type AclBinding } from '../../security/acl.js';
import { defineHandler } from '../handler.js';

export default defineHandler<CreateAclsRequest, CreateAclsResponseInput>({
  apiKey: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const { security } = ctx.broker;
    const session = ctx.connection.session;
    const fail = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })) });
    if (!security.authorizer) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!security.authorize(session, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    const existing = new Map(security.authorizer.all().map((b) => [bindingKey(b), b]));
    const results = req.creations.map((c) => {
      const binding: AclBinding = {
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: ctx.apiVersion === 0 ? 3 : c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      };
      const reason = invalidBindingReason(binding);
      if (reason !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason };
      existing.set(bindingKey(binding), binding);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
    try {
      await security.replaceAcls([...existing.values()]);
    } catch (err) {
      return fail(ErrorCode.UNKNOWN_SERVER_ERROR, `Could not store the ACLs: ${(err as Error).message}`);
    }
    return { throttleTimeMs: 0, results };
  },
});
