#!/usr/bin/env bash
# Runs librdkafka's own regression tests (tests/test-runner of the librdkafka that
# scripts/setup-test-clients.sh built under test/clients) against a fresh Fjord broker.
#   scripts/librdkafka-suite.sh [TESTS] [SUBTESTS] [broker config k=v ...]
#   e.g. scripts/librdkafka-suite.sh 0081 Acls        # 0081_admin's ACL cases (authorizer on)
# The test runner is built once (~3 min on 2 cores) in a copy under .cache/librdkafka-tests.
# Not part of `npm test` (build time); the README's compatibility section records the results.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TESTS="${1:-0081}"
SUBTESTS="${2:-}"
shift $(( $# > 2 ? 2 : $# ))
SRC="$ROOT/test/clients/node_modules/@confluentinc/kafka-javascript/deps/librdkafka"
WORK="$ROOT/.cache/librdkafka-tests"
[ -d "$SRC/src" ] || { echo "librdkafka sources missing: run scripts/setup-test-clients.sh first" >&2; exit 1; }
if [ ! -x "$WORK/tests/test-runner" ]; then
  echo "[librdkafka-suite] building librdkafka's test-runner (once)..." >&2
  rm -rf "$WORK" && mkdir -p "$(dirname "$WORK")" && cp -a "$SRC" "$WORK"
  make -C "$WORK/tests" -j2 test-runner >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
fi
DATA="$(mktemp -d)"
PORT_FILE="$DATA/port"
# An authorizer with ANONYMOUS as super user: the ACL admin APIs are served (Kafka answers
# SECURITY_DISABLED without an authorizer) and the plaintext test client may do everything.
node --input-type=module -e "
import { startBroker } from '$ROOT/dist/src/index.js';
import { writeFileSync } from 'node:fs';
const extra = Object.fromEntries(process.argv.slice(1).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const b = await startBroker({ port: 0, dataDir: '$DATA/data', config: {
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS', ...extra } });
writeFileSync('$PORT_FILE', String(b.port));
setInterval(() => {}, 60_000);
" "$@" &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
[ -s "$PORT_FILE" ] || { echo "broker did not start" >&2; exit 1; }
cd "$WORK/tests"
echo "bootstrap.servers=127.0.0.1:$(cat "$PORT_FILE")" > test.conf
LD_LIBRARY_PATH=../src:../src-cpp TESTS="$TESTS" SUBTESTS="$SUBTESTS" TEST_KAFKA_VERSION=4.0.0 ./test-runner
