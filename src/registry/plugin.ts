// Confluent-compatible Schema Registry REST API as a fastify plugin over a SchemaStore.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http/server.js';
import { checkCompatibility, COMPATIBILITY_LEVELS, type CompatibilityLevel } from './compat/index.js';
import { canonicalForm, formatSchema, InvalidSchemaError, parseSchema, SCHEMA_TYPES, type ParsedSchema, type ResolvedReference, type SchemaReference, type SchemaType } from './schemas.js';
import type { SchemaStore, StoredSchema, SubjectVersion } from './store.js';

const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';

type Query = Record<string, string | undefined>;
type Params = Record<string, string>;

const subjectNotFound = (s: string) => new HttpError(404, 40401, `Subject '${s}' not found.`);
const versionNotFound = (v: string | number) => new HttpError(404, 40402, `Version ${v} not found.`);
const schemaNotFound = (id: string | number) => new HttpError(404, 40403, `Schema ${id} not found`);
const invalidSchema = (msg: string) => new HttpError(422, 42201, msg);

function bool(q: Query, name: string): boolean {
  return q[name] === 'true';
}

interface RegisterBody {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
  id?: unknown;
  version?: unknown;
  metadata?: unknown;
  ruleSet?: unknown;
}

export interface RegistryPluginOptions {
  store: SchemaStore;
}

