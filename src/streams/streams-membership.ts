// KIP-1071 streams rebalance protocol, client side: the member sends its topology and owned tasks
// in StreamsGroupHeartbeat, the broker's group coordinator assigns active / standby / warm-up
// tasks. @platformatic/kafka has no such API, so requests are encoded with Fjord's generated codec
// (plain Kafka wire format; works against any broker that offers key 88) on its own socket, with
// the same TLS and SASL settings as the library's clients.
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ClientSecurityOptions } from '../security/client-security.js';
import { KafkaAuthenticationError } from './kafka-io.js';
import { scramClient } from '../security/scram.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../protocol/gen/index.js';
import { apiSpecs } from '../protocol/gen/specs.js';
import { defaultStreamsGroupHeartbeatRequest } from '../protocol/gen/streams-group-heartbeat.js';
import { Reader, Writer } from '../protocol/primitives.js';

const REQUEST_TIMEOUT_MS = 15_000;

/** One Kafka connection: requests pipelined, matched to responses by correlation id. */
export class KafkaWireConnection {
  private buf: Buffer = Buffer.alloc(0);
  private corr = 0;
  private readonly pending = new Map<number, { apiKey: number; version: number; resolve: (b: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closedError: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (d) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects (TLS when `security.tls` is set) and logs in when `security.sasl` is set. */
  static async open(host: string, port: number, clientId: string, security: ClientSecurityOptions = {}, timeoutMs = 5000): Promise<KafkaWireConnection> {
    const conn = await new Promise<KafkaWireConnection>((resolve, reject) => {
      const tls = security.tls;
      const s = tls ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ...tls }) : connect({ host, port });
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(new KafkaWireConnection(s, clientId));
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        s.destroy();
        reject(tls ? new Error(`TLS connection to ${host}:${port} failed: ${e.message}`) : e);
      });
    });
    if (security.sasl) {
      try {
        await conn.authenticate(security.sasl, `${host}:${port}`);
      } catch (e) {
        conn.close();
        throw e;
      }
    }
    return conn;
  }

  /** SaslHandshake v1 + SaslAuthenticate v2 (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with a static token). */
  private async authenticate(sasl: NonNullable<ClientSecurityOptions['sasl']>, where: string): Promise<void> {
    const mechanism = sasl.mechanism;
    const text = async (v: unknown): Promise<string> => (typeof v === 'function' ? String(await (v as () => unknown)()) : String(v ?? ''));
    const username = await text(sasl.username);
    const password = await text(sasl.password);
    const hs = await this.request(ApiKey.SaslHandshake, 1, { mechanism });
    if (hs.errorCode !== ErrorCode.NONE) {
      throw new KafkaAuthenticationError(`${where} does not accept SASL mechanism ${mechanism} (enabled: ${(hs.mechanisms as string[]).join(', ') || 'none'})`);
    }
    const step = async (authBytes: Buffer): Promise<Buffer> => {
      const r = await this.request(ApiKey.SaslAuthenticate, 2, { authBytes });
      if (r.errorCode !== ErrorCode.NONE) {
        throw new KafkaAuthenticationError(`authentication ${username ? `as ${username} ` : ''}with ${mechanism} at ${where} failed: ${r.errorMessage ?? `error ${r.errorCode}`}`);
      }
      return r.authBytes as Buffer;
    };
    if (mechanism === 'PLAIN') {
      await step(Buffer.from(`\u0000${username}\u0000${password}`));
    } else if (mechanism === 'OAUTHBEARER') {
      await step(Buffer.from(`n,,\u0001auth=Bearer ${await text(sasl.token)}\u0001\u0001`));
    } else if (mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512') {
      const client = scramClient(mechanism, username, password);
      const serverFirst = await step(client.first());
      const serverFinal = await step(client.final(serverFirst));
      client.verify(serverFinal);
    } else {
      throw new KafkaAuthenticationError(`SASL mechanism ${mechanism} is not supported by Fjord Streams' group connection`);
    }
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  request<T = any>(apiKey: number, version: number, body: unknown): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = ++this.corr;
    const w = new Writer();
    const size = w.reserveInt32();
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId: id, clientId: this.clientId });
    apiSpecs.get(apiKey)!.encodeRequest(w, version, body);
    w.patchInt32(size, w.length - 4);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`request ${apiKey} v${version} timed out`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { apiKey, version, resolve, reject, timer });
      this.socket.write(w.toBuffer());
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) return;
      const frame = this.buf.subarray(4, 4 + size);
      this.buf = this.buf.subarray(4 + size);
      const id = frame.readInt32BE(0);
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      try {
        const r = new Reader(frame);
        decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.version));
        p.resolve(apiSpecs.get(p.apiKey)!.decodeResponse(r, p.version));
      } catch (e) {
        p.reject(e as Error);
      }
    }
  }

  private fail(e: Error): void {
    if (!this.closedError) this.closedError = e;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }

  close(): void {
    this.fail(new Error('connection closed'));
    this.socket.destroy();
  }
}

