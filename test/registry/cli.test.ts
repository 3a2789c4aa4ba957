// `fjord registry …` client commands and `fjord rest` against a registry/broker in this process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fjordCommand, tempDir } from '../helpers/broker.js';

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { cmd, args: pre } = fjordCommand();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('fjord registry CLI', () => {
  let dir: string;
  let broker: RunningBroker;
  let env: Record<string, string>;
  before(async () => {
    dir = await tempDir('fjord-registry-cli-');
    broker = await startBroker({ dataDir: dir, port: 0, registry: true });
    env = { FJORD_REGISTRY_URL: broker.registryUrl! };
    await writeFile(join(dir, 'user.avsc'), JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'long' }] }));
    await writeFile(join(dir, 'user2.avsc'), JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'long' }, { name: 'age', type: 'int' }] }));
    await writeFile(join(dir, 'ping.proto'), 'syntax = "proto3";\nmessage Ping { string id = 1; }\n');
  });
  after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('register, subjects, get, check, config, mode, delete', async () => {
    const reg = await run(['registry', 'register', 'users-value', join(dir, 'user.avsc')], env);
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stdout, /schema id 1/);
    const proto = await run(['registry', '--json', 'register', 'ping-value', join(dir, 'ping.proto')], env);
    assert.equal(proto.code, 0, proto.stderr);
    assert.ok(JSON.parse(proto.stdout).id > 1);
    assert.deepEqual(JSON.parse((await run(['registry', 'subjects', '--json'], env)).stdout), ['ping-value', 'users-value']);
    const got = JSON.parse((await run(['registry', 'get', 'users-value', '--json'], env)).stdout);
    assert.equal(got.version, 1);
    const check = await run(['registry', 'check', 'users-value', join(dir, 'user2.avsc')], env);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /NOT compatible[\s\S]*'age'/);
    assert.equal((await run(['registry', 'config', 'users-value', '--set', 'forward'], env)).stdout.trim(), 'FORWARD');
    assert.equal((await run(['registry', 'check', 'users-value', join(dir, 'user2.avsc')], env)).code, 0);
    assert.equal((await run(['registry', 'config'], env)).stdout.trim(), 'BACKWARD');
    assert.equal((await run(['registry', 'mode'], env)).stdout.trim(), 'READWRITE');
    const del = await run(['registry', 'delete', 'users-value', '--json'], env);
    assert.deepEqual(JSON.parse(del.stdout), { versions: [1] });
    const gone = await run(['registry', 'get', 'users-value'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /40401/);
    const unreachable = await run(['registry', 'subjects', '-r', 'http://127.0.0.1:1'], {});
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach schema registry/);
    assert.equal((await run(['registry', 'register', 'x'], env)).code, 2);
  });
});
