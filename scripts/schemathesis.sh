#!/usr/bin/env bash
# The OpenAPI document as an outside tester reads it: Schemathesis (pinned, from PyPI) with every check
# against the whole system started as `npm start` starts it, with a key holding every scope and, for the
# auth checks, without one. Exits non-zero on any failure. Used by .ci/run; runnable on its own after
# `npm run build`. Excluded checks are listed in docs/api.md with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-60}
# CI's seed unless another is asked for (SCHEMATHESIS_SEED=…), so a run can be repeated exactly.
venv=.ci-output/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

data=$(mktemp -d)
# Ports the system listens on, chosen free by the kernel now: a fixed port fails the whole run when anything
# else on the machine (another checkout's run, a leftover process) holds it.
read -r port ingest_port ops_port pg_port < <(node -e '
  const net = require("node:net");
  const servers = [0, 1, 2, 3].map(() => net.createServer().listen(0, "127.0.0.1"));
  Promise.all(servers.map((s) => new Promise((r) => s.once("listening", r)))).then(() => {
    console.log(servers.map((s) => s.address().port).join(" "));
    for (const s of servers) s.close();
  });
')
export DATA_DIR=$data PORT=$port INGEST_PORT=$ingest_port OPS_PORT=$ops_port EMBEDDED_PG_PORT=$pg_port
export LOG_LEVEL=warn LOG_FORMAT=json
# Generated webhook URLs must never be looked up or called beyond this machine. The tester is one address
# sending thousands of requests without a key (its ignored_auth check expects 401/403 for each): the
# per-address limit on those (UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE, 120) would answer it 429, as it should
# answer a flood, so the run raises it.
WEBHOOK_ALLOWED_HOSTS=127.0.0.1 UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE=1000000 node bin/prismo.js start >"$data/prismo.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

ready() { node -e "fetch('http://127.0.0.1:$port/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; }
for _ in $(seq 1 240); do
  if ready; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$data/prismo.log"; echo "prismo start exited"; exit 1; fi
  sleep 1
done
key=$(node bin/prismo.js keys create --tenant schemathesis --scopes transactions:write,transactions:read,admin | tail -1)

"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml --no-color run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --seed "${SCHEMATHESIS_SEED:-20261125}" \
  --header "Authorization: Bearer $key" \
  "$@"
