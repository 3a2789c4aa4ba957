#!/usr/bin/env node
// Fjord Streams benchmark: word count over N JSON records (6 partitions) in records/s, and the
// stateless pass-through (filter + mapValues) as a ratio of a raw consume + produce pipe built
// on the same client (@platformatic/kafka); the same word count with @kafkats/flow for comparison. Starts its own broker in-process on a temp dir.
//   node bench/streams-wordcount.mjs [--records 1000000] [--quick]
// Needs `npm run build` first. Progress on stdout; the last line is one JSON object (npm run bench).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { startBroker } from '../dist/src/index.js';
import { Consumed, KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder } from '../dist/src/streams/index.js';

const argv = process.argv.slice(2);
const N = Number(argv[argv.indexOf('--records') + 1] || 0) || (argv.includes('--quick') ? 200_000 : 1_000_000);
const PARTITIONS = 6;
const WORDS_PER_RECORD = 5;
const VOCAB = Array.from({ length: 1000 }, (_, i) => `w${i.toString(36)}`);

const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-streams-'));
const stateDir = mkdtempSync(join(tmpdir(), 'fjord-bench-state-'));
const broker = await startBroker({ dataDir, port: 0, config: { 'group.initial.rebalance.delay.ms': '0' } });
const base = { clientId: 'bench', bootstrapBrokers: [broker.bootstrap] };
const S = Serdes.String();

async function endOffsetsSum(topic) {
  const c = new Consumer({ ...base, groupId: 'bench-probe' });
  try {
    const offs = await c.listOffsets({ topics: [topic] });
    return (offs.get(topic) ?? []).reduce((a, b) => a + Number(b), 0);
  } finally {
    await c.close();
  }
}

