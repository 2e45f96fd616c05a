#!/usr/bin/env bash
# Checks the Prometheus configuration and alert rules, and runs their unit tests (ops/alerts.test.yml),
# with promtool: $PROMTOOL, then promtool on PATH or in Go's bin directory, else Debian's, else built once
# from the Go module proxy at the version of the compose file's Prometheus (minutes the first time; cached).
set -euo pipefail
cd "$(dirname "$0")/.."
PROMETHEUS_MODULE_VERSION=v0.316.0 # Prometheus v3.16.0 (docker-compose.yml's image)

# promtool from Debian's prometheus package, unpacked (not installed: no service) under .ci-output/.
debian_promtool() {
  local dir=.ci-output/promtool-debian
  if [ ! -x "$dir/usr/bin/promtool" ]; then
    mkdir -p "$dir"
    (cd "$dir" && apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }) || return 1
    dpkg -x "$dir"/prometheus_*.deb "$dir" && rm -f "$dir"/prometheus_*.deb
  fi
  echo "$dir/usr/bin/promtool"
}

promtool="${PROMTOOL:-}"
if [ -z "$promtool" ]; then
  # Go's own directories too: a CI shell's PATH may lack them even where Go is installed.
  PATH="$PATH:/usr/local/go/bin:${HOME:-/root}/go/bin"
  gobin="$( (command -v go >/dev/null 2>&1 && go env GOPATH) || echo "${HOME:-/root}/go")/bin"
  if command -v promtool >/dev/null 2>&1; then
    promtool=$(command -v promtool)
  elif [ -x "$gobin/promtool" ]; then
    promtool="$gobin/promtool"
  elif [ -z "${PROMTOOL_BUILD:-}" ] && command -v apt-get >/dev/null 2>&1 && promtool=$(debian_promtool); then
    # Debian's package (Prometheus 2.42) in seconds, where building the compose image's version takes
    # minutes on a fresh machine; the rule tests pass under both (docs/operations.md). PROMTOOL_BUILD=1 builds.
    :
  else
    command -v go >/dev/null 2>&1 || { echo "check-alerts: neither promtool nor go is installed" >&2; exit 1; }
    echo "check-alerts: building promtool $PROMETHEUS_MODULE_VERSION from the Go module proxy"
    go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
    promtool="$gobin/promtool"
  fi
fi
"$promtool" --version | head -1
"$promtool" check config ops/prometheus.yml
"$promtool" check rules ops/alerts.yml
"$promtool" test rules ops/alerts.test.yml
