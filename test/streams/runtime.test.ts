// The shared case table through KafkaStreams against a real broker: all cases in one application.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { cases, expectedOf, summarize } from './cases.js';
import { createTopics, produce, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();

describe('streams: KafkaStreams runs the shared cases against a broker', () => {
  let broker: TestBroker;
  let streams: KafkaStreams;
  let stateDir: string;

  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
    stateDir = await tempDir('fjord-streams-state-');
    const topics: Record<string, number> = {};
    for (const c of cases) {
      Object.assign(topics, c.topics);
      for (const o of c.outputs) topics[o.topic] = 1;
    }
    await createTopics(broker.bootstrap, topics);
    await produce(
      broker.bootstrap,
      cases.flatMap((c) =>
        c.inputs.map((i) => ({
          topic: i.topic,
          key: i.key,
          value: i.value === null ? null : (i.valueSerde ?? S).serialize(i.topic, i.value as never),
          timestamp: i.timestamp,
        })),
      ),
    );
    const b = new StreamsBuilder();
    for (const c of cases) c.build(b);
    streams = new KafkaStreams(b.build(), {
      'application.id': 'cases-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': stateDir,
      'commit.interval.ms': 100,
      // The driver forwards every update; without a cache the runtime does too, so results match record for record.
      'statestore.cache.max.bytes': 0,
    });
    await streams.start();
  });

  after(async () => {
    await streams?.close();
    await broker?.dispose();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(c.name, async () => {
      for (const o of c.outputs) {
        let last: unknown;
        const ok = await waitFor(async () => {
          last = summarize(o, await readTopic(broker.bootstrap, o.topic, o.valueDeserializer));
          return JSON.stringify(last) === JSON.stringify(expectedOf(o));
        }, 20_000, 200);
        assert.ok(ok, `${c.name}: ${o.topic} got ${JSON.stringify(last)}`);
        assert.deepEqual(last, expectedOf(o));
      }
    });
  }

  it('creates application-prefixed repartition and compacted changelog topics', async () => {
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({ clientId: 't', bootstrapBrokers: [broker.bootstrap] });
    try {
      const topics = await admin.listTopics();
      assert.ok(topics.includes('cases-app-wc-counts-changelog'), topics.join(','));
      const repartition = topics.find((t) => t.startsWith('cases-app-') && t.endsWith('-repartition') && t.includes('wc-counts'));
      assert.ok(repartition, topics.join(','));
      const md = await admin.metadata({ topics: [repartition!, 'cases-app-wc-counts-changelog'] });
      assert.equal(md.topics.get(repartition!)?.partitionsCount, 3);
      assert.equal(md.topics.get('cases-app-wc-counts-changelog')?.partitionsCount, 3);
    } finally {
      await admin.close();
    }
  });

  it('answers interactive queries from local stores', async () => {
    const store = streams.keyValueStore<string, number>('wc-counts');
    assert.equal(store.get('hello'), 3);
    assert.equal(store.get('nope'), null);
    const meta = streams.queryMetadataForKey('wc-counts', 'hello', S);
    assert.equal(meta.isLocal, true);
    assert.ok(meta.partition >= 0 && meta.partition < 3);
    const win = streams.windowStore<string, number>('win-counts').fetch('k', 0, 100);
    // Retention is size + grace (15 ms, Kafka's default): at stream time 40 the windows starting
    // at or before 25 have expired and only 30 and 40 answer.
    assert.deepEqual(win.map((w) => [w.start, w.value]), [[30, 1], [40, 1]]);
  });
});
