#!/usr/bin/env bash
# Initiates the single-member replica set rs0 that change streams need. Idempotent: on a set that is
# already initiated it only waits for a primary, so it is safe to run on every `docker compose up`.
#   MONGO_HOST       where to reach the first mongod (default mongo:27017)
#   RS_MEMBERS       comma-separated member addresses (default: MONGO_HOST); three for the full profile
#   INIT_TIMEOUT_S   how long to wait for mongod and for a primary (default 60)
set -euo pipefail

MONGO_HOST="${MONGO_HOST:-mongo:27017}"
RS_MEMBERS="${RS_MEMBERS:-$MONGO_HOST}"
INIT_TIMEOUT_S="${INIT_TIMEOUT_S:-60}"
deadline=$((SECONDS + INIT_TIMEOUT_S))

mongo_eval() { mongosh --quiet --host "$MONGO_HOST" --eval "$1"; }

until mongo_eval 'db.adminCommand({ ping: 1 }).ok' >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then echo "init-replset: mongod at $MONGO_HOST did not answer within ${INIT_TIMEOUT_S}s" >&2; exit 1; fi
  sleep 1
done

mongo_eval "
  try {
    const status = rs.status();
    print('init-replset: replica set ' + status.set + ' already initiated');
  } catch (error) {
    if (error.codeName !== 'NotYetInitialized') throw error;
    const hosts = '$RS_MEMBERS'.split(',').map((h) => h.trim()).filter(Boolean);
    rs.initiate({ _id: 'rs0', members: hosts.map((host, i) => ({ _id: i, host })) });
    print('init-replset: initiated rs0 with members ' + hosts.join(', '));
  }
"

until [[ "$(mongo_eval 'db.hello().isWritablePrimary' 2>/dev/null)" == "true" ]]; do
  if ((SECONDS >= deadline)); then echo "init-replset: no primary within ${INIT_TIMEOUT_S}s" >&2; exit 1; fi
  sleep 1
done
echo "init-replset: rs0 has a primary"
