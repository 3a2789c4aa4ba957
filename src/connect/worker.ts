// A Connect worker: keeps connector configs, target states, task configs, offsets and statuses in
// the internal topics (Kafka Connect's record formats) and runs the connectors and tasks they
// describe. Every change is written to the config topic first and acted on when read back, so the
// log is the single source of truth and a restarted worker rebuilds exactly the same state.
import { hostname } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { reportConfigs, type ConfigValueReport } from './config-def.js';
import { converterClassNames } from './converters.js';
import { GroupMembership } from './group.js';
import { InternalTopics } from './internal-topics.js';
import { PluginRegistry } from './plugins.js';
import type { ConfigDef, Connector, ConnectorPlugin } from './sdk.js';
import { createRunner, errorTrace, type ExactlyOnceHost, type Runner, type TaskState } from './tasks.js';
import { buildTransformChain, PREDICATE_CLASSES, TRANSFORM_CLASSES } from './transforms.js';

export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

export interface WorkerOptions {
  bootstrap: string[];
  groupId: string;
  /** Advertised id, "host:port" of the REST listener by default. */
  workerId?: string;
  /** Worker properties: key.converter, value.converter, *.storage.topic, plugin.path, offset.flush.interval.ms ... */
  config?: Record<string, string>;
  log?: (msg: string) => void;
}

export class ConnectError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface StatusEntry {
  state: TaskState;
  trace?: string | null;
  worker_id: string;
  generation?: number;
}

const COMMON_CONFIG: ConfigDef = {
  name: { type: 'string', importance: 'high', group: 'Common', documentation: 'Globally unique name to use for this connector.' },
  'connector.class': { type: 'string', importance: 'high', group: 'Common', documentation: 'Name or alias of the class for this connector.' },
  'tasks.max': { type: 'int', default: 1, min: 1, importance: 'high', group: 'Common', documentation: 'Maximum number of tasks to use for this connector.' },
  'key.converter': { type: 'class', default: null, importance: 'low', group: 'Common', validValues: converterClassNames() },
  'value.converter': { type: 'class', default: null, importance: 'low', group: 'Common', validValues: converterClassNames() },
  transforms: { type: 'list', default: '', importance: 'low', group: 'Transforms' },
  predicates: { type: 'list', default: '', importance: 'low', group: 'Predicates' },
  'errors.tolerance': { type: 'string', default: 'none', validValues: ['none', 'all'], importance: 'medium', group: 'Error Handling' },
  'errors.log.enable': { type: 'boolean', default: false, importance: 'medium', group: 'Error Handling' },
  'errors.deadletterqueue.topic.name': { type: 'string', default: '', importance: 'medium', group: 'Error Handling' },
  'errors.deadletterqueue.context.headers.enable': { type: 'boolean', default: false, importance: 'medium', group: 'Error Handling' },
};

/** Source connectors' exactly-once settings (KIP-618); used when the worker enables exactly-once sources. */
const SOURCE_CONFIG: ConfigDef = {
  'exactly.once.support': {
    type: 'string',
    default: 'requested',
    validValues: ['requested', 'required'],
    importance: 'medium',
    group: 'Exactly Once Support',
    documentation: 'Whether exactly-once guarantees are required for the connector to be started (required) or only wanted (requested).',
  },
  'transaction.boundary': {
    type: 'string',
    default: 'poll',
    validValues: ['poll', 'interval', 'connector'],
    importance: 'medium',
    group: 'Exactly Once Support',
    documentation: 'poll: one transaction per batch of polled records; interval: one per transaction.boundary.interval.ms.',
  },
  'transaction.boundary.interval.ms': { type: 'long', default: null, min: 0, importance: 'low', group: 'Exactly Once Support' },
};

interface RunningConnector {
  configJson: string;
  connector: Connector;
  plugin: ConnectorPlugin;
}

