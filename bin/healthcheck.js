#!/usr/bin/env node
// The image's HEALTHCHECK: exit 0 when this container's process answers /readyz on its ops port (every role
// serves one: OPS_PORT, 9464 by default), 1 otherwise. Asked on loopback unless OPS_HOST names one address.
const configured = process.env.OPS_HOST;
const host = !configured || configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${process.env.OPS_PORT || 9464}/readyz`;
fetch(url, { signal: AbortSignal.timeout(2_500) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
