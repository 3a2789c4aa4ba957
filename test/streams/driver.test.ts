// The shared case table through the TopologyTestDriver (no broker), plus driver-specific checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KafkaStreams, Materialized, Serdes, StreamsBuilder, StreamsConfigError, TopologyTestDriver } from '../../src/streams/index.js';
import { cases, expectedOf, summarize } from './cases.js';

const S = Serdes.String();

describe('streams: TopologyTestDriver runs the shared cases', () => {
  for (const c of cases) {
    it(c.name, () => {
      const b = new StreamsBuilder();
      c.build(b);
      const driver = new TopologyTestDriver(b.build(), { 'application.id': 'cases' });
      try {
        for (const i of c.inputs) {
          const vs = i.valueSerde ?? S;
          driver.createInputTopic(i.topic, S, vs).pipeInput(i.key, i.value as never, i.timestamp);
        }
        for (const o of c.outputs) {
          const records = driver.createOutputTopic(o.topic, S, o.valueDeserializer).readKeyValuesToList();
          assert.deepEqual(summarize(o, records), expectedOf(o), `${c.name}: ${o.topic}`);
        }
      } finally {
        driver.close();
      }
    });
  }
});

describe('streams: TopologyTestDriver store inspection', () => {
  it('exposes key-value stores and window stores by name', () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in').groupByKey().count(Materialized.as('counts'));
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('in', S, S, 0, 10);
    input.pipeInput('a', 'x');
    input.pipeInput('a', 'y');
    input.pipeInput('b', 'z');
    const store = d.getKeyValueStore<string, number>('counts');
    assert.equal(store.get('a'), 2);
    assert.equal(store.get('b'), 1);
    assert.equal(store.get('c'), null);
    assert.deepEqual(store.all().map((e) => [e.key, e.value]), [['a', 2], ['b', 1]]);
    d.close();
  });

  it('repartitions through application-prefixed internal topics', () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in').selectKey((_k, v) => v).groupByKey().count().toStream().to('out', { keySerde: S, valueSerde: Serdes.Long() } as never);
    const topo = b.build();
    assert.ok([...topo.internalTopics.keys()].some((t) => t.endsWith('-repartition')));
    assert.equal(topo.subTopologies().length, 2);
    assert.match(topo.describe(), /Sub-topology: 1/);
  });
});

describe('streams: configuration errors', () => {
  it('rejects a bad application.id, a missing bootstrap.servers and an unknown guarantee', () => {
    const topo = new StreamsBuilder().build();
    assert.throws(() => new KafkaStreams(topo, { 'application.id': 'has space', 'bootstrap.servers': 'x:1' }), StreamsConfigError);
    assert.throws(() => new KafkaStreams(topo, { 'application.id': 'ok' }), /bootstrap.servers is required/);
    assert.throws(() => new KafkaStreams(topo, { 'application.id': 'ok', 'bootstrap.servers': 'x:1', 'processing.guarantee': 'maybe' as never }), /processing.guarantee/);
    assert.throws(() => new KafkaStreams(topo, { 'application.id': 'ok', 'bootstrap.servers': 'x:1', 'commit.interval.ms': -5 }), /commit.interval.ms/);
  });

  it('names the record a deserializer cannot read', () => {
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: Serdes.String(), valueSerde: Serdes.Json() } as never).to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.createInputTopic('in', S, S);
    assert.throws(() => input.pipeInput('k', 'not json', 5), /cannot deserialize record at in offset 0/);
    d.close();
  });
});