export class Worker {
  workerId: string;
  readonly plugins = new PluginRegistry();
  readonly kafka: Kafka;
  readonly workerConfig: Record<string, string>;
  readonly state: InternalTopics;
  private producer!: ReturnType<Kafka['producer']>;
  private readonly running = new Map<string, RunningConnector>();
  private readonly tasks = new Map<string, { configJson: string; runner: Runner }>();
  private reconcileChain: Promise<void> = Promise.resolve();
  private readonly dirty = new Set<string>();
  /** Tasks this worker owns but waits to start until their previous owner let go (task key → since). */
  private readonly handoverSince = new Map<string, number>();
  private stopped = false;
  private tick: NodeJS.Timeout | undefined;
  clusterId = '';
  ready = false;
  /** Base URL of this worker's REST API (advertised to the group for forwarding). */
  url = '';
  membership!: GroupMembership;
  private stateLoaded = false;
  private readonly log: (msg: string) => void;

  constructor(readonly options: WorkerOptions) {
    this.workerConfig = { ...options.config };
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    this.log = options.log ?? (() => {});
    this.kafka = new Kafka({
      clientId: `fjord-connect-${options.groupId}`,
      brokers: options.bootstrap,
      logLevel: logLevel.NOTHING,
      // Short backoff caps: reconnect within seconds after a broker restart (~25 s of retries in all).
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 3000 },
    });
    const c = this.workerConfig;
    this.state = new InternalTopics(
      this.kafka,
      options.bootstrap,
      {
        config: c['config.storage.topic'] ?? `${options.groupId}-configs`,
        offset: c['offset.storage.topic'] ?? `${options.groupId}-offsets`,
        status: c['status.storage.topic'] ?? `${options.groupId}-status`,
      },
      { offset: Number(c['offset.storage.partitions'] ?? 25), status: Number(c['status.storage.partitions'] ?? 5) },
    );
  }

  async start(): Promise<void> {
    await this.plugins.loadPluginPath(this.workerConfig['plugin.path']);
    const admin = this.kafka.admin();
    await admin.connect();
    this.clusterId = (await admin.describeCluster()).clusterId;
    await admin.disconnect();
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    await this.producer.connect();
    this.state.onChange((kind, key, value) => {
      if (kind === 'status' && this.stateLoaded && this.handoverSince.size > 0 && key.startsWith('status-task-')) {
        // A previous owner may have let go of a task this worker waits for.
        for (const k of this.handoverSince.keys()) if (key === `status-task-${k}`) this.scheduleReconcile(splitTaskKey(k)[0]);
        return;
      }
      if (kind !== 'config' || !this.stateLoaded) return;
      if (key.startsWith('restart-connector-') || key.startsWith('restart-task-')) {
        if (value !== null) this.scheduleRestartRequest(key, value as Record<string, unknown>);
        return;
      }
      // Task counts decide who owns what, so any config change may move work: look at everything.
      const name = connectorOfConfigKey(key);
      if (name !== null) this.scheduleReconcile(name);
      for (const n of this.runningConnectorNames()) this.scheduleReconcile(n);
    });
    await this.state.start();
    this.stateLoaded = true;
    this.membership = new GroupMembership(
      this.kafka,
      this.options.groupId,
      this.state.names.config,
      { url: this.url, workerId: this.workerId },
      Number(this.workerConfig['session.timeout.ms'] ?? 10_000),
    );
    this.membership.changed(() => {
      for (const n of new Set([...this.connectorNames(), ...this.runningConnectorNames()])) this.scheduleReconcile(n);
    });
    await this.membership.start();
    await this.settle();
    this.ready = true;
    // Every change schedules its reconciliation, but ownership follows from the group view and the
    // config topic together; should a trigger fall between the two, a task this worker owns would
    // stay unstarted. A periodic look (as Kafka Connect's herder ticks) starts it: only owned tasks
    // with no runner here and no FAILED status of this worker (those wait for a restart request).
    this.tick = setInterval(() => this.reconcileUnstarted(), 2000);
    this.tick.unref?.();
  }

  private reconcileUnstarted(): void {
    if (this.stopped || !this.membership?.view) return;
    for (const name of this.connectorNames()) {
      if (this.dirty.has(name) || this.targetState(name) === 'STOPPED') continue;
      const count = this.taskConfigs(name).length;
      for (let i = 0; i < count; i++) {
        if (this.tasks.has(`${name}-${i}`) || !this.owns(name, i)) continue;
        const s = this.status(`status-task-${name}-${i}`);
        if (s?.state === 'FAILED' && s.worker_id === this.workerId) continue;
        this.scheduleReconcile(name);
        break;
      }
    }
  }

  /** Connectors with a connector instance or a task on this worker. */
  private runningConnectorNames(): string[] {
    return [...new Set([...this.running.keys(), ...[...this.tasks.keys()].map((k) => splitTaskKey(k)[0]), ...this.connectorNames()])];
  }

  private owns(connector: string, task?: number): boolean {
    const v = this.membership?.view;
    if (!v) return false;
    const names = this.connectorNames();
    const counts = new Map(names.map((n) => [n, this.taskConfigs(n).length]));
    return this.membership.owner({ connector, task }, names, counts) === v.self;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tick);
    await this.membership?.stop();
    await this.reconcileChain.catch(() => {});
    await Promise.all([...this.tasks.values()].map((t) => t.runner.stop()));
    this.tasks.clear();
    for (const c of this.running.values()) await Promise.resolve(c.connector.stop()).catch(() => {});
    this.running.clear();
    await this.producer?.disconnect().catch(() => {});
    await this.state.stop();
  }

  // ------------------------------------------------------------------ views of the config topic

  connectorNames(): string[] {
    return [...this.state.configs.keys()]
      .filter((k) => k.startsWith('connector-'))
      .map((k) => k.slice('connector-'.length))
      .sort();
  }

  connectorConfig(name: string): Record<string, string> | undefined {
    return (this.state.configs.get(`connector-${name}`) as { properties: Record<string, string> } | undefined)?.properties;
  }

  targetState(name: string): TargetState {
    return ((this.state.configs.get(`target-state-${name}`) as { state?: TargetState } | undefined)?.state ?? 'STARTED') as TargetState;
  }

  taskConfigs(name: string): Record<string, string>[] {
    const commit = this.state.configs.get(`commit-${name}`) as { tasks: number } | undefined;
    if (!commit) return [];
    const out: Record<string, string>[] = [];
    for (let i = 0; i < commit.tasks; i++) {
      const t = this.state.configs.get(`task-${name}-${i}`) as { properties: Record<string, string> } | undefined;
      if (t) out.push(t.properties);
    }
    return out;
  }

  connectorType(name: string): 'source' | 'sink' | 'unknown' {
    return this.plugins.find(this.connectorConfig(name)?.['connector.class'])?.type ?? 'unknown';
  }

  status(key: string): StatusEntry | undefined {
    return this.state.statuses.get(key) as StatusEntry | undefined;
  }

  connectorTopics(name: string): string[] {
    const prefix = 'topic-';
    const out: string[] = [];
    for (const [k, v] of this.state.statuses) {
      const t = (v as { topic?: { name: string; connector: string } }).topic;
      if (k.startsWith(prefix) && t && t.connector === name) out.push(t.name);
    }
    return out.sort();
  }

  // ------------------------------------------------------------------ operations (REST)

  async validate(config: Record<string, string>): Promise<{ name: string; error_count: number; groups: string[]; configs: ConfigValueReport[] }> {
    const className = config['connector.class'];
    const plugin = this.plugins.find(className);
    const common = reportConfigs(COMMON_CONFIG, config, {
      'connector.class': plugin ? [] : [className ? `Class ${className} could not be found.` : 'connector.class is required'],
      transforms: transformErrors(config),
    });
    const specific = plugin ? reportConfigs(plugin.config, config, (await plugin.createConnector().validate?.(config)) ?? {}, common.length) : [];
    if (plugin?.type === 'source') common.push(...reportConfigs(SOURCE_CONFIG, config, this.exactlyOnceErrors(plugin, config), 500));
    if (plugin?.type === 'sink' && !config['topics'] && !config['topics.regex']) {
      common.push(...reportConfigs({ topics: { type: 'list', group: 'Common' } }, config, {}, 1000));
    }
    const configs = [...common, ...specific];
    const groups = [...new Set(configs.map((c) => c.definition.group).filter((g): g is string => !!g))];
    return { name: plugin?.className ?? className ?? '', error_count: configs.reduce((n, c) => n + c.value.errors.length, 0), groups, configs };
  }

  /** Kafka's checks of a source connector's exactly-once settings against this worker and plugin. */
  private exactlyOnceErrors(plugin: ConnectorPlugin, config: Record<string, string>): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    if ((config['exactly.once.support'] ?? 'requested').toLowerCase() === 'required') {
      if (!this.exactlyOnceSources()) errors['exactly.once.support'] = ['This worker does not have exactly-once source support enabled.'];
      else if (plugin.exactlyOnceSupport === false) errors['exactly.once.support'] = [`The connector ${plugin.className} does not support exactly-once semantics.`];
    }
    if ((config['transaction.boundary'] ?? 'poll').toLowerCase() === 'connector' && this.exactlyOnceSources()) {
      errors['transaction.boundary'] = [`The connector ${plugin.className} does not support connector-defined transaction boundaries.`];
    }
    return errors;
  }

  async putConnectorConfig(name: string, config: Record<string, string>, initialState?: TargetState): Promise<{ created: boolean }> {
    if (!/^[^/\\]+$/.test(name) || name.trim() !== name || name.length === 0) throw new ConnectError(400, `Connector name ${JSON.stringify(name)} is invalid`);
    const full = { ...config, name };
    const report = await this.validate(full);
    if (report.error_count > 0) {
      const errs = report.configs.flatMap((c) => c.value.errors.map((e) => `${e}`));
      throw new ConnectError(
        400,
        `Connector configuration is invalid and contains the following ${errs.length} error(s):\n${errs.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``,
      );
    }
    const created = !this.connectorConfig(name);
    if (created && initialState) await this.state.write('config', `target-state-${name}`, { state: initialState });
    await this.state.write('config', `connector-${name}`, { properties: full });
    await this.settle();
    return { created };
  }

  private requireConnector(name: string): Record<string, string> {
    const c = this.connectorConfig(name);
    if (!c) throw new ConnectError(404, `Connector ${name} not found`);
    return c;
  }

  async setTargetState(name: string, state: TargetState): Promise<void> {
    this.requireConnector(name);
    await this.state.write('config', `target-state-${name}`, { state });
    await this.settle();
  }

  async deleteConnector(name: string): Promise<void> {
    this.requireConnector(name);
    const n = this.taskConfigs(name).length;
    const entries: { key: string; value: unknown }[] = [{ key: `connector-${name}`, value: null }, { key: `target-state-${name}`, value: null }];
    for (let i = 0; i < n; i++) entries.push({ key: `task-${name}-${i}`, value: null });
    entries.push({ key: `commit-${name}`, value: null });
    await this.state.writeMany('config', entries);
    await this.settle();
    const statusKeys = [`status-connector-${name}`, ...Array.from({ length: Math.max(n, 1) }, (_, i) => `status-task-${name}-${i}`)];
    await this.state.writeMany('status', statusKeys.filter((k) => this.state.statuses.has(k)).map((key) => ({ key, value: null })));
  }

  /** Kafka's POST /restart: the connector, plus its tasks with includeTasks (only failed ones with onlyFailed). */
  /** Restart requests go through the config topic (as in Kafka) so the owning worker acts on them. */
  async restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<void> {
    this.requireConnector(name);
    await this.state.write('config', `restart-connector-${name}`, { 'include-tasks': includeTasks, 'only-failed': onlyFailed });
    await this.settle();
  }

  async restartTask(name: string, id: number): Promise<void> {
    this.requireConnector(name);
    if (id < 0 || id >= this.taskConfigs(name).length) throw new ConnectError(404, `Task ${name}-${id} not found`);
    await this.state.write('config', `restart-task-${name}-${id}`, { requested: Date.now() });
    await this.settle();
  }

  private scheduleRestartRequest(key: string, value: Record<string, unknown>): void {
    this.reconcileChain = this.reconcileChain.then(async () => {
      if (this.stopped) return;
      try {
        if (key.startsWith('restart-connector-')) {
          const name = key.slice('restart-connector-'.length);
          if (this.connectorConfig(name)) await this.localRestart(name, value['include-tasks'] === true, value['only-failed'] === true);
        } else {
          const m = /^restart-task-(.*)-(\d+)$/.exec(key);
          if (m && this.connectorConfig(m[1]!) && this.owns(m[1]!, Number(m[2]))) await this.localRestartTask(m[1]!, Number(m[2]));
        }
      } catch (err) {
        this.log(`restart ${key}: ${errorTrace(err)}`);
      }
    });
  }

  private async localRestart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<void> {
    const connectorFailed = this.status(`status-connector-${name}`)?.state === 'FAILED';
    if ((!onlyFailed || connectorFailed) && this.owns(name)) {
      await this.reportConnector(name, 'RESTARTING');
      const r = this.running.get(name);
      if (r) {
        this.running.delete(name);
        await Promise.resolve(r.connector.stop()).catch(() => {});
      }
    }
    if (includeTasks) {
      const n = this.taskConfigs(name).length;
      for (let i = 0; i < n; i++) {
        if (onlyFailed && this.status(`status-task-${name}-${i}`)?.state !== 'FAILED') continue;
        if (this.owns(name, i)) await this.localRestartTask(name, i);
      }
    }
    await this.reconcile(name);
  }

  /** Runs inside the reconcile chain. */
  private async localRestartTask(name: string, id: number): Promise<void> {
    await this.reportTask(name, id, 'RESTARTING');
    const key = `${name}-${id}`;
    const t = this.tasks.get(key);
    if (t) {
      this.tasks.delete(key);
      await t.runner.stop();
    }
    await this.reconcile(name);
  }

  /** Source offsets from the offset topic, or a sink's committed consumer-group offsets. */
  async getOffsets(name: string): Promise<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }[]> {
    this.requireConnector(name);
    if (this.connectorType(name) === 'sink') {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const res = await admin.fetchOffsets({ groupId: `connect-${name}` });
        return res.flatMap((t) =>
          t.partitions
            .filter((p) => p.offset !== '-1')
            .map((p) => ({ partition: { kafka_topic: t.topic, kafka_partition: p.partition }, offset: { kafka_offset: Number(p.offset) } })),
        );
      } finally {
        await admin.disconnect();
      }
    }
    const out: { partition: Record<string, unknown>; offset: Record<string, unknown> }[] = [];
    for (const [k, v] of this.state.offsets) {
      const parsed = JSON.parse(k) as [string, Record<string, unknown>];
      if (parsed[0] === name) out.push({ partition: parsed[1], offset: v as Record<string, unknown> });
    }
    return out;
  }

  async alterOffsets(name: string, offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[] | null): Promise<void> {
    this.requireConnector(name);
    if (this.targetState(name) !== 'STOPPED') {
      throw new ConnectError(
        400,
        `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
      );
    }
    const current = await this.getOffsets(name);
    const target = offsets ?? current.map((o) => ({ partition: o.partition, offset: null }));
    if (this.connectorType(name) === 'sink') {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const groupId = `connect-${name}`;
        if (offsets === null) {
          await admin.deleteGroups([groupId]).catch((err: Error) => {
            if (!/does not exist|GROUP_ID_NOT_FOUND/i.test(err.message)) throw err;
          });
          return;
        }
        const byTopic = new Map<string, { partition: number; offset: string }[]>();
        for (const o of target) {
          const topic = String(o.partition['kafka_topic']);
          const partition = Number(o.partition['kafka_partition']);
          if (!topic || !Number.isInteger(partition)) throw new ConnectError(400, 'Sink offsets need kafka_topic and kafka_partition');
          const list = byTopic.get(topic) ?? [];
          byTopic.set(topic, list);
          list.push({ partition, offset: o.offset === null ? '-1' : String(o.offset['kafka_offset']) });
        }
        for (const [topic, partitions] of byTopic) {
          const earliest = await admin.fetchTopicOffsets(topic);
          await admin.setOffsets({
            groupId,
            topic,
            partitions: partitions.map((p) => ({ partition: p.partition, offset: p.offset === '-1' ? (earliest.find((e) => e.partition === p.partition)?.low ?? '0') : p.offset })),
          });
        }
      } finally {
        await admin.disconnect();
      }
      return;
    }
    await this.state.writeMany(
      'offset',
      target.map((o) => ({ key: JSON.stringify([name, o.partition]), value: o.offset })),
    );
  }

  async resetTopics(name: string): Promise<void> {
    this.requireConnector(name);
    const keys = [...this.state.statuses.keys()].filter((k) => k.startsWith('topic-') && k.endsWith(`-${name}`));
    await this.state.writeMany('status', keys.map((key) => ({ key, value: null })));
  }

  // ------------------------------------------------------------------ reconciliation

  /** Waits until no reconciliation is pending (reconciling may schedule more, e.g. new task configs). */
  async settle(): Promise<void> {
    for (;;) {
      const chain = this.reconcileChain;
      await chain;
      if (chain === this.reconcileChain) return;
    }
  }

  /**
   * Incremental hand-over: a task this worker now owns still reported running by another live
   * member waits until that member stopped it (its UNASSIGNED status) — so the two never run it at
   * once — or until session.timeout.ms passed, in case the old owner is wedged.
   */
  private heldElsewhere(name: string, id: number): boolean {
    const key = `${name}-${id}`;
    const s = this.status(`status-task-${name}-${id}`);
    const busy = s && s.worker_id !== this.workerId && (s.state === 'RUNNING' || s.state === 'PAUSED' || s.state === 'RESTARTING');
    if (!busy || !this.membership.view?.members.some((m) => m.workerId === s.worker_id)) return false;
    const since = this.handoverSince.get(key);
    const limit = Number(this.workerConfig['session.timeout.ms'] ?? 10_000);
    if (since === undefined) {
      this.handoverSince.set(key, Date.now());
      setTimeout(() => this.scheduleReconcile(name), limit + 50).unref?.();
      return true;
    }
    return Date.now() - since < limit;
  }

  private scheduleReconcile(name: string): void {
    this.dirty.add(name);
    this.reconcileChain = this.reconcileChain.then(async () => {
      if (!this.dirty.delete(name) || this.stopped) return;
      try {
        await this.reconcile(name);
      } catch (err) {
        this.log(`reconcile ${name}: ${errorTrace(err)}`);
      }
    });
  }

  private async reconcile(name: string): Promise<void> {
    const config = this.connectorConfig(name);
    const target = this.targetState(name);
    if (!config) {
      await this.stopConnector(name, null);
      return;
    }
    const plugin = this.plugins.find(config['connector.class']);
    if (!plugin) {
      await this.reportConnector(name, 'FAILED', `Class ${config['connector.class']} could not be found.`);
      return;
    }
    const ownsConnector = this.owns(name);
    if (target === 'STOPPED') {
      await this.stopConnector(name, ownsConnector ? 'STOPPED' : null);
      if (ownsConnector && this.taskConfigs(name).length > 0) await this.writeTaskConfigs(name, []);
      return;
    }
    const configJson = JSON.stringify(config);
    let run = this.running.get(name);
    if (run && (run.configJson !== configJson || !ownsConnector)) {
      // Config changed: tasks restart with the new config below. Ownership moved: only the
      // connector instance leaves; tasks follow their own ownership.
      if (!ownsConnector) {
        this.running.delete(name);
        await Promise.resolve(run.connector.stop()).catch(() => {});
      } else await this.stopConnector(name, null);
      run = undefined;
    }
    if (!run && ownsConnector) {
      const connector = plugin.createConnector();
      try {
        await connector.start(config, {
          connectorName: name,
          requestTaskReconfiguration: () => this.scheduleReconcile(name),
          raiseError: (err) => void this.reportConnector(name, 'FAILED', errorTrace(err)),
        });
      } catch (err) {
        await this.reportConnector(name, 'FAILED', errorTrace(err));
        return;
      }
      run = { configJson, connector, plugin };
      this.running.set(name, run);
      const maxTasks = Number(config['tasks.max'] ?? '1');
      const wanted = (await connector.taskConfigs(maxTasks)).slice(0, maxTasks);
      if (JSON.stringify(wanted) !== JSON.stringify(this.taskConfigs(name))) {
        await this.writeTaskConfigs(name, wanted);
      }
    }
    if (ownsConnector) await this.reportConnector(name, target === 'PAUSED' ? 'PAUSED' : 'RUNNING');
    const taskConfigs = this.taskConfigs(name);
    for (let i = 0; i < taskConfigs.length; i++) {
      const key = `${name}-${i}`;
      const merged = { ...config, ...taskConfigs[i] };
      const json = JSON.stringify(merged);
      const existing = this.tasks.get(key);
      if (!this.owns(name, i)) {
        if (existing) {
          this.tasks.delete(key);
          await existing.runner.stop();
          // Tells the new owner it may start the task (see heldElsewhere).
          if (this.status(`status-task-${name}-${i}`)?.worker_id === this.workerId) await this.reportTask(name, i, 'UNASSIGNED');
        }
        continue;
      }
      if (!existing && this.heldElsewhere(name, i)) continue;
      this.handoverSince.delete(key);
      if (existing && existing.configJson === json) {
        existing.runner.setPaused(target === 'PAUSED');
        continue;
      }
      if (existing) {
        this.tasks.delete(key);
        await existing.runner.stop();
      }
      await this.startTask(plugin, name, i, merged, target === 'PAUSED');
    }
    for (const [key, t] of this.tasks) {
      const [cname, id] = splitTaskKey(key);
      if (cname === name && id >= taskConfigs.length) {
        this.tasks.delete(key);
        await t.runner.stop();
      }
    }
  }

  /** Worker config `exactly.once.source.support=enabled` (KIP-618): source tasks run transactionally. */
  exactlyOnceSources(): boolean {
    return (this.workerConfig['exactly.once.source.support'] ?? 'disabled').toLowerCase() === 'enabled';
  }

  /** Kafka Connect's transactional id for a source task: `<group.id>-<connector>-<task>`. */
  private transactionalId(name: string, task: number): string {
    return `${this.options.groupId}-${name}-${task}`;
  }

  private exactlyOnceHost(name: string, task: number): ExactlyOnceHost {
    const transactionalId = this.transactionalId(name, task);
    return {
      transactionalId,
      openProducer: async () => {
        const producer = this.kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
        await producer.connect(); // InitProducerId: fences older instances of this task
        return producer;
      },
      offsetMessages: (entries) =>
        this.state.messagesFor(
          'offset',
          entries.map((e) => ({ key: JSON.stringify([name, e.partition]), value: e.offset })),
        ),
      awaitOffsets: (results, count) => this.state.awaitReadBack(this.state.names.offset, results, count),
    };
  }

  /**
   * When a source connector's task count shrinks, instances of the dropped tasks may still run on a
   * worker that has not caught up yet; bumping their transactional ids' epochs fences them (the
   * new tasks fence their own ids when they start).
   */
  private async fenceDroppedTasks(name: string, from: number, to: number): Promise<void> {
    for (let id = from; id < to; id++) {
      const producer = this.kafka.producer({ transactionalId: this.transactionalId(name, id), idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect();
      } finally {
        await producer.disconnect().catch(() => {});
      }
    }
  }

  private async writeTaskConfigs(name: string, configs: Record<string, string>[]): Promise<void> {
    const before = this.taskConfigs(name).length;
    const plugin = this.plugins.find(this.connectorConfig(name)?.['connector.class']);
    if (plugin?.type === 'source' && this.exactlyOnceSources() && configs.length < before) {
      await this.fenceDroppedTasks(name, configs.length, before);
    }
    const entries = configs.map((properties, i) => ({ key: `task-${name}-${i}`, value: { properties } }));
    entries.push({ key: `commit-${name}`, value: { tasks: configs.length } as never });
    await this.state.writeMany('config', entries);
  }

  private async startTask(plugin: ConnectorPlugin, name: string, id: number, config: Record<string, string>, paused: boolean): Promise<void> {
    const key = `${name}-${id}`;
    let runner: Runner;
    const report = (state: TaskState, trace?: string) => {
      if (this.tasks.get(key)?.runner !== runner) return; // a replaced runner no longer reports
      void this.reportTask(name, id, state, trace).catch(() => {});
    };
    try {
      buildTransformChain(config);
      runner = createRunner(plugin, name, id, config, {
        kafka: this.kafka,
        producer: this.producer,
        workerConfig: this.workerConfig,
        reportState: (s, t) => report(s, t),
        readOffset: (p) => (this.state.offsets.get(JSON.stringify([name, p])) as Record<string, unknown> | undefined) ?? null,
        writeOffsets: (entries) =>
          this.state.writeMany(
            'offset',
            entries.map((e) => ({ key: JSON.stringify([name, e.partition]), value: e.offset })),
          ),
        exactlyOnce: plugin.type === 'source' && this.exactlyOnceSources() ? this.exactlyOnceHost(name, id) : undefined,
        recordTopic: (topic) => {
          const k = `topic-${topic}-${name}`;
          if (!this.state.statuses.has(k)) {
            void this.state
              .write('status', k, { topic: { name: topic, connector: name, task: id, discoverTimestamp: Date.now() } })
              .catch(() => {});
          }
        },
        log: this.log,
      });
    } catch (err) {
      await this.reportTask(name, id, 'FAILED', errorTrace(err));
      return;
    }
    this.tasks.set(key, { configJson: JSON.stringify(config), runner });
    if (paused) runner.setPaused(true);
    try {
      await runner.start();
    } catch (err) {
      await this.reportTask(name, id, 'FAILED', errorTrace(err));
      await runner.stop().catch(() => {});
    }
  }

  private async stopConnector(name: string, finalState: TaskState | null): Promise<void> {
    for (const [key, t] of [...this.tasks]) {
      if (splitTaskKey(key)[0] !== name) continue;
      this.tasks.delete(key);
      await t.runner.stop();
    }
    const r = this.running.get(name);
    if (r) {
      this.running.delete(name);
      await Promise.resolve(r.connector.stop()).catch(() => {});
    }
    if (finalState) await this.reportConnector(name, finalState);
  }

  async reportConnector(name: string, state: TaskState, trace?: string): Promise<void> {
    const cur = this.status(`status-connector-${name}`);
    if (cur && cur.state === state && cur.worker_id === this.workerId && !trace && !cur.trace) return;
    await this.state.write('status', `status-connector-${name}`, { state, trace: trace ?? null, worker_id: this.workerId, generation: 0 });
  }

  async reportTask(name: string, id: number, state: TaskState, trace?: string): Promise<void> {
    await this.state.write('status', `status-task-${name}-${id}`, { state, trace: trace ?? null, worker_id: this.workerId, generation: 0 });
  }

  pluginList(connectorsOnly: boolean): { class: string; type: string; version?: string }[] {
    const out: { class: string; type: string; version?: string }[] = this.plugins.all.map((p) => ({ class: p.className, type: p.type, version: p.version }));
    if (!connectorsOnly) {
      for (const c of TRANSFORM_CLASSES) out.push({ class: c, type: 'transformation' });
      for (const c of PREDICATE_CLASSES) out.push({ class: c, type: 'predicate' });
      for (const c of converterClassNames()) out.push({ class: c, type: 'converter' });
    }
    return out;
  }
}

function transformErrors(config: Record<string, string>): string[] {
  try {
    buildTransformChain(config);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

function connectorOfConfigKey(key: string): string | null {
  for (const prefix of ['connector-', 'target-state-', 'commit-']) if (key.startsWith(prefix)) return key.slice(prefix.length);
  const m = /^task-(.*)-\d+$/.exec(key);
  return m ? m[1]! : null;
}

function splitTaskKey(key: string): [string, number] {
  const i = key.lastIndexOf('-');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

