import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponseInput } from '../../protocol/gen/describe-user-scram-credentials.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../security/acl.js';
import { SCRAM_MECHANISM_IDS } from '../../security/scram.js';
import { defineHandler } from '../handler.js';

export default defineHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponseInput>({
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    const { security } = ctx.broker;
    if (!security.authorize(ctx.connection.session, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', results: [] };
    }
    const store = security.store;
    const requested = req.users === null || req.users.length === 0 ? store.users() : req.users.map((u) => u.name);
    const seen = new Set<string>();
    const results = requested.map((user) => {
      if (seen.has(user)) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
      seen.add(user);
      const creds = store.credentials(user);
      if (creds.length === 0) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
      return {
        user,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        credentialInfos: creds.map((c) => ({ mechanism: SCRAM_MECHANISM_IDS[c.mechanism], iterations: c.iterations })),
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  },
});
