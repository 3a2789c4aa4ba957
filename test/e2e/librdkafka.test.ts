// librdkafka (via @confluentinc/kafka-javascript, built by scripts/setup-test-clients.sh) against a
// real Fjord broker: admin, the KafkaJS-compatible idempotent producer with every codec, the
// node-rdkafka-style consumer by assignment, watermarks, offsets for times, and the broker's
// idempotence rules checked with hand-made batches (duplicates keep their original offset, a
// sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { repoRoot, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { fetchAll, RawClient } from '../helpers/raw-client.js';
import { startLossyProxy } from './lossy-proxy.js';
import { murmur2Partition } from './murmur2.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Ckjs = any;

function loadCkjs(): Ckjs {
  try {
    return createRequire(join(repoRoot, 'test', 'clients', 'package.json'))('@confluentinc/kafka-javascript');
  } catch (err) {
    throw new Error(`cannot load @confluentinc/kafka-javascript (run scripts/setup-test-clients.sh): ${(err as Error).message}`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Consumed {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  timestamp: number;
  headers: Record<string, string>;
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

describe('librdkafka (@confluentinc/kafka-javascript)', () => {
  let ckjs: Ckjs;
  let broker: TestBroker;
  let kafka: any;
  let admin: any;

  /** A node-rdkafka-style consumer, connected; the caller disconnects it. */
  const newConsumer = async (): Promise<any> => {
    const consumer = new ckjs.KafkaConsumer(
      {
        'metadata.broker.list': broker.bootstrap,
        'group.id': `fjord-rdk-${Math.random().toString(36).slice(2)}`,
        'enable.auto.commit': false,
        'socket.connection.setup.timeout.ms': 3000,
        'fetch.wait.max.ms': 100,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await withTimeout(
      new Promise<void>((res, rej) => consumer.connect({ timeout: 10_000 }, (err: Error | null) => (err ? rej(err) : res()))),
      15_000,
      'consumer.connect',
    );
    return consumer;
  };
  const disconnect = (consumer: any) =>
    withTimeout(new Promise<void>((res) => consumer.disconnect(() => res())), 10_000, 'consumer.disconnect').catch(() => {});

  /** Assigns every listed partition from offset 0 and consumes until `count` messages (bounded). */
  const consumeAssigned = async (topic: string, partitions: number[], count: number, timeoutMs = 20_000): Promise<Consumed[]> => {
    const consumer = await newConsumer();
    const got: Consumed[] = [];
    const errors: unknown[] = [];
    consumer.on('event.error', (e: unknown) => errors.push(e));
    try {
      consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 0 })));
      const deadline = Date.now() + timeoutMs;
      while (got.length < count) {
        if (Date.now() > deadline) throw new Error(`consumed ${got.length}/${count} within ${timeoutMs} ms; errors: ${errors.join('; ')}`);
        const msgs: any[] = await new Promise((res, rej) => consumer.consume(500, (err: Error | null, m: any[]) => (err ? rej(err) : res(m))));
        for (const m of msgs) {
          got.push({
            partition: m.partition,
            offset: m.offset,
            key: m.key == null ? null : m.key.toString(),
            value: m.value.toString(),
            timestamp: m.timestamp,
            headers: Object.assign({}, ...(m.headers ?? []).map((h: Record<string, Buffer>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.toString()])))),
          });
        }
        if (msgs.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      // Nothing beyond what was produced shows up.
      const extra: any[] = await new Promise((res, rej) => consumer.consume(100, (err: Error | null, m: any[]) => (err ? rej(err) : res(m))));
      assert.equal(extra.length, 0, 'no records beyond those produced');
    } finally {
      await disconnect(consumer);
    }
    return got;
  };

  before(async () => {
    ckjs = loadCkjs();
    broker = await startTestBroker();
    kafka = new ckjs.KafkaJS.Kafka({
      kafkaJS: { clientId: 'fjord-rdk-e2e', brokers: [broker.bootstrap], logLevel: ckjs.KafkaJS.logLevel.NOTHING, connectionTimeout: 3000 },
    });
    admin = kafka.admin();
    await withTimeout(admin.connect(), 10_000, 'admin.connect');
  });
  after(async () => {
    await admin?.disconnect().catch(() => {});
    await broker?.dispose();
  });

  it('admin client creates, lists and deletes topics', async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'rdk-admin', numPartitions: 5 }] }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic: 'rdk-admin', numPartitions: 5 }] }), false, 'already exists');
    assert.ok((await admin.listTopics()).includes('rdk-admin'));
    const meta = await admin.fetchTopicMetadata({ topics: ['rdk-admin'] });
    assert.equal(meta[0].name, 'rdk-admin');
    assert.equal(meta[0].partitions.length, 5);
    assert.ok(meta[0].partitions.every((p: any) => p.leader === 0));
    await admin.deleteTopics({ topics: ['rdk-admin'], timeout: 5000 });
    assert.ok(!(await admin.listTopics()).includes('rdk-admin'));
    assert.ok(broker.broker.metadata.topic('rdk-admin') === undefined || broker.broker.metadata.topic('rdk-admin') === null);
  });

  for (const codec of CODECS) {
    it(`idempotent producer with compression.codec=${codec}: keyed records with headers, read back by assignment`, async () => {
      const topic = `rdk-${codec}`;
      const partitions = 3;
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] }), true);
      const producer = kafka.producer({
        kafkaJS: { idempotent: true, acks: -1 },
        'compression.codec': codec,
        'linger.ms': 5,
        'message.timeout.ms': 15_000,
      });
      await withTimeout(producer.connect(), 10_000, 'producer.connect');
      const sent: { key: string; value: string; round: number }[] = [];
      try {
        for (let round = 0; round < 5; round++) {
          const messages = Array.from({ length: 60 }, (_, i) => ({
            key: `key-${(i * 7 + round) % 11}`,
            value: `${codec}-${round}-${i}-${'y'.repeat((i * 17) % 500)}`,
            headers: { round: String(round), idx: String(i), codec },
          }));
          // send() turns keys/values into Buffers in place: remember the strings first.
          for (const m of messages) sent.push({ key: m.key, value: m.value, round });
          const res: any[] = await withTimeout(producer.send({ topic, messages }), 20_000, 'producer.send');
          assert.ok(res.length > 0 && res.every((r: any) => r.errorCode === 0), JSON.stringify(res));
        }
      } finally {
        await withTimeout(producer.disconnect(), 10_000, 'producer.disconnect').catch(() => {});
      }

      const got = await consumeAssigned(topic, [0, 1, 2], sent.length);
      assert.equal(got.length, sent.length);
      for (let p = 0; p < partitions; p++) {
        const mine = got.filter((g) => g.partition === p);
        assert.deepEqual(mine.map((g) => g.offset), mine.map((_, i) => i), `partition ${p}: offsets dense from 0, in order`);
      }
      for (const g of got) {
        // KafkaJS-compatible producer partitions keys with murmur2 (like Java and kafkajs).
        assert.equal(g.partition, murmur2Partition(g.key!, partitions), `key ${g.key}`);
        const [, round, idx] = g.value.split('-');
        assert.deepEqual(g.headers, { round, idx, codec });
      }
      for (const key of new Set(sent.map((s) => s.key))) {
        assert.deepEqual(
          got.filter((g) => g.key === key).map((g) => g.value),
          sent.filter((s) => s.key === key).map((s) => s.value),
          `key ${key}: every record once, in send order`,
        );
      }
    });
  }

  it('queryWatermarkOffsets and offsetsForTimes', async () => {
    const topic = 'rdk-times';
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] }), true);
    const producer = kafka.producer({ 'linger.ms': 0 });
    await withTimeout(producer.connect(), 10_000, 'producer.connect');
    const base = Date.now() - 3_600_000;
    try {
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic, messages: [{ value: `t${i}`, partition: 0, timestamp: String(base + i * 1000) }] });
      }
      await producer.send({ topic, messages: [{ value: 'p1', partition: 1, timestamp: String(base) }] });
    } finally {
      await withTimeout(producer.disconnect(), 10_000, 'producer.disconnect').catch(() => {});
    }
    const consumer = await newConsumer();
    try {
      const wm = (p: number) =>
        new Promise<any>((res, rej) => consumer.queryWatermarkOffsets(topic, p, 5000, (err: Error | null, o: any) => (err ? rej(err) : res(o))));
      assert.deepEqual(await wm(0), { lowOffset: 0, highOffset: 10 });
      assert.deepEqual(await wm(1), { lowOffset: 0, highOffset: 1 });
      const times = (tps: { topic: string; partition: number; offset: number }[]) =>
        new Promise<any[]>((res, rej) => consumer.offsetsForTimes(tps, 5000, (err: Error | null, o: any[]) => (err ? rej(err) : res(o))));
      const res = await times([
        { topic, partition: 0, offset: base + 4500 },
        { topic, partition: 1, offset: base },
      ]);
      const byPartition = new Map(res.map((r) => [r.partition, r.offset]));
      assert.equal(byPartition.get(0), 5);
      assert.equal(byPartition.get(1), 0);
      const exact = await times([{ topic, partition: 0, offset: base + 7000 }]);
      assert.equal(exact[0].offset, 7);
      const late = await times([{ topic, partition: 0, offset: Date.now() + 100_000 }]);
      assert.equal(late[0].offset, -1, 'after the last timestamp: OFFSET_END (-1)');
    } finally {
      await disconnect(consumer);
    }
    // The KafkaJS-style admin agrees.
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.deepEqual(
      offsets.map((o: any) => [o.partition, String(o.low), String(o.high)]).sort(),
      [[0, '0', '10'], [1, '0', '1']],
    );
  });

  it('idempotent producer with retries enabled writes exactly what was sent under load', async () => {
    const topic = 'rdk-idem-load';
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] }), true);
    const producer = kafka.producer({
      kafkaJS: { idempotent: true, acks: -1 },
      'message.send.max.retries': 1000,
      'retry.backoff.ms': 10,
      'max.in.flight.requests.per.connection': 5,
      'linger.ms': 1,
      'batch.num.messages': 50,
      'compression.codec': 'lz4',
    });
    await withTimeout(producer.connect(), 10_000, 'producer.connect');
    const total = 5000;
    try {
      const sends: Promise<unknown>[] = [];
      for (let b = 0; b < total / 100; b++) {
        sends.push(producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${(b * 100 + i) % 97}`, value: `m-${b * 100 + i}` })) }));
      }
      await withTimeout(Promise.all(sends), 30_000, 'concurrent sends');
    } finally {
      await withTimeout(producer.disconnect(), 10_000, 'producer.disconnect').catch(() => {});
    }
    let count = 0;
    const seen = new Set<string>();
    for (let p = 0; p < 4; p++) {
      const recs = await fetchAll(broker.port, topic, p);
      assert.deepEqual(recs.map((r) => r.offset), recs.map((_, i) => i));
      const idx = recs.map((r) => Number(r.value!.toString().slice(2)));
      // Per key, send order.
      const byKey = new Map<string, number[]>();
      recs.forEach((r, i) => {
        const k = r.key!.toString();
        byKey.set(k, [...(byKey.get(k) ?? []), idx[i]!]);
      });
      for (const [k, list] of byKey) assert.deepEqual(list, [...list].sort((a, b) => a - b), `key ${k} in order`);
      for (const r of recs) seen.add(r.value!.toString());
      count += recs.length;
    }
    assert.equal(count, total, 'exactly as many records as sent');
    assert.equal(seen.size, total, 'no duplicates');
  });

  /** Sends 20 x 50 records through a proxy that loses 3 Produce responses; returns the partition's values. */
  const produceThroughLossyProxy = async (topic: string, idempotent: boolean) => {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), true);
    const proxy = await startLossyProxy(broker.port);
    const producer = new ckjs.KafkaJS.Kafka({
      kafkaJS: { clientId: 'fjord-rdk-lossy', brokers: [proxy.bootstrap], logLevel: ckjs.KafkaJS.logLevel.NOTHING },
    }).producer({
      kafkaJS: { idempotent, acks: -1 },
      'enable.idempotence': idempotent,
      'message.send.max.retries': 100,
      'retry.backoff.ms': 20,
      'reconnect.backoff.ms': 20,
      'reconnect.backoff.max.ms': 200,
      'max.in.flight.requests.per.connection': idempotent ? 5 : 1,
      'linger.ms': 1,
      'message.timeout.ms': 20_000,
    });
    try {
      await withTimeout(producer.connect(), 10_000, 'producer.connect');
      for (let b = 0; b < 20; b++) {
        if (b % 5 === 3) proxy.dropNextProduceResponses(1);
        const messages = Array.from({ length: 50 }, (_, i) => ({ value: `m-${b * 50 + i}`, partition: 0 }));
        await withTimeout(producer.send({ topic, messages }), 25_000, `send ${b}`);
      }
    } finally {
      await withTimeout(producer.disconnect(), 10_000, 'producer.disconnect').catch(() => {});
      await proxy.close();
    }
    assert.equal(proxy.dropped(), 4, 'the proxy lost four Produce responses');
    return (await fetchAll(broker.port, topic, 0)).map((r) => r.value!.toString());
  };

  it('idempotent producer: Produce responses lost after the append are retried without duplicates', async () => {
    const values = await produceThroughLossyProxy('rdk-lossy-idem', true);
    assert.equal(values.length, 1000, 'exactly once');
    assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => `m-${i}`), 'in order, no duplicates');
  });

  it('control: the same lost responses duplicate records without idempotence (the proxy really forces retries)', async () => {
    const values = await produceThroughLossyProxy('rdk-lossy-plain', false);
    assert.equal(new Set(values).size, 1000, 'every record arrived');
    assert.ok(values.length > 1000, `expected duplicates from retries, got ${values.length} records`);
  });

  it('broker dedupes a resent idempotent batch (original offset) and rejects a sequence gap (45)', async () => {
    const topic = 'rdk-idem-raw';
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), true);
    const c = await RawClient.open(broker.port);
    let cid = 1;
    try {
      c.request(ApiKey.InitProducerId, 4, cid++, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      const init = await c.response(ApiKey.InitProducerId, 4);
      assert.equal(init!.body.errorCode, 0);
      const producerId: number = Number(init!.body.producerId);
      const producerEpoch: number = init!.body.producerEpoch;
      assert.ok(producerId >= 0);

      const produce = async (records: Buffer): Promise<{ errorCode: number; baseOffset: number }> => {
        c.request(ApiKey.Produce, 9, cid++, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
        });
        const res = await c.response(ApiKey.Produce, 9);
        const p = res!.body.responses[0].partitionResponses[0];
        return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
      };
      const batch = (baseSequence: number, n: number, tag: string) =>
        buildBatch({
          records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${tag}-${i}` })),
          producerId,
          producerEpoch,
          baseSequence,
        });

      // A plain (non-idempotent) record first, so idempotent offsets do not start at 0.
      assert.deepEqual(await produce(await buildBatch({ records: [{ value: 'plain' }] })), { errorCode: 0, baseOffset: 0 });
      const first = await batch(0, 3, 'a');
      assert.deepEqual(await produce(first), { errorCode: 0, baseOffset: 1 });
      // The same batch again (a retry after a lost response): success with the ORIGINAL offset.
      assert.deepEqual(await produce(first), { errorCode: 0, baseOffset: 1 }, 'duplicate gets its original offset');
      assert.deepEqual(await produce(await batch(3, 2, 'b')), { errorCode: 0, baseOffset: 4 });
      // An older batch still among the last five is a duplicate too.
      assert.deepEqual(await produce(first), { errorCode: 0, baseOffset: 1 }, 'older duplicate');
      // A gap in the sequence: OUT_OF_ORDER_SEQUENCE_NUMBER, nothing written.
      const gap = await produce(await batch(10, 1, 'gap'));
      assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      assert.equal(gap.errorCode, 45);
      // The next expected sequence still works.
      assert.deepEqual(await produce(await batch(5, 1, 'c')), { errorCode: 0, baseOffset: 6 });

      const recs = await fetchAll(broker.port, topic, 0);
      assert.deepEqual(
        recs.map((r) => r.value!.toString()),
        ['plain', 'a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'c-0'],
      );
    } finally {
      c.close();
    }
  });
});
