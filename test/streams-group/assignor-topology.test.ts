// The streams group's pure parts: the sticky task assignor (balance, stickiness, standby
// placement) and the topology checks / partition-count resolution (InternalTopicManager rules).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignTasks, type TaskAssignment } from '../../src/coordinator/group/streams-protocol/assignor.js';
import { configureTopology, InvalidTopologyError, validateTopology, type StreamsTopology } from '../../src/coordinator/group/streams-protocol/topology.js';

const flat = (a: TaskAssignment['active']) => [...a].flatMap(([s, ps]) => [...ps].map((p) => `${s}:${p}`));

describe('streams task assignor', () => {
  it('balances 7 tasks over 3 members and moves few tasks when a member joins', () => {
    const taskCounts = new Map([['0', 4], ['1', 3]]);
    const two = assignTasks({ members: new Map([['a', 'p1'], ['b', 'p2']]), taskCounts, previous: new Map(), numStandbyReplicas: 0 });
    assert.deepEqual([...two.values()].map((x) => flat(x.active).length).sort(), [3, 4]);
    const three = assignTasks({ members: new Map([['a', 'p1'], ['b', 'p2'], ['c', 'p3']]), taskCounts, previous: two, numStandbyReplicas: 0 });
    const sizes = [...three.values()].map((x) => flat(x.active).length).sort();
    assert.deepEqual(sizes, [2, 2, 3]);
    const all = [...three.values()].flatMap((x) => flat(x.active));
    assert.equal(new Set(all).size, 7, 'every task once');
    // Sticky: a and b keep tasks they had; only what c needs moves.
    const kept = ['a', 'b'].flatMap((m) => flat(three.get(m)!.active).filter((t) => flat(two.get(m)!.active).includes(t)));
    assert.equal(kept.length, 7 - flat(three.get('c')!.active).length);
  });

  it('puts standbys on other members, preferring another process', () => {
    const out = assignTasks({
      members: new Map([['a1', 'p1'], ['a2', 'p1'], ['b1', 'p2']]),
      taskCounts: new Map([['0', 3]]),
      previous: new Map(),
      numStandbyReplicas: 1,
    });
    for (const [m, a] of out) {
      for (const t of flat(a.standby)) {
        assert.ok(!flat(a.active).includes(t), `${m} holds ${t} twice`);
        const owner = [...out].find(([, x]) => flat(x.active).includes(t))![0];
        if (owner !== 'b1') assert.equal(m, 'b1', `standby of ${t} (active on ${owner}) should be on the other process`);
      }
    }
    assert.equal([...out.values()].reduce((n, a) => n + flat(a.standby).length, 0), 3);
  });
});

describe('streams topology', () => {
  const topology: StreamsTopology = {
    epoch: 1,
    subtopologies: [
      {
        subtopologyId: '0',
        sourceTopics: ['in'],
        sourceTopicRegex: [],
        stateChangelogTopics: [{ name: 'app-store-changelog', partitions: 0, replicationFactor: 0, configs: [] }],
        repartitionSinkTopics: ['app-r-repartition'],
        repartitionSourceTopics: [],
        copartitionGroups: [],
      },
      {
        subtopologyId: '1',
        sourceTopics: [],
        sourceTopicRegex: [],
        stateChangelogTopics: [{ name: 'app-agg-changelog', partitions: 0, replicationFactor: 0, configs: [] }],
        repartitionSinkTopics: [],
        repartitionSourceTopics: [{ name: 'app-r-repartition', partitions: 0, replicationFactor: 0, configs: [] }],
        copartitionGroups: [],
      },
    ],
  };

  it('derives repartition and changelog partition counts from the upstream source topics', () => {
    const existing = new Map([['in', 5]]);
    const c = configureTopology(topology, { partitionsOf: (n) => existing.get(n), names: () => existing.keys() });
    assert.equal(c.taskCounts, null, 'not ready while internal topics are missing');
    const byName = Object.fromEntries(c.missingInternalTopics.map((t) => [t.name, [t.partitions, t.cleanupPolicy]]));
    assert.deepEqual(byName, { 'app-r-repartition': [5, 'delete'], 'app-store-changelog': [5, 'compact'], 'app-agg-changelog': [5, 'compact'] });
    for (const [n] of Object.entries(byName)) existing.set(n, 5);
    const ready = configureTopology(topology, { partitionsOf: (n) => existing.get(n), names: () => existing.keys() });
    assert.deepEqual([...ready.taskCounts!], [['0', 5], ['1', 5]]);
  });

  it('reports missing source topics and rejects invalid topologies', () => {
    const c = configureTopology(topology, { partitionsOf: () => undefined, names: () => [] });
    assert.deepEqual(c.missingSourceTopics, ['in']);
    const dup = { ...topology, subtopologies: [topology.subtopologies[0]!, topology.subtopologies[0]!] };
    assert.throws(() => validateTopology(dup), InvalidTopologyError);
    const danglingSink = { ...topology, subtopologies: [topology.subtopologies[0]!] };
    assert.throws(() => validateTopology(danglingSink), /not a repartition source topic/);
    const sourceIsInternal = { ...topology, subtopologies: [{ ...topology.subtopologies[0]!, sourceTopics: ['app-store-changelog'] }, topology.subtopologies[1]!] };
    assert.throws(() => validateTopology(sourceIsInternal), /both a source topic and an internal topic/);
    validateTopology(topology);
  });
});
