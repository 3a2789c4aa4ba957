// Suppression buffers are changelogged: an instance closes mid-window, a second instance with a
// fresh state.dir restores the pending buffer from `<app>-<name>-store-changelog`, and once the
// window closes every window's final result comes out exactly once (exactly_once_v2, read_committed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rm } from 'node:fs/promises';
import { KafkaStreams, Produced, Serdes, StreamsBuilder, Suppressed, BufferConfig, TimeWindows } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, kafka, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();
const KEYS = 5;
const PER_KEY = 3;

function topology() {
  const b = new StreamsBuilder();
  b.stream<string, string>('sup-in')
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(1000, 0))
    .count()
    .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
    .toStream((wk) => `${wk.key}@${wk.window.start}`)
    .to('sup-out', Produced.with(S, L));
  return b.build();
}

/** Every committed record of a topic, read by a kafkajs consumer (read_committed is its default). */
async function consumeCommitted(bootstrap: string, topic: string, atLeast: number, timeoutMs: number): Promise<Array<{ key: string; value: number }>> {
  const consumer = kafka(bootstrap).consumer({ groupId: `sup-reader-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500 });
  const got: Array<{ key: string; value: number }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push({ key: message.key!.toString(), value: Number(message.value!.readBigInt64BE()) }) });
    await waitFor(async () => got.length >= atLeast, timeoutMs, 100);
    return got;
  } finally {
    await consumer.disconnect();
  }
}

describe('streams: suppression buffer survives a task move (changelogged, exactly_once_v2)', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'sup-in': 1, 'sup-out': 1 });
  });
  after(async () => {
    for (const s of running) await s.close().catch(() => {});
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function instance(name: string): Promise<KafkaStreams> {
    const dir = await tempDir(`fjord-streams-sup-${name}-`);
    dirs.push(dir);
    const s = new KafkaStreams(topology(), {
      'application.id': 'sup-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'commit.interval.ms': 100,
      'processing.guarantee': 'exactly_once_v2',
      'session.timeout.ms': 2000,
      'heartbeat.interval.ms': 300,
    });
    running.push(s);
    return s;
  }

  it('a fresh instance restores the pending buffer and emits each closed window once', async () => {
    const admin = kafka(broker.bootstrap).admin();
    await admin.connect();
    try {
      const a = await instance('a');
      await a.start();
      // Window [0, 1000): PER_KEY records for each key, all still open when a closes.
      const firstWindow = Array.from({ length: KEYS * PER_KEY }, (_, i) => ({ key: `k${i % KEYS}`, value: `v${i}`, timestamp: 100 + i * 10 }));
      await produceBatch(broker.bootstrap, 'sup-in', firstWindow);
      let changelog = '';
      assert.ok(
        await waitFor(async () => {
          changelog = (await admin.listTopics()).find((t) => t.startsWith('sup-app-KTABLE-SUPPRESS-') && t.endsWith('-store-changelog')) ?? '';
          if (!changelog) return false;
          const keys = new Set((await readTopic(broker.bootstrap, changelog, Serdes.Bytes(), true)).map((r) => r.key));
          return keys.size === KEYS;
        }, 20_000),
        `the suppression buffer's changelog holds the ${KEYS} pending windows (topic ${changelog || 'missing'})`,
      );
      assert.equal((await readTopic(broker.bootstrap, 'sup-out', L, true)).length, 0, 'nothing is emitted before the window closes');
      await a.close();

      const b = await instance('b');
      const restores: Array<{ taskId: string; records: number }> = [];
      b.on('restore', (r) => restores.push(r));
      await b.start();
      // Stream time moves past the first window's end: the restored buffer is flushed downstream.
      await produceBatch(broker.bootstrap, 'sup-in', [{ key: 'k0', value: 'late-tick', timestamp: 5000 }]);
      const out = await consumeCommitted(broker.bootstrap, 'sup-out', KEYS, 20_000);
      await b.close();
      const firstWindowResults = out.filter((r) => r.key.endsWith('@0'));
      assert.deepEqual(
        firstWindowResults.map((r) => `${r.key}=${r.value}`).sort(),
        Array.from({ length: KEYS }, (_, i) => `k${i}@0=${PER_KEY}`),
        `one complete result per window, got ${JSON.stringify(out)}`,
      );
      assert.ok(restores.some((r) => r.records > 0), `b restored the buffer from the changelog: ${JSON.stringify(restores)}`);
      // After b committed, the buffer changelog's latest entries for the emitted windows are tombstones.
      const latest = new Map<string | null, Buffer | null>();
      for (const r of await readTopic(broker.bootstrap, changelog, Serdes.Bytes(), true)) latest.set(r.key, r.value);
      assert.equal([...latest.values()].filter((v) => v !== null).length, 1, 'only the still-open window (k0@5000) remains buffered');
    } finally {
      await admin.disconnect();
    }
  });
});
