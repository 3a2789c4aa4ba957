// exactly_once_v2: a crash in the middle of a transaction (its writes aborted) is invisible to
// read_committed readers, and the instance that takes over counts every input exactly once.
// Needs broker transactions (InitProducerId with a transactional id, AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit, EndTxn).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder } from '../../src/streams/index.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { createTopics, FAST_STREAMS_GROUPS, produceBatch, readTopic, waitFor } from './helpers.js';

const S = Serdes.String();
const L = Serdes.Long();
const KEYS = 20;

describe('streams: exactly_once_v2 across a crash', () => {
  let broker: TestBroker;
  const dirs: string[] = [];
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000', ...FAST_STREAMS_GROUPS });
    await createTopics(broker.bootstrap, { 'eos-in': 2, 'eos-out': 1 });
  });
  after(async () => {
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function instance(name: string, stateDir?: string): Promise<KafkaStreams> {
    const dir = stateDir ?? (await tempDir(`fjord-streams-eos-${name}-`));
    dirs.push(dir);
    const b = new StreamsBuilder();
    b.stream<string, string>('eos-in').groupByKey().count(Materialized.as('eos-counts')).toStream().to('eos-out', Produced.with(S, L));
    return new KafkaStreams(b.build(), {
      'application.id': 'eos-app',
      'bootstrap.servers': broker.bootstrap,
      'state.dir': dir,
      'processing.guarantee': 'exactly_once_v2',
      'commit.interval.ms': 100,
      'statestore.cache.max.bytes': 0,
      'session.timeout.ms': 2000,
      'heartbeat.interval.ms': 300,
    });
  }

  const batch = (round: number) => Array.from({ length: 400 }, (_, i) => ({ key: `key-${i % KEYS}`, value: `r${round}-${i}` }));

  async function committedCounts(): Promise<Map<string, number[]>> {
    const m = new Map<string, number[]>();
    for (const r of await readTopic(broker.bootstrap, 'eos-out', L, true)) m.set(r.key!, [...(m.get(r.key!) ?? []), r.value!]);
    return m;
  }

  it('counts each input exactly once when the processing instance dies mid-transaction', async () => {
    await produceBatch(broker.bootstrap, 'eos-in', batch(1));
    const a = await instance('a');
    await a.start();
    assert.ok(await waitFor(async () => {
      const c = await committedCounts();
      return c.size === KEYS && [...c.values()].every((v) => v.at(-1) === 20);
    }, 30_000, 200));

    // Crash after the second batch's outputs and changelog writes went out but before the commit.
    let killed: Promise<void> | null = null;
    a.on('committing', () => {
      const processed = a.metrics().tasks.reduce((n, t) => n + t.processed, 0);
      if (processed > 400) killed ??= a.kill();
    });
    await produceBatch(broker.bootstrap, 'eos-in', batch(2));
    assert.ok(await waitFor(async () => killed !== null, 20_000));
    await killed;
    // The aborted writes are in the log but invisible to read_committed readers.
    const uncommitted = await readTopic(broker.bootstrap, 'eos-out', L, false);
    assert.ok(uncommitted.some((r) => r.value! > 20), 'the crashed transaction had written output');

    const b = await instance('b');
    await b.start();
    try {
      let last = new Map<string, number[]>();
      const ok = await waitFor(async () => {
        last = await committedCounts();
        return last.size === KEYS && [...last.values()].every((v) => v.at(-1) === 40);
      }, 30_000, 200);
      assert.ok(ok, JSON.stringify([...last]));
      for (const [key, seq] of last) {
        // Committed updates only ever grow and never pass 40: no input was counted twice.
        for (let i = 1; i < seq.length; i++) assert.ok(seq[i]! > seq[i - 1]!, `${key}: ${seq}`);
        assert.ok(seq.every((v) => v <= 40), `${key}: ${seq}`);
        assert.equal(b.keyValueStore<string, number>('eos-counts').get(key), 40);
      }
    } finally {
      await b.close();
    }
  });
  it('an instance restarted on its state dir fences its crashed predecessor at once', async () => {
    // A previous run of this instance left its identity in the state dir and died with a
    // transaction open (records written, never committed or aborted).
    const dir = await tempDir('fjord-streams-eos-restart-');
    const processId = '5d0c1f0e-0000-4000-8000-000000000001';
    mkdirSync(join(dir, 'eos-app'), { recursive: true });
    writeFileSync(join(dir, 'eos-app', 'kafka-streams-process-metadata'), JSON.stringify({ processId }));
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const zombie = kafka.producer({ transactionalId: `eos-app-${processId}-1`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
    await zombie.connect();
    const txn = await zombie.transaction();
    await txn.send({ topic: 'eos-out', messages: [{ key: 'zombie', value: Buffer.alloc(8) }] });
    // No commit, no abort: the process "dies" here. read_committed readers are held at this point
    // until the transaction is aborted — by its timeout (60 s) or by a successor fencing it.
    const before = (await committedCounts()).size;

    const c = await instance('c', dir);
    const started = Date.now();
    await c.start();
    try {
      await produceBatch(broker.bootstrap, 'eos-in', batch(3));
      let last = new Map<string, number[]>();
      const ok = await waitFor(async () => {
        last = await committedCounts();
        return last.size === KEYS && [...last.values()].every((v) => v.at(-1) === 60);
      }, 30_000, 200);
      assert.ok(ok, `after ${Date.now() - started} ms: ${JSON.stringify([...last])} (before: ${before} keys)`);
      assert.ok(!last.has('zombie'), 'the predecessor transaction was aborted');
      assert.ok(Date.now() - started < 30_000);
    } finally {
      await c.close();
      await zombie.disconnect().catch(() => {});
    }
    // The identity stays with the directory.
    assert.equal(JSON.parse(readFileSync(join(dir, 'eos-app', 'kafka-streams-process-metadata'), 'utf8')).processId, processId);
  });
});
