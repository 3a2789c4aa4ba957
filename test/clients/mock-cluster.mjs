#!/usr/bin/env node
// Starts librdkafka's built-in mock Kafka cluster (test.mock.num.brokers) and prints its
// bootstrap address as one JSON line: {"bootstrap":"127.0.0.1:PORT"}. It stays up until SIGTERM /
// SIGINT or --seconds N (default 120). A reference "broker" to check test scripts and client-side
// codecs against; it auto-creates topics (4 partitions) but has no CreateTopics API.
//   node test/clients/mock-cluster.mjs [--brokers 1] [--seconds 120]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ckjs = require('@confluentinc/kafka-javascript');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg('--seconds', 120);
const producer = new ckjs.Producer({ 'test.mock.num.brokers': arg('--brokers', 1), debug: 'mock', event_cb: true });
const startup = setTimeout(() => {
  console.error('mock cluster did not report its bootstrap address within 10 s');
  process.exit(1);
}, 10_000);
producer.on('event.log', (l) => {
  const m = /bootstrap\.servers=(\S+)/.exec(l.message);
  if (m) {
    clearTimeout(startup);
    console.log(JSON.stringify({ bootstrap: m[1] }));
  }
});
producer.connect();
const stop = () => producer.disconnect(1000, () => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, seconds * 1000).unref();
// keep the event loop alive while the mock cluster (native threads) serves
const keepAlive = setInterval(() => {}, 1 << 30);
process.on('exit', () => clearInterval(keepAlive));
