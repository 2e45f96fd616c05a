// The name a processor goes by in its group's membership, its leases and its logs. Hostname and pid alone do
// not tell processes apart: containers on the host's network share the host's name and each runs as pid 1 of
// its own namespace, so two of them would be one member claiming every slot. A random part, drawn once per
// process, makes the name unique whatever the network mode; hostname and pid stay in it for the reader.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** `host-pid-xxxxxxxx`: 32 random bits, so two processes with the same host and pid still differ. */
export function newWorkerId(host: string = hostname(), pid: number = process.pid): string {
  return `${host}-${pid}-${randomBytes(4).toString('hex')}`;
}

/** This process's default WORKER_ID: the same for every reading of the settings while it lives. */
export const PROCESS_WORKER_ID = newWorkerId();
