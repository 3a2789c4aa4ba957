#!/usr/bin/env node
// Broker CPU per request on the hot small APIs (issue 16: header parsing, dispatch, framing):
// one raw connection pipelines N requests (64 in flight) of each kind to a `fjord broker` child
// and the broker's CPU time (/proc) is divided by N. With --baseline DIR, that build's broker is
// measured the same way, interleaved, so the two numbers come from the same machine state.
//   node bench/request-overhead.mjs [--n 20000] [--rounds 3] [--baseline DIR]
// Prints a table and one JSON line. Needs `npm run build` (imports dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { ApiKey, encodeRequestHeader, requestHeaderVersion } = await import(join(ROOT, 'dist/src/protocol/gen/index.js'));
const { apiSpecs } = await import(join(ROOT, 'dist/src/protocol/gen/specs.js'));
const { Writer } = await import(join(ROOT, 'dist/src/protocol/primitives.js'));
const { buildBatch } = await import(join(ROOT, 'dist/src/protocol/records/batch.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const N = Number(opt('--n', '20000'));
const ROUNDS = Number(opt('--rounds', '3'));
const baseline = opt('--baseline', undefined);
const DEPTH = 64;

function frame(apiKey, version, correlationId, body) {
  const w = new Writer();
  const size = w.reserveInt32();
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'overhead' });
  apiSpecs.get(apiKey).encodeRequest(w, version, body);
  w.patchInt32(size, w.length - 4);
  return w.toBuffer();
}

const records = await buildBatch({ records: [{ key: null, value: Buffer.alloc(100, 120) }] });
const kinds = {
  ApiVersions: () => frame(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'b', clientSoftwareVersion: '1' }),
  Heartbeat: () => frame(ApiKey.Heartbeat, 4, 1, { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null }),
  OffsetCommit: () =>
    frame(ApiKey.OffsetCommit, 8, 1, {
      groupId: 'g-commit',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 'ovh', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
    }),
  'Produce acks=1 (1 record)': () =>
    frame(ApiKey.Produce, 9, 1, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'ovh', partitionData: [{ index: 0, records }] }] }),
};

/** Sends n copies of `bytes` with DEPTH in flight; resolves when n responses arrived. */
function pump(port, bytes, n) {
  return new Promise((res, rej) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    let sent = 0;
    let got = 0;
    let buf = Buffer.alloc(0);
    const send = () => {
      while (sent < n && sent - got < DEPTH) {
        s.write(bytes);
        sent++;
      }
    };
    s.on('connect', send);
    s.on('error', rej);
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let p = 0;
      while (buf.length - p >= 4 && buf.length - p >= 4 + buf.readInt32BE(p)) {
        p += 4 + buf.readInt32BE(p);
        got++;
      }
      buf = buf.subarray(p);
      if (got >= n) {
        s.destroy();
        res();
      } else send();
    });
  });
}

async function startBroker(root) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fjord-ovh-'));
  const child = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'broker', '--listen', `127.0.0.1:${port}`, '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('broker did not start')), 30_000);
    const on = (d) => { if (/listening on/.test(String(d))) { clearTimeout(t); res(); } };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
  // topic for OffsetCommit / Produce
  await pump(port, frame(ApiKey.CreateTopics, 5, 1, { topics: [{ name: 'ovh', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false }), 1);
  return { port, child, dir };
}

const builds = [['this', ROOT]];
if (baseline) builds.push(['baseline', resolve(baseline)]);
const brokers = {};
for (const [name, root] of builds) brokers[name] = await startBroker(root);
const us = {};
try {
  for (const [kind, make] of Object.entries(kinds)) {
    const bytes = make();
    for (const [name] of builds) await pump(brokers[name].port, bytes, 2000); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name] of builds) {
        const { port, child } = brokers[name];
        const c0 = cpuSeconds(child.pid);
        await pump(port, bytes, N);
        const c1 = cpuSeconds(child.pid);
        ((us[kind] ??= {})[name] ??= []).push(((c1 - c0) * 1e6) / N);
      }
    }
  }
} finally {
  for (const b of Object.values(brokers)) {
    b.child.kill('SIGKILL');
    rmSync(b.dir, { recursive: true, force: true });
  }
}
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const out = {};
console.log(`\nbroker CPU per request (µs, median of ${ROUNDS} rounds of ${N}, ${DEPTH} in flight)`);
console.log('request'.padEnd(30) + builds.map(([n]) => n.padStart(10)).join('') + (baseline ? '  this/baseline' : ''));
for (const [kind, byBuild] of Object.entries(us)) {
  out[kind] = Object.fromEntries(Object.entries(byBuild).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
  const vals = builds.map(([n]) => out[kind][n]);
  console.log(kind.padEnd(30) + vals.map((v) => String(v).padStart(10)).join('') + (baseline ? `  ${(vals[0] / vals[1]).toFixed(2)}` : ''));
}
console.log(JSON.stringify({ usPerRequest: out }));
