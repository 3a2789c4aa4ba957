// Kafka Connect's REST API over fastify: same paths, status codes and JSON shapes, so existing
// scripts, UIs and Terraform providers work. Errors are {error_code, message}.
import Fastify, { type FastifyInstance } from 'fastify';
import { CONNECT_VERSION } from './sdk.js';
import { ConnectError, type TargetState, type Worker } from './worker.js';

type Params = { connector: string; task: string; plugin: string };

export async function startRestServer(worker: Worker, host: string, port: number): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err instanceof ConnectError ? err.status : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    void reply.code(status).send({ error_code: status, message: err.message });
  });
  // The API listens before the internal topics are read (the worker id is its address); until the
  // worker has rebuilt its state, requests get 503 instead of a view of nothing.
  app.addHook('onRequest', async (_req, reply) => {
    if (!worker.ready) return reply.code(503).send({ error_code: 503, message: 'The worker is still starting' });
  });
  // Writes: 409 while the group rebalances (as Kafka Connect); on a follower, forwarded to the
  // leader so one worker serialises config changes.
  app.addHook('preHandler', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const m = worker.membership;
    if (m?.rebalancing) {
      return reply.code(409).send({ error_code: 409, message: 'Cannot complete request momentarily due to a worker rebalance; retry shortly' });
    }
    const leader = m?.view?.leader;
    if (leader && !m.isLeader() && leader.url && !req.headers['x-fjord-forwarded'] && !req.url.startsWith('/connector-plugins')) {
      const res = await fetch(leader.url + req.url, {
        method: req.method,
        headers: { 'content-type': 'application/json', 'x-fjord-forwarded': worker.workerId },
        body: req.body === undefined || req.body === null ? undefined : JSON.stringify(req.body),
      });
      const text = await res.text();
      return reply.code(res.status).header('content-type', 'application/json').send(text || undefined);
    }
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error_code: 404, message: `HTTP 404 Not Found: ${req.method} ${req.url}` });
  });

  const info = (name: string) => ({
    name,
    config: worker.connectorConfig(name)!,
    tasks: worker.taskConfigs(name).map((_, task) => ({ connector: name, task })),
    type: worker.connectorType(name),
  });
  const status = (name: string) => {
    const c = worker.status(`status-connector-${name}`);
    return {
      name,
      connector: { state: c?.state ?? 'UNASSIGNED', worker_id: c?.worker_id ?? worker.workerId, ...(c?.trace ? { trace: c.trace } : {}) },
      tasks: worker.taskConfigs(name).map((_, id) => taskStatus(name, id)),
      type: worker.connectorType(name),
    };
  };
  const taskStatus = (name: string, id: number) => {
    const t = worker.status(`status-task-${name}-${id}`);
    return { id, state: t?.state ?? 'UNASSIGNED', worker_id: t?.worker_id ?? worker.workerId, ...(t?.trace ? { trace: t.trace } : {}) };
  };
  const need = (name: string) => {
    if (!worker.connectorConfig(name)) throw new ConnectError(404, `Connector ${name} not found`);
  };
  const taskId = (name: string, raw: string) => {
    need(name);
    const id = Number(raw);
    if (!/^\d+$/.test(raw) || id >= worker.taskConfigs(name).length) throw new ConnectError(404, `Task ${name}-${raw} not found`);
    return id;
  };
  const configBody = (body: unknown): Record<string, string> => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ConnectError(400, 'Request body must be a JSON object of connector configs');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (v === null || typeof v === 'object') throw new ConnectError(400, `Config ${k} must be a string`);
      out[k] = String(v);
    }
    return out;
  };

  app.get('/', async () => ({ version: CONNECT_VERSION, commit: 'fjord', kafka_cluster_id: worker.clusterId }));

  app.get<{ Querystring: { expand?: string | string[] } }>('/connectors', async (req) => {
    const names = worker.connectorNames();
    const expand = [req.query.expand ?? []].flat();
    if (expand.length === 0) return names;
    const out: Record<string, Record<string, unknown>> = {};
    for (const n of names) {
      out[n] = {};
      if (expand.includes('status')) out[n].status = status(n);
      if (expand.includes('info')) out[n].info = info(n);
    }
    return out;
  });

  app.post<{ Body: { name?: unknown; config?: unknown; initial_state?: unknown } }>('/connectors', async (req, reply) => {
    const body = req.body ?? {};
    if (typeof body.name !== 'string' || !body.name) throw new ConnectError(400, 'Connector name must be specified');
    const config = configBody(body.config ?? {});
    if (config.name !== undefined && config.name !== body.name) throw new ConnectError(400, 'Connector name configuration (' + config.name + ') doesn\'t match connector name in the URL (' + body.name + ')');
    const initial = body.initial_state === undefined ? undefined : String(body.initial_state).toUpperCase();
    if (initial !== undefined && !['RUNNING', 'PAUSED', 'STOPPED'].includes(initial)) throw new ConnectError(400, `Invalid initial state: ${initial}`);
    if (worker.connectorConfig(body.name)) throw new ConnectError(409, `Connector ${body.name} already exists`);
    await worker.putConnectorConfig(body.name, config, initial === undefined ? undefined : initial === 'RUNNING' ? 'STARTED' : (initial as TargetState));
    return reply.code(201).send(info(body.name));
  });

  app.get<{ Params: Params }>('/connectors/:connector', async (req) => {
    need(req.params.connector);
    return info(req.params.connector);
  });
  app.get<{ Params: Params }>('/connectors/:connector/config', async (req) => {
    need(req.params.connector);
    return worker.connectorConfig(req.params.connector);
  });
  app.put<{ Params: Params }>('/connectors/:connector/config', async (req, reply) => {
    const name = req.params.connector;
    const config = configBody(req.body);
    if (config.name !== undefined && config.name !== name) throw new ConnectError(400, `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`);
    const { created } = await worker.putConnectorConfig(name, config);
    return reply.code(created ? 201 : 200).send(info(name));
  });
  app.patch<{ Params: Params }>('/connectors/:connector/config', async (req) => {
    const name = req.params.connector;
    need(name);
    const patch = req.body as Record<string, unknown> | null;
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new ConnectError(400, 'Request body must be a JSON object');
    const merged = { ...worker.connectorConfig(name) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else merged[k] = String(v);
    }
    await worker.putConnectorConfig(name, merged);
    return info(name);
  });
  app.get<{ Params: Params }>('/connectors/:connector/status', async (req) => {
    need(req.params.connector);
    return status(req.params.connector);
  });
  app.post<{ Params: Params; Querystring: { includeTasks?: string; onlyFailed?: string } }>('/connectors/:connector/restart', async (req, reply) => {
    const name = req.params.connector;
    need(name);
    const includeTasks = req.query.includeTasks === 'true';
    const onlyFailed = req.query.onlyFailed === 'true';
    await worker.restart(name, includeTasks, onlyFailed);
    if (!includeTasks && !onlyFailed) return reply.code(204).send();
    return reply.code(202).send(status(name));
  });
  for (const [path, state] of [
    ['pause', 'PAUSED'],
    ['resume', 'STARTED'],
    ['stop', 'STOPPED'],
  ] as const) {
    app.put<{ Params: Params }>(`/connectors/:connector/${path}`, async (req, reply) => {
      await worker.setTargetState(req.params.connector, state);
      return reply.code(path === 'stop' ? 204 : 202).send();
    });
  }
  app.get<{ Params: Params }>('/connectors/:connector/offsets', async (req) => ({ offsets: await worker.getOffsets(req.params.connector) }));
  app.patch<{ Params: Params; Body: { offsets?: unknown } }>('/connectors/:connector/offsets', async (req) => {
    const offsets = req.body?.offsets;
    if (!Array.isArray(offsets) || offsets.some((o) => !o || typeof o !== 'object' || typeof (o as { partition?: unknown }).partition !== 'object')) {
      throw new ConnectError(400, 'Request body must contain "offsets": a list of {"partition": {...}, "offset": {...}|null}');
    }
    await worker.alterOffsets(req.params.connector, offsets as { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[]);
    return { message: 'The offsets for this connector have been altered successfully' };
  });
  app.delete<{ Params: Params }>('/connectors/:connector/offsets', async (req) => {
    await worker.alterOffsets(req.params.connector, null);
    return { message: 'The offsets for this connector have been reset successfully' };
  });
  app.get<{ Params: Params }>('/connectors/:connector/tasks', async (req) => {
    const name = req.params.connector;
    need(name);
    return worker.taskConfigs(name).map((config, task) => ({ id: { connector: name, task }, config }));
  });
  app.get<{ Params: Params }>('/connectors/:connector/tasks/:task/status', async (req) =>
    taskStatus(req.params.connector, taskId(req.params.connector, req.params.task)),
  );
  app.post<{ Params: Params }>('/connectors/:connector/tasks/:task/restart', async (req, reply) => {
    await worker.restartTask(req.params.connector, taskId(req.params.connector, req.params.task));
    return reply.code(204).send();
  });
  app.get<{ Params: Params }>('/connectors/:connector/topics', async (req) => {
    need(req.params.connector);
    return { [req.params.connector]: { topics: worker.connectorTopics(req.params.connector) } };
  });
  app.put<{ Params: Params }>('/connectors/:connector/topics/reset', async (req, reply) => {
    await worker.resetTopics(req.params.connector);
    return reply.code(202).send();
  });
  app.delete<{ Params: Params }>('/connectors/:connector', async (req, reply) => {
    await worker.deleteConnector(req.params.connector);
    return reply.code(204).send();
  });

  app.get<{ Querystring: { connectorsOnly?: string } }>('/connector-plugins', async (req) => worker.pluginList(req.query.connectorsOnly !== 'false'));
  app.get<{ Params: Params }>('/connector-plugins/:plugin/config', async (req) => {
    const p = worker.plugins.find(req.params.plugin);
    if (!p) throw new ConnectError(404, `Unknown plugin ${req.params.plugin}.`);
    const report = await worker.validate({ 'connector.class': p.className });
    return report.configs.map((c) => c.definition);
  });
  app.put<{ Params: Params }>('/connector-plugins/:plugin/config/validate', async (req) => {
    const config = configBody(req.body);
    const cls = config['connector.class'];
    const p = worker.plugins.find(req.params.plugin);
    if (!p) throw new ConnectError(404, `Unknown plugin ${req.params.plugin}.`);
    if (cls !== undefined && worker.plugins.find(cls) !== p) {
      throw new ConnectError(400, 'Included connector type ' + cls + ' does not match request type ' + req.params.plugin);
    }
    return worker.validate({ ...config, 'connector.class': cls ?? p.className });
  });

  const address = await app.listen({ host, port });
  return { app, url: address };
}