export async function registryPlugin(app: FastifyInstance, opts: RegistryPluginOptions): Promise<void> {
  const store = opts.store;
  const state = store.state;

  app.addHook('onSend', async (_req, reply, payload) => {
    const ct = reply.getHeader('content-type');
    if (typeof ct === 'string' && ct.startsWith('application/json')) reply.header('content-type', REGISTRY_CONTENT_TYPE);
    return payload;
  });

  // ------------------------------------------------------------------ helpers
  const schemaTypeOf = (t: unknown): SchemaType => {
    if (t === undefined || t === null || t === '') return 'AVRO';
    if (typeof t !== 'string' || !SCHEMA_TYPES.includes(t.toUpperCase() as SchemaType)) throw invalidSchema(`Invalid schema type ${String(t)}`);
    return t.toUpperCase() as SchemaType;
  };

  const levelFor = (subject: string): CompatibilityLevel =>
    ((state.configs.get(subject)?.compatibilityLevel ?? state.configs.get('')?.compatibilityLevel ?? DEFAULT_LEVEL) as CompatibilityLevel);

  const modeFor = (subject: string): string => state.modes.get(subject) ?? state.modes.get('') ?? 'READWRITE';

  const ensureWritable = (subject: string) => {
    const m = modeFor(subject);
    if (m === 'READONLY' || m === 'READONLY_OVERRIDE') throw new HttpError(422, 42205, `Subject ${subject} is in read-only mode`);
  };

  /** References resolved depth-first (dependencies before dependents). */
  const resolveRefs = (refs: SchemaReference[], out: ResolvedReference[] = [], seen = new Set<string>(), depth = 0): ResolvedReference[] => {
    if (depth > 32) throw invalidSchema('Invalid schema: reference chain too deep');
    for (const r of refs) {
      if (!r || typeof r.name !== 'string' || typeof r.subject !== 'string') throw invalidSchema('Invalid schema: a reference needs name, subject and version');
      const key = `${r.subject}\u0000${r.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const v = r.version === -1 ? state.versions(r.subject, false).at(-1) : state.subjects.get(r.subject)?.get(Number(r.version));
      const s = v && state.schemas.get(v.id);
      if (!s) throw invalidSchema(`Invalid schema: reference ${r.name} to subject ${r.subject} version ${r.version} not found`);
      resolveRefs(s.references, out, seen, depth + 1);
      out.push({ name: r.name, schemaType: s.schemaType, schema: s.schema });
    }
    return out;
  };

  const parseStored = (s: StoredSchema): ParsedSchema => parseSchema(s.schemaType, s.schema, resolveRefs(s.references));

  interface Candidate {
    schemaType: SchemaType;
    schema: string;
    references: SchemaReference[];
    parsed: ParsedSchema;
    identity: string;
    normalizedIdentity: string;
  }

  const candidateFrom = (body: RegisterBody | undefined): Candidate => {
    if (!body || typeof body !== 'object') throw invalidSchema('Invalid schema: request body must be a JSON object with a "schema" field');
    if (typeof body.schema !== 'string') throw invalidSchema('Invalid schema: "schema" must be a string');
    const schemaType = schemaTypeOf(body.schemaType);
    const references = (Array.isArray(body.references) ? body.references : []) as SchemaReference[];
    const resolved = resolveRefs(references);
    let parsed: ParsedSchema;
    try {
      parsed = parseSchema(schemaType, body.schema, resolved);
    } catch (err) {
      if (err instanceof InvalidSchemaError) throw invalidSchema(err.message);
      throw err;
    }
    const refKey = JSON.stringify(references.map((r) => [r.name, r.subject, r.version]));
    return {
      schemaType,
      schema: body.schema,
      references,
      parsed,
      identity: `${schemaType}\u0000${canonicalForm(schemaType, body.schema, parsed, false)}\u0000${refKey}`,
      normalizedIdentity: `${schemaType}\u0000${canonicalForm(schemaType, body.schema, parsed, true)}\u0000${refKey}`,
    };
  };

  const matches = (c: Candidate, s: StoredSchema, normalize: boolean) =>
    normalize ? s.normalizedIdentity === c.normalizedIdentity : s.identity === c.identity || s.normalizedIdentity === c.identity;

  const normalizeFor = (q: Query, subject: string) => bool(q, 'normalize') || state.configs.get(subject)?.normalize === true || state.configs.get('')?.normalize === true;

  const findVersion = (subject: string, raw: string, includeDeleted: boolean): SubjectVersion => {
    const versions = state.versions(subject, true);
    if (versions.length === 0 || (!includeDeleted && versions.every((v) => v.deleted))) throw subjectNotFound(subject);
    if (raw === 'latest' || raw === '-1') {
      const live = state.versions(subject, includeDeleted);
      const v = live.at(-1);
      if (!v) throw versionNotFound(raw);
      return v;
    }
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 2 ** 31 - 1) {
      throw new HttpError(422, 42202, `The specified version '${raw}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
    }
    const v = state.subjects.get(subject)?.get(Number(raw));
    if (!v || (v.deleted && !includeDeleted)) throw versionNotFound(raw);
    return v;
  };

  const schemaBody = (s: StoredSchema, format?: string) => {
    const out: Record<string, unknown> = {};
    if (s.schemaType !== 'AVRO') out.schemaType = s.schemaType;
    out.schema = formatSchema(s.schemaType, s.schema, format, s.schemaType === 'PROTOBUF' && format === 'serialized' ? resolveRefs(s.references) : []);
    if (s.references.length) out.references = s.references;
    return out;
  };

  const versionBody = (v: SubjectVersion, format?: string) => {
    const s = state.schemas.get(v.id)!;
    const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
    Object.assign(out, schemaBody(s, format));
    if (v.metadata) out.metadata = v.metadata;
    if (v.ruleSet) out.ruleSet = v.ruleSet;
    return out;
  };

  const sendRaw = (reply: FastifyReply, s: StoredSchema, format?: string) => {
    const text = formatSchema(s.schemaType, s.schema, format, []);
    void reply.header('content-type', REGISTRY_CONTENT_TYPE).send(s.schemaType === 'PROTOBUF' ? JSON.stringify(text) : text);
  };

  const referencedBy = (subject: string, version: number): number[] => {
    const ids: number[] = [];
    for (const versions of state.subjects.values()) {
      for (const v of versions.values()) {
        if (v.deleted) continue;
        const s = state.schemas.get(v.id);
        if (s?.references.some((r) => r.subject === subject && Number(r.version) === version)) ids.push(v.id);
      }
    }
    return [...new Set(ids)].sort((a, b) => a - b);
  };

  const compatMessages = (subject: string, c: Candidate, level: CompatibilityLevel, against?: SubjectVersion[]) => {
    const previous = (against ?? state.versions(subject, false)).map((v) => ({ version: v.version, parsed: parseStored(state.schemas.get(v.id)!) }));
    return checkCompatibility(level, c.parsed, previous);
  };

  // ------------------------------------------------------------------ routes
  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => SCHEMA_TYPES);
  app.get('/contexts', async () => {
    const ctx = new Set(['.']);
    for (const s of state.subjects.keys()) {
      const m = /^:(\.[^:]+):/.exec(s);
      if (m) ctx.add(m[1]!);
    }
    return [...ctx].sort();
  });

  app.get('/schemas', async (req) => {
    const q = req.query as Query;
    const prefix = q.subjectPrefix ?? '';
    const deleted = bool(q, 'deleted');
    const latestOnly = bool(q, 'latestOnly');
    const out: unknown[] = [];
    for (const subject of [...state.subjects.keys()].sort()) {
      if (!subject.startsWith(prefix)) continue;
      const versions = state.versions(subject, deleted);
      for (const v of latestOnly ? versions.slice(-1) : versions) out.push(versionBody(v));
    }
    return out;
  });

  const idParam = (raw: string): StoredSchema => {
    if (!/^\d+$/.test(raw)) throw schemaNotFound(raw);
    const s = state.schemas.get(Number(raw));
    if (!s) throw schemaNotFound(raw);
    return s;
  };

  app.get('/schemas/ids/:id', async (req) => {
    const q = req.query as Query;
    const s = idParam((req.params as Params).id!);
    return schemaBody(s, q.format);
  });
  app.get('/schemas/ids/:id/schema', async (req, reply) => {
    sendRaw(reply, idParam((req.params as Params).id!), (req.query as Query).format);
    return reply;
  });
  app.get('/schemas/ids/:id/subjects', async (req) => {
    const s = idParam((req.params as Params).id!);
    const deleted = bool(req.query as Query, 'deleted');
    const out = new Set<string>();
    for (const [subject, versions] of state.subjects) for (const v of versions.values()) if (v.id === s.id && (deleted || !v.deleted)) out.add(subject);
    return [...out].sort();
  });
  app.get('/schemas/ids/:id/versions', async (req) => {
    const s = idParam((req.params as Params).id!);
    const deleted = bool(req.query as Query, 'deleted');
    const out: { subject: string; version: number }[] = [];
    for (const [subject, versions] of state.subjects) for (const v of versions.values()) if (v.id === s.id && (deleted || !v.deleted)) out.push({ subject, version: v.version });
    return out.sort((a, b) => a.subject.localeCompare(b.subject) || a.version - b.version);
  });

  app.get('/subjects', async (req) => {
    const q = req.query as Query;
    const prefix = q.subjectPrefix ?? '';
    const deletedOnly = bool(q, 'deletedOnly');
    const deleted = bool(q, 'deleted');
    const out: string[] = [];
    for (const [subject, versions] of state.subjects) {
      if (!subject.startsWith(prefix)) continue;
      const all = [...versions.values()];
      const anyLive = all.some((v) => !v.deleted);
      if (deletedOnly ? !anyLive && all.length > 0 : anyLive || (deleted && all.length > 0)) out.push(subject);
    }
    return out.sort();
  });

  app.get('/subjects/:subject/versions', async (req) => {
    const q = req.query as Query;
    const subject = (req.params as Params).subject!;
    const all = state.versions(subject, true);
    const list = bool(q, 'deletedOnly') ? all.filter((v) => v.deleted) : bool(q, 'deleted') ? all : all.filter((v) => !v.deleted);
    if (all.length === 0 || (list.length === 0 && !bool(q, 'deletedOnly'))) throw subjectNotFound(subject);
    return list.map((v) => v.version);
  });

  app.post('/subjects/:subject/versions', async (req) => {
    const q = req.query as Query;
    const subject = (req.params as Params).subject!;
    const body = req.body as RegisterBody | undefined;
    return store.exclusive(async () => {
      ensureWritable(subject);
      const c = candidateFrom(body);
      const normalize = normalizeFor(q, subject);
      const mode = modeFor(subject);
      const live = state.versions(subject, false);
      const importing = mode === 'IMPORT';
      // Already registered under this subject: same answer, no new version.
      for (const v of live) {
        const s = state.schemas.get(v.id)!;
        if (matches(c, s, normalize) && (!importing || body?.id === undefined || body.id === v.id)) return { id: v.id };
      }
      if (!importing) {
        const problems = compatMessages(subject, c, levelFor(subject));
        if (problems.length) {
          throw new HttpError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${problems.join(', ')}]`);
        }
      }
      let id: number | undefined;
      if (importing && body?.id !== undefined) {
        if (!Number.isInteger(body.id) || (body.id as number) < 1) throw new HttpError(422, 42201, `Invalid schema id ${String(body.id)}`);
        id = body.id as number;
        const existing = state.schemas.get(id);
        if (existing && !matches(c, existing, false) && !matches(c, existing, true)) {
          throw new HttpError(422, 42205, `Overwrite new schema with id ${id} is not permitted.`);
        }
      } else if (!importing || body?.id === undefined) {
        for (const s of state.schemas.values()) {
          if (matches(c, s, normalize)) {
            id = s.id;
            break;
          }
        }
      }
      id ??= state.maxId + 1;
      const all = state.versions(subject, true);
      let version = (all.at(-1)?.version ?? 0) + 1;
      if (importing && body?.version !== undefined) {
        if (!Number.isInteger(body.version) || (body.version as number) < 1) throw new HttpError(422, 42202, `Invalid version ${String(body.version)}`);
        version = body.version as number;
      }
      await store.append([
        {
          key: { keytype: 'SCHEMA', subject, version, magic: 1 },
          value: {
            subject,
            version,
            id,
            ...(c.schemaType !== 'AVRO' ? { schemaType: c.schemaType } : {}),
            references: c.references,
            schema: c.schema,
            deleted: false,
            ...(body?.metadata ? { metadata: body.metadata } : {}),
            ...(body?.ruleSet ? { ruleSet: body.ruleSet } : {}),
            identity: c.identity,
            normalizedIdentity: c.normalizedIdentity,
          },
        },
      ]);
      return { id };
    });
  });

  app.post('/subjects/:subject', async (req) => {
    const q = req.query as Query;
    const subject = (req.params as Params).subject!;
    const deleted = bool(q, 'deleted');
    const versions = state.versions(subject, deleted);
    if (versions.length === 0) throw subjectNotFound(subject);
    const c = candidateFrom(req.body as RegisterBody | undefined);
    const normalize = normalizeFor(q, subject);
    for (const v of [...versions].reverse()) {
      if (matches(c, state.schemas.get(v.id)!, normalize)) return versionBody(v);
    }
    throw new HttpError(404, 40403, 'Schema not found');
  });

  app.get('/subjects/:subject/versions/:version', async (req) => {
    const q = req.query as Query;
    const p = req.params as Params;
    return versionBody(findVersion(p.subject!, p.version!, bool(q, 'deleted')), q.format);
  });
  app.get('/subjects/:subject/versions/:version/schema', async (req, reply) => {
    const q = req.query as Query;
    const p = req.params as Params;
    sendRaw(reply, state.schemas.get(findVersion(p.subject!, p.version!, bool(q, 'deleted')).id)!, q.format);
    return reply;
  });
  app.get('/subjects/:subject/versions/:version/referencedby', async (req) => {
    const p = req.params as Params;
    const v = findVersion(p.subject!, p.version!, true);
    return referencedBy(v.subject, v.version);
  });

  app.delete('/subjects/:subject', async (req) => {
    const q = req.query as Query;
    const subject = (req.params as Params).subject!;
    const permanent = bool(q, 'permanent');
    return store.exclusive(async () => {
      ensureWritable(subject);
      const all = state.versions(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      for (const v of all) {
        if (!v.deleted && referencedBy(subject, v.version).length) {
          throw new HttpError(422, 42206, `One or more references exist to the schema {subject=${subject},version=${v.version}}.`);
        }
      }
      if (permanent) {
        if (all.some((v) => !v.deleted)) throw new HttpError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
        await store.append([
          ...all.map((v) => ({ key: { keytype: 'SCHEMA' as const, subject, version: v.version, magic: 1 }, value: null })),
          { key: { keytype: 'CONFIG' as const, subject, magic: 0 }, value: null },
          { key: { keytype: 'MODE' as const, subject, magic: 0 }, value: null },
        ]);
        return all.map((v) => v.version);
      }
      const live = all.filter((v) => !v.deleted);
      if (live.length === 0) throw new HttpError(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`);
      await store.append([
        ...live.map((v) => ({ key: { keytype: 'SCHEMA' as const, subject, version: v.version, magic: 1 }, value: storedValue(v, true) })),
        { key: { keytype: 'DELETE_SUBJECT' as const, subject, magic: 0 }, value: { subject, version: live.at(-1)!.version } },
      ]);
      return live.map((v) => v.version);
    });
  });

  const storedValue = (v: SubjectVersion, deleted: boolean): Record<string, unknown> => {
    const s = state.schemas.get(v.id)!;
    return {
      subject: v.subject,
      version: v.version,
      id: v.id,
      ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}),
      references: s.references,
      schema: s.schema,
      deleted,
      ...(v.metadata ? { metadata: v.metadata } : {}),
      ...(v.ruleSet ? { ruleSet: v.ruleSet } : {}),
      identity: s.identity,
      normalizedIdentity: s.normalizedIdentity,
    };
  };

  app.delete('/subjects/:subject/versions/:version', async (req) => {
    const q = req.query as Query;
    const p = req.params as Params;
    const subject = p.subject!;
    const permanent = bool(q, 'permanent');
    return store.exclusive(async () => {
      ensureWritable(subject);
      const v = findVersion(subject, p.version!, true);
      if (p.version === 'latest' && !permanent) {
        const live = state.versions(subject, false).at(-1);
        if (!live) throw versionNotFound(p.version);
      }
      const target = p.version === 'latest' && !permanent ? state.versions(subject, false).at(-1)! : v;
      if (referencedBy(subject, target.version).length) {
        throw new HttpError(422, 42206, `One or more references exist to the schema {subject=${subject},version=${target.version}}.`);
      }
      if (permanent) {
        if (!target.deleted) throw new HttpError(404, 40407, `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`);
        await store.append([{ key: { keytype: 'SCHEMA', subject, version: target.version, magic: 1 }, value: null }]);
        return target.version;
      }
      if (target.deleted) throw new HttpError(404, 40406, `Subject '${subject}' Version ${target.version} was soft deleted.Set permanent=true to delete permanently`);
      await store.append([{ key: { keytype: 'SCHEMA', subject, version: target.version, magic: 1 }, value: storedValue(target, true) }]);
      return target.version;
    });
  });

  // ------------------------------------------------------------------ compatibility
  const compatReply = (q: Query, problems: string[]) => {
    const out: Record<string, unknown> = { is_compatible: problems.length === 0 };
    if (bool(q, 'verbose')) out.messages = problems;
    return out;
  };

  app.post('/compatibility/subjects/:subject/versions/:version', async (req) => {
    const q = req.query as Query;
    const p = req.params as Params;
    const subject = p.subject!;
    const c = candidateFrom(req.body as RegisterBody | undefined);
    if (state.versions(subject, false).length === 0 && (p.version === 'latest' || p.version === '-1')) return compatReply(q, []);
    const v = findVersion(subject, p.version!, false);
    const level = levelFor(subject);
    const nonTransitive = (level.replace('_TRANSITIVE', '') as CompatibilityLevel);
    return compatReply(q, compatMessages(subject, c, nonTransitive, [v]));
  });

  app.post('/compatibility/subjects/:subject/versions', async (req) => {
    const q = req.query as Query;
    const subject = (req.params as Params).subject!;
    const c = candidateFrom(req.body as RegisterBody | undefined);
    return compatReply(q, compatMessages(subject, c, levelFor(subject)));
  });

  // ------------------------------------------------------------------ config
  const configBody = (cfg: Record<string, unknown>) => {
    const out: Record<string, unknown> = { ...cfg };
    return out;
  };

  app.get('/config', async () => ({ compatibilityLevel: levelFor(''), ...configExtras('') }));
  const configExtras = (subject: string) => {
    const { compatibilityLevel: _c, ...rest } = state.configs.get(subject) ?? {};
    return rest;
  };

  const putConfig = async (subject: string, body: unknown) => {
    const b = (body ?? {}) as Record<string, unknown>;
    const level = typeof b.compatibility === 'string' ? b.compatibility.toUpperCase() : typeof b.compatibilityLevel === 'string' ? b.compatibilityLevel.toUpperCase() : undefined;
    if (level === undefined && b.normalize === undefined) throw new HttpError(422, 42203, 'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive');
    if (level !== undefined && !COMPATIBILITY_LEVELS.includes(level as CompatibilityLevel)) {
      throw new HttpError(422, 42203, `Invalid compatibility level ${String(b.compatibility ?? b.compatibilityLevel)}. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive`);
    }
    const value: Record<string, unknown> = { ...(state.configs.get(subject) ?? {}) };
    if (level) value.compatibilityLevel = level;
    if (typeof b.normalize === 'boolean') value.normalize = b.normalize;
    await store.exclusive(() => store.append([{ key: { keytype: 'CONFIG', subject: subject || null, magic: 0 }, value }]));
    const out: Record<string, unknown> = {};
    if (level) out.compatibility = level;
    if (typeof b.normalize === 'boolean') out.normalize = b.normalize;
    return out;
  };

  app.put('/config', async (req) => putConfig('', req.body));
  app.delete('/config', async () => {
    const prev = { compatibilityLevel: levelFor(''), ...configExtras('') };
    await store.exclusive(() => store.append([{ key: { keytype: 'CONFIG', subject: null, magic: 0 }, value: null }]));
    return prev;
  });
  app.get('/config/:subject', async (req) => {
    const subject = (req.params as Params).subject!;
    const cfg = state.configs.get(subject);
    if (!cfg) {
      if (bool(req.query as Query, 'defaultToGlobal')) return { compatibilityLevel: levelFor(''), ...configExtras('') };
      throw new HttpError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
    }
    return configBody(cfg);
  });
  app.put('/config/:subject', async (req) => putConfig((req.params as Params).subject!, req.body));
  app.delete('/config/:subject', async (req) => {
    const subject = (req.params as Params).subject!;
    const cfg = state.configs.get(subject);
    if (!cfg) throw subjectNotFound(subject);
    await store.exclusive(() => store.append([{ key: { keytype: 'CONFIG', subject, magic: 0 }, value: null }]));
    return cfg;
  });

  // ------------------------------------------------------------------ mode
  const putMode = async (subject: string, req: FastifyRequest) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const mode = typeof b.mode === 'string' ? b.mode.toUpperCase() : '';
    if (!(MODES as readonly string[]).includes(mode)) throw new HttpError(422, 42204, `Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT`);
    if (mode === 'IMPORT' && !bool(req.query as Query, 'force')) {
      const hasSchemas = subject ? state.versions(subject, true).length > 0 : state.subjects.size > 0;
      if (hasSchemas) throw new HttpError(422, 42205, `Cannot import since found existing subjects`);
    }
    await store.exclusive(() => store.append([{ key: { keytype: 'MODE', subject: subject || null, magic: 0 }, value: { mode } }]));
    return { mode };
  };
  app.get('/mode', async () => ({ mode: modeFor('') }));
  app.put('/mode', async (req) => putMode('', req));
  app.get('/mode/:subject', async (req) => {
    const subject = (req.params as Params).subject!;
    const m = state.modes.get(subject);
    if (!m) {
      if (bool(req.query as Query, 'defaultToGlobal')) return { mode: modeFor('') };
      throw new HttpError(404, 40409, `Subject '${subject}' does not have subject-level mode configured`);
    }
    return { mode: m };
  });
  app.put('/mode/:subject', async (req) => putMode((req.params as Params).subject!, req));
  app.delete('/mode/:subject', async (req) => {
    const subject = (req.params as Params).subject!;
    const m = state.modes.get(subject);
    if (!m) throw subjectNotFound(subject);
    await store.exclusive(() => store.append([{ key: { keytype: 'MODE', subject, magic: 0 }, value: null }]));
    return { mode: m };
  });
}
