#!/usr/bin/env bash
# One cold start of `node ENTRY dev` to its first Metadata answer, then stop: a whole process that an
# outside timer (/usr/bin/time, hyperfine) can put beside `node -e 0`. The probe is bash's
# /dev/tcp, so no second Node process is started. Usage: bench/cold-start-probe.sh [ENTRY] [dev args]
# The HTTP services and Connect are off unless FJORD_PROBE_SERVICES=1 (then on free-ish ports).
set -u
entry=${1:-"$(dirname "$0")/../bin/fjord.js"}
shift || true
port=$((20000 + RANDOM % 30000))
dir=$(mktemp -d)
if [ "${FJORD_PROBE_SERVICES:-}" = 1 ]; then
  services=(--registry-port $((port + 1)) --rest-port $((port + 2)) --connect-port $((port + 3)))
else
  services=(--no-registry --no-rest --no-connect)
fi
node "$entry" dev --port "$port" --data-dir "$dir" "${services[@]}" "$@" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 5000); do
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "fjord dev exited" >&2; exit 1; }
  sleep 0.002
done
# Metadata v1, correlation id 4242, client id "fjord-bench", all topics.
printf '\x00\x00\x00\x19\x00\x03\x00\x01\x00\x00\x10\x92\x00\x0bfjord-bench\xff\xff\xff\xff' >&3
answer=$(head -c 8 <&3 | od -An -tx1 | tr -d ' \n')
kill -9 "$pid"; wait "$pid" 2>/dev/null
rm -rf "$dir"
[ "${answer:8:8}" = "00001092" ] || { echo "no Metadata answer: $answer" >&2; exit 1; }
