// Security with the other client libraries: @confluentinc/kafka-javascript and
// confluent-kafka-python (both librdkafka) over SASL_SSL + SCRAM and over mutual TLS,
// @platformatic/kafka over SASL/SCRAM, and KIP-368 re-authentication: a librdkafka client keeps
// working across several session lifetimes while a client that never re-authenticates is cut off.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { makeScramCredential } from '../../src/security/scram.js';
import { repoRoot, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { describeChild, runChild } from '../e2e/run-child.js';
import { ADMIN_JAAS, listenerPort, makePki, rawPlainLogin, type TestPki } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const PYTHON = '/usr/bin/python3';

function loadCkjs(): any {
  return createRequire(join(repoRoot, 'test', 'clients', 'package.json'))('@confluentinc/kafka-javascript');
}

/** A node-rdkafka-style producer kept open: `send` resolves once the values are delivered. */
async function ckjsProducer(ckjs: any, config: Record<string, unknown>, timeoutMs = 15_000) {
  const producer = new ckjs.Producer({ ...config, dr_cb: true, 'socket.timeout.ms': 10_000, 'message.timeout.ms': timeoutMs });
  await new Promise<void>((res, rej) => producer.connect({ timeout: timeoutMs }, (err: Error | null) => (err ? rej(err) : res())));
  let delivered = 0;
  let failure: Error | null = null;
  producer.on('delivery-report', (err: Error | null) => {
    if (err) failure = err;
    else delivered++;
  });
  return {
    async send(topic: string, values: string[]): Promise<void> {
      const target = delivered + values.length;
      for (const v of values) producer.produce(topic, null, Buffer.from(v));
      const deadline = Date.now() + 15_000;
      while (delivered < target && !failure && Date.now() < deadline) {
        producer.poll();
        await new Promise((r) => setTimeout(r, 20));
      }
      if (failure) throw failure;
      assert.equal(delivered, target, 'every record delivered');
    },
    close: () => new Promise<void>((res) => producer.disconnect(() => res())),
  };
}

async function ckjsProduce(ckjs: any, config: Record<string, unknown>, topic: string, values: string[], timeoutMs?: number): Promise<void> {
  const producer = await ckjsProducer(ckjs, config, timeoutMs);
  try {
    await producer.send(topic, values);
  } finally {
    await producer.close();
  }
}

/** Reads partition 0 of `topic` from the beginning until `count` values arrived. */
async function ckjsConsume(ckjs: any, config: Record<string, unknown>, topic: string, count: number): Promise<string[]> {
  const consumer = new ckjs.KafkaConsumer({ ...config, 'group.id': `sec-${Math.random().toString(36).slice(2)}`, 'enable.auto.commit': false }, {});
  await new Promise<void>((res, rej) => consumer.connect({ timeout: 15_000 }, (err: Error | null) => (err ? rej(err) : res())));
  const seen: string[] = [];
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const deadline = Date.now() + 20_000;
    while (seen.length < count && Date.now() < deadline) {
      const msgs: any[] = await new Promise((res, rej) => consumer.consume(100, (err: Error | null, m: any[]) => (err ? rej(err) : res(m))));
      for (const m of msgs) seen.push(m.value.toString());
      if (msgs.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    return seen;
  } finally {
    await new Promise<void>((res) => consumer.disconnect(() => res()));
  }
}

const PY_ROUND_TRIP = `
import json, sys
from confluent_kafka import Producer, Consumer
conf = json.loads(sys.argv[1]); topic = sys.argv[2]
p = Producer(dict(conf, **{'message.timeout.ms': 15000}))
errors = []
for i in range(3):
    p.produce(topic, value=('py-%d' % i).encode(), callback=lambda err, msg: errors.append(str(err)) if err else None)
left = p.flush(20)
if len(sys.argv) > 3:
    print(json.dumps({'unflushed': left, 'errors': errors, 'seen': []})); sys.exit(0)
c = Consumer(dict(conf, **{'group.id': 'py-sec', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False}))
c.subscribe([topic])
seen = []
import time
deadline = time.time() + 20
while len(seen) < 3 and time.time() < deadline:
    m = c.poll(0.5)
    if m is not None and m.error() is None:
        seen.append(m.value().decode())
c.close()
print(json.dumps({'unflushed': left, 'errors': errors, 'seen': seen}))
`;

async function pythonRoundTrip(conf: Record<string, string>, topic: string, produceOnly = false): Promise<{ unflushed: number; errors: string[]; seen: string[] }> {
  const r = await runChild(PYTHON, ['-c', PY_ROUND_TRIP, JSON.stringify(conf), topic, ...(produceOnly ? ['produce-only'] : [])], { timeoutMs: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    assert.fail(`no JSON from the python client\n${describeChild(r)}`);
  }
}

describe('security with librdkafka clients (confluent-kafka-javascript, -python) and @platformatic/kafka', () => {
  let pki: TestPki;
  let broker: TestBroker;
  let ckjs: any;

  before(async () => {
    ckjs = loadCkjs();
    pki = makePki();
    broker = await startTestBroker({
      listeners: 'SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,MTLS:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
      'ssl.keystore.location': pki.serverPem,
      'ssl.truststore.location': pki.caCert,
      'ssl.client.auth': 'required',
      'listener.name.sasl_ssl.ssl.client.auth': 'none',
      'sasl.jaas.config': ADMIN_JAAS,
      'connection.failed.authentication.delay.ms': '0',
      'num.partitions': '1',
    });
    await broker.broker.security.alterScram(
      [
        { user: 'dave', credential: makeScramCredential('SCRAM-SHA-512', 'dave-pw') },
        { user: 'erin', credential: makeScramCredential('SCRAM-SHA-256', 'erin-pw') },
      ],
      [],
    );
  });
  after(async () => broker?.dispose());

  const saslSsl = (user: string, password: string, mechanism = 'SCRAM-SHA-512') => ({
    'bootstrap.servers': `127.0.0.1:${listenerPort(broker, 'SASL_SSL')}`,
    'security.protocol': 'SASL_SSL',
    'ssl.ca.location': pki.caCert,
    'sasl.mechanisms': mechanism,
    'sasl.username': user,
    'sasl.password': password,
  });
  const mtls = (cert: string, key: string) => ({
    'bootstrap.servers': `127.0.0.1:${listenerPort(broker, 'MTLS')}`,
    'security.protocol': 'SSL',
    'ssl.ca.location': pki.caCert,
    'ssl.certificate.location': cert,
    'ssl.key.location': key,
  });

  it('confluent-kafka-javascript: SASL_SSL + SCRAM-SHA-512 produces and consumes; a wrong password is refused', async () => {
    await ckjsProduce(ckjs, saslSsl('dave', 'dave-pw'), 'ckjs-scram', ['a', 'b', 'c']);
    assert.deepEqual(await ckjsConsume(ckjs, saslSsl('dave', 'dave-pw'), 'ckjs-scram', 3), ['a', 'b', 'c']);
    // librdkafka reports the refused login as a failed connection (its log names the SASL failure).
    await assert.rejects(ckjsProduce(ckjs, saslSsl('dave', 'wrong'), 'ckjs-scram', ['x'], 4000));
  });

  it('confluent-kafka-javascript: mutual TLS with the CA-signed certificate works; a stranger certificate is refused', async () => {
    await ckjsProduce(ckjs, mtls(pki.clientCert, pki.clientKey), 'ckjs-mtls', ['m1', 'm2']);
    assert.deepEqual(await ckjsConsume(ckjs, mtls(pki.clientCert, pki.clientKey), 'ckjs-mtls', 2), ['m1', 'm2']);
    await assert.rejects(ckjsProduce(ckjs, mtls(pki.strangerCert, pki.strangerKey), 'ckjs-mtls', ['x'], 4000));
  });

  it('confluent-kafka-python: SASL_SSL + SCRAM and mutual TLS round trips; a wrong password delivers nothing', async () => {
    const scram = await pythonRoundTrip(saslSsl('dave', 'dave-pw'), 'py-scram');
    assert.deepEqual(scram, { unflushed: 0, errors: [], seen: ['py-0', 'py-1', 'py-2'] });
    const tls = await pythonRoundTrip(mtls(pki.clientCert, pki.clientKey), 'py-mtls');
    assert.deepEqual(tls, { unflushed: 0, errors: [], seen: ['py-0', 'py-1', 'py-2'] });
    const refused = await pythonRoundTrip({ ...saslSsl('dave', 'nope'), 'message.timeout.ms': '3000' } as Record<string, string>, 'py-scram-bad', true);
    assert.deepEqual(refused.seen, []);
    assert.ok(refused.errors.length === 3 || refused.unflushed === 3, `nothing is delivered with a wrong password: ${JSON.stringify(refused)}`);
  });

  it('@platformatic/kafka: SASL/SCRAM-SHA-256 produces and lists topics; a wrong password is refused', async () => {
    const { Producer, Admin, stringSerializers } = await import('@platformatic/kafka');
    const bootstrapBrokers = [`127.0.0.1:${listenerPort(broker, 'SASL_PLAINTEXT')}`];
    const sasl = { mechanism: 'SCRAM-SHA-256' as const, username: 'erin', password: 'erin-pw' };
    const producer = new Producer({ clientId: 'plt-sec', bootstrapBrokers, sasl, serializers: stringSerializers, autocreateTopics: true });
    try {
      const r = await producer.send({ messages: [{ topic: 'plt-scram', value: 'p1' }, { topic: 'plt-scram', value: 'p2' }] });
      assert.equal(r.offsets?.length, 1);
    } finally {
      await producer.close();
    }
    const admin = new Admin({ clientId: 'plt-sec', bootstrapBrokers, sasl });
    try {
      assert.ok((await admin.listTopics()).includes('plt-scram'));
    } finally {
      await admin.close();
    }
    const bad = new Admin({ clientId: 'plt-bad', bootstrapBrokers, sasl: { ...sasl, password: 'wrong' }, retries: 0 });
    try {
      await assert.rejects(bad.listTopics());
    } finally {
      await bad.close();
    }
    assert.deepEqual(await ckjsConsume(ckjs, saslSsl('dave', 'dave-pw'), 'plt-scram', 2), ['p1', 'p2']);
  });
});

describe('KIP-368 re-authentication', () => {
  let broker: TestBroker;
  let ckjs: any;

  before(async () => {
    ckjs = loadCkjs();
    broker = await startTestBroker({
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.jaas.config': ADMIN_JAAS,
      'connections.max.reauth.ms': '1500',
      'connection.failed.authentication.delay.ms': '0',
      'num.partitions': '1',
    });
  });
  after(async () => broker?.dispose());

  it('a client that does not re-authenticate is cut off after the session lifetime', async () => {
    const port = listenerPort(broker, 'SASL_PLAINTEXT');
    const { client, errorCode } = await rawPlainLogin(port, 'admin', 'admin-secret');
    assert.equal(errorCode, 0);
    client.request(ApiKey.Metadata, 12, 10, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.ok(await client.response(ApiKey.Metadata, 12), 'served within the session');
    await new Promise((r) => setTimeout(r, 1700)); // the session lifetime must pass: that is the behaviour under test
    client.request(ApiKey.Metadata, 12, 11, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.equal(await client.response(ApiKey.Metadata, 12), null, 'nothing is served after the session expired');
    assert.ok(await client.waitClosed(), 'the connection is closed');
  });

  it('librdkafka re-authenticates and keeps producing across several session lifetimes', async (t) => {
    const version = String(ckjs.librdkafkaVersion ?? '0.0.0');
    const [major, minor] = version.split('.').map(Number);
    if (major! < 2 || (major === 2 && minor! < 2)) {
      t.diagnostic(`librdkafka ${version} predates KIP-368 support (2.2.0)`);
      assert.fail(`test/clients librdkafka ${version} is too old for KIP-368`);
    }
    const config = {
      'bootstrap.servers': `127.0.0.1:${listenerPort(broker, 'SASL_PLAINTEXT')}`,
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': 'PLAIN',
      'sasl.username': 'admin',
      'sasl.password': 'admin-secret',
    };
    // One producer, one record a second for ~5 s (> 3 session lifetimes) on the same connections.
    const producer = await ckjsProducer(ckjs, config);
    const started = Date.now();
    try {
      for (let i = 0; i < 5; i++) {
        await producer.send('reauth', [`r${i}`]);
        if (i < 4) await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await producer.close();
    }
    assert.ok(Date.now() - started > 4000);
    assert.ok(broker.broker.security.reauthentications >= 2, `connections re-authenticated (${broker.broker.security.reauthentications} times)`);
    assert.deepEqual(await ckjsConsume(ckjs, config, 'reauth', 5), ['r0', 'r1', 'r2', 'r3', 'r4']);
  });
});
