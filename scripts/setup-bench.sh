#!/usr/bin/env bash
# Prepares `npm run bench` (bench/run.mjs); idempotent, a second run takes ~1 s.
#   - Debian packages: gcc + librdkafka-dev (Fjord's load generator bench/native/fjord-load.c),
#     redis-server + redis-tools (redis-benchmark), nats-server, golang-go +
#     golang-github-nats-io-go-nats-dev (NATS JetStream publisher bench/native/nats-pub, built
#     offline against Debian's Go sources: GO111MODULE=off GOPATH=/usr/share/gocode).
#   - builds bench/.build/fjord-load and bench/.build/nats-pub when missing or older than sources.
# Package services (redis-server, nats-server) are stopped and disabled: the bench starts its own
# instances on free loopback ports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/.build"
log() { printf '[setup-bench] %s\n' "$*"; }
t0=$SECONDS

APT_PACKAGES=(gcc libc6-dev pkg-config librdkafka-dev redis-server redis-tools nats-server golang-go golang-github-nats-io-go-nats-dev)
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
  for svc in redis-server nats-server; do
    if [ -d /run/systemd/system ] && systemctl is-active --quiet "$svc" 2>/dev/null; then
      "${SUDO[@]}" systemctl stop "$svc" || true
      "${SUDO[@]}" systemctl disable "$svc" || true
    fi
  done
else
  log "Debian packages: all ${#APT_PACKAGES[@]} present"
fi

mkdir -p "$OUT"
SRC_C="$ROOT/bench/native/fjord-load.c"
# Prefer the librdkafka 2.15.1 built by scripts/setup-test-clients.sh (test/clients, the same one the
# tests use): it is copied next to the binary (rpath $ORIGIN/lib) so a rebuild of test/clients
# cannot break it. Fallback: Debian's librdkafka-dev (2.0.2 on bookworm, which rejects a Fetch
# partition whose records field is null instead of empty).
CKJS="$ROOT/test/clients/node_modules/@confluentinc/kafka-javascript/build/deps"
if [ -f "$CKJS/librdkafka.so.1" ] && [ -f "$CKJS/include/librdkafka/rdkafka.h" ]; then
  RDK_SRC="$CKJS/librdkafka.so.1"; RDK_KIND="bundled (test/clients)"
else
  RDK_SRC="/usr/lib/$(gcc -dumpmachine)/librdkafka.so.1"; RDK_KIND="Debian librdkafka-dev"
fi
if [ ! -x "$OUT/fjord-load" ] || [ "$SRC_C" -nt "$OUT/fjord-load" ] || [ "$RDK_SRC" -nt "$OUT/fjord-load" ] ||
   [ "$(cat "$OUT/fjord-load.rdk" 2>/dev/null)" != "$RDK_SRC" ]; then
  if [ "$RDK_KIND" = "Debian librdkafka-dev" ]; then
    log "compiling fjord-load against Debian librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?')" \
        "(run scripts/setup-test-clients.sh first to use librdkafka 2.15.1)"
    gcc -O2 -Wall -o "$OUT/fjord-load" "$SRC_C" -lrdkafka -lpthread
  else
    mkdir -p "$OUT/lib"
    cp -f "$RDK_SRC" "$OUT/lib/librdkafka.so.1"
    log "compiling fjord-load against librdkafka $RDK_KIND"
    gcc -O2 -Wall -I"$CKJS/include" -o "$OUT/fjord-load" "$SRC_C" "$OUT/lib/librdkafka.so.1" \
        -Wl,-rpath,'$ORIGIN/lib' -lpthread
  fi
  echo "$RDK_SRC" > "$OUT/fjord-load.rdk"
else
  log "fjord-load: up to date"
fi
log "fjord-load uses $("$OUT/fjord-load" version)"

SRC_GO="$ROOT/bench/native/nats-pub/main.go"
if [ ! -x "$OUT/nats-pub" ] || [ "$SRC_GO" -nt "$OUT/nats-pub" ]; then
  log "building nats-pub ($(go version | awk '{print $3}'), nats.go from /usr/share/gocode, offline)"
  mkdir -p "$OUT/gocache"
  (cd "$ROOT/bench/native/nats-pub" &&
    GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$OUT/gocache" GOFLAGS= GOPROXY=off \
      go build -o "$OUT/nats-pub" .)
else
  log "nats-pub: up to date"
fi

log "redis: $(redis-server --version | awk '{print $3}'), nats-server: $(nats-server --version 2>&1 | head -1)"
log "done in $((SECONDS - t0)) s"
