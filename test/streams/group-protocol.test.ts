// group.protocol: word count on the KIP-1071 streams protocol and on the classic protocol against
// the same broker; StreamsGroupDescribe shows the running app's members and their tasks; a member
// that leaves is gone from the group at once (epoch -1), and the classic app is a classic group.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { KafkaStreams, Produced, Serdes, StreamsBuilder } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { createTopics, FAST_STREAMS_GROUPS, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();

function wordCount(input: string, output: string) {
  const b = new StreamsBuilder();
  b.stream<string, string>(input)
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word)
    .count()
    .toStream()
    .to(output, Produced.with(S, L));
  return b.build();
}

const LINES = Array.from({ length: 60 }, (_, i) => ({ key: `line-${i}`, value: `alpha beta ${i % 3 === 0 ? 'gamma' : 'delta'}` }));
const EXPECTED = { alpha: 60, beta: 60, gamma: 20, delta: 40 };

describe('streams: group.protocol', () => {
  let broker: TestBroker;
  let raw: RawClient;
  let corr = 0;
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];

  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'gp-lines': 4, 'gp-counts-streams': 1, 'gp-counts-classic': 1 });
    await produceBatch(broker.bootstrap, 'gp-lines', LINES);
    raw = await RawClient.open(broker.port);
  });
  after(async () => {
    for (const s of running) await s.close().catch(() => {});
    raw?.close();
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function call(apiKey: number, version: number, body: unknown): Promise<any> {
    const id = ++corr;
    raw.request(apiKey, version, id, body);
    const res = await raw.response(apiKey, version);
    assert.equal(res?.correlationId, id);
    return res!.body;
  }
  const describeStreamsGroup = async (groupId: string) => (await call(ApiKey.StreamsGroupDescribe, 0, { groupIds: [groupId], includeAuthorizedOperations: false })).groups[0];
  const groupType = async (groupId: string) => (await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups.find((g: any) => g.groupId === groupId)?.groupType;

  async function instance(protocol: 'streams' | 'classic', name: string): Promise<KafkaStreams> {
    const dir = await tempDir(`fjord-streams-gp-${protocol}-${name}-`);
    dirs.push(dir);
    const s = new KafkaStreams(wordCount('gp-lines', `gp-counts-${protocol}`), {
      'application.id': `gp-${protocol}`,
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'commit.interval.ms': 100,
      'group.protocol': protocol,
      'session.timeout.ms': 2000,
      'heartbeat.interval.ms': 300,
      'application.server': `${name}.example:8080`,
    });
    running.push(s);
    return s;
  }

  async function countsOf(topic: string): Promise<Record<string, number>> {
    const m: Record<string, number> = {};
    for (const r of await readTopic(broker.bootstrap, topic, L)) m[r.key!] = r.value!;
    return m;
  }

  for (const protocol of ['streams', 'classic'] as const) {
    it(`word count on group.protocol=${protocol}`, async () => {
      const a = await instance(protocol, 'a');
      await a.start();
      assert.equal(a.groupProtocol(), protocol);
      let last: Record<string, number> = {};
      const done = await waitFor(async () => {
        last = await countsOf(`gp-counts-${protocol}`);
        return JSON.stringify(last) === JSON.stringify({ ...last, ...EXPECTED }) && Object.keys(last).length === 4;
      }, 20_000);
      assert.ok(done, JSON.stringify(last));
      assert.equal(await groupType(`gp-${protocol}`), protocol === 'streams' ? 'streams' : 'classic');
      await a.close();
    });
  }

  it('StreamsGroupDescribe shows the running members, their tasks and endpoints; a closed member leaves at once', async () => {
    const a = await instance('streams', 'a');
    const b = await instance('streams', 'b');
    await a.start();
    await b.start();
    // 2 sub-topologies (source → repartition → count) × 4 partitions = 8 tasks, shared.
    assert.ok(await waitFor(async () => a.activeTasks().length > 0 && b.activeTasks().length > 0 && a.activeTasks().length + b.activeTasks().length === 8, 15_000), `a=${a.activeTasks()} b=${b.activeTasks()}`);
    const taskIds = (t: Array<{ subtopologyId: string; partitions: number[] }>) => t.flatMap((x) => x.partitions.map((p) => `${x.subtopologyId}_${p}`)).sort();
    let group: any;
    assert.ok(
      await waitFor(async () => {
        group = await describeStreamsGroup('gp-streams');
        return group.groupState === 'Stable' && group.members.length === 2;
      }, 10_000),
      JSON.stringify(group),
    );
    assert.equal(group.errorCode, 0);
    assert.deepEqual(group.topology.subtopologies.map((s: any) => s.subtopologyId).sort(), ['0', '1']);
    const sub0 = group.topology.subtopologies.find((s: any) => s.subtopologyId === '0');
    assert.deepEqual(sub0.sourceTopics, ['gp-lines']);
    assert.equal(sub0.repartitionSinkTopics.length, 1);
    assert.match(sub0.repartitionSinkTopics[0], /^gp-streams-.*-repartition$/);
    const byHost = new Map(group.members.map((m: any) => [`${m.userEndpoint?.host}:${m.userEndpoint?.port}`, m]));
    assert.deepEqual(taskIds((byHost.get('a.example:8080') as any).assignment.activeTasks), a.activeTasks());
    assert.deepEqual(taskIds((byHost.get('b.example:8080') as any).assignment.activeTasks), b.activeTasks());

    await b.close();
    // b left with epoch -1 inside close(): gone right away, no session timeout to wait for.
    group = await describeStreamsGroup('gp-streams');
    assert.equal(group.members.length, 1, JSON.stringify(group.members));
    assert.ok(await waitFor(async () => a.activeTasks().length === 8, 10_000), `a=${a.activeTasks()}`);

    // Remove a from the group behind its back (a leave heartbeat with its member id): its next
    // heartbeat gets UNKNOWN_MEMBER_ID, it drops its tasks as lost, rejoins with epoch 0 and goes on.
    const memberId = group.members.find((m: any) => m.userEndpoint?.host === 'a.example').memberId;
    const rebalancesBefore = a.metrics().rebalances;
    const kicked = await call(ApiKey.StreamsGroupHeartbeat, 0, { groupId: 'gp-streams', memberId, memberEpoch: -1, rebalanceTimeoutMs: -1, endpointInformationEpoch: 0 });
    assert.equal(kicked.errorCode, 0);
    assert.ok(
      await waitFor(async () => {
        group = await describeStreamsGroup('gp-streams');
        return a.metrics().rebalances >= rebalancesBefore + 2 && group.members.length === 1 && a.activeTasks().length === 8 && a.state() === 'RUNNING';
      }, 10_000),
      `rejoined: ${JSON.stringify(group.members)} a=${a.activeTasks()}`,
    );
    await produceBatch(broker.bootstrap, 'gp-lines', [{ key: 'again', value: 'alpha' }]);
    assert.ok(await waitFor(async () => (await countsOf('gp-counts-streams')).alpha === 61, 10_000), 'processing goes on after the rejoin');
    await a.close();
    group = await describeStreamsGroup('gp-streams');
    assert.equal(group.members.length, 0);
    assert.equal(group.groupState, 'Empty');
  });
});

describe('streams: group.protocol against a broker without KIP-1071', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  before(async () => {
    // Like Apache Kafka without the streams group feature: ApiVersions does not list key 88.
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'group.coordinator.rebalance.protocols': 'classic,consumer' });
    await createTopics(broker.bootstrap, { 'nb-lines': 2, 'nb-counts': 1 });
    await produceBatch(broker.bootstrap, 'nb-lines', LINES);
  });
  after(async () => {
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const make = async (protocol?: 'streams') => {
    const dir = await tempDir('fjord-streams-nb-');
    dirs.push(dir);
    return new KafkaStreams(wordCount('nb-lines', 'nb-counts'), {
      'application.id': 'nb-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'commit.interval.ms': 100,
      ...(protocol ? { 'group.protocol': protocol } : {}),
    });
  };

  it('falls back to the classic protocol by default; group.protocol=streams fails start()', async () => {
    const strict = await make('streams');
    await assert.rejects(strict.start(), /does not offer StreamsGroupHeartbeat/);
    assert.equal(strict.state(), 'ERROR');
    const s = await make();
    await s.start();
    try {
      assert.equal(s.groupProtocol(), 'classic');
      const ok = await waitFor(async () => {
        const m: Record<string, number> = {};
        for (const r of await readTopic(broker.bootstrap, 'nb-counts', L)) m[r.key!] = r.value!;
        return m.alpha === 60 && m.gamma === 20;
      }, 15_000);
      assert.ok(ok);
    } finally {
      await s.close();
    }
  });
});
