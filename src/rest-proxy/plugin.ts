// Confluent REST Proxy API (v3 and v2) as a fastify plugin over the Kafka protocol.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpIdentity } from '../http/auth.js';
import { HttpError } from '../http/server.js';
import type { KafkaAccess } from '../http/kafka.js';
import { ConsumerInstances, type ConsumerFormat } from './consumers.js';
import { JsonValueSplitter } from './json-stream.js';
import { streamProduce } from './stream-produce.js';
import { errorText, KafkaSide, type OutRecord, type ProxyOptions } from './proxy.js';
import { SchemaSerde, type EmbeddedFormat } from './schema-serde.js';

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Kafka sides kept for authenticated HTTP users (least recently used closed beyond this). */
const MAX_USER_SIDES = 64;

export class RestProxy {
  readonly kafka: KafkaSide;
  readonly serde: SchemaSerde;
  readonly consumers: ConsumerInstances;
  private readonly userSides = new Map<string, KafkaSide>();

  constructor(readonly options: ProxyOptions & { kafka: KafkaAccess }) {
    this.kafka = new KafkaSide(options);
    this.serde = new SchemaSerde(options.registryUrl);
    this.consumers = new ConsumerInstances(options.kafka, options.consumerInstanceTimeoutMs ?? 300_000);
  }

  async start(): Promise<void> {
    await this.kafka.start();
  }

  /** The Kafka side that acts as `identity` (the broker applies that user's ACLs), or the service's own. */
  sideFor(identity: HttpIdentity | null): KafkaSide {
    if (!identity) return this.kafka;
    let side = this.userSides.get(identity.key);
    if (side) {
      this.userSides.delete(identity.key);
    } else {
      side = new KafkaSide({ ...this.options, kafka: { ...identity.access, clientId: this.options.kafka.clientId } });
      side.clusterId = this.kafka.clusterId;
      if (this.userSides.size >= MAX_USER_SIDES) {
        const [oldestKey, oldest] = this.userSides.entries().next().value!;
        this.userSides.delete(oldestKey);
        void oldest.close();
      }
    }
    this.userSides.set(identity.key, side);
    return side;
  }

  async close(): Promise<void> {
    await this.consumers.closeAll();
    await Promise.all([...this.userSides.values()].map((side) => side.close()));
    this.userSides.clear();
    await this.kafka.close();
  }
}

const V2_PRODUCE = /^application\/vnd\.kafka\.(json|binary|avro|jsonschema|protobuf)\.v2\+json/;
const V2_ANY = /^application\/(vnd\.kafka(\.[a-z]+)?\.v2\+json|json)/;

function kafkaErrorToHttp(err: unknown): never {
  if (err instanceof HttpError) throw err;
  const text = errorText(err);
  if (/UNKNOWN_TOPIC_OR_PARTITION|Unknown topic/i.test(text)) throw new HttpError(404, 40401, "Topic not found.");
  if (/TOPIC_ALREADY_EXISTS/.test(text)) throw new HttpError(400, 40002, 'Topic already exists.');
  if (/INVALID_TOPIC_EXCEPTION|INVALID_PARTITIONS|INVALID_REPLICATION_FACTOR|INVALID_CONFIG/.test(text)) throw new HttpError(400, 40002, (err as Error).message);
  if (/RECORD_TOO_LARGE|MESSAGE_TOO_LARGE/.test(text)) throw new HttpError(413, 413, 'Record is too large.');
  if (/AUTHORIZATION_FAILED|not authorized/i.test(text)) throw new HttpError(403, 40301, `Not authorized: ${(err as Error).message}`);
  throw new HttpError(500, 50002, `Kafka error: ${(err as Error)?.message ?? String(err)}`);
}

function decodeData(kind: 'key' | 'value', d: unknown, type: string | undefined): Buffer | null {
  if (d === undefined || d === null) return null;
  const t = (type ?? (typeof d === 'string' ? 'STRING' : 'JSON')).toUpperCase();
  if (t === 'BINARY') {
    if (typeof d !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d)) throw new HttpError(422, 42205, `${kind}: BINARY data must be a base64 string`);
    return Buffer.from(d, 'base64');
  }
  if (t === 'STRING') {
    if (typeof d !== 'string') throw new HttpError(422, 42205, `${kind}: STRING data must be a string`);
    return Buffer.from(d, 'utf8');
  }
  if (t === 'JSON') return Buffer.from(JSON.stringify(d));
  throw new HttpError(422, 42205, `${kind}: unsupported data type ${t} (BINARY, JSON, STRING)`);
}

