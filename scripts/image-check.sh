#!/usr/bin/env bash
# CI's image job: builds the Dockerfile as an operator would, prints what it weighs, runs its containers as
# deployed (scripts/image-check.ts) and validates docker-compose.yml with docker-compose. Exits non-zero on any
# failed check, on layers above the base over 80 MB, and when no Docker engine can be had.
#
# The engine: the one DOCKER_HOST (or the default socket) names when it answers; else Debian's dockerd
# (docker.io), started here alone: its data, sockets and state under a new temporary directory, no bridge and
# no iptables rules (builds and containers use the host's network), stopped and removed at the end.
# The base: node:24-bookworm-slim, or where no registry has it, one made by scripts/base-image.sh.
# A TLS-intercepting proxy: BUILD_CA_BUNDLE (else NODE_EXTRA_CA_CERTS) names the CA bundle npm must trust
# in the build, given to it as a BuildKit secret (docs/operations.md, "The image").
set -euo pipefail
cd "$(dirname "$0")/.."
begun=$(date +%s)
say() { echo "image: $*"; }
mkdir -p .ci-output
IMAGE=${IMAGE:-prismo:ci}
MAX_ABOVE_BASE_MB=80

# A docker command that builds with BuildKit (secret mounts): buildx where installed, else Debian's
# docker.io CLI, which has BuildKit built in.
if [ -z "${DOCKER:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then DOCKER=docker
  elif [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker
  else DOCKER=docker; fi
fi
export DOCKER DOCKER_BUILDKIT=1

engine_dir=""
engine_pid=""
stop_engine() {
  if [ -z "$engine_pid" ]; then
    # No engine of ours running; a directory made for one that never started goes too.
    if [ -n "$engine_dir" ]; then rm -rf "$engine_dir"; fi
    return 0
  fi
  kill -TERM "$engine_pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$engine_pid" 2>/dev/null || break; sleep 0.5; done
  # Not gone after 30 s: killed, so no engine outlives its removed data root.
  if kill -0 "$engine_pid" 2>/dev/null; then kill -KILL "$engine_pid" 2>/dev/null || true; sleep 1; fi
  pkill -KILL -f "containerd.*$engine_dir" 2>/dev/null || true
  # What dockerd leaves mounted (its network namespace), innermost first, then its files.
  grep -o " $engine_dir/[^ ]*" /proc/mounts | sort -r | xargs -r umount 2>/dev/null || true
  rm -rf "$engine_dir" 2>/dev/null || say "left $engine_dir behind"
  engine_pid=""
}

start_engine() {
  command -v dockerd >/dev/null || { say "FAILED: no Docker engine answers and dockerd is missing (Debian: apt-get install docker.io)"; exit 1; }
  engine_dir="$(mktemp -d /tmp/prismo-docker.XXXXXX)"
  export DOCKER_HOST="unix://$engine_dir/docker.sock"
  trap 'stop_engine; say "engine stopped and removed: $(( $(date +%s) - begun )) s in all"' EXIT
  local driver
  for driver in overlay2 vfs; do
    dockerd --data-root "$engine_dir/data" --exec-root "$engine_dir/exec" --pidfile "$engine_dir/dockerd.pid" \
      -H "$DOCKER_HOST" --storage-driver "$driver" --iptables=false --bridge=none >"$engine_dir/dockerd-$driver.log" 2>&1 &
    engine_pid=$!
    for _ in $(seq 1 60); do
      if $DOCKER info >/dev/null 2>&1; then say "started dockerd ($driver storage) at $DOCKER_HOST"; return 0; fi
      kill -0 "$engine_pid" 2>/dev/null || break
      sleep 0.5
    done
    say "dockerd with $driver storage did not start:"; tail -n 5 "$engine_dir/dockerd-$driver.log" | sed 's/^/  /'
    stop_engine; engine_dir="$(mktemp -d /tmp/prismo-docker.XXXXXX)"; engine_pid=""
    export DOCKER_HOST="unix://$engine_dir/docker.sock"
  done
  say "FAILED: no storage driver let dockerd start"; exit 1
}

$DOCKER info >/dev/null 2>&1 || start_engine

build() {
  local base=$1 ca=${BUILD_CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-}} secret=()
  if [ -n "$ca" ] && [ -s "$ca" ]; then
    secret=(--secret "id=ca,src=$ca")
    say "npm in the build trusts $ca (a build secret: in no layer)"
  fi
  local from=$(date +%s)
  $DOCKER build --network host "${secret[@]}" --build-arg "NODE_IMAGE=$base" -t "$IMAGE" . >.ci-output/image-build.log 2>&1 ||
    { tail -n 30 .ci-output/image-build.log; say "FAILED: docker build"; exit 1; }
  say "built $IMAGE on $base in $(( $(date +%s) - from )) s"
}

# What the image weighs, and what of it is ours: the layers above the base, each with its instruction.
report_size() {
  local base=$1 size base_size above ours
  size=$($DOCKER image inspect -f '{{.Size}}' "$IMAGE")
  base_size=$($DOCKER image inspect -f '{{.Size}}' "$base")
  above=$(( (size - base_size) / 1000000 ))
  say "size $(( size / 1000000 )) MB; base $base $(( base_size / 1000000 )) MB; layers above the base $above MB:"
  ours=$(( $($DOCKER history -q "$IMAGE" | wc -l) - $($DOCKER history -q "$base" | wc -l) ))
  $DOCKER history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | head -n "$ours" | grep -v '^0B' | cut -c1-110 | sed 's/^/  /'
  $DOCKER run --rm --entrypoint sh "$IMAGE" -c \
    'echo "  production node_modules: $(npm ls --omit=dev --parseable --all 2>/dev/null | wc -l) packages, $(du -sm node_modules | cut -f1) MB on disk"
     n=$(find dist \( -name "*.map" -o -name "*.tsbuildinfo" \) | wc -l); echo "  source maps and build info in dist/: $n"; [ "$n" -eq 0 ]' ||
    { say "FAILED: source maps or build info in the image"; exit 1; }
  [ "$above" -le "$MAX_ABOVE_BASE_MB" ] || { say "FAILED: $above MB above the base, over $MAX_ABOVE_BASE_MB MB"; exit 1; }
}

base="$(scripts/base-image.sh 2>.ci-output/base-image.log)" || { tail -n 20 .ci-output/base-image.log; say "FAILED: no base image"; exit 1; }
build "$base"
report_size "$base"

# The containers, as deployed; the databases' chatter goes to the log.
npx tsx scripts/image-check.ts "$IMAGE" 2>.ci-output/image-check.log ||
  { tail -n 40 .ci-output/image-check.log; say "FAILED: the containers' checks"; exit 1; }

# docker-compose.yml as Compose reads it (no engine needed), with the two variables it requires.
API_KEYS=acme:compose-config-check INGEST_TOKEN=compose-config-check docker-compose -f docker-compose.yml config -q ||
  { say "FAILED: docker-compose config"; exit 1; }
say "ok: docker-compose config validates docker-compose.yml"
say "done in $(( $(date +%s) - begun )) s"
