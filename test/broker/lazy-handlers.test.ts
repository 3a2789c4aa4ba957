// Rarely used APIs are loaded on their first request (src/broker/handlers/index.ts). Their
// version ranges are written in the registry (ApiVersions needs them before the module loads):
// they must equal the modules'. And the first request of such an API on a fresh broker — the
// in-process one and `bin/fjord.js dev` running the bundled CLI, whose chunks esbuild splits at
// those imports — must get the same answer as a later one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { lazyHandlers } from '../../src/broker/handlers/index.js';
import { repoRoot, startTestBroker, tempDir, type TestBroker } from '../helpers/broker.js';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

/** DescribeAcls (lazy) first, then a transactional produce (AddPartitionsToTxn, EndTxn: lazy) read back read_committed. */
async function lazyApisFirst(bootstrap: string, tag: string): Promise<void> {
  const kafka = new Kafka({ clientId: `lazy-${tag}`, brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // No authorizer configured: Kafka answers SECURITY_DISABLED (54). A handler that failed to
    // load would close the connection instead (a network error, not this code).
    await assert.rejects(
      admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      }),
      (e: { type?: string }) => e.type === 'SECURITY_DISABLED',
    );
    await admin.createTopics({ topics: [{ topic: `lazy-${tag}`, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ transactionalId: `lazy-txn-${tag}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const txn = await producer.transaction();
    await txn.send({ topic: `lazy-${tag}`, messages: [{ value: 'committed' }] });
    await txn.commit();
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `lazy-g-${tag}`, readUncommitted: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: `lazy-${tag}`, fromBeginning: true });
    const value = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no committed record within 20 s')), 20_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value!.toString());
          },
        })
        .catch(reject);
    });
    assert.equal(value, 'committed');
  } finally {
    await consumer.disconnect();
  }
}

describe('first request of a lazily loaded API', () => {
  let broker: TestBroker;
  let child: ChildProcess | undefined;
  let devDir: string | undefined;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker?.dispose();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    if (devDir) await rm(devDir, { recursive: true, force: true });
  });

  it('is answered on a fresh in-process broker', async () => {
    await lazyApisFirst(broker.bootstrap, 'inproc');
  });

  it('is answered by a fresh `bin/fjord.js dev` (bundled CLI)', async () => {
    devDir = await tempDir();
    child = spawn(process.execPath, [join(repoRoot, 'bin', 'fjord.js'), 'dev', '--port', '0', '--data-dir', devDir, '--no-registry', '--no-rest', '--no-connect'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr!.on('data', (d) => {
      if (out.length < 20_000) out += d;
    });
    const bootstrap = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fjord dev not ready within 20 s: ${out}`)), 20_000);
      child!.stdout!.on('data', (d) => {
        out += d;
        const m = /bootstrap servers\s+(\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child!.once('exit', (code) => reject(new Error(`fjord dev exited ${code}: ${out}`)));
    });
    await lazyApisFirst(bootstrap, 'dev');
  });
});

describe('lazily loaded API handlers', () => {
  it('advertise the version ranges their modules serve', async () => {
    assert.ok(lazyHandlers.length > 20);
    for (const entry of lazyHandlers) {
      const real = await entry.load();
      assert.deepEqual(
        [real.apiKey, real.minVersion, real.maxVersion],
        [entry.apiKey, entry.minVersion, entry.maxVersion],
        `registry entry for API ${entry.apiKey}`,
      );
    }
  });
});