export interface RestProxyPluginOptions {
  proxy: RestProxy;
}

export async function restProxyPlugin(app: FastifyInstance, opts: RestProxyPluginOptions): Promise<void> {
  const proxy = opts.proxy;
  const k = proxy.kafka;
  // Each request runs against the Kafka side of its authenticated user (the service's own when
  // authentication is off), so the broker authorizes every HTTP call as that user.
  const requestSide = new AsyncLocalStorage<KafkaSide>();
  app.addHook('onRequest', (req, _reply, done) => {
    requestSide.run(proxy.sideFor(req.kafkaIdentity), done);
  });
  const kafka = (): KafkaSide => requestSide.getStore() ?? k;
  const maxRecord = proxy.options.maxRecordBytes ?? 8 * 1024 * 1024;

  const base = (req: FastifyRequest) => `http://${req.headers.host ?? 'localhost'}`;
  const clusterCheck = (cid: string) => {
    if (cid !== k.clusterId) throw new HttpError(404, 404, `Cluster ${cid} not found.`);
  };
  const related = (req: FastifyRequest, path: string) => ({ related: `${base(req)}/v3/clusters/${k.clusterId}${path}` });
  const meta = (req: FastifyRequest, path: string, resource: string) => ({
    self: `${base(req)}/v3/clusters/${k.clusterId}${path}`,
    resource_name: `crn:///kafka=${k.clusterId}${resource}`,
  });
  const list = (req: FastifyRequest, kind: string, data: unknown[]) => ({ kind, metadata: { self: `${base(req)}${req.url.split('?')[0]}`, next: null }, data });

  // ------------------------------------------------------------------ v3: cluster, brokers
  const clusterBody = async (req: FastifyRequest) => {
    const md = await kafka().admin.metadata({ topics: [] });
    return {
      kind: 'KafkaCluster',
      metadata: meta(req, '', ''),
      cluster_id: k.clusterId,
      controller: related(req, `/brokers/${md.controllerId}`),
      acls: related(req, '/acls'),
      brokers: related(req, '/brokers'),
      broker_configs: related(req, '/broker-configs'),
      consumer_groups: related(req, '/consumer-groups'),
      topics: related(req, '/topics'),
      partition_reassignments: related(req, '/topics/-/partitions/-/reassignment'),
    };
  };
  app.get('/v3/clusters', async (req) => list(req, 'KafkaClusterList', [await clusterBody(req)]));
  app.get('/v3/clusters/:cid', async (req) => {
    clusterCheck((req.params as Params).cid!);
    return clusterBody(req);
  });
  const brokerBody = (req: FastifyRequest, id: number, b: { host: string; port: number; rack?: string | null }) => ({
    kind: 'KafkaBroker',
    metadata: meta(req, `/brokers/${id}`, `/broker=${id}`),
    cluster_id: k.clusterId,
    broker_id: id,
    host: b.host,
    port: b.port,
    rack: b.rack ?? null,
    configs: related(req, `/brokers/${id}/configs`),
    partition_replicas: related(req, `/brokers/${id}/partition-replicas`),
  });
  app.get('/v3/clusters/:cid/brokers', async (req) => {
    clusterCheck((req.params as Params).cid!);
    const md = await kafka().admin.metadata({ topics: [] });
    return list(req, 'KafkaBrokerList', [...md.brokers].sort((a, b) => a[0] - b[0]).map(([id, b]) => brokerBody(req, id, b)));
  });
  app.get('/v3/clusters/:cid/brokers/:bid', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const md = await kafka().admin.metadata({ topics: [] });
    const b = md.brokers.get(Number(p.bid));
    if (!b) throw new HttpError(404, 404, `Broker ${p.bid} not found.`);
    return brokerBody(req, Number(p.bid), b);
  });

  // ------------------------------------------------------------------ v3: topics
  const topicBody = (req: FastifyRequest, name: string, partitions: { replicas: number[] }[], internal: boolean) => ({
    kind: 'KafkaTopic',
    metadata: meta(req, `/topics/${name}`, `/topic=${name}`),
    cluster_id: k.clusterId,
    topic_name: name,
    is_internal: internal,
    replication_factor: partitions[0]?.replicas.length ?? 0,
    partitions_count: partitions.length,
    partitions: related(req, `/topics/${name}/partitions`),
    configs: related(req, `/topics/${name}/configs`),
    partition_reassignments: related(req, `/topics/${name}/partitions/-/reassignment`),
  });
  const describeTopic = async (name: string) => {
    try {
      const md = await kafka().admin.metadata({ topics: [name], forceUpdate: true });
      const t = md.topics.get(name);
      if (!t) throw new HttpError(404, 40401, `Topic ${name} not found.`);
      return t;
    } catch (err) {
      kafkaErrorToHttp(err);
    }
  };
  app.get('/v3/clusters/:cid/topics', async (req) => {
    clusterCheck((req.params as Params).cid!);
    const names = (await kafka().admin.listTopics({ includeInternals: true })).sort();
    const md = names.length ? await kafka().admin.metadata({ topics: names, forceUpdate: true }) : { topics: new Map() };
    return list(
      req,
      'KafkaTopicList',
      names.filter((n) => md.topics.has(n)).map((n) => topicBody(req, n, md.topics.get(n)!.partitions, n.startsWith('__'))),
    );
  });
  app.post('/v3/clusters/:cid/topics', async (req, reply) => {
    clusterCheck((req.params as Params).cid!);
    const b = (req.body ?? {}) as Json;
    if (typeof b.topic_name !== 'string' || b.topic_name === '') throw new HttpError(400, 40002, 'topic_name is required');
    try {
      await kafka().admin.createTopics({
        topics: [b.topic_name],
        partitions: Number.isInteger(b.partitions_count) ? b.partitions_count : -1,
        replicas: Number.isInteger(b.replication_factor) ? b.replication_factor : -1,
        configs: Array.isArray(b.configs) ? b.configs.map((c: Json) => ({ name: String(c.name), value: c.value === null ? null : String(c.value) })) : [],
      });
    } catch (err) {
      kafkaErrorToHttp(err);
    }
    kafka().forget(b.topic_name);
    const t = await describeTopic(b.topic_name);
    void reply.status(201);
    return topicBody(req, b.topic_name, t.partitions, false);
  });
  app.get('/v3/clusters/:cid/topics/:topic', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const t = await describeTopic(p.topic!);
    return topicBody(req, p.topic!, t.partitions, p.topic!.startsWith('__'));
  });
  app.delete('/v3/clusters/:cid/topics/:topic', async (req, reply) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    await describeTopic(p.topic!);
    try {
      await kafka().admin.deleteTopics({ topics: [p.topic!] });
    } catch (err) {
      kafkaErrorToHttp(err);
    }
    kafka().forget(p.topic!);
    return reply.status(204).send();
  });

  const SOURCES: Record<number, string> = { 1: 'DYNAMIC_TOPIC_CONFIG', 2: 'DYNAMIC_BROKER_CONFIG', 3: 'DYNAMIC_DEFAULT_BROKER_CONFIG', 4: 'STATIC_BROKER_CONFIG', 5: 'DEFAULT_CONFIG', 6: 'DYNAMIC_BROKER_LOGGER_CONFIG' };
  const topicConfigs = async (req: FastifyRequest, topic: string) => {
    await describeTopic(topic);
    const [res] = await kafka().admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }], includeSynonyms: true });
    return (res?.configs ?? []).map((c) => ({
      kind: 'KafkaTopicConfig',
      metadata: meta(req, `/topics/${topic}/configs/${c.name}`, `/topic=${topic}/config=${c.name}`),
      cluster_id: k.clusterId,
      topic_name: topic,
      name: c.name,
      value: c.isSensitive ? null : (c.value ?? null),
      is_default: c.configSource === 5,
      is_read_only: c.readOnly,
      is_sensitive: c.isSensitive,
      source: SOURCES[c.configSource] ?? 'UNKNOWN',
      synonyms: (c.synonyms ?? []).map((s) => ({ name: s.name, value: s.value ?? null, source: SOURCES[s.source] ?? 'UNKNOWN' })),
    }));
  };
  app.get('/v3/clusters/:cid/topics/:topic/configs', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    return list(req, 'KafkaTopicConfigList', await topicConfigs(req, p.topic!));
  });
  app.get('/v3/clusters/:cid/topics/:topic/configs/:name', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const c = (await topicConfigs(req, p.topic!)).find((x) => x.name === p.name);
    if (!c) throw new HttpError(404, 404, `Config ${p.name} not found.`);
    return c;
  });
  const alterConfigs = async (topic: string, ops: { name: string; value: string | null; op: number }[]) => {
    await describeTopic(topic);
    try {
      await kafka().admin.incrementalAlterConfigs({ resources: [{ resourceType: 2, resourceName: topic, configs: ops.map((o) => ({ name: o.name, value: o.value, configOperation: o.op as never })) }] });
    } catch (err) {
      kafkaErrorToHttp(err);
    }
  };
  app.put('/v3/clusters/:cid/topics/:topic/configs/:name', async (req, reply) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const b = (req.body ?? {}) as Json;
    if (b.value === undefined) throw new HttpError(400, 40002, 'value is required');
    await alterConfigs(p.topic!, [{ name: p.name!, value: b.value === null ? null : String(b.value), op: 0 }]);
    return reply.status(204).send();
  });
  app.delete('/v3/clusters/:cid/topics/:topic/configs/:name', async (req, reply) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    await alterConfigs(p.topic!, [{ name: p.name!, value: null, op: 1 }]);
    return reply.status(204).send();
  });
  app.post('/v3/clusters/:cid/topics/:topic/configs:alter', async (req, reply) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const data = ((req.body ?? {}) as Json).data;
    if (!Array.isArray(data)) throw new HttpError(400, 40002, 'data must be an array of {name, value, operation}');
    await alterConfigs(
      p.topic!,
      data.map((d: Json) => ({ name: String(d.name), value: d.value === undefined || d.value === null ? null : String(d.value), op: String(d.operation ?? 'SET').toUpperCase() === 'DELETE' ? 1 : 0 })),
    );
    return reply.status(204).send();
  });

  const partitionBody = (req: FastifyRequest, topic: string, id: number, leader: number) => ({
    kind: 'KafkaPartition',
    metadata: meta(req, `/topics/${topic}/partitions/${id}`, `/topic=${topic}/partition=${id}`),
    cluster_id: k.clusterId,
    topic_name: topic,
    partition_id: id,
    leader: related(req, `/topics/${topic}/partitions/${id}/replicas/${leader}`),
    replicas: related(req, `/topics/${topic}/partitions/${id}/replicas`),
    reassignment: related(req, `/topics/${topic}/partitions/${id}/reassignment`),
  });
  app.get('/v3/clusters/:cid/topics/:topic/partitions', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const t = await describeTopic(p.topic!);
    return list(req, 'KafkaPartitionList', t.partitions.map((x, i) => partitionBody(req, p.topic!, i, x.leader)));
  });
  app.get('/v3/clusters/:cid/topics/:topic/partitions/:pid', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const t = await describeTopic(p.topic!);
    const x = t.partitions[Number(p.pid)];
    if (!/^\d+$/.test(p.pid!) || !x) throw new HttpError(404, 40402, `Partition ${p.pid} not found.`);
    return partitionBody(req, p.topic!, Number(p.pid), x.leader);
  });

  // ------------------------------------------------------------------ v3: consumer groups
  const groupLags = async (group: string) => {
    const res = await kafka().admin.listConsumerGroupOffsets({ groups: [group] });
    const out: { topic: string; partition: number; current: bigint; end: bigint }[] = [];
    for (const gr of res) {
      for (const t of gr.topics) {
        const parts = t.partitions.filter((x) => x.committedOffset >= 0n);
        if (!parts.length) continue;
        const ends = await kafka().admin.listOffsets({ topics: [{ name: t.name, partitions: parts.map((x) => ({ partitionIndex: x.partitionIndex, timestamp: -1n })) }] });
        const endMap = new Map<number, bigint>();
        for (const et of ends) for (const ep of et.partitions) endMap.set(ep.partitionIndex, ep.offset);
        for (const x of parts) out.push({ topic: t.name, partition: x.partitionIndex, current: x.committedOffset, end: endMap.get(x.partitionIndex) ?? x.committedOffset });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  };
  const groupBody = async (req: FastifyRequest, id: string, g: { state?: string; protocol?: string; protocolType?: string; members?: Map<string, unknown> } | undefined) => {
    const lags = await groupLags(id).catch(() => []);
    const worst = lags.reduce<(typeof lags)[number] | undefined>((w, l) => (!w || l.end - l.current > w.end - w.current ? l : w), undefined);
    const total = lags.reduce((s, l) => s + Number(l.end - l.current), 0);
    return {
      kind: 'KafkaConsumerGroup',
      metadata: meta(req, `/consumer-groups/${id}`, `/consumer-group=${id}`),
      cluster_id: k.clusterId,
      consumer_group_id: id,
      is_simple: (g?.protocolType ?? '') === '',
      partition_assignor: g?.protocol ?? '',
      state: (g?.state ?? 'UNKNOWN').toUpperCase(),
      coordinator: related(req, '/brokers/0'),
      consumers: related(req, `/consumer-groups/${id}/consumers`),
      lag_summary: {
        max_lag: worst ? Number(worst.end - worst.current) : 0,
        max_lag_topic_name: worst?.topic ?? null,
        max_lag_partition_id: worst?.partition ?? null,
        total_lag: total,
      },
    };
  };
  app.get('/v3/clusters/:cid/consumer-groups', async (req) => {
    clusterCheck((req.params as Params).cid!);
    const groups = [...(await kafka().admin.listGroups()).values()].sort((a, b) => a.id.localeCompare(b.id));
    const described = groups.length ? await kafka().admin.describeGroups({ groups: groups.map((g) => g.id) }) : new Map();
    return list(req, 'KafkaConsumerGroupList', await Promise.all(groups.map((g) => groupBody(req, g.id, described.get(g.id)))));
  });
  const describeGroup = async (id: string) => {
    const g = (await kafka().admin.describeGroups({ groups: [id] })).get(id);
    if (!g || (g.state ?? '').toUpperCase() === 'DEAD') {
      const lags = await groupLags(id).catch(() => []);
      if (!lags.length) throw new HttpError(404, 404, `Consumer group ${id} not found.`);
    }
    return g;
  };
  app.get('/v3/clusters/:cid/consumer-groups/:gid', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    return groupBody(req, p.gid!, await describeGroup(p.gid!));
  });
  app.get('/v3/clusters/:cid/consumer-groups/:gid/consumers', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const g = await describeGroup(p.gid!);
    return list(
      req,
      'KafkaConsumerList',
      [...(g?.members.values() ?? [])].map((m) => ({
        kind: 'KafkaConsumer',
        cluster_id: k.clusterId,
        consumer_group_id: p.gid,
        consumer_id: m.id,
        instance_id: m.groupInstanceId ?? null,
        client_id: m.clientId,
        assignments: [...(m.assignments?.values() ?? [])].flatMap((a) => [...a.partitions].map((pp) => ({ topic_name: a.topic, partition_id: pp }))),
      })),
    );
  });
  app.get('/v3/clusters/:cid/consumer-groups/:gid/lags', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    await describeGroup(p.gid!);
    return list(
      req,
      'KafkaConsumerLagList',
      (await groupLags(p.gid!)).map((l) => ({
        kind: 'KafkaConsumerLag',
        cluster_id: k.clusterId,
        consumer_group_id: p.gid,
        topic_name: l.topic,
        partition_id: l.partition,
        current_offset: Number(l.current),
        log_end_offset: Number(l.end),
        lag: Number(l.end - l.current),
      })),
    );
  });
  app.get('/v3/clusters/:cid/consumer-groups/:gid/lag-summary', async (req) => {
    const p = req.params as Params;
    clusterCheck(p.cid!);
    const body = await groupBody(req, p.gid!, await describeGroup(p.gid!));
    return { kind: 'KafkaConsumerGroupLagSummary', cluster_id: k.clusterId, consumer_group_id: p.gid, ...body.lag_summary };
  });

  // ------------------------------------------------------------------ v3: produce records
  const v3Record = (r: Json): OutRecord => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new HttpError(400, 400, 'each record must be a JSON object');
    const headers = Array.isArray(r.headers)
      ? r.headers.map((h: Json) => {
          if (typeof h?.name !== 'string') throw new HttpError(400, 400, 'header name must be a string');
          return [h.name, h.value === null || h.value === undefined ? Buffer.alloc(0) : Buffer.from(String(h.value), 'base64')] as [string, Buffer];
        })
      : undefined;
    let timestamp: bigint | undefined;
    if (r.timestamp !== undefined && r.timestamp !== null) {
      const ms = Date.parse(String(r.timestamp));
      if (Number.isNaN(ms)) throw new HttpError(400, 400, `invalid timestamp ${String(r.timestamp)}`);
      timestamp = BigInt(ms);
    }
    return {
      partition: r.partition_id === undefined || r.partition_id === null ? undefined : Number(r.partition_id),
      key: decodeData('key', r.key?.data, r.key?.type),
      value: decodeData('value', r.value?.data, r.value?.type),
      headers,
      timestamp,
    };
  };

  // The records endpoint reads its body as a stream: one request may carry many records.
  await app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    sub.post('/v3/clusters/:cid/topics/:topic/records', async (req, reply) => {
      const p = req.params as Params;
      clusterCheck(p.cid!);
      const ct = String(req.headers['content-type'] ?? 'application/json');
      if (!/^application\/json/.test(ct)) throw new HttpError(415, 415, `Unsupported content type ${ct}; use application/json`);
      await kafka().partitionCount(p.topic!);
      const body = req.body as AsyncIterable<Buffer>;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'application/json' });
      const side = kafka();
      const topic = p.topic!;
      // Result lines are assembled from a fixed prefix: no object per record.
      const prefix = `{"error_code":200,"cluster_id":${JSON.stringify(k.clusterId)},"topic_name":${JSON.stringify(topic)},"partition_id":`;
      let lastTs = -1n;
      let lastIso = '';
      const iso = (ts: bigint) => {
        if (ts !== lastTs) {
          lastTs = ts;
          lastIso = new Date(Number(ts)).toISOString();
        }
        return lastIso;
      };
      const size = (b: Buffer | null) => (b ? `{"type":"BINARY","size":${b.length}}` : 'null');
      await streamProduce(body, res, new JsonValueSplitter(maxRecord), {
        parse: (text) => v3Record(JSON.parse(text) as Json),
        produce: (records) => side.produce(topic, records),
        result: (rec, r) => `${prefix}${r.partition},"offset":${r.offset},"timestamp":"${iso(r.timestamp)}","key":${size(rec.key)},"value":${size(rec.value)}}`,
        toError: (err) => {
          if (err instanceof HttpError) return { error_code: err.errorCode, message: err.message };
          const message = (err as Error).message ?? String(err);
          if (err instanceof SyntaxError) return { error_code: 400, message: `Invalid JSON record: ${message}` };
          return { error_code: /larger than/.test(message) ? 413 : 400, message };
        },
        produceError: (err) => {
          const e = err instanceof HttpError ? err : new HttpError(500, 50002, `Kafka error: ${(err as Error).message}`);
          return { error_code: e.errorCode, message: e.message };
        },
      });
      res.end();
    });
  });

  // ------------------------------------------------------------------ v2: produce
  const v2Produce = async (req: FastifyRequest, topic: string, partition?: number) => {
    const ct = String(req.headers['content-type'] ?? '');
    const m = V2_PRODUCE.exec(ct);
    if (!m) throw new HttpError(415, 415, `HTTP 415 Unsupported Media Type: use application/vnd.kafka.{json,binary,avro,jsonschema,protobuf}.v2+json, got ${ct || 'none'}`);
    const format = m[1] as 'json' | 'binary' | EmbeddedFormat;
    const b = req.body as Json | undefined;
    if (!b || typeof b !== 'object' || !Array.isArray(b.records)) throw new HttpError(422, 422, 'Request body must be a JSON object with a "records" array');
    await kafka().partitionCount(topic);
    let keySchemaId: number | null = null;
    let valueSchemaId: number | null = null;
    if (format === 'avro' || format === 'jsonschema' || format === 'protobuf') {
      const hasKeys = b.records.some((r: Json) => r?.key !== undefined && r?.key !== null);
      if (b.value_schema_id !== undefined) valueSchemaId = Number(b.value_schema_id);
      else if (typeof b.value_schema === 'string') valueSchemaId = await proxy.serde.register(`${topic}-value`, format, b.value_schema);
      else throw new HttpError(422, 42202, 'Request includes values and uses a format that requires schemas, but does not include the value_schema or value_schema_id fields');
      if (hasKeys) {
        if (b.key_schema_id !== undefined) keySchemaId = Number(b.key_schema_id);
        else if (typeof b.key_schema === 'string') keySchemaId = await proxy.serde.register(`${topic}-key`, format, b.key_schema);
        else throw new HttpError(422, 42201, 'Request includes keys and uses a format that requires schemas, but does not include the key_schema or key_schema_id fields');
      }
    }
    const encode = async (v: unknown, schemaId: number | null, what: string): Promise<Buffer | null> => {
      if (v === undefined || v === null) return null;
      switch (format) {
        case 'binary':
          if (typeof v !== 'string') throw new HttpError(422, 42205, `${what} must be base64 for the binary format`);
          return Buffer.from(v, 'base64');
        case 'json':
          return Buffer.from(JSON.stringify(v));
        default:
          return proxy.serde.encode(schemaId!, v);
      }
    };
    const records: OutRecord[] = [];
    for (const r of b.records as Json[]) {
      if (!r || typeof r !== 'object') throw new HttpError(422, 422, 'each record must be an object');
      records.push({
        key: await encode(r.key, keySchemaId, 'key'),
        value: await encode(r.value, valueSchemaId, 'value'),
        partition: partition ?? (r.partition === undefined || r.partition === null ? undefined : Number(r.partition)),
      });
    }
    let results;
    try {
      results = await kafka().produce(topic, records);
    } catch (err) {
      kafkaErrorToHttp(err);
    }
    return {
      key_schema_id: keySchemaId,
      value_schema_id: valueSchemaId,
      offsets: results.map((r) => ({ partition: r.partition, offset: Number(r.offset), error_code: null, error: null })),
    };
  };
  app.post('/topics/:topic', async (req) => v2Produce(req, (req.params as Params).topic!));
  app.post('/topics/:topic/partitions/:pid', async (req) => {
    const p = req.params as Params;
    if (!/^\d+$/.test(p.pid!)) throw new HttpError(404, 40402, `Partition ${p.pid} not found.`);
    return v2Produce(req, p.topic!, Number(p.pid));
  });
  app.get('/topics', async () => (await kafka().admin.listTopics()).sort());
  app.get('/topics/:topic', async (req) => {
    const name = (req.params as Params).topic!;
    const t = await describeTopic(name);
    return { name, configs: {}, partitions: t.partitions.map((x, i) => ({ partition: i, leader: x.leader, replicas: x.replicas.map((b) => ({ broker: b, leader: b === x.leader, in_sync: x.isr.includes(b) })) })) };
  });
  app.get('/brokers', async () => ({ brokers: [...(await kafka().admin.metadata({ topics: [] })).brokers.keys()].sort((a, b) => a - b) }));

  // ------------------------------------------------------------------ v2: consumers
  const checkV2Type = (req: FastifyRequest) => {
    const ct = req.headers['content-type'];
    if (ct && !V2_ANY.test(String(ct))) throw new HttpError(415, 415, `HTTP 415 Unsupported Media Type: ${String(ct)}`);
  };
  app.post('/consumers/:group', async (req) => {
    checkV2Type(req);
    const group = (req.params as Params).group!;
    const b = (req.body ?? {}) as Json;
    const format = String(b.format ?? 'binary').toLowerCase() as ConsumerFormat;
    if (!['binary', 'json', 'avro', 'jsonschema', 'protobuf'].includes(format)) throw new HttpError(422, 42204, `Invalid consumer format ${format}`);
    const reset = String(b['auto.offset.reset'] ?? 'latest').toLowerCase();
    if (reset !== 'earliest' && reset !== 'latest') throw new HttpError(422, 42204, `Invalid auto.offset.reset ${reset}`);
    const inst = proxy.consumers.create(
      group,
      typeof b.name === 'string' ? b.name : undefined,
      {
        format,
        autoOffsetReset: reset,
        autoCommit: String(b['auto.commit.enable'] ?? 'false') === 'true',
        requestTimeoutMs: Number(b['consumer.request.timeout.ms'] ?? 1000),
      },
      req.kafkaIdentity?.access,
    );
    return { instance_id: inst.name, base_uri: `${base(req)}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(inst.name)}` };
  });
  const instOf = (req: FastifyRequest) => {
    const p = req.params as Params;
    return proxy.consumers.get(p.group!, p.instance!);
  };
  app.delete('/consumers/:group/instances/:instance', async (req, reply) => {
    const p = req.params as Params;
    await proxy.consumers.remove(p.group!, p.instance!);
    return reply.status(204).send();
  });
  app.post('/consumers/:group/instances/:instance/subscription', async (req, reply) => {
    checkV2Type(req);
    const inst = instOf(req);
    const b = (req.body ?? {}) as Json;
    let topics: string[];
    if (Array.isArray(b.topics)) topics = b.topics.map(String);
    else if (typeof b.topic_pattern === 'string') {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${b.topic_pattern})$`);
      } catch {
        throw new HttpError(422, 422, `Invalid topic_pattern ${b.topic_pattern}`);
      }
      topics = (await kafka().admin.listTopics()).filter((t) => re.test(t));
    } else throw new HttpError(422, 422, 'Request must include "topics" or "topic_pattern"');
    for (const t of topics) await kafka().partitionCount(t);
    await inst.use(() => inst.subscribe(topics));
    return reply.status(204).send();
  });
  app.get('/consumers/:group/instances/:instance/subscription', async (req) => ({ topics: instOf(req).topics }));
  app.delete('/consumers/:group/instances/:instance/subscription', async (req, reply) => {
    const inst = instOf(req);
    await inst.use(() => inst.subscribe([]));
    return reply.status(204).send();
  });
  app.get('/consumers/:group/instances/:instance/records', async (req, reply: FastifyReply) => {
    const inst = instOf(req);
    const q = req.query as Query;
    const accept = String(req.headers.accept ?? '');
    const m = /application\/vnd\.kafka\.(json|binary|avro|jsonschema|protobuf)\.v2\+json/.exec(accept);
    if (m && m[1] !== inst.config.format) throw new HttpError(406, 40601, `The requested embedded format ${m[1]} does not match the consumer's format ${inst.config.format}`);
    const timeout = Math.min(Number(q.timeout ?? inst.config.requestTimeoutMs) || inst.config.requestTimeoutMs, 30_000);
    const maxBytes = Number(q.max_bytes ?? 64 * 1024 * 1024) || 64 * 1024 * 1024;
    const msgs = await inst.use(() => inst.records(timeout, maxBytes));
    const fmt = inst.config.format;
    const conv = async (b: Buffer | null | undefined): Promise<unknown> => {
      if (!b || (b.length === 0 && fmt !== 'binary')) return null;
      if (fmt === 'binary') return b.toString('base64');
      if (fmt === 'json') {
        try {
          return JSON.parse(b.toString('utf8')) as unknown;
        } catch {
          throw new HttpError(422, 42206, 'record is not valid JSON for the json consumer format');
        }
      }
      return proxy.serde.decode(b);
    };
    const out = [];
    for (const msg of msgs) {
      out.push({ topic: msg.topic, key: await conv(msg.key), value: await conv(msg.value), partition: msg.partition, offset: Number(msg.offset) });
    }
    void reply.header('content-type', `application/vnd.kafka.${fmt}.v2+json`);
    return out;
  });
  const offsetsOf = (b: Json, field: 'offsets' | 'partitions') => {
    const arr = b?.[field];
    if (!Array.isArray(arr)) throw new HttpError(422, 422, `Request must include "${field}"`);
    return arr.map((o: Json) => ({ topic: String(o.topic), partition: Number(o.partition), offset: BigInt(o.offset ?? 0) }));
  };
  app.post('/consumers/:group/instances/:instance/offsets', async (req, reply) => {
    const inst = instOf(req);
    const b = req.body as Json | undefined;
    // Confluent's v2 commits the given offsets as "last consumed": the group resumes after them.
    const offsets = b && Array.isArray(b.offsets) ? offsetsOf(b, 'offsets').map((o) => ({ ...o, offset: o.offset + 1n })) : inst.currentPositions();
    try {
      await inst.use(() => inst.commit(offsets));
    } catch (err) {
      kafkaErrorToHttp(err);
    }
    return reply.status(200).send();
  });
  app.get('/consumers/:group/instances/:instance/offsets', async (req) => {
    const inst = instOf(req);
    const parts = offsetsOf(req.body as Json, 'partitions');
    const res = await kafka().admin.listConsumerGroupOffsets({ groups: [inst.group] });
    const committed = new Map<string, bigint>();
    for (const g of res) for (const t of g.topics) for (const x of t.partitions) committed.set(`${t.name}:${x.partitionIndex}`, x.committedOffset);
    return { offsets: parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: Number(committed.get(`${p.topic}:${p.partition}`) ?? -1n), metadata: '' })) };
  });
  app.post('/consumers/:group/instances/:instance/positions', async (req, reply) => {
    const inst = instOf(req);
    await inst.use(() => inst.seek(offsetsOf(req.body as Json, 'offsets')));
    return reply.status(204).send();
  });
  const seekTo = async (req: FastifyRequest, ts: bigint) => {
    const inst = instOf(req);
    const parts = offsetsOf(req.body as Json, 'partitions');
    const offsets: { topic: string; partition: number; offset: bigint }[] = [];
    for (const p of parts) {
      const r = await kafka().admin.listOffsets({ topics: [{ name: p.topic, partitions: [{ partitionIndex: p.partition, timestamp: ts }] }] });
      offsets.push({ topic: p.topic, partition: p.partition, offset: r[0]?.partitions[0]?.offset ?? 0n });
    }
    await inst.use(() => inst.seek(offsets));
  };
  app.post('/consumers/:group/instances/:instance/positions/beginning', async (req, reply) => {
    await seekTo(req, -2n);
    return reply.status(204).send();
  });
  app.post('/consumers/:group/instances/:instance/positions/end', async (req, reply) => {
    await seekTo(req, -1n);
    return reply.status(204).send();
  });
  app.get('/consumers/:group/instances/:instance/assignments', async (req) => {
    const inst = instOf(req);
    const assigned = (inst.consumer as unknown as { assignments: { topic: string; partitions: number[] }[] | null }).assignments ?? [];
    return { partitions: assigned.flatMap((a) => a.partitions.map((p) => ({ topic: a.topic, partition: p }))) };
  });
}
