// TLS benchmark (issue #12): one broker with a PLAINTEXT and a SASL_SSL listener (a throwaway CA
// made with openssl, SASL/SCRAM-SHA-256 user), driven by bench/.build/fjord-load (librdkafka):
// produce acks=all and consume over each listener in turn, in the same run, so SASL_SSL is a
// ratio of plaintext. Prints one JSON object on stdout; progress on stderr.
//
//   node bench/tls.mjs [--seconds N] [--data-root DIR]     (npm run bench -- --only tls)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const LOAD = join(ROOT, 'bench', '.build', 'fjord-load');
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SECONDS = Number(arg('--seconds', '8'));
const DATA_ROOT = arg('--data-root', tmpdir());
const PARTITIONS = 6;
const log = (m) => process.stderr.write(`[tls] ${m}\n`);
const dirs = [];
let broker;



/** A CA and a server certificate for 127.0.0.1 (what a user's TLS setup would have). */
function makePki(dir) {
  const ssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Fjord Bench CA']);
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  writeFileSync(join(dir, 'server.pem'), readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.crt'), 'utf8'));
  return { caCert: join(dir, 'ca.crt'), serverPem: join(dir, 'server.pem') };
}

function load(args, env, timeoutS) {
  return new Promise((resolve, reject) => {
    const child = spawn(LOAD, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(line));
      } catch (e) {
        reject(new Error(`fjord-load ${args[0]}: ${e.message}: ${err.slice(-400)}`));
      }
    });
  });
}

async function measure(name, bootstrap, env) {
  const topic = `tls-bench-${name}`;
  await load(['create', bootstrap, topic, String(PARTITIONS)], env, 60);
  const c0 = cpuSeconds(broker.pid);
  const t0 = performance.now();
  const produced = await load(
    ['produce', bootstrap, topic, '--acks', 'all', '--seconds', String(SECONDS), '--size', '1024', '--linger-ms', '5', '--batch-bytes', '1048576'],
    env,
    SECONDS + 60,
  );
  const produceCpu = (cpuSeconds(broker.pid) - c0) / ((performance.now() - t0) / 1000);
  if (produced.failed) throw new Error(`${name}: ${produced.failed} messages failed: ${produced.lastError}`);
  const c1 = cpuSeconds(broker.pid);
  const t1 = performance.now();
  const consumed = await load(
    ['consume', bootstrap, topic, '--partitions', String(PARTITIONS), '--expect', String(produced.msgs), '--timeout-s', String(SECONDS * 6 + 30)],
    env,
    SECONDS * 6 + 60,
  );
  const consumeCpu = (cpuSeconds(broker.pid) - c1) / ((performance.now() - t1) / 1000);
  if (consumed.msgs < produced.msgs) throw new Error(`${name}: consumed ${consumed.msgs} of ${produced.msgs}`);
  log(`${name}: produce acks=all ${produced.MBps.toFixed(1)} MB/s (broker ${produceCpu.toFixed(2)} cores), consume ${consumed.MBps.toFixed(1)} MB/s (broker ${consumeCpu.toFixed(2)} cores)`);
  return { produceMBps: produced.MBps, consumeMBps: consumed.MBps, produceBrokerCores: produceCpu, consumeBrokerCores: consumeCpu };
}

async function main() {
  const dir = mkdtempSync(join(DATA_ROOT, 'fjord-tls-bench-'));
  dirs.push(dir);
  const pki = makePki(dir);
  const plainPort = await freePort();
  const tlsPort = await freePort();
  const config = {
    listeners: `PLAINTEXT://127.0.0.1:${plainPort},SASL_SSL://127.0.0.1:${tlsPort}`,
    'sasl.enabled.mechanisms': 'PLAIN',
    'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_bench="bench-secret";',
    'ssl.keystore.location': pki.serverPem,
  };
  const args = [MAIN, 'broker', '--listen', `127.0.0.1:${plainPort}`, '--data-dir', join(dir, 'data')];
  for (const [k, v] of Object.entries(config)) args.push('--config', `${k}=${v}`);
  broker = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${out}`)), 30_000);
    const onData = (d) => {
      out += d;
      if (/listening on/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    broker.stdout.on('data', onData);
    broker.stderr.on('data', onData);
    broker.once('exit', (code) => reject(new Error(`broker exited ${code}: ${out}`)));
  });
  const plaintext = await measure('plaintext', `127.0.0.1:${plainPort}`, {});
  const saslSsl = await measure('sasl_ssl', `127.0.0.1:${tlsPort}`, {
    FJORD_LOAD_CONFIG: `security.protocol=SASL_SSL;sasl.mechanisms=PLAIN;sasl.username=bench;sasl.password=bench-secret;ssl.ca.location=${pki.caCert}`,
  });
  const result = {
    seconds: SECONDS,
    plaintext,
    saslSsl,
    produceRatio: saslSsl.produceMBps / plaintext.produceMBps,
    consumeRatio: saslSsl.consumeMBps / plaintext.consumeMBps,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main()
  .catch((e) => {
    log(`error: ${e.stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    broker?.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