function hostPort(server: string): { host: string; port: number } {
  const i = server.lastIndexOf(':');
  return { host: server.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(server.slice(i + 1)) };
}

async function openAny(servers: string[], clientId: string, security: ClientSecurityOptions): Promise<KafkaWireConnection> {
  let last: unknown;
  for (const s of servers) {
    const { host, port } = hostPort(s);
    try {
      return await KafkaWireConnection.open(host, port, clientId, security);
    } catch (e) {
      // A refused login is the answer, not an unreachable server.
      if (e instanceof KafkaAuthenticationError) throw e;
      last = e;
    }
  }
  throw new Error(`no bootstrap server reachable: ${(last as Error)?.message}`);
}

/** Whether the cluster offers StreamsGroupHeartbeat (ApiVersions lists key 88). */
export async function streamsProtocolOffered(servers: string[], clientId: string, security: ClientSecurityOptions = {}): Promise<boolean> {
  const c = await openAny(servers, clientId, security);
  try {
    const res = await c.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'fjord-streams', clientSoftwareVersion: '1' });
    if (res.errorCode !== ErrorCode.NONE) return false;
    return (res.apiKeys as Array<{ apiKey: number }>).some((k) => k.apiKey === ApiKey.StreamsGroupHeartbeat);
  } finally {
    c.close();
  }
}

export interface TaskIds {
  subtopologyId: string;
  partitions: number[];
}

export interface StreamsAssignment {
  active: TaskIds[];
  standby: TaskIds[];
  warmup: TaskIds[];
  /** Fenced or unknown member: tasks were lost, not revoked (close them without committing). */
  lost: boolean;
}

/** host:port → active topic partitions of the member serving there (partitionsByUserEndpoint). */
export type EndpointPartitions = Array<{ host: string; port: number; partitions: Array<{ topic: string; partitions: number[] }> }>;

export interface StreamsMemberOptions {
  servers: string[];
  /** TLS and SASL settings of every connection (bootstrap and coordinator). */
  security: ClientSecurityOptions;
  groupId: string;
  clientId: string;
  processId: string;
  rebalanceTimeoutMs: number;
  userEndpoint: string;
  /** The topology as StreamsGroupHeartbeat carries it (sent on join). */
  topology: () => { epoch: number; subtopologies: unknown[] };
  /** Tasks this member owns right now (reported in every heartbeat). */
  owned: () => { active: TaskIds[]; standby: TaskIds[]; warmup: TaskIds[] };
  /** Changelog offsets of owned tasks, for the broker's warm-up decisions. */
  taskOffsets: () => Array<{ subtopologyId: string; partition: number; offset: number }>;
  onAssignment: (a: StreamsAssignment) => void;
  onEndpoints: (e: EndpointPartitions) => void;
  onWarning: (e: Error) => void;
  onFatal: (e: Error) => void;
}

const RETRIABLE_COORDINATOR = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

/** A KIP-1071 streams group member: joins, heartbeats, reconciles through callbacks, commits offsets with its epoch. */
export class StreamsGroupMember {
  readonly memberId = randomUUID();
  memberEpoch = 0;
  coordinatorId = -1;
  heartbeatIntervalMs = 1000;
  private endpointEpoch = 0;
  private conn: KafkaWireConnection | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private inFlight: Promise<void> | null = null;
  private lastOffsetReport = 0;
  private taskOffsetIntervalMs = 60_000;
  private readonly epochWaiters: Array<() => void> = [];

