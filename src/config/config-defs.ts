/**
 * The table of every broker and topic config Fjord knows: names, types, defaults, valid values
 * and ranges follow Apache Kafka 4.x, so that clients, kafka-configs.sh and DescribeConfigs see
 * what they expect. `supported: false` marks configs that are accepted and stored but do not
 * change Fjord's behaviour (yet). Fjord-only configs use the `fjord.` prefix.
 *
 * Validation and typed access live in ./config.ts.
 */

export type ConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';

export type DynamicMode = 'read-only' | 'per-broker' | 'cluster-wide';

/** A broker config that supplies the default of a topic config, with the unit conversion to apply. */
export interface BrokerSynonym {
  name: string;
  /** Unit of the broker value when the topic config is in milliseconds. */
  unit?: 'ms' | 'minutes' | 'hours';
}

export interface ConfigDef {
  name: string;
  type: ConfigType;
  /** Default as Kafka prints it (string form), or null for "no default". */
  default: string | null;
  doc: string;
  /** Allowed values (for lists: allowed elements). Case-sensitive like Kafka's ValidString. */
  validValues?: string[];
  min?: number;
  max?: number;
  scope: 'broker' | 'topic' | 'both';
  /** For broker configs that are the server default of a topic config: that topic config's name. */
  topicName?: string;
  /** For topic configs: the highest-priority broker config supplying its default. */
  brokerSynonym?: string;
  /** For topic configs: all broker synonyms, highest priority first (e.g. log.retention.ms, .minutes, .hours). */
  brokerSynonyms?: BrokerSynonym[];
  dynamic: DynamicMode;
  sensitive?: boolean;
  /** false = accepted and stored but has no effect in Fjord yet. */
  supported: boolean;
  /** Extra check on the parsed value; returns a reason when invalid. */
  validator?: (value: string | number | boolean | string[], raw: string) => string | undefined;
}

/** Long.MAX_VALUE as Kafka prints it. */
export const LONG_MAX_STRING = '9223372036854775807';
/** Int.MAX_VALUE. */
const INT_MAX = 2147483647;
/** Double.MAX_VALUE as Java prints it. */
const DOUBLE_MAX_STRING = '1.7976931348623157E308';

interface Opts {
  min?: number;
  max?: number;
  validValues?: string[];
  dynamic?: DynamicMode;
  sensitive?: boolean;
  supported?: boolean;
  validator?: ConfigDef['validator'];
}

// ---------------------------------------------------------------------------------------------
// Validators

const throttledReplicaList: ConfigDef['validator'] = (v) => {
  const list = v as string[];
  if (list.length === 1 && list[0] === '*') return undefined;
  for (const e of list) {
    if (!/^\d+:\d+$/.test(e)) {
      return 'Must be the literal \'*\' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...';
    }
  }
  return undefined;
};

const LISTENER_RE = /^[A-Za-z0-9_-]+:\/\/(\[[0-9A-Fa-f:.]*\]|[^:/[\]]*):\d{1,5}$/;
const listenerList: ConfigDef['validator'] = (v) => {
  const seen = new Set<string>();
  for (const e of v as string[]) {
    if (!LISTENER_RE.test(e)) return `Unable to parse ${e} to a broker endpoint (expected NAME://host:port)`;
    const name = e.slice(0, e.indexOf('://')).toUpperCase();
    if (seen.has(name)) return `Each listener must have a different name, ${name} is repeated`;
    seen.add(name);
  }
  return undefined;
};

