#!/usr/bin/env bash
# Prints the name of a Node 24 base image for the Dockerfile's NODE_IMAGE: node:24-bookworm-slim when the
# engine has it or can pull it, else one made here without any image registry, as the official one is made:
# Debian bookworm from Debian's packages (debootstrap --variant=minbase), Node 24 from the npm registry's
# node-<platform>-<arch> package (scripts/lts-node.sh), npm 11 beside it, and a `node` user (uid 1000).
# Usage: NODE_IMAGE="$(scripts/base-image.sh)"   (DOCKER: the docker command, docker by default)
# The debootstrapped system is kept in PRISMO_BASE_CACHE (/var/cache/prismo-base) between runs: delete it
# to take Debian's updates. Needs root (debootstrap, chroot) and Debian's debootstrap package.
set -euo pipefail
cd "$(dirname "$0")/.."
docker=${DOCKER:-docker}
official=node:24-bookworm-slim

if $docker image inspect "$official" >/dev/null 2>&1 || timeout 120 $docker pull -q "$official" >/dev/null 2>&1; then
  echo "$official"
  exit 0
fi

node_bin="$(scripts/lts-node.sh)"
version="$("$node_bin/node" --version)"
name="prismo-base/node:${version#v}-bookworm-minbase"
if $docker image inspect "$name" >/dev/null 2>&1; then
  echo "$name"
  exit 0
fi
echo "no $official to pull: making $name from Debian's packages and the npm registry" >&2

cache=${PRISMO_BASE_CACHE:-/var/cache/prismo-base}
system="$cache/bookworm-minbase.tar"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ ! -s "$system" ]; then
  command -v debootstrap >/dev/null || { echo "base-image: install Debian's debootstrap package" >&2; exit 1; }
  mkdir -p "$cache" "$work/debootstrap"
  debootstrap --variant=minbase bookworm "$work/debootstrap" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  chroot "$work/debootstrap" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  # What a slim image leaves out: package caches and lists, documentation.
  rm -rf "$work/debootstrap"/var/cache/apt/archives/*.deb "$work/debootstrap"/var/lib/apt/lists/* \
    "$work/debootstrap"/usr/share/doc/* "$work/debootstrap"/usr/share/man/* "$work/debootstrap"/usr/share/info/*
  tar -C "$work/debootstrap" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$system.$$.part" .
  mv "$system.$$.part" "$system"
  rm -rf "$work/debootstrap"
fi

# Node where the official image has it (/usr/local/bin), npm from the registry in /usr/local/lib/node_modules.
mkdir -p "$work/root/usr/local/bin" "$work/root/usr/local/lib/node_modules"
cp "$node_bin/node" "$work/root/usr/local/bin/node"
(cd "$work" && npm pack --silent "npm@11" >/dev/null && tar -xzf npm-*.tgz && mv package root/usr/local/lib/node_modules/npm)
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
cp "$system" "$work/base.tar"
tar -C "$work/root" --numeric-owner --owner=0 --group=0 -rf "$work/base.tar" \
  ./usr/local/bin/node ./usr/local/bin/npm ./usr/local/bin/npx ./usr/local/lib/node_modules
$docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' \
  "$work/base.tar" "$name" >/dev/null
echo "$name"