async function until(check, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const result = { records: N, partitions: PARTITIONS };
try {
  const admin = new Admin(base);
  await admin.createTopics({ topics: ['bench-in'], partitions: PARTITIONS, replicas: 1 });
  await admin.createTopics({ topics: ['bench-wc-out', 'bench-flow-out', 'bench-pt-out', 'bench-raw-out'], partitions: PARTITIONS, replicas: 1 });
  await admin.close();

  // Input: N JSON records {"id":i,"text":"five random words"}.
  const producer = new Producer({ ...base, acks: 1 });
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % VOCAB.length);
  const t0 = Date.now();
  for (let i = 0; i < N; i += 10_000) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + 10_000); j++) {
      const text = Array.from({ length: WORDS_PER_RECORD }, () => VOCAB[rnd()]).join(' ');
      messages.push({ topic: 'bench-in', key: Buffer.from(String(j)), value: Buffer.from(JSON.stringify({ id: j, text })), partition: j % PARTITIONS });
    }
    await producer.send({ messages });
  }
  await producer.close();
  console.log(`loaded ${N} records in ${Date.now() - t0} ms`);

  // 1. Word count.
  {
    const b = new StreamsBuilder();
    b.stream('bench-in', Consumed.with(S, Serdes.Json()))
      .flatMapValues((v) => v.text.split(' '))
      .groupBy((_k, w) => w)
      .count(Materialized.as('bench-counts').withStoreType('in_memory'))
      .toStream()
      .to('bench-wc-out', Produced.with(S, Serdes.Long()));
    const app = new KafkaStreams(b.build(), { 'application.id': 'bench-wc', 'bootstrap.servers': broker.bootstrap, 'state.dir': stateDir, 'commit.interval.ms': 1000 });
    const start = Date.now();
    await app.start();
    const store = app.keyValueStore('bench-counts');
    await until(async () => store.all().reduce((a, e) => a + e.value, 0) >= N * WORDS_PER_RECORD);
    const ms = Date.now() - start;
    result.wordCountRecordsPerS = Math.round((N / ms) * 1000);
    console.log(`word count: ${N} records in ${ms} ms = ${result.wordCountRecordsPerS} records/s`);
    await app.close();
  }

  // 1b. The same word count with @kafkats/flow (the other Kafka Streams-like library for Node),
  // same broker, same input, same client-side JSON decoding. Flow re-keys in memory (it has no
  // repartition topics), so it does less broker work than Fjord Streams does here.
  {
    const { flow } = await import('@kafkats/flow');
    const { codec } = await import('@kafkats/client');
    const int64 = {
      encode: (n) => {
        const b = Buffer.allocUnsafe(8);
        b.writeBigInt64BE(BigInt(n));
        return b;
      },
      decode: (b) => Number(b.readBigInt64BE()),
    };
    // Flow processes records one at a time; it gets a bounded window and its rate is the input
    // records it finished (all five words counted) per second within it.
    const FLOW_ACKS = 'all'; // as Fjord Streams' producer (Kafka's default since 3.0)
    const FLOW_WINDOW_MS = argv.includes('--quick') ? 15_000 : 30_000;
    let inputs = 0;
    const app = flow({ applicationId: 'bench-flow', client: { brokers: [broker.bootstrap], clientId: 'bench-flow' }, commitIntervalMs: 1000, producer: { acks: FLOW_ACKS } });
    app
      .stream('bench-in', { key: codec.string(), value: codec.json(), offsetReset: 'earliest' })
      .flatMapValues((v) => v.text.split(' '))
      .groupBy((_k, w) => w, { key: codec.string(), value: codec.string() })
      .count({ storeName: 'flow-counts' })
      .toStream()
      .peek(() => inputs++)
      .to('bench-flow-out', { key: codec.string(), value: int64 });
    const start = Date.now();
    await app.start();
    const target = N * WORDS_PER_RECORD;
    await until(async () => inputs >= target || Date.now() - start >= FLOW_WINDOW_MS);
    const ms = Date.now() - start;
    const done = Math.floor(inputs / WORDS_PER_RECORD);
    result.flowWordCountRecordsPerS = Math.round((done / ms) * 1000);
    result.wordCountToFlow = Math.round((result.wordCountRecordsPerS / Math.max(1, result.flowWordCountRecordsPerS)) * 100) / 100;
    console.log(
      `word count (@kafkats/flow): ${done} of ${N} records in ${ms} ms = ${result.flowWordCountRecordsPerS} records/s; Fjord Streams / flow = ${result.wordCountToFlow} (target >= 2)`,
    );
    await app.close();
  }

  // 2. Pass-through (filter + mapValues) through Fjord Streams.
  let streamsMs;
  {
    const b = new StreamsBuilder();
    b.stream('bench-in', Consumed.with(S, Serdes.Bytes()))
      .filter((_k, v) => v.length > 0)
      .mapValues((v) => v)
      .to('bench-pt-out', Produced.with(S, Serdes.Bytes()));
    const app = new KafkaStreams(b.build(), { 'application.id': 'bench-pt', 'bootstrap.servers': broker.bootstrap, 'state.dir': stateDir, 'commit.interval.ms': 1000 });
    const start = Date.now();
    await app.start();
    await until(async () => (await endOffsetsSum('bench-pt-out')) >= N);
    streamsMs = Date.now() - start;
    result.passThroughRecordsPerS = Math.round((N / streamsMs) * 1000);
    console.log(`pass-through (streams): ${result.passThroughRecordsPerS} records/s`);
    await app.close();
  }

  // 3. Raw pipe: consumer stream → producer, same client library.
  let rawMs;
  {
    const consumer = new Consumer({ ...base, groupId: 'bench-raw' });
    const out = new Producer({ ...base, acks: -1 });
    const start = Date.now();
    const stream = await consumer.consume({ topics: ['bench-in'], mode: 'earliest', maxWaitTime: 100 });
    let n = 0;
    let pending = [];
    for await (const m of stream) {
      if (m.value.length > 0) pending.push({ topic: 'bench-raw-out', key: m.key, value: m.value, partition: m.partition });
      n++;
      if (pending.length >= 5000 || n >= N) {
        await out.send({ messages: pending });
        pending = [];
      }
      if (n >= N) break;
    }
    rawMs = Date.now() - start;
    result.rawPipeRecordsPerS = Math.round((N / rawMs) * 1000);
    console.log(`pass-through (raw consume + produce): ${result.rawPipeRecordsPerS} records/s`);
    await stream.close();
    await consumer.close(true);
    await out.close();
  }
  result.passThroughToRawPipe = Math.round((rawMs / streamsMs) * 100) / 100;
  console.log(`pass-through ratio streams/raw: ${result.passThroughToRawPipe.toFixed(2)}`);
  console.log(JSON.stringify(result));
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
}
