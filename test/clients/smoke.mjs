#!/usr/bin/env node
// Smoke test with librdkafka (via @confluentinc/kafka-javascript) against a running broker:
// create a topic, produce 10 keyed messages with headers using zstd compression, read them
// back from offset 0 with an assigned partition (no consumer group needed) and compare.
//
//   node test/clients/smoke.mjs HOST:PORT [--topic NAME] [--compression zstd|lz4|snappy|gzip|none] [--no-create]
//
// Prints one JSON line and exits 0 on success, 1 on any failure. Every step is bounded in time:
// it never hangs when nothing listens (a TCP probe fails in ~3 s, the whole run is capped).
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const OVERALL_MS = 60_000;
const COUNT = 10;

function parseArgs(argv) {
  const out = { bootstrap: undefined, topic: `smoke-${Date.now()}-${process.pid}`, compression: 'zstd', create: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--topic') out.topic = argv[++i];
    else if (a === '--compression') out.compression = argv[++i];
    else if (a === '--bootstrap') out.bootstrap = argv[++i];
    else if (a === '--no-create') out.create = false;
    else if (!a.startsWith('--') && !out.bootstrap) out.bootstrap = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!out.bootstrap) throw new Error('usage: smoke.mjs HOST:PORT [--topic NAME] [--compression CODEC] [--no-create]');
  return out;
}

function describe(err) {
  let msg = String(err?.message ?? err);
  // KafkaJSAggregateError (e.g. from createTopics) carries the per-topic errors.
  if (Array.isArray(err?.errors) && err.errors.length) msg += ': ' + err.errors.map((e) => e?.message ?? String(e)).join('; ');
  if (err?.code !== undefined) msg += ` (code ${err.code})`;
  return msg;
}

function fail(step, err) {
  console.log(JSON.stringify({ ok: false, step, error: describe(err) }));
  process.exit(1);
}

/** Resolves when a TCP connection to host:port succeeds; rejects after timeoutMs. */
function probe(bootstrap, timeoutMs = 3000) {
  const first = bootstrap.split(',')[0];
  const idx = first.lastIndexOf(':');
  const host = first.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(first.slice(idx + 1));
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${first} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.end();
      resolve();
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${first}: ${e.code ?? e.message}`));
    });
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    fail('args', e);
  }
  const watchdog = setTimeout(() => fail('overall', new Error(`smoke test exceeded ${OVERALL_MS} ms`)), OVERALL_MS);
  watchdog.unref();

  let ckjs;
  try {
    ckjs = require('@confluentinc/kafka-javascript');
  } catch (e) {
    fail('load', new Error(`cannot load @confluentinc/kafka-javascript (run scripts/setup-test-clients.sh): ${e.message}`));
  }
  const { Kafka, CompressionTypes, logLevel } = ckjs.KafkaJS;

  let step = 'probe';
  try {
    await probe(args.bootstrap);

    const kafka = new Kafka({
      kafkaJS: {
        clientId: 'fjord-smoke',
        brokers: args.bootstrap.split(','),
        connectionTimeout: 3000,
        requestTimeout: 10000,
        retry: { retries: 2, maxRetryTime: 2000 },
        logLevel: logLevel.ERROR,
      },
    });

    step = 'createTopics';
    if (args.create) {
      const admin = kafka.admin();
      await withTimeout(admin.connect(), 10_000, 'admin.connect');
      try {
        // Resolves false (no throw) when the topic already exists: fine for reruns.
        await withTimeout(
          admin.createTopics({ topics: [{ topic: args.topic, numPartitions: 1, replicationFactor: 1 }], timeout: 10_000 }),
          15_000,
          'admin.createTopics',
        );
      } finally {
        await withTimeout(admin.disconnect(), 5000, 'admin.disconnect').catch(() => {});
      }
    }

    step = 'produce';
    const codec = args.compression === 'none' ? CompressionTypes.None : args.compression;
    const producer = kafka.producer({
      kafkaJS: { compression: codec, acks: -1, idempotent: false },
      'linger.ms': 5,
      'message.timeout.ms': 15_000,
    });
    await withTimeout(producer.connect(), 10_000, 'producer.connect');
    const messages = [];
    for (let i = 0; i < COUNT; i++) {
      messages.push({
        key: `key-${i}`,
        value: `value-${i}-${'x'.repeat(100)}`,
        headers: { idx: String(i), origin: 'fjord-smoke' },
      });
    }
    await withTimeout(producer.send({ topic: args.topic, messages: messages.map((m) => ({ ...m, partition: 0 })) }), 20_000, 'producer.send');
    await withTimeout(producer.disconnect(), 5000, 'producer.disconnect').catch(() => {});

    step = 'consume';
    const got = await consumeAssigned(ckjs, args.bootstrap, args.topic, COUNT, 20_000);
    step = 'verify';
    for (let i = 0; i < COUNT; i++) {
      const m = got[i];
      const want = messages[i];
      if (!m) throw new Error(`missing message ${i}`);
      if (m.offset !== i) throw new Error(`message ${i}: offset ${m.offset}`);
      if (m.key?.toString() !== want.key) throw new Error(`message ${i}: key ${m.key}`);
      if (m.value?.toString() !== want.value) throw new Error(`message ${i}: value mismatch`);
      const h = Object.assign({}, ...(m.headers ?? []).map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.toString()]))));
      if (h.idx !== String(i) || h.origin !== 'fjord-smoke') throw new Error(`message ${i}: headers ${JSON.stringify(h)}`);
    }
    clearTimeout(watchdog);
    console.log(
      JSON.stringify({ ok: true, topic: args.topic, compression: args.compression, produced: COUNT, consumed: got.length, librdkafka: ckjs.librdkafkaVersion }),
    );
    process.exit(0);
  } catch (e) {
    fail(step, e);
  }
}

/** node-rdkafka-style consumer with a manual assignment from offset 0: no group coordinator needed. */
function consumeAssigned(ckjs, bootstrap, topic, count, timeoutMs) {
  return new Promise((resolve, reject) => {
    const consumer = new ckjs.KafkaConsumer(
      {
        'metadata.broker.list': bootstrap,
        'group.id': `fjord-smoke-${process.pid}`,
        'enable.auto.commit': false,
        'socket.connection.setup.timeout.ms': 3000,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    const got = [];
    const deadline = Date.now() + timeoutMs;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      consumer.disconnect(() => {});
      if (err) reject(err);
      else resolve(got);
    };
    consumer.on('event.error', (e) => { if (e?.isFatal) finish(e); });
    consumer.connect({ timeout: 10_000 }, (err) => {
      if (err) return finish(err);
      consumer.assign([{ topic, partition: 0, offset: 0 }]);
      const poll = () => {
        if (done) return;
        if (Date.now() > deadline) return finish(new Error(`consumed ${got.length}/${count} within ${timeoutMs} ms`));
        consumer.consume(100, (e, msgs) => {
          if (e) return finish(e);
          got.push(...msgs);
          if (got.length >= count) return finish();
          setTimeout(poll, msgs.length ? 0 : 50);
        });
      };
      poll();
    });
  });
}

main();
