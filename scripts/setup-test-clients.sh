#!/usr/bin/env bash
# Installs the real Kafka clients that Fjord's test suite drives, outside the root package so the
# project's own `npm install` stays light (no compilation, no system packages):
#   - Debian packages: kcat, kafka-python + confluent-kafka-python (+ the codec modules
#     kafka-python needs), etcd-server (cluster tests), and the -dev libraries librdkafka links to;
#   - test/clients/: @confluentinc/kafka-javascript, whose bundled librdkafka is compiled from
#     source here and linked dynamically against the system's zstd/lz4/ssl/sasl/curl.
# Idempotent: every step checks first and is skipped when already done (a second run takes ~1 s).
# Needs root (or sudo) only when a Debian package is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="$ROOT/test/clients"
log() { printf '[setup-test-clients] %s\n' "$*"; }
t0=$SECONDS

# ---------------------------------------------------------------- Debian packages
APT_PACKAGES=(
  kcat
  # librdkafka build dependencies (CKJS_LINKING=dynamic links to the system's libraries)
  build-essential pkg-config python3
  zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev libssl-dev
  # Python clients: kafka-python 2.0.2 (its codecs: lz4, snappy, zstd) and confluent-kafka 1.7.0
  python3-kafka python3-lz4 python3-snappy python3-zstandard
  # kafka-python writes magic-0 LZ4 (api_version 0.9) with xxhash
  python3-xxhash
  python3-confluent-kafka
  # codec interop tests (reference zstd and lz4 command-line tools)
  zstd lz4
  # cluster tests
  etcd-server etcd-client
  # Fjord Connect tests (a real PostgreSQL with logical replication)
  postgresql
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # etcd-server's package may start a system etcd on :2379; tests run their own etcd instances.
  if [ -d /run/systemd/system ] && systemctl is-active --quiet etcd 2>/dev/null; then
    "${SUDO[@]}" systemctl stop etcd || true
    "${SUDO[@]}" systemctl disable etcd || true
  fi
else
  log "Debian packages: all ${#APT_PACKAGES[@]} present"
fi

# ---------------------------------------------------------------- @confluentinc/kafka-javascript
# Verifies the build: loads the binding and checks the codecs the tests rely on.
verify_ckjs() {
  (cd "$CLIENTS" && node -e '
    const k = require("@confluentinc/kafka-javascript");
    const want = ["gzip", "snappy", "lz4", "zstd", "ssl", "sasl_scram"];
    const missing = want.filter((f) => !k.features.includes(f));
    if (missing.length) { console.error("librdkafka lacks features: " + missing.join(",")); process.exit(1); }
    if (typeof k.KafkaJS?.Kafka !== "function") { console.error("KafkaJS API missing"); process.exit(1); }
    console.log("librdkafka " + k.librdkafkaVersion + " features: " + k.features.join(","));
  ')
}

# The installed package must match the lockfile's version and load with this node (ABI).
ckjs_current() {
  local want have
  want="$(node -e 'const l=require(process.argv[1]);console.log(l.packages["node_modules/@confluentinc/kafka-javascript"].version)' "$CLIENTS/package-lock.json")"
  have="$(node -e 'try{console.log(require(process.argv[1]).version)}catch{console.log("none")}' "$CLIENTS/node_modules/@confluentinc/kafka-javascript/package.json")"
  [ "$want" = "$have" ] && verify_ckjs >/dev/null 2>&1
}

if ckjs_current; then
  log "@confluentinc/kafka-javascript: already built ($(verify_ckjs))"
else
  # Node headers for node-gyp: use the ones installed with node (no download from the internet).
  NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [ ! -f "$NODE_PREFIX/include/node/common.gypi" ]; then
    log "error: node headers not found under $NODE_PREFIX/include/node (node-gyp needs them)" >&2
    exit 1
  fi
  log "building @confluentinc/kafka-javascript (compiles librdkafka; ~1-2 min on 2 cores)..."
  b0=$SECONDS
  # CKJS_LINKING=dynamic: the package's util/configure.js then runs librdkafka's ./configure
  #   without --install-deps/--source-deps-only (which would download openssl/zstd/... sources),
  #   so librdkafka links against the Debian -dev libraries above and is built as
  #   build/deps/librdkafka.so.1, loaded via rpath $ORIGIN/../deps.
  # npm_config_build_from_source: node-pre-gyp skips the prebuilt-binary download (GitHub).
  # npm_config_nodedir: node-gyp uses the local headers instead of downloading them.
  # Do not set JOBS (node-gyp make -j): the generated Makefile races on deps/librdkafka/config.h;
  # librdkafka itself is already built with make -j.
  (
    cd "$CLIENTS"
    export CKJS_LINKING=dynamic
    export npm_config_build_from_source=true
    export npm_config_nodedir="$NODE_PREFIX"
    rm -rf node_modules
    if [ -f package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error >"$CLIENTS/.build.log" 2>&1 || { tail -50 "$CLIENTS/.build.log" >&2; exit 1; }
    else
      npm install --no-audit --no-fund --loglevel=error >"$CLIENTS/.build.log" 2>&1 || { tail -50 "$CLIENTS/.build.log" >&2; exit 1; }
    fi
  )
  log "built in $((SECONDS - b0)) s (log: test/clients/.build.log)"
  verify_ckjs | sed 's/^/[setup-test-clients] /'
fi

# ---------------------------------------------------------------- other clients: quick checks
log "kcat: $(kcat -V 2>&1 | grep -m1 "^Version" || true)"
/usr/bin/python3 - <<'EOF' | sed 's/^/[setup-test-clients] /'
import kafka, confluent_kafka
from kafka.codec import has_gzip, has_snappy, has_lz4, has_zstd
print("kafka-python %s codecs: gzip=%s snappy=%s lz4=%s zstd=%s" % (
    kafka.__version__, has_gzip(), has_snappy(), has_lz4(), has_zstd()))
print("confluent-kafka-python %s (librdkafka %s)" % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))
EOF
log "etcd: $(etcd --version 2>/dev/null | head -1), $(etcdctl version 2>/dev/null | head -1)"
log "done in $((SECONDS - t0)) s"
