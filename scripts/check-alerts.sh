#!/usr/bin/env bash
# Checks the Prometheus configuration and alert rules, and runs their unit tests (ops/alerts.test.yml),
# with promtool: $PROMTOOL, then promtool on PATH or in Go's bin directory, else built once from the Go
# module proxy at the version of the compose file's Prometheus (a few minutes the first time; cached).
set -euo pipefail
cd "$(dirname "$0")/.."
PROMETHEUS_MODULE_VERSION=v0.316.0 # Prometheus v3.16.0 (docker-compose.yml's image)

promtool="${PROMTOOL:-}"
if [ -z "$promtool" ]; then
  # Go's own directories too: a CI shell's PATH may lack them even where Go is installed.
  PATH="$PATH:/usr/local/go/bin:${HOME:-/root}/go/bin"
  if command -v promtool >/dev/null 2>&1; then
    promtool=$(command -v promtool)
  else
    command -v go >/dev/null 2>&1 || { echo "check-alerts: neither promtool nor go is installed" >&2; exit 1; }
    gobin="$(go env GOPATH)/bin"
    if [ ! -x "$gobin/promtool" ]; then
      echo "check-alerts: building promtool $PROMETHEUS_MODULE_VERSION from the Go module proxy"
      go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
    fi
    promtool="$gobin/promtool"
  fi
fi
"$promtool" --version | head -1
"$promtool" check config ops/prometheus.yml
"$promtool" check rules ops/alerts.yml
"$promtool" test rules ops/alerts.test.yml
