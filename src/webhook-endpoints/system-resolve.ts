// Host names of webhook URLs looked up with a deadline (WEBHOOK_DNS_TIMEOUT_MS) and off libuv's thread pool:
// dns.lookup (getaddrinfo) holds one of its four threads for as long as a slow name server makes it wait,
// and the pool also serves file and crypto work; c-ares (dns.Resolver) waits on sockets instead.
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Resolve } from './address-guard.js';

/** How long the hosts file read is reused: an edit to it is seen within this long. */
const HOSTS_REREAD_MS = 30_000;

type Address = { address: string; family: number };

/** The hosts file's names and their addresses (lower case; comments and malformed lines ignored). */
export function parseHosts(text: string): Map<string, Address[]> {
  const hosts = new Map<string, Address[]>();
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    const family = isIP(address ?? '');
    if (family === 0) continue;
    for (const name of names) {
      const known = hosts.get(name.toLowerCase()) ?? [];
      if (!known.some((a) => a.address === address)) known.push({ address: address!, family });
      hosts.set(name.toLowerCase(), known);
    }
  }
  return hosts;
}

/** Rejects with code ETIMEOUT (a 503 at creation, a failed attempt at delivery) once `ms` have passed. */
function withDeadline<T>(work: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`looking up ${host} took longer than ${ms} ms`), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface SystemResolveOptions {
  timeoutMs: number;
  hostsFile?: string;
  /** The name servers to ask (`127.0.0.1:5353`); unset, the system's (resolv.conf). Tests give one on loopback. */
  servers?: string[];
}

/**
 * What dns.lookup would answer, as far as webhooks need it: the hosts file first (as nsswitch's `files dns`
 * orders it), `localhost` and `*.localhost` as loopback (RFC 6761), then A and AAAA records from the
 * system's name servers. Search domains are not applied: a webhook URL names its host fully.
 */
export function createSystemResolve({ timeoutMs, hostsFile = '/etc/hosts', servers }: SystemResolveOptions): Resolve {
  // One try per server, each within the deadline; the race below ends the wait whatever c-ares does.
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers) resolver.setServers(servers);
  let hosts: { map: Promise<Map<string, Address[]>>; at: number } | undefined;
  const readHosts = () => {
    if (!hosts || Date.now() - hosts.at > HOSTS_REREAD_MS)
      hosts = { map: readFile(hostsFile, 'utf8').then(parseHosts, () => new Map()), at: Date.now() };
    return hosts.map;
  };
  const fromDns = async (name: string): Promise<Address[]> => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (addresses.length > 0) return addresses;
    const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as NodeJS.ErrnoException] : []));
    // A server that cannot answer now outranks "no such name" from the other family: the caller retries.
    throw errors.find((e) => e.code !== 'ENOTFOUND' && e.code !== 'ENODATA') ?? errors[0]!;
  };
  return async (host) => {
    const name = host.toLowerCase().replace(/\.$/, '');
    const listed = (await readHosts()).get(name);
    if (listed) return listed;
    if (name === 'localhost' || name.endsWith('.localhost'))
      return [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ];
    return withDeadline(fromDns(name), timeoutMs, host);
  };
}
