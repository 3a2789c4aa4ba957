// Fjord Streams against a secured cluster: the broker's Streams-facing listener is SASL_SSL with
// SCRAM users, and the application is given only that listener, so every connection it opens
// (admin, producer, input / restore / global reader, the KIP-1071 group socket, the classic group
// consumer) must do TLS and log in. Test records go in and out over the PLAINTEXT listener.
// Also: a wrong password or an untrusted CA makes start() reject promptly with a clear error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { makeScramCredential } from '../../src/security/scram.js';
import { KafkaAuthenticationError, KafkaStreams, Produced, Serdes, StreamsBuilder, StreamsConfigError, type StreamsConfig } from '../../src/streams/index.js';
import { streamsProtocolOffered } from '../../src/streams/streams-membership.js';
import { startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';
import { ADMIN_JAAS, listenerPort, makePki, type TestPki } from '../security/helpers.js';
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

const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: `line-${from + i}`, value: `alpha beta ${(from + i) % 3 === 0 ? 'gamma' : 'delta'}` }));

describe('streams: against a SASL_SSL + SCRAM listener', () => {
  let pki: TestPki;
  let broker: TestBroker;
  let secureBootstrap: string;
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];

  before(async () => {
    pki = makePki();
    broker = await startTestBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
      'ssl.keystore.location': pki.serverPem,
      'ssl.truststore.location': pki.caCert,
      'sasl.jaas.config': ADMIN_JAAS,
      'connection.failed.authentication.delay.ms': '0',
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '1000',
      ...FAST_STREAMS_GROUPS,
    });
    await broker.broker.security.alterScram(
      [
        { user: 'stream-app', credential: makeScramCredential('SCRAM-SHA-512', 'stream-pw') },
        { user: 'stream-app', credential: makeScramCredential('SCRAM-SHA-256', 'stream-pw') },
      ],
      [],
    );
    secureBootstrap = `127.0.0.1:${listenerPort(broker, 'SASL_SSL')}`;
    await createTopics(broker.bootstrap, { 'sec-lines': 3, 'sec-counts': 1, 'sec-orders': 2, 'sec-regions': 1, 'sec-enriched': 1 });
  });
  after(async () => {
    for (const s of running) await s.close().catch(() => {});
    await broker?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  async function stateDir(): Promise<string> {
    const d = await tempDir('fjord-streams-sec-');
    dirs.push(d);
    return d;
  }

  const secured = (extra: Partial<StreamsConfig> = {}): Partial<StreamsConfig> => ({
    'bootstrap.servers': secureBootstrap,
    'security.protocol': 'SASL_SSL',
    'ssl.ca.location': pki.caCert,
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="stream-app" password="stream-pw";',
    'commit.interval.ms': 100,
    'session.timeout.ms': 2000,
    'heartbeat.interval.ms': 300,
    ...extra,
  });

  /** Latest count per word, keys sorted (so JSON comparison does not depend on arrival order). */
  async function countsOf(topic: string): Promise<Record<string, number>> {
    const m = new Map<string, number>();
    for (const r of await readTopic(broker.bootstrap, topic, L)) m.set(r.key!, r.value!);
    return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  it('word count over SASL_SSL + SCRAM-SHA-512 (KIP-1071 group socket); a restart on wiped state restores the counts from the changelog', async () => {
    await produceBatch(broker.bootstrap, 'sec-lines', lines(30));
    const first = new KafkaStreams(wordCount('sec-lines', 'sec-counts'), { 'application.id': 'sec-wc', 'state.dir': await stateDir(), ...secured() });
    running.push(first);
    await first.start();
    assert.equal(first.groupProtocol(), 'streams');
    let last: unknown;
    const expected1 = { alpha: 30, beta: 30, delta: 20, gamma: 10 };
    assert.ok(
      await waitFor(async () => JSON.stringify((last = await countsOf('sec-counts'))) === JSON.stringify(expected1), 20_000, 200),
      `first run counts: ${JSON.stringify(last)}`,
    );
    await first.close();

    // Fresh state dir: the counts can only continue from 30 if the store was restored over SASL_SSL.
    const second = new KafkaStreams(wordCount('sec-lines', 'sec-counts'), { 'application.id': 'sec-wc', 'state.dir': await stateDir(), ...secured() });
    running.push(second);
    await second.start();
    await produceBatch(broker.bootstrap, 'sec-lines', lines(15, 30));
    const expected2 = { alpha: 45, beta: 45, delta: 30, gamma: 15 };
    assert.ok(
      await waitFor(async () => JSON.stringify((last = await countsOf('sec-counts'))) === JSON.stringify(expected2), 20_000, 200),
      `counts after restore: ${JSON.stringify(last)}`,
    );
    await second.close();
  });

  it('classic group protocol, exactly_once_v2 and a GlobalKTable over SASL_SSL with sasl.username / sasl.password and SCRAM-SHA-256', async () => {
    await produceBatch(broker.bootstrap, 'sec-regions', [
      { key: 'u1', value: 'north' },
      { key: 'u2', value: 'south' },
    ]);
    await produceBatch(broker.bootstrap, 'sec-orders', [
      { key: 'u1', value: 'o1' },
      { key: 'u2', value: 'o2' },
      { key: 'u1', value: 'o3' },
    ]);
    const b = new StreamsBuilder();
    const regions = b.globalTable<string, string>('sec-regions');
    b.stream<string, string>('sec-orders')
      .join(regions, (userId) => userId, (order, region) => `${order}@${region}`)
      .to('sec-enriched');
    const app = new KafkaStreams(b.build(), {
      'application.id': 'sec-enrich',
      'state.dir': await stateDir(),
      ...secured({ 'group.protocol': 'classic', 'processing.guarantee': 'exactly_once_v2', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.jaas.config': undefined, 'sasl.username': 'stream-app', 'sasl.password': 'stream-pw' }),
    });
    running.push(app);
    await app.start();
    assert.equal(app.groupProtocol(), 'classic');
    let last: string[] = [];
    const ok = await waitFor(async () => {
      last = (await readTopic(broker.bootstrap, 'sec-enriched', S, true)).map((r) => `${r.key}:${r.value}`).sort();
      return last.length === 3;
    }, 20_000, 200);
    assert.ok(ok, `enriched: ${JSON.stringify(last)}`);
    assert.deepEqual(last, ['u1:o1@north', 'u1:o3@north', 'u2:o2@south']);
    await app.close();
  });

  it('a wrong password makes start() reject promptly with KafkaAuthenticationError; so does the KIP-1071 socket', async () => {
    const app = new KafkaStreams(wordCount('sec-lines', 'sec-counts-bad'), {
      'application.id': 'sec-bad',
      'state.dir': await stateDir(),
      ...secured({ 'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="stream-app" password="wrong";' }),
    });
    running.push(app);
    const t0 = Date.now();
    await assert.rejects(app.start(), (err: Error) => {
      assert.ok(err instanceof KafkaAuthenticationError, `${err.name}: ${err.message}`);
      assert.match(err.message, /authentication as stream-app with SCRAM-SHA-512 .* failed/);
      return true;
    });
    assert.ok(Date.now() - t0 < 15_000, `start() took ${Date.now() - t0} ms to fail`);
    assert.equal(app.state(), 'ERROR');

    const badSecurity = { tls: { ca: readFileSync(pki.caCert, 'utf8') }, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'stream-app', password: 'wrong' } };
    await assert.rejects(streamsProtocolOffered([secureBootstrap], 'sec-probe', badSecurity), (err: Error) => {
      assert.ok(err instanceof KafkaAuthenticationError, `${err.name}: ${err.message}`);
      assert.match(err.message, /authentication as stream-app with SCRAM-SHA-512 at 127\.0\.0\.1:\d+ failed/);
      return true;
    });
    const goodSecurity = { ...badSecurity, sasl: { ...badSecurity.sasl, password: 'stream-pw' } };
    assert.equal(await streamsProtocolOffered([secureBootstrap], 'sec-probe', goodSecurity), true);
  });

  it('a CA that did not sign the broker certificate makes start() reject with a TLS error', async () => {
    const app = new KafkaStreams(wordCount('sec-lines', 'sec-counts-tls'), {
      'application.id': 'sec-untrusted',
      'state.dir': await stateDir(),
      ...secured({ 'ssl.ca.location': join(pki.dir, 'other-ca.crt') }),
    });
    running.push(app);
    await assert.rejects(app.start(), /TLS connection to 127\.0\.0\.1:\d+ failed: .*certificate/i);
    assert.equal(app.state(), 'ERROR');
  });

  it('rejects bad security settings in the constructor', () => {
    const topology = wordCount('sec-lines', 'sec-counts');
    const make = (extra: Partial<StreamsConfig>) => new KafkaStreams(topology, { 'application.id': 'sec-cfg', 'bootstrap.servers': secureBootstrap, ...extra });
    assert.throws(() => make({ 'security.protocol': 'SASL_TLS' as never }), (e: Error) => e instanceof StreamsConfigError && /unknown security.protocol SASL_TLS/.test(e.message));
    assert.throws(() => make({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'GSSAPI' as never }), /unsupported sasl.mechanism GSSAPI/);
    assert.throws(() => make({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN' }), /needs sasl.username and sasl.password/);
    assert.throws(() => make({ 'security.protocol': 'SSL', 'ssl.ca.location': join(pki.dir, 'missing.pem') }), /cannot read ssl.ca.location/);
  });
});
