import { ErrorCode } from '../../protocol/errors.js';
import type { AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponseInput } from '../../protocol/gen/alter-user-scram-credentials.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../security/acl.js';
import {
  credentialFromSaltedPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  scramMechanismById,
  type ScramCredential,
  type ScramMechanism,
} from '../../security/scram.js';
import { defineHandler } from '../handler.js';

export default defineHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponseInput>({
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const { security } = ctx.broker;
    const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])];
    if (!security.authorize(ctx.connection.session, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' })) };
    }
    const errors = new Map<string, { errorCode: number; errorMessage: string }>();
    const touched = new Set<string>();
    const dup = (user: string, mech: number) => {
      const k = `${user}\u0000${mech}`;
      if (touched.has(k)) errors.set(user, { errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' });
      touched.add(k);
    };
    const deletions: { user: string; mechanism: ScramMechanism }[] = [];
    const upserts: { user: string; credential: ScramCredential }[] = [];
    for (const d of req.deletions) {
      dup(d.name, d.mechanism);
      const mechanism = scramMechanismById(d.mechanism);
      if (!d.name) errors.set(d.name, { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' });
      else if (!mechanism) errors.set(d.name, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' });
      else if (!security.store.credential(d.name, mechanism)) {
        errors.set(d.name, { errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' });
      } else deletions.push({ user: d.name, mechanism });
    }
    for (const u of req.upsertions) {
      dup(u.name, u.mechanism);
      const mechanism = scramMechanismById(u.mechanism);
      if (!u.name) errors.set(u.name, { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' });
      else if (!mechanism) errors.set(u.name, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' });
      else if (u.iterations < SCRAM_MIN_ITERATIONS || u.iterations > SCRAM_MAX_ITERATIONS) {
        errors.set(u.name, { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: `Iterations must be between ${SCRAM_MIN_ITERATIONS} and ${SCRAM_MAX_ITERATIONS}` });
      } else if (u.salt.length === 0 || u.saltedPassword.length === 0) {
        errors.set(u.name, { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Salt and salted password must not be empty' });
      } else upserts.push({ user: u.name, credential: credentialFromSaltedPassword(mechanism, u.saltedPassword, u.salt, u.iterations) });
    }
    const ok = (user: string) => !errors.has(user);
    try {
      await security.alterScram(upserts.filter((x) => ok(x.user)), deletions.filter((x) => ok(x.user)));
    } catch (err) {
      for (const user of users) if (ok(user)) errors.set(user, { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message });
    }
    return {
      throttleTimeMs: 0,
      results: users.map((user) => ({ user, errorCode: errors.get(user)?.errorCode ?? ErrorCode.NONE, errorMessage: errors.get(user)?.errorMessage ?? null })),
    };
  },
});