  constructor(private readonly o: StreamsMemberOptions) {}

  private async coordinator(): Promise<KafkaWireConnection> {
    if (this.conn && !this.conn.closed) return this.conn;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const boot = await openAny(this.o.servers, this.o.clientId, this.o.security);
      try {
        const res = await boot.request(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: [this.o.groupId] });
        const c = res.coordinators[0];
        if (c && c.errorCode === ErrorCode.NONE) {
          this.coordinatorId = c.nodeId;
          this.conn = await KafkaWireConnection.open(c.host, c.port, this.o.clientId, this.o.security);
          return this.conn;
        }
        if (Date.now() > deadline) throw new Error(`FindCoordinator for ${this.o.groupId} failed: error ${c?.errorCode}`);
      } finally {
        boot.close();
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Joins (epoch 0) and starts the heartbeat loop. */
  async start(): Promise<void> {
    await this.heartbeat();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.heartbeat().catch((e) => this.o.onWarning(e as Error));
    }, ms);
  }

  /** Sends a heartbeat now (also used to report a finished reconciliation promptly). */
  heartbeat(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.sendHeartbeat().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async sendHeartbeat(): Promise<void> {
    if (this.stopped) return;
    const joining = this.memberEpoch === 0;
    // A (re)joining member owns nothing as far as the group is concerned (tasks held from before a fence are lost).
    const owned = joining ? { active: [], standby: [], warmup: [] } : this.o.owned();
    const now = Date.now();
    const reportOffsets = now - this.lastOffsetReport >= this.taskOffsetIntervalMs;
    const { host, port } = this.o.userEndpoint ? hostPort(this.o.userEndpoint) : { host: '', port: 0 };
    let res: any;
    try {
      const conn = await this.coordinator();
      res = await conn.request(ApiKey.StreamsGroupHeartbeat, 0, {
        groupId: this.o.groupId,
        memberId: this.memberId,
        memberEpoch: this.memberEpoch,
        endpointInformationEpoch: this.endpointEpoch,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: joining ? this.o.rebalanceTimeoutMs : -1,
        topology: joining ? this.o.topology() : null,
        activeTasks: owned.active,
        standbyTasks: owned.standby,
        warmupTasks: owned.warmup,
        processId: joining ? this.o.processId : null,
        userEndpoint: joining && this.o.userEndpoint ? { host, port } : null,
        clientTags: joining ? [] : null,
        taskOffsets: reportOffsets ? this.o.taskOffsets() : null,
        taskEndOffsets: null,
        shutdownApplication: false,
      });
    } catch (e) {
      this.conn?.close();
      this.conn = null;
      // Credentials do not get better by retrying.
      if (e instanceof KafkaAuthenticationError) {
        this.o.onFatal(e);
        return;
      }
      this.o.onWarning(e as Error);
      this.schedule(Math.min(this.heartbeatIntervalMs, 500));
      return;
    }
    if (this.stopped) return;
    if (reportOffsets) this.lastOffsetReport = now;
    const code = res.errorCode as number;
    if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
      // Tasks are lost; rejoin as a new incarnation with epoch 0.
      this.memberEpoch = 0;
      this.endpointEpoch = 0;
      this.o.onAssignment({ active: [], standby: [], warmup: [], lost: true });
      this.schedule(0);
      return;
    }
    if (RETRIABLE_COORDINATOR.has(code)) {
      this.conn?.close();
      this.conn = null;
      this.schedule(200);
      return;
    }
    if (code !== ErrorCode.NONE) {
      this.o.onFatal(new Error(`StreamsGroupHeartbeat failed: error ${code} ${res.errorMessage ?? ''}`));
      return;
    }
    this.memberEpoch = res.memberEpoch;
    this.heartbeatIntervalMs = res.heartbeatIntervalMs > 0 ? res.heartbeatIntervalMs : this.heartbeatIntervalMs;
    if (res.taskOffsetIntervalMs > 0) this.taskOffsetIntervalMs = res.taskOffsetIntervalMs;
    for (const s of res.status ?? []) this.o.onWarning(new Error(`streams group status ${s.statusCode}: ${s.statusDetail}`));
    this.epochWaiters.splice(0).forEach((w) => w());
    if (res.activeTasks !== null || res.standbyTasks !== null || res.warmupTasks !== null) {
      this.o.onAssignment({
        active: res.activeTasks ?? owned.active,
        standby: res.standbyTasks ?? owned.standby,
        warmup: res.warmupTasks ?? owned.warmup,
        lost: false,
      });
    }
    if (res.partitionsByUserEndpoint) {
      this.endpointEpoch = res.endpointInformationEpoch;
      this.o.onEndpoints(res.partitionsByUserEndpoint.map((e: any) => ({ host: e.userEndpoint.host, port: e.userEndpoint.port, partitions: (e.activePartitions ?? []).map((p: any) => ({ topic: p.topic, partitions: p.partitions })) })));
    }
    this.schedule(this.heartbeatIntervalMs);
  }

  /** OffsetCommit v9 with the member epoch; a stale epoch is retried after the next heartbeat. */
  async commitOffsets(offsets: Array<{ topic: string; partition: number; offset: bigint }>): Promise<void> {
    const byTopic = new Map<string, Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string }>>();
    for (const o of offsets) {
      const l = byTopic.get(o.topic) ?? [];
      l.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: '' });
      byTopic.set(o.topic, l);
    }
    for (let attempt = 0; ; attempt++) {
      const conn = await this.coordinator();
      const res = await conn.request(ApiKey.OffsetCommit, 9, {
        groupId: this.o.groupId,
        generationIdOrMemberEpoch: this.memberEpoch,
        memberId: this.memberId,
        groupInstanceId: null,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.map((p) => ({ ...p, committedOffset: Number(p.committedOffset) })) })),
      });
      const codes = new Set<number>((res.topics as any[]).flatMap((t) => t.partitions.map((p: any) => p.errorCode as number)));
      codes.delete(ErrorCode.NONE);
      if (codes.size === 0) return;
      const code = [...codes][0]!;
      if (attempt >= 5) throw new Error(`OffsetCommit failed: error ${code}`);
      if (code === ErrorCode.STALE_MEMBER_EPOCH) await this.nextHeartbeat();
      else if (RETRIABLE_COORDINATOR.has(code)) {
        this.conn?.close();
        this.conn = null;
      } else throw new Error(`OffsetCommit failed: error ${code}`);
    }
  }

  private nextHeartbeat(): Promise<void> {
    return new Promise((resolve) => {
      this.epochWaiters.push(resolve);
      void this.heartbeat();
      setTimeout(resolve, 2000).unref();
    });
  }

  /** Leaves the group (epoch -1) unless crashing; stops heartbeats and closes the socket. */
  async stop(leave: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => {});
    if (leave && this.conn && !this.conn.closed) {
      await this.conn
        .request(ApiKey.StreamsGroupHeartbeat, 0, { ...defaultStreamsGroupHeartbeatRequest(), groupId: this.o.groupId, memberId: this.memberId, memberEpoch: -1 })
        .catch(() => {});
    }
    this.conn?.close();
    this.conn = null;
  }
}

/**
 * Under KIP-1071 the number of standbys is the group's `streams.num.standby.replicas` config, not a
 * client setting; an explicit `num.standby.replicas` is written to the group (IncrementalAlterConfigs
 * on the GROUP resource) so the familiar client key keeps working.
 */
export async function setGroupStandbyReplicas(servers: string[], clientId: string, groupId: string, replicas: number, security: ClientSecurityOptions = {}): Promise<void> {
  const c = await openAny(servers, clientId, security);
  try {
    const res = await c.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 32, resourceName: groupId, configs: [{ name: 'streams.num.standby.replicas', configOperation: 0, value: String(replicas) }] }],
      validateOnly: false,
    });
    const r = res.responses[0];
    if (r && r.errorCode !== ErrorCode.NONE) throw new Error(`setting streams.num.standby.replicas on group ${groupId} failed: error ${r.errorCode} ${r.errorMessage ?? ''}`);
  } finally {
    c.close();
  }
}
