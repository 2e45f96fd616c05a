#!/usr/bin/env bash
# Prints the bin directory of the Node.js LTS the product supports (24, maintained until 2028-04-30),
# installed once into .ci-output/ from the npm registry's node-<platform>-<arch> package (the official
# binary that the registry's `node` package installs), so CI needs nothing outside the registry.
# Usage: PATH="$(scripts/lts-node.sh):$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."

MAJOR=24
package=node-$(node -p 'process.platform + "-" + process.arch')
dir=.ci-output/node-$MAJOR
bin="$PWD/$dir/node_modules/$package/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q "^v$MAJOR\."; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save "$package@$MAJOR" >&2
fi
echo "$bin"
