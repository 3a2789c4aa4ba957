// Kafka's ACL model (AclAuthorizer / StandardAuthorizer semantics): bindings of a resource
// pattern (type, name, LITERAL or PREFIXED, '*' wildcard) to an entry (principal, host,
// operation, ALLOW/DENY). DENY wins; WRITE/READ/DELETE/ALTER imply DESCRIBE and ALTER_CONFIGS
// implies DESCRIBE_CONFIGS; ALL covers every operation; super users bypass everything.

export const ResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const AclOperation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8,
  CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14,
} as const;
const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
const WILDCARD = '*';

export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A filter as CreateAcls' counterparts DescribeAcls / DeleteAcls send it (null = any). */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** Why a binding cannot be created, or null when it is valid (Kafka's checks in CreateAcls). */
export function invalidBindingReason(b: AclBinding): string | null {
  if (b.resourceType <= ResourceType.ANY || b.resourceType > ResourceType.USER) return 'Invalid resource type';
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return 'Invalid pattern type (must be LITERAL or PREFIXED)';
  if (b.operation <= AclOperation.ANY || b.operation > AclOperation.DESCRIBE_TOKENS) return 'Invalid operation';
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY) return 'Invalid permission type';
  if (!b.resourceName) return 'Resource name must not be empty';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  if (b.patternType === PatternType.PREFIXED && b.resourceName === WILDCARD) return 'Prefixed wildcard patterns are not allowed';
  if (!/^[^:]+:.+$/.test(b.principal)) return `Could not parse principal from \`${b.principal}\` (no colon is found).`;
  if (!b.host) return 'Host must not be empty';
  if (!Number.isInteger(b.operation)) return 'Invalid operation';
  return null;
}

export function bindingKey(b: AclBinding): string {
  return `${b.resourceType}|${b.patternType}|${b.resourceName}|${b.principal}|${b.host}|${b.operation}|${b.permissionType}`;
}

/** Whether a binding matches a filter (DescribeAcls / DeleteAcls semantics, incl. MATCH). */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== AclPermission.ANY && f.permissionType !== b.permissionType) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  switch (f.patternType) {
    case PatternType.ANY:
      return f.resourceName === null || f.resourceName === b.resourceName;
    case PatternType.MATCH:
      if (f.resourceName === null) return true;
      return patternCovers(b, f.resourceName);
    default:
      if (f.patternType !== b.patternType) return false;
      return f.resourceName === null || f.resourceName === b.resourceName;
  }
}

function patternCovers(b: AclBinding, name: string): boolean {
  if (b.patternType === PatternType.LITERAL) return b.resourceName === name || b.resourceName === WILDCARD;
  if (b.patternType === PatternType.PREFIXED) return name.startsWith(b.resourceName);
  return false;
}

/** Operations an ALLOW ACL for `op` also grants (Kafka's implication rules). */
function allowedBy(op: number): number[] {
  if (op === AclOperation.DESCRIBE) return [AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.ALL];
  if (op === AclOperation.DESCRIBE_CONFIGS) return [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.ALL];
  return [op, AclOperation.ALL];
}

export interface AuthorizerSettings {
  superUsers: ReadonlySet<string>;
  allowEveryoneIfNoAclFound: boolean;
}

/** Holds the bindings, indexed by resource type, and answers authorize(). */
export class AclAuthorizer {
  private bindings = new Map<string, AclBinding>();
  private byType = new Map<number, AclBinding[]>();

  constructor(private settings: AuthorizerSettings) {}

  configure(settings: AuthorizerSettings): void {
    this.settings = settings;
  }

  replaceAll(bindings: Iterable<AclBinding>): void {
    this.bindings = new Map();
    for (const b of bindings) this.bindings.set(bindingKey(b), b);
    this.reindex();
  }

  all(): AclBinding[] {
    return [...this.bindings.values()];
  }

  private reindex(): void {
    this.byType = new Map();
    for (const b of this.bindings.values()) {
      let list = this.byType.get(b.resourceType);
      if (!list) this.byType.set(b.resourceType, (list = []));
      list.push(b);
    }
  }

  isSuperUser(principal: string): boolean {
    return this.settings.superUsers.has(principal);
  }

  authorize(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    if (this.settings.superUsers.has(principal)) return true;
    const candidates = (this.byType.get(resourceType) ?? []).filter((b) => patternCovers(b, resourceName));
    if (candidates.length === 0) return this.settings.allowEveryoneIfNoAclFound;
    const principalMatches = (b: AclBinding) => b.principal === principal || b.principal === 'User:*';
    const hostMatches = (b: AclBinding) => b.host === WILDCARD || b.host === host;
    for (const b of candidates) {
      if (b.permissionType === AclPermission.DENY && principalMatches(b) && hostMatches(b) && (b.operation === operation || b.operation === AclOperation.ALL)) {
        return false;
      }
    }
    const granting = allowedBy(operation);
    return candidates.some(
      (b) => b.permissionType === AclPermission.ALLOW && principalMatches(b) && hostMatches(b) && granting.includes(b.operation),
    );
  }

  /** Whether the principal may do `operation` on SOME resource of the type (Kafka's authorizeByResourceType, used for idempotent writes and CreateTopics-on-any). */
  authorizeAny(principal: string, host: string, operation: number, resourceType: number): boolean {
    if (this.settings.superUsers.has(principal)) return true;
    const list = this.byType.get(resourceType) ?? [];
    const principalMatches = (b: AclBinding) => b.principal === principal || b.principal === 'User:*';
    const hostMatches = (b: AclBinding) => b.host === WILDCARD || b.host === host;
    const granting = allowedBy(operation);
    return list.some((b) => b.permissionType === AclPermission.ALLOW && principalMatches(b) && hostMatches(b) && granting.includes(b.operation));
  }
}
