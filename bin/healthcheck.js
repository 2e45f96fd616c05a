#!/usr/bin/env node
// The image's HEALTHCHECK: exit 0 when this container's process answers /readyz on its ops port, 1 otherwise.
// The port is OPS_PORT, else the default of the roles the container's process runs (each role has its own:
// src/config/config.ts, OPS_PORT_DEFAULTS), read from its command line (PID 1: `node bin/prismo.js serve --role …`).
// Asked on loopback unless OPS_HOST names one address.
import { readFileSync } from 'node:fs';

const { opsPortOf } = await import('../dist/src/config/config.js');

/** The roles of the container's process: `serve --role a,b` (or `all`), `process`, `start` (every role). */
function rolesOfPid1() {
  let args = [];
  try {
    args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
  } catch {
    return [];
  }
  const every = ['gateway', 'ingest', 'processor', 'deliverer'];
  if (args.includes('start')) return every;
  if (args.includes('process')) return ['processor'];
  const at = args.findIndex((arg) => arg === '--role' || arg.startsWith('--role='));
  if (at < 0) return [];
  const value = args[at].startsWith('--role=') ? args[at].slice('--role='.length) : (args[at + 1] ?? '');
  const roles = value.split(',').map((role) => role.trim());
  return roles.includes('all') ? every : roles;
}

const configured = process.env.OPS_HOST;
const host = !configured || configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
const port = opsPortOf(process.env.OPS_PORT ? Number(process.env.OPS_PORT) : undefined, rolesOfPid1());
if (port === 0) {
  // A port of 0 is one the system picks at start: nothing outside the process knows it.
  console.error(
    'OPS_PORT=0 lets the system pick the ops port at start, which this check cannot know: set a fixed OPS_PORT (or leave it unset) for the HEALTHCHECK',
  );
  process.exit(1);
}
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/readyz`;
fetch(url, { signal: AbortSignal.timeout(2_500) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