const protocolMap: ConfigDef['validator'] = (v) => {
  for (const e of v as string[]) {
    if (!/^[A-Za-z0-9_-]+:(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$/.test(e)) {
      return `Invalid listener security protocol map entry ${e} (expected NAME:PROTOCOL)`;
    }
  }
  return undefined;
};

const nonDuplicateNonEmpty: ConfigDef['validator'] = (v) => {
  const list = v as string[];
  if (list.length === 0) return 'Empty list not allowed';
  if (new Set(list).size !== list.length) return 'Values must not be duplicated';
  if (list.some((e) => e === '')) return 'Empty entries are not allowed';
  return undefined;
};

const gzipLevel: ConfigDef['validator'] = (v) =>
  v === -1 || ((v as number) >= 1 && (v as number) <= 9) ? undefined : 'Value must be between 1 and 9, or -1';

const hostPortList: ConfigDef['validator'] = (v) => {
  for (const e of v as string[]) {
    if (e === '') return 'Empty entries are not allowed';
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Builders

function mk(name: string, type: ConfigType, dflt: string | null, doc: string, scope: ConfigDef['scope'], o: Opts = {}): ConfigDef {
  const def: ConfigDef = {
    name,
    type,
    default: dflt,
    doc,
    scope,
    dynamic: o.dynamic ?? (scope === 'topic' ? 'cluster-wide' : 'read-only'),
    supported: o.supported ?? true,
  };
  if (o.validValues) def.validValues = o.validValues;
  if (o.min !== undefined) def.min = o.min;
  if (o.max !== undefined) def.max = o.max;
  if (o.sensitive || type === 'password') def.sensitive = true;
  if (o.validator) def.validator = o.validator;
  return def;
}

const NO: Opts = { supported: false };

// ---------------------------------------------------------------------------------------------
// Configs that exist with the same name at broker and topic level.

const compressionTypes = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'];

const bothDefs: ConfigDef[] = [
  mk('compression.type', 'string', 'producer',
    'Final compression codec for stored batches: gzip, snappy, lz4, zstd, uncompressed, or producer (keep what the producer sent).',
    'both', { validValues: compressionTypes, dynamic: 'cluster-wide' }),
  mk('compression.gzip.level', 'int', '-1', 'Gzip level used when compression.type is gzip (-1 = codec default).',
    'both', { validator: gzipLevel, dynamic: 'cluster-wide' }),
  mk('compression.lz4.level', 'int', '9', 'LZ4 level used when compression.type is lz4.',
    'both', { min: 1, max: 17, dynamic: 'cluster-wide' }),
  mk('compression.zstd.level', 'int', '3', 'Zstandard level used when compression.type is zstd.',
    'both', { min: -131072, max: 22, dynamic: 'cluster-wide' }),
  mk('min.insync.replicas', 'int', '1',
    'Minimum in-sync replicas that must hold a write for acks=all to succeed; otherwise NOT_ENOUGH_REPLICAS.',
    'both', { min: 1, dynamic: 'cluster-wide' }),
  mk('unclean.leader.election.enable', 'boolean', 'false',
    'Allow a replica outside the ISR to become leader as a last resort, accepting data loss.',
    'both', { dynamic: 'cluster-wide' }),
];
for (const d of bothDefs) {
  d.brokerSynonym = d.name;
  d.brokerSynonyms = [{ name: d.name }];
  d.topicName = d.name;
}

// ---------------------------------------------------------------------------------------------
// Topic-level configs (Kafka 4.x LogConfig). `syn` lists broker synonyms, highest priority first.

interface TopicRow { def: ConfigDef; syn?: BrokerSynonym[] }
function t(name: string, type: ConfigType, dflt: string | null, doc: string, syn: BrokerSynonym[] | string | null, o: Opts = {}): TopicRow {
  const synonyms = syn === null ? undefined : typeof syn === 'string' ? [{ name: syn }] : syn;
  return { def: mk(name, type, dflt, doc, 'topic', o), syn: synonyms };
}

/** Confluent's subject name strategies (their class names, as Confluent's configs take them). */
const SUBJECT_STRATEGIES = [
  'io.confluent.kafka.serializers.subject.TopicNameStrategy',
  'io.confluent.kafka.serializers.subject.RecordNameStrategy',
  'io.confluent.kafka.serializers.subject.TopicRecordNameStrategy',
];

const topicRows: TopicRow[] = [
  t('cleanup.policy', 'list', 'delete',
    'Retention policy for old segments: delete (drop by time/size), compact (keep the latest record per key), or both.',
    'log.cleanup.policy', { validValues: ['compact', 'delete'] }),
  t('delete.retention.ms', 'long', '86400000',
    'How long tombstones are kept in a compacted topic after the segment holding them was cleaned.',
    'log.cleaner.delete.retention.ms', { min: 0 }),
  t('file.delete.delay.ms', 'long', '60000', 'Delay before a deleted segment file is removed from disk.',
    'log.segment.delete.delay.ms', { min: 0 }),
  t('flush.messages', 'long', LONG_MAX_STRING,
    'Force an fsync after this many messages (when fjord.flush.mode=kafka). The default leaves flushing to the OS.',
    'log.flush.interval.messages', { min: 1 }),
  t('flush.ms', 'long', LONG_MAX_STRING,
    'Force an fsync when data has waited this long (when fjord.flush.mode=kafka). The default leaves flushing to the OS.',
    [{ name: 'log.flush.interval.ms' }, { name: 'log.flush.scheduler.interval.ms' }], { min: 0 }),
  t('follower.replication.throttled.replicas', 'list', '',
    'Replicas ([partition]:[broker] or *) whose follower-side replication is throttled.',
    null, { validator: throttledReplicaList }),
  t('index.interval.bytes', 'int', '4096', 'Bytes of log between two offset-index entries.',
    'log.index.interval.bytes', { min: 0 }),
  t('leader.replication.throttled.replicas', 'list', '',
    'Replicas ([partition]:[broker] or *) whose leader-side replication is throttled.',
    null, { validator: throttledReplicaList }),
  t('local.retention.bytes', 'long', '-2',
    'Tiered storage: local size limit per partition before segments are only remote (-2 = use retention.bytes).',
    'log.local.retention.bytes', { min: -2, supported: false }),
  t('local.retention.ms', 'long', '-2',
    'Tiered storage: local time limit before segments are only remote (-2 = use retention.ms).',
    'log.local.retention.ms', { min: -2, supported: false }),
  t('max.compaction.lag.ms', 'long', LONG_MAX_STRING,
    'Longest time a record may stay uncompacted before its segment becomes eligible for cleaning.',
    'log.cleaner.max.compaction.lag.ms', { min: 1 }),
  t('max.message.bytes', 'int', '1048588', 'Largest record batch (after compression) the topic accepts.',
    'message.max.bytes', { min: 0 }),
  t('message.downconversion.enable', 'boolean', 'true',
    'Removed in Kafka 4.0; accepted and ignored: Fjord always down-converts for Fetch v0-3.',
    'log.message.downconversion.enable', { supported: false }),
  t('message.format.version', 'string', '3.0-IV1',
    'Removed in Kafka 4.0 (KIP-724); accepted and ignored: Fjord stores record batch v2 and converts for old clients.',
    'log.message.format.version', { supported: false }),
  t('message.timestamp.difference.max.ms', 'long', LONG_MAX_STRING,
    'Removed in Kafka 4.0 (KIP-937); accepted and ignored: use message.timestamp.before.max.ms and message.timestamp.after.max.ms.',
    'log.message.timestamp.difference.max.ms', { min: 0, supported: false }),
  t('message.timestamp.after.max.ms', 'long', '3600000',
    'With CreateTime, reject batches whose timestamp is more than this far in the future.',
    'log.message.timestamp.after.max.ms', { min: 0 }),
  t('message.timestamp.before.max.ms', 'long', LONG_MAX_STRING,
    'With CreateTime, reject batches whose timestamp is more than this far in the past.',
    'log.message.timestamp.before.max.ms', { min: 0 }),
  t('message.timestamp.type', 'string', 'CreateTime',
    'Timestamp stored with records: CreateTime (from the producer) or LogAppendTime (broker clock).',
    'log.message.timestamp.type', { validValues: ['CreateTime', 'LogAppendTime'] }),
  t('min.cleanable.dirty.ratio', 'double', '0.5',
    'Share of the log that must be uncompacted before the cleaner compacts it.',
    'log.cleaner.min.cleanable.ratio', { min: 0, max: 1 }),
  t('min.compaction.lag.ms', 'long', '0', 'Minimum age of a record before compaction may remove it.',
    'log.cleaner.min.compaction.lag.ms', { min: 0 }),
  t('preallocate', 'boolean', 'false', 'Preallocate the file when creating a new segment.',
    'log.preallocate', { supported: false }),
  t('remote.log.copy.disable', 'boolean', 'false', 'Tiered storage: stop copying segments to remote storage.',
    null, { supported: false }),
  t('remote.log.delete.on.disable', 'boolean', 'false',
    'Tiered storage: delete remote data when tiered storage is turned off for the topic.', null, { supported: false }),
  t('remote.storage.enable', 'boolean', 'false', 'Tiered storage: copy closed segments to remote storage.',
    null, { supported: false }),
  t('retention.bytes', 'long', '-1',
    'Largest size a partition may grow to before old segments are deleted (-1 = no size limit).',
    'log.retention.bytes'),
  t('retention.ms', 'long', '604800000',
    'How long to keep a segment before deleting it (-1 = no time limit).',
    [{ name: 'log.retention.ms' }, { name: 'log.retention.minutes', unit: 'minutes' }, { name: 'log.retention.hours', unit: 'hours' }],
    { min: -1 }),
  t('segment.bytes', 'int', '1073741824', 'Size at which a new log segment is rolled.',
    'log.segment.bytes', { min: 14 }), // Kafka 4 raised the minimum to 1 MiB; 3.x allowed 14 bytes and old tools use that
  t('segment.index.bytes', 'int', '10485760', 'Size of the offset and time index files of a segment.',
    'log.index.size.max.bytes', { min: 4 }),
  t('segment.jitter.ms', 'long', '0', 'Random jitter subtracted from segment.ms to avoid rolling all segments at once.',
    [{ name: 'log.roll.jitter.ms' }, { name: 'log.roll.jitter.hours', unit: 'hours' }], { min: 0 }),
  t('segment.ms', 'long', '604800000', 'Roll a new segment after this long, even if it is not full.',
    [{ name: 'log.roll.ms' }, { name: 'log.roll.hours', unit: 'hours' }], { min: 1 }),
  // Broker-side schema validation (Confluent Server's topic configs): records must carry a schema
  // id registered for the topic's subject (see src/broker/schema-validation.ts).
  t('confluent.key.schema.validation', 'boolean', 'false', 'Reject records whose key does not carry a schema id registered for the key subject.', null),
  t('confluent.value.schema.validation', 'boolean', 'false', 'Reject records whose value does not carry a schema id registered for the value subject.', null),
  t('confluent.key.subject.name.strategy', 'string', SUBJECT_STRATEGIES[0]!, 'How the key subject is named: TopicNameStrategy (<topic>-key), RecordNameStrategy (<record name>), TopicRecordNameStrategy (<topic>-<record name>).', null,
    { validValues: SUBJECT_STRATEGIES }),
  t('confluent.value.subject.name.strategy', 'string', SUBJECT_STRATEGIES[0]!, 'How the value subject is named: TopicNameStrategy (<topic>-value), RecordNameStrategy, TopicRecordNameStrategy.', null,
    { validValues: SUBJECT_STRATEGIES }),
];

for (const row of topicRows) {
  if (row.syn) {
    row.def.brokerSynonyms = row.syn;
    row.def.brokerSynonym = row.syn[0]!.name;
  }
}

// ---------------------------------------------------------------------------------------------
// Broker configs. Those listed as topic synonyms get `topicName` and are cluster-wide dynamic.

function b(name: string, type: ConfigType, dflt: string | null, doc: string, o: Opts = {}): ConfigDef {
  return mk(name, type, dflt, doc, 'broker', o);
}

const brokerOnly: ConfigDef[] = [
  // --- identity, process, listeners -------------------------------------------------------------
  b('node.id', 'int', '-1', 'Id of this node in the cluster (-1 = unset; Fjord then uses broker.id, else 1).', { min: -1 }),
  b('broker.id', 'int', '-1', 'Legacy name for node.id; must match node.id when both are set.', { min: -1 }),
  b('broker.rack', 'string', null, 'Rack of this broker, used for rack-aware replica placement.'),
  b('process.roles', 'list', '', 'KRaft roles (broker, controller). Fjord always acts as a broker; the controller is elected via etcd.',
    { validValues: ['broker', 'controller'], supported: false }),
  b('listeners', 'list', 'PLAINTEXT://:9092', 'Comma-separated NAME://host:port endpoints to listen on (empty host = all interfaces).',
    { validator: listenerList, dynamic: 'per-broker' }),
  b('advertised.listeners', 'list', null, 'Endpoints published to clients in metadata; defaults to listeners.',
    { validator: listenerList, dynamic: 'per-broker' }),
  b('listener.security.protocol.map', 'list', 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'Maps listener names to security protocols.', { validator: protocolMap, dynamic: 'per-broker' }),
  b('inter.broker.listener.name', 'string', null, 'Listener brokers reach each other on (replication, transaction markers); default: the listener named after security.inter.broker.protocol, else the first.'),
  b('security.inter.broker.protocol', 'string', 'PLAINTEXT', 'Security protocol between brokers when no inter-broker listener name is set.',
    { validValues: ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] }),
  b('controller.listener.names', 'list', null, 'KRaft controller listener names (not used by Fjord).', NO),
  b('controller.quorum.voters', 'list', '', 'KRaft static voter set (not used by Fjord, which uses etcd).', NO),
  b('controller.quorum.bootstrap.servers', 'list', '', 'KRaft controller bootstrap servers (not used by Fjord).', NO),
  b('metadata.log.dir', 'string', null, 'KRaft metadata log directory (not used by Fjord).', NO),
  // Kafka's defaults are 9000 / 2000; Fjord's are shorter so a leader's failover completes in under
  // 3 s (the lease TTL is its floor). Four renewals fit in one TTL, so a single late one is harmless.
  b('broker.session.timeout.ms', 'int', '2000',
    'A broker that has not renewed its registration (etcd lease) for this long is considered dead.', { min: 1 }),
  b('broker.heartbeat.interval.ms', 'int', '500', 'Interval between registration (etcd lease) renewals.', { min: 1 }),

  // --- storage ---------------------------------------------------------------------------------
  b('log.dir', 'string', '/tmp/fjord-logs', 'Data directory, used when log.dirs is not set.'),
  b('log.dirs', 'list', null, 'Comma-separated data directories; overrides log.dir.', { validator: nonDuplicateNonEmpty }),
  b('num.partitions', 'int', '1', 'Partition count of auto-created topics and of CreateTopics requests with -1.', { min: 1 }),
  b('default.replication.factor', 'int', '1', 'Replication factor of auto-created topics and of CreateTopics requests with -1.', { min: 1 }),
  b('auto.create.topics.enable', 'boolean', 'true', 'Create a topic when a client asks for metadata of a topic that does not exist.'),
  b('delete.topic.enable', 'boolean', 'true', 'Allow DeleteTopics; when false, topic deletion is refused.'),
  b('log.retention.check.interval.ms', 'long', '300000', 'How often the retention task looks for deletable segments.', { min: 1 }),
  b('log.flush.offset.checkpoint.interval.ms', 'int', '60000', 'How often the recovery-point checkpoint is written.', { min: 0 }),
  b('log.flush.start.offset.checkpoint.interval.ms', 'int', '60000', 'How often the log-start-offset checkpoint is written.', { min: 0 }),
  b('num.recovery.threads.per.data.dir', 'int', '2', 'Threads per data directory for log recovery at start-up and flush at shutdown.',
    { min: 1, dynamic: 'cluster-wide', supported: false }),
  b('log.dir.failure.timeout.ms', 'long', '30000', 'How long to wait before shutting down after a data directory failed.', { min: 1, supported: false }),
  b('create.topic.policy.class.name', 'class', null, 'Class validating CreateTopics requests (not supported by Fjord).', NO),
  b('alter.config.policy.class.name', 'class', null, 'Class validating AlterConfigs requests (not supported by Fjord).', NO),
  b('log.cleaner.enable', 'boolean', 'true', 'Run the log cleaner (needed for compacted topics such as __consumer_offsets).'),
  b('log.cleaner.threads', 'int', '1', 'Number of log cleaner threads.', { min: 0, dynamic: 'cluster-wide' }),
  b('log.cleaner.backoff.ms', 'long', '15000', 'Sleep time of the cleaner when no log needs cleaning.', { min: 0, dynamic: 'cluster-wide' }),
  b('log.cleaner.dedupe.buffer.size', 'long', '134217728', 'Memory for deduplicating keys across all cleaner threads.', { dynamic: 'cluster-wide' }),
  b('log.cleaner.io.buffer.size', 'int', '524288', 'I/O buffer memory across all cleaner threads.', { min: 0, dynamic: 'cluster-wide' }),
  b('log.cleaner.io.buffer.load.factor', 'double', '0.9', 'Load factor of the cleaner dedupe buffer.', { dynamic: 'cluster-wide', supported: false }),
  b('log.cleaner.io.max.bytes.per.second', 'double', DOUBLE_MAX_STRING, 'Throttle for cleaner read+write I/O.', { dynamic: 'cluster-wide', supported: false }),

  // --- requests, network, threads --------------------------------------------------------------
  b('socket.request.max.bytes', 'int', '104857600', 'Largest request frame the broker accepts.', { min: 1 }),
  b('socket.send.buffer.bytes', 'int', '102400', 'SO_SNDBUF of server sockets (-1 = OS default).', NO),
  b('socket.receive.buffer.bytes', 'int', '102400', 'SO_RCVBUF of server sockets (-1 = OS default).', NO),
  b('socket.listen.backlog.size', 'int', '50', 'Pending connection backlog of each listener.', { min: 1 }),
  b('max.connections', 'int', String(INT_MAX), 'Maximum connections across all listeners.', { min: 0, dynamic: 'cluster-wide' }),
  b('max.connections.per.ip', 'int', String(INT_MAX), 'Maximum connections from one IP address.', { min: 0, dynamic: 'cluster-wide' }),
  b('max.connections.per.ip.overrides', 'string', '', 'Per-IP or hostname overrides of max.connections.per.ip (host:count,...).',
    { dynamic: 'cluster-wide', supported: false }),
  b('connections.max.idle.ms', 'long', '600000', 'Close connections idle for longer than this.'),
  b('connections.max.reauth.ms', 'long', '0', 'SASL session lifetime before the client must re-authenticate (KIP-368; 0 = disabled).'),
  b('queued.max.requests', 'int', '500', 'Requests in flight per broker before the network layer stops reading.', { min: 1 }),
  b('queued.max.request.bytes', 'long', '-1', 'Bytes of queued requests before reading stops (-1 = no limit).'),
  b('num.network.threads', 'int', '3', 'Network threads (accepted for compatibility; Fjord uses the Node event loop).',
    { min: 1, dynamic: 'cluster-wide', supported: false }),
  b('num.io.threads', 'int', '8', 'Request handler threads (accepted for compatibility; no effect in Fjord).',
    { min: 1, dynamic: 'cluster-wide', supported: false }),
  b('background.threads', 'int', '10', 'Background task threads (no effect in Fjord).', { min: 1, dynamic: 'cluster-wide', supported: false }),
  b('fetch.max.bytes', 'int', '57671680', 'Upper bound on the bytes returned by one Fetch request.', { min: 1024 }),
  b('max.incremental.fetch.session.cache.slots', 'int', '1000', 'Maximum number of incremental fetch sessions kept.', { min: 0 }),
  b('fetch.purgatory.purge.interval.requests', 'int', '1000', 'Purge interval of the fetch purgatory (no effect in Fjord).', NO),
  b('producer.purgatory.purge.interval.requests', 'int', '1000', 'Purge interval of the produce purgatory (no effect in Fjord).', NO),
  b('delete.records.purgatory.purge.interval.requests', 'int', '1', 'Purge interval of the delete-records purgatory (no effect in Fjord).', NO),

  // --- replication -----------------------------------------------------------------------------
  b('replica.lag.time.max.ms', 'long', '30000', 'A follower that has not caught up for this long is removed from the ISR.'),
  b('replica.fetch.max.bytes', 'int', '1048576', 'Bytes a follower fetches per partition per request.', { min: 0 }),
  b('replica.fetch.response.max.bytes', 'int', '10485760', 'Bytes a follower fetches per request.', { min: 0 }),
  b('replica.fetch.min.bytes', 'int', '1', 'Minimum bytes of a follower fetch response before answering.'),
  b('replica.fetch.wait.max.ms', 'int', '500', 'Maximum wait of a follower fetch; keep below replica.lag.time.max.ms.'),
  b('replica.fetch.backoff.ms', 'int', '1000', 'Sleep after a follower fetch error.', { min: 0 }),
  b('replica.socket.timeout.ms', 'int', '30000', 'Socket timeout of follower fetch connections.'),
  b('replica.socket.receive.buffer.bytes', 'int', '65536', 'Receive buffer of follower fetch connections.', NO),
  b('replica.high.watermark.checkpoint.interval.ms', 'long', '5000', 'How often high watermarks are checkpointed to disk.'),
  b('replica.selector.class', 'string', null,
    'KIP-392 preferred read replica: org.apache.kafka.common.replica.RackAwareReplicaSelector sends consumers that give client.rack to an in-sync replica in their rack (followers then serve them up to the high watermark); unset or LeaderSelector = leaders serve every fetch.',
    { validValues: ['org.apache.kafka.common.replica.RackAwareReplicaSelector', 'org.apache.kafka.common.replica.LeaderSelector'] }),
  b('num.replica.fetchers', 'int', '1', 'Fetcher connections per source broker.', { min: 1, dynamic: 'cluster-wide' }),
  b('auto.leader.rebalance.enable', 'boolean', 'true', 'Move leadership back to preferred replicas periodically.'),
  b('leader.imbalance.check.interval.seconds', 'long', '300', 'How often the controller checks leader balance.', { min: 1 }),
  b('leader.imbalance.per.broker.percentage', 'int', '10', 'Allowed leader imbalance per broker before rebalancing, in percent.', NO),
  // Kafka lists these among the per-broker dynamic configs yet accepts them at the default resource too.
  b('leader.replication.throttled.rate', 'long', LONG_MAX_STRING,
    'Leader-side replication throttle in bytes/s, for the replicas in leader.replication.throttled.replicas.',
    { min: 0, dynamic: 'cluster-wide' }),
  b('follower.replication.throttled.rate', 'long', LONG_MAX_STRING,
    'Follower-side replication throttle in bytes/s, for the replicas in follower.replication.throttled.replicas.',
    { min: 0, dynamic: 'cluster-wide' }),
  b('replication.quota.window.num', 'int', '11', 'Number of samples kept for replication quotas.', { min: 1 }),
  b('replication.quota.window.size.seconds', 'int', '1', 'Time span of each replication quota sample.', { min: 1 }),

  // --- group coordinator -----------------------------------------------------------------------
  b('group.coordinator.rebalance.protocols', 'list', 'classic,consumer,streams', 'Enabled group protocols.',
    { validValues: ['classic', 'consumer', 'share', 'streams'] }),
  b('group.coordinator.threads', 'int', '4', 'Group coordinator threads (no effect in Fjord).', { min: 1, supported: false }),
  b('group.coordinator.append.linger.ms', 'int', '-1',
    'How long coordinator writes may wait to be batched (-1 = adaptive).', { min: -1 }),
  b('group.min.session.timeout.ms', 'int', '6000', 'Smallest session timeout a classic-protocol member may ask for.'),
  b('group.max.session.timeout.ms', 'int', '1800000', 'Largest session timeout a classic-protocol member may ask for.'),
  b('group.initial.rebalance.delay.ms', 'int', '3000', 'How long a new classic group waits for more members before its first rebalance.'),
  b('group.max.size', 'int', String(INT_MAX), 'Maximum members of a classic group.', { min: 1 }),
  b('group.consumer.session.timeout.ms', 'int', '45000', 'Session timeout of consumer-protocol (KIP-848) members.', { min: 1 }),
  b('group.consumer.min.session.timeout.ms', 'int', '45000', 'Smallest allowed consumer-protocol session timeout.', { min: 1 }),
  b('group.consumer.max.session.timeout.ms', 'int', '60000', 'Largest allowed consumer-protocol session timeout.', { min: 1 }),
  b('group.consumer.heartbeat.interval.ms', 'int', '5000', 'Heartbeat interval given to consumer-protocol members.', { min: 1 }),
  b('group.consumer.min.heartbeat.interval.ms', 'int', '5000', 'Smallest allowed consumer-protocol heartbeat interval.', { min: 1 }),
  b('group.consumer.max.heartbeat.interval.ms', 'int', '15000', 'Largest allowed consumer-protocol heartbeat interval.', { min: 1 }),
  b('group.consumer.max.size', 'int', String(INT_MAX), 'Maximum members of a consumer-protocol group.', { min: 1 }),
  b('group.consumer.assignors', 'list', 'uniform,range',
    'Server-side assignors (built-in names uniform, range); the first is the default.'),
  b('group.consumer.migration.policy', 'string', 'bidirectional',
    'Whether non-empty groups may convert between classic and consumer protocols.',
    { validValues: ['disabled', 'downgrade', 'upgrade', 'bidirectional'] }),
  b('group.consumer.regex.refresh.interval.ms', 'int', '600000', 'How often regex subscriptions are re-evaluated against topics.', { min: 1 }),
  b('confluent.schema.registry.url', 'string', null,
    'Schema Registry the broker asks when a topic has confluent.key/value.schema.validation (default: the in-process registry of fjord dev / startBroker({ registry: true })).',
    { dynamic: 'cluster-wide' }),
  b('group.streams.session.timeout.ms', 'int', '45000', 'Session timeout of streams-group (KIP-1071) members.', { min: 1 }),
  b('group.streams.min.session.timeout.ms', 'int', '45000', 'Smallest allowed streams-group session timeout.', { min: 1 }),
  b('group.streams.max.session.timeout.ms', 'int', '60000', 'Largest allowed streams-group session timeout.', { min: 1 }),
  b('group.streams.heartbeat.interval.ms', 'int', '5000', 'Heartbeat interval given to streams-group members.', { min: 1 }),
  b('group.streams.min.heartbeat.interval.ms', 'int', '5000', 'Smallest allowed streams-group heartbeat interval.', { min: 1 }),
  b('group.streams.max.heartbeat.interval.ms', 'int', '15000', 'Largest allowed streams-group heartbeat interval.', { min: 1 }),
  b('group.streams.num.standby.replicas', 'int', '0', 'Standby replicas of each task in a streams group.', { min: 0 }),
  b('group.streams.max.standby.replicas', 'int', '2', 'Largest allowed streams.num.standby.replicas group config.', { min: 0 }),
  b('group.streams.max.size', 'int', String(INT_MAX), 'Maximum members of a streams group.', { min: 1 }),
  b('group.share.enable', 'boolean', 'true', 'Enable share groups (KIP-932).'),
  b('group.share.session.timeout.ms', 'int', '45000', 'Session timeout of share-group members.', { min: 1 }),
  b('group.share.min.session.timeout.ms', 'int', '45000', 'Smallest allowed share-group session timeout.', { min: 1 }),
  b('group.share.max.session.timeout.ms', 'int', '60000', 'Largest allowed share-group session timeout.', { min: 1 }),
  b('group.share.heartbeat.interval.ms', 'int', '5000', 'Heartbeat interval given to share-group members.', { min: 1 }),
  b('group.share.min.heartbeat.interval.ms', 'int', '5000', 'Smallest allowed share-group heartbeat interval.', { min: 1 }),
  b('group.share.max.heartbeat.interval.ms', 'int', '15000', 'Largest allowed share-group heartbeat interval.', { min: 1 }),
  b('group.share.max.size', 'int', '200', 'Maximum members of a share group.', { min: 1, max: 1000 }),
  b('group.share.assignors', 'list', 'simple', 'Share-group assignor (built-in: simple).', NO),
  b('group.share.delivery.count.limit', 'int', '5', 'Delivery attempts before a share-group record is archived.',
    { min: 2, max: 10 }),
  b('group.share.record.lock.duration.ms', 'int', '30000', 'How long a share-group record stays acquired by one consumer.',
    { min: 1000, max: 3600000 }),
  b('group.share.min.record.lock.duration.ms', 'int', '15000', 'Smallest allowed share-group record lock duration.',
    { min: 1000, max: 30000 }),
  b('group.share.max.record.lock.duration.ms', 'int', '60000', 'Largest allowed share-group record lock duration.',
    { min: 30000, max: 3600000 }),
  b('group.share.partition.max.record.locks', 'int', '2000', 'In-flight acquired records per share partition.',
    { min: 100, max: 10000 }),
  b('share.coordinator.state.topic.num.partitions', 'int', '50', 'Partitions of __share_group_state (do not change after deployment).', { min: 1 }),
  b('share.coordinator.state.topic.replication.factor', 'short', '3', 'Replication factor of __share_group_state (capped at the live brokers).', { min: 1 }),
  b('offsets.topic.num.partitions', 'int', '50', 'Partitions of __consumer_offsets (do not change after deployment).', { min: 1 }),
  b('offsets.topic.replication.factor', 'short', '3',
    'Replication factor of __consumer_offsets (capped by the number of live brokers in Fjord single-node).', { min: 1 }),
  b('offsets.topic.segment.bytes', 'int', '104857600', 'Segment size of __consumer_offsets.', { min: 1 }),
  b('offsets.topic.compression.codec', 'int', '0', 'Compression codec id for __consumer_offsets batches (0 = none).', { min: 0, max: 4 }),
  b('offsets.load.buffer.size', 'int', '5242880', 'Read batch size when loading __consumer_offsets.', { min: 1 }),
  b('offsets.commit.timeout.ms', 'int', '5000', 'Timeout of coordinator writes to the offsets topic.', { min: 1 }),
  b('offsets.retention.minutes', 'int', '10080', 'Committed offsets of an empty group expire after this long.', { min: 1 }),
  b('offsets.retention.check.interval.ms', 'long', '600000', 'How often expired offsets are purged.', { min: 1 }),
  b('offset.metadata.max.bytes', 'int', '4096', 'Largest metadata string allowed with an offset commit.'),

  // --- transactions / producers ----------------------------------------------------------------
  b('transaction.state.log.num.partitions', 'int', '50', 'Partitions of __transaction_state (do not change after deployment).', { min: 1 }),
  b('transaction.state.log.replication.factor', 'short', '3', 'Replication factor of __transaction_state.', { min: 1 }),
  b('transaction.state.log.segment.bytes', 'int', '104857600', 'Segment size of __transaction_state.', { min: 1 }),
  b('transaction.state.log.min.isr', 'int', '2', 'min.insync.replicas of __transaction_state.', { min: 1 }),
  b('transaction.state.log.load.buffer.size', 'int', '5242880', 'Read batch size when loading __transaction_state.', { min: 1 }),
  b('transaction.max.timeout.ms', 'int', '900000', 'Largest transaction timeout a producer may ask for.', { min: 1 }),
  b('transactional.id.expiration.ms', 'int', '604800000',
    'A transactional id with no transaction activity for this long is expired.', { min: 1, dynamic: 'cluster-wide' }),
  b('transaction.abort.timed.out.transaction.cleanup.interval.ms', 'int', '10000', 'How often timed-out transactions are aborted.', { min: 1 }),
  b('transaction.remove.expired.transaction.cleanup.interval.ms', 'int', '3600000', 'How often expired transactional ids are removed.', { min: 1 }),
  b('transaction.partition.verification.enable', 'boolean', 'true',
    'Verify that a partition was added to the transaction before accepting transactional writes.', { dynamic: 'cluster-wide' }),
  b('transaction.two.phase.commit.enable', 'boolean', 'false', 'Allow producers to take part in two-phase commit (KIP-939).', NO),
  b('producer.id.expiration.ms', 'int', '86400000', 'Idempotent producer state is dropped after this long without writes.',
    { min: 1, dynamic: 'cluster-wide' }),
  b('producer.id.expiration.check.interval.ms', 'int', '600000', 'How often producer state past producer.id.expiration.ms is removed.', { min: 1 }),

  // --- security (src/security: listeners, TLS, SASL, ACLs) ----------------------------------------
  b('authorizer.class.name', 'string', '', 'Authorizer class; any non-empty value (e.g. org.apache.kafka.metadata.authorizer.StandardAuthorizer) enables Fjord\'s ACL authorizer.'),
  b('super.users', 'string', null, 'Semicolon-separated principals that bypass ACLs.'),
  b('allow.everyone.if.no.acl.found', 'boolean', 'false', 'With an authorizer: allow access to resources that have no ACL at all.'),
  b('sasl.enabled.mechanisms', 'list', 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER', 'SASL mechanisms enabled on SASL listeners (Fjord has no GSSAPI).',
    { validValues: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI'], dynamic: 'per-broker' }),
  b('sasl.mechanism.inter.broker.protocol', 'string', 'PLAIN',
    'SASL mechanism brokers log in to each other with (replica fetchers, markers); credentials are the username/password of the inter-broker listener\'s JAAS config. Kafka defaults to GSSAPI, which Fjord does not have.',
    { validValues: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], dynamic: 'per-broker' }),
  b('sasl.jaas.config', 'password', null, 'JAAS login context; PLAIN users are its user_NAME="password" entries.', { dynamic: 'per-broker', sensitive: true }),
  b('sasl.oauthbearer.jwks.endpoint.url', 'string', null, 'JWKS file path or http(s) URL whose keys verify OAUTHBEARER tokens.'),
  b('sasl.oauthbearer.jwks.endpoint.refresh.ms', 'long', '3600000', 'How long fetched JWKS keys are cached.', { min: 0 }),
  b('sasl.oauthbearer.expected.issuer', 'string', null, 'Required iss claim of OAUTHBEARER tokens (unset = any).'),
  b('sasl.oauthbearer.expected.audience', 'list', '', 'Accepted aud claims of OAUTHBEARER tokens (empty = any).'),
  b('sasl.oauthbearer.clock.skew.seconds', 'long', '30', 'Clock skew tolerated on exp/nbf/iat claims.', { min: 0 }),
  b('sasl.oauthbearer.sub.claim.name', 'string', 'sub', 'Claim holding the principal name.'),
  b('fjord.sasl.oauthbearer.unsecured.enable', 'boolean', 'false', 'Accept unsigned (alg "none") OAUTHBEARER tokens — development only.'),
  b('connection.failed.authentication.delay.ms', 'int', '100', 'Delay before closing a connection whose authentication failed.', { min: 0 }),
  b('ssl.keystore.type', 'string', 'PEM', 'Key store format; Fjord reads PEM (key and certificate chain in one file).', { validValues: ['PEM', 'JKS', 'PKCS12'], dynamic: 'per-broker' }),
  b('ssl.keystore.location', 'string', null, 'PEM file with the private key and certificate chain of TLS listeners (re-read when it changes).', { dynamic: 'per-broker' }),
  b('ssl.keystore.password', 'password', null, 'Key store password (PEM: unused).', { dynamic: 'per-broker', supported: false }),
  b('ssl.key.password', 'password', null, 'Password of an encrypted private key.', { dynamic: 'per-broker' }),
  b('ssl.truststore.type', 'string', 'PEM', 'Trust store format; Fjord reads PEM CA certificates.', { validValues: ['PEM', 'JKS', 'PKCS12'], dynamic: 'per-broker' }),
  b('ssl.truststore.location', 'string', null, 'PEM file of CA certificates that client certificates must chain to.', { dynamic: 'per-broker' }),
  b('ssl.truststore.password', 'password', null, 'Trust store password (PEM: unused).', { dynamic: 'per-broker', supported: false }),
  b('ssl.enabled.protocols', 'list', 'TLSv1.2,TLSv1.3', 'TLS protocol versions enabled.', { validValues: ['TLSv1.2', 'TLSv1.3'], dynamic: 'per-broker' }),
  b('ssl.cipher.suites', 'list', '',
    'TLS cipher suites (OpenSSL or IANA TLS 1.3 names), in order of preference; empty = AES-128-GCM first, then the platform defaults.',
    { dynamic: 'per-broker' }),
  b('ssl.client.auth', 'string', 'none', 'Whether TLS clients must present a certificate.',
    { validValues: ['required', 'requested', 'none'], dynamic: 'per-broker' }),
  b('ssl.principal.mapping.rules', 'string', 'DEFAULT', 'Rules mapping a client certificate DN to a user name (RULE:pattern/replacement/[LU], DEFAULT).'),

  b('quota.window.num', 'int', '11', 'Number of samples kept for client quota rates.', { min: 1 }),
  b('quota.window.size.seconds', 'int', '1', 'Time span of one client quota sample.', { min: 1 }),

  // --- Fjord-specific --------------------------------------------------------------------------
  b('fjord.flush.mode', 'string', 'group-commit',
    'group-commit: one fsync per tick covers all appends before they are acknowledged; kafka: follow flush.messages/flush.ms like Kafka.',
    { validValues: ['group-commit', 'kafka'] }),
  b('fjord.group.commit.ms', 'int', '0', 'Extra time appends wait to share one fsync in group-commit mode (0: sync at once; appends arriving during an fsync share the next one).', { min: 0, max: 1000 }),
  b('fjord.wal.enable', 'boolean', 'false',
    'group-commit mode: appends of all partitions become durable through one write-ahead log per data dir, one fdatasync per round instead of one per partition file; segments are fsynced at rolls and WAL checkpoints, and rebuilt from the WAL after a power failure.'),
  b('fjord.wal.segment.bytes', 'long', '134217728',
    'Size at which the write-ahead log rolls to a new file; the full file is deleted once the segments of every partition in it are fsynced (a checkpoint).',
    { min: 1048576 }),
  b('fjord.etcd.endpoints', 'list', '',
    'etcd endpoints (http://host:port,...) for cluster metadata and controller election; empty = single-node embedded store.',
    { validator: hostPortList }),
  b('fjord.etcd.prefix', 'string', '/fjord', 'Key prefix of this cluster in etcd.'),
  b('fjord.max.partitions.per.request', 'int', '10000',
    'Most partitions one CreateTopics or CreatePartitions request may create (Kafka\'s controller caps a user operation at 10000 records).',
    { min: 1, dynamic: 'cluster-wide' }),
  b('fjord.max.partitions.per.broker', 'int', '100000',
    'Most partition replicas a broker hosts; creating more fails with POLICY_VIOLATION.', { min: 1, dynamic: 'cluster-wide' }),
  b('fjord.storage.min.free.bytes', 'long', '67108864',
    'Appends fail with KAFKA_STORAGE_ERROR (retriable) while a log dir has less free space than this, keeping room for checkpoints and internal topics; writes resume by themselves once space returns.',
    { min: 0, dynamic: 'cluster-wide' }),
  b('fjord.log.max.open.segment.files', 'int', '2048',
    'Most segment log files the broker holds open at once. Segments open their file on first use; when more are open, the least recently used ones are closed if no read, write or fsync is in flight on them and nothing written to them is still unfsynced (those stay open until their fsync succeeded, so the bound can be exceeded briefly). Clean files unused for a minute are closed too. 0: no bound.',
    { min: 0 }),
];

// Broker-side synonyms of topic configs (Kafka's "server default property").
interface SynRow { name: string; type: ConfigType; dflt: string | null; doc: string; topic: string; o?: Opts }
const synonymRows: SynRow[] = [
  { name: 'log.cleanup.policy', type: 'list', dflt: 'delete', doc: 'Default cleanup.policy of topics.', topic: 'cleanup.policy', o: { validValues: ['compact', 'delete'] } },
  { name: 'log.cleaner.delete.retention.ms', type: 'long', dflt: '86400000', doc: 'Default delete.retention.ms of topics.', topic: 'delete.retention.ms', o: { min: 0 } },
  { name: 'log.segment.delete.delay.ms', type: 'long', dflt: '60000', doc: 'Default file.delete.delay.ms of topics.', topic: 'file.delete.delay.ms', o: { min: 0 } },
  { name: 'log.flush.interval.messages', type: 'long', dflt: LONG_MAX_STRING, doc: 'Default flush.messages of topics.', topic: 'flush.messages', o: { min: 1 } },
  { name: 'log.flush.interval.ms', type: 'long', dflt: null, doc: 'Default flush.ms of topics; if unset, log.flush.scheduler.interval.ms applies.', topic: 'flush.ms', o: { min: 0 } },
  { name: 'log.flush.scheduler.interval.ms', type: 'long', dflt: LONG_MAX_STRING, doc: 'How often the flusher checks whether logs need a flush.', topic: 'flush.ms', o: { min: 0 } },
  { name: 'log.index.interval.bytes', type: 'int', dflt: '4096', doc: 'Default index.interval.bytes of topics.', topic: 'index.interval.bytes', o: { min: 0 } },
  { name: 'log.local.retention.bytes', type: 'long', dflt: '-2', doc: 'Default local.retention.bytes of topics.', topic: 'local.retention.bytes', o: { min: -2, supported: false } },
  { name: 'log.local.retention.ms', type: 'long', dflt: '-2', doc: 'Default local.retention.ms of topics.', topic: 'local.retention.ms', o: { min: -2, supported: false } },
  { name: 'log.cleaner.max.compaction.lag.ms', type: 'long', dflt: LONG_MAX_STRING, doc: 'Default max.compaction.lag.ms of topics.', topic: 'max.compaction.lag.ms', o: { min: 1 } },
  { name: 'message.max.bytes', type: 'int', dflt: '1048588', doc: 'Largest record batch the broker accepts; default max.message.bytes of topics.', topic: 'max.message.bytes', o: { min: 0 } },
  { name: 'log.message.downconversion.enable', type: 'boolean', dflt: 'true', doc: 'Removed in Kafka 4.0; accepted and ignored.', topic: 'message.downconversion.enable', o: NO },
  { name: 'log.message.format.version', type: 'string', dflt: '3.0-IV1', doc: 'Removed in Kafka 4.0; accepted and ignored.', topic: 'message.format.version', o: NO },
  { name: 'log.message.timestamp.difference.max.ms', type: 'long', dflt: LONG_MAX_STRING, doc: 'Removed in Kafka 4.0; accepted and ignored.', topic: 'message.timestamp.difference.max.ms', o: { min: 0, supported: false } },
  { name: 'log.message.timestamp.after.max.ms', type: 'long', dflt: '3600000', doc: 'Default message.timestamp.after.max.ms of topics.', topic: 'message.timestamp.after.max.ms', o: { min: 0 } },
  { name: 'log.message.timestamp.before.max.ms', type: 'long', dflt: LONG_MAX_STRING, doc: 'Default message.timestamp.before.max.ms of topics.', topic: 'message.timestamp.before.max.ms', o: { min: 0 } },
  { name: 'log.message.timestamp.type', type: 'string', dflt: 'CreateTime', doc: 'Default message.timestamp.type of topics.', topic: 'message.timestamp.type', o: { validValues: ['CreateTime', 'LogAppendTime'] } },
  { name: 'log.cleaner.min.cleanable.ratio', type: 'double', dflt: '0.5', doc: 'Default min.cleanable.dirty.ratio of topics.', topic: 'min.cleanable.dirty.ratio', o: { min: 0, max: 1 } },
  { name: 'log.cleaner.min.compaction.lag.ms', type: 'long', dflt: '0', doc: 'Default min.compaction.lag.ms of topics.', topic: 'min.compaction.lag.ms', o: { min: 0 } },
  { name: 'log.preallocate', type: 'boolean', dflt: 'false', doc: 'Default preallocate of topics.', topic: 'preallocate', o: NO },
  { name: 'log.retention.bytes', type: 'long', dflt: '-1', doc: 'Default retention.bytes of topics.', topic: 'retention.bytes' },
  { name: 'log.retention.ms', type: 'long', dflt: null, doc: 'Default retention.ms of topics; wins over log.retention.minutes and .hours.', topic: 'retention.ms' },
  { name: 'log.retention.minutes', type: 'int', dflt: null, doc: 'Default retention of topics in minutes; wins over log.retention.hours.', topic: 'retention.ms' },
  { name: 'log.retention.hours', type: 'int', dflt: '168', doc: 'Default retention of topics in hours; lowest priority of the three.', topic: 'retention.ms' },
  { name: 'log.segment.bytes', type: 'int', dflt: '1073741824', doc: 'Default segment.bytes of topics.', topic: 'segment.bytes', o: { min: 14 } },
  { name: 'log.index.size.max.bytes', type: 'int', dflt: '10485760', doc: 'Default segment.index.bytes of topics.', topic: 'segment.index.bytes', o: { min: 4 } },
  { name: 'log.roll.jitter.ms', type: 'long', dflt: null, doc: 'Default segment.jitter.ms of topics; wins over log.roll.jitter.hours.', topic: 'segment.jitter.ms', o: { min: 0 } },
  { name: 'log.roll.jitter.hours', type: 'int', dflt: '0', doc: 'Default segment jitter of topics in hours.', topic: 'segment.jitter.ms', o: { min: 0 } },
  { name: 'log.roll.ms', type: 'long', dflt: null, doc: 'Default segment.ms of topics; wins over log.roll.hours.', topic: 'segment.ms', o: { min: 1 } },
  { name: 'log.roll.hours', type: 'int', dflt: '168', doc: 'Default segment roll time of topics in hours.', topic: 'segment.ms', o: { min: 1 } },
];

const synonymDefs: ConfigDef[] = synonymRows.map((r) => {
  const def = mk(r.name, r.type, r.dflt, r.doc, 'broker', { dynamic: 'cluster-wide', ...r.o });
  def.topicName = r.topic;
  return def;
});

function freezeMap(defs: ConfigDef[]): ReadonlyMap<string, ConfigDef> {
  const m = new Map<string, ConfigDef>();
  for (const d of defs) {
    if (m.has(d.name)) throw new Error(`duplicate config definition ${d.name}`);
    if (d.validValues) Object.freeze(d.validValues);
    if (d.brokerSynonyms) Object.freeze(d.brokerSynonyms);
    m.set(d.name, Object.freeze(d));
  }
  return m;
}

/**
 * Code-point order of names: the same order as localeCompare for these ASCII names, without
 * initialising ICU's collator at module load (~8 ms of every broker's cold start).
 */
const byName = (a: ConfigDef, b: ConfigDef): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Topic-level configs by topic name (CreateTopics / AlterConfigs on TOPIC resources). */
export const topicConfigDefs: ReadonlyMap<string, ConfigDef> = freezeMap(
  [...topicRows.map((r) => r.def), ...bothDefs].sort(byName),
);

/** Broker configs by name (command line, server.properties, AlterConfigs on BROKER resources). */
export const brokerConfigDefs: ReadonlyMap<string, ConfigDef> = freezeMap(
  [...brokerOnly, ...synonymDefs, ...bothDefs].sort(byName),
);

/** Topic configs Kafka 4.0 removed: accepted (old tools still send them), ignored, logged. */
export const REMOVED_TOPIC_CONFIGS: ReadonlySet<string> = new Set([
  'message.format.version',
  'message.downconversion.enable',
  'message.timestamp.difference.max.ms',
]);
