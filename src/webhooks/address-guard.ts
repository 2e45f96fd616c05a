// Webhook URLs must not reach inside Prismo's network (SSRF): each address a host resolves to is checked at
// creation and by the connection's own lookup, unless WEBHOOK_ALLOW_PRIVATE_URLS (development, tests).
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, unspecified, multicast, reserved. */
const REFUSED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  REFUSED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  REFUSED.addSubnet(network, prefix, 'ipv6');

/** Whether a literal address is one a webhook must not reach (an IPv4-mapped IPv6 address as its IPv4). */
export function isRefusedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return REFUSED.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return REFUSED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Resolves a host name to all its addresses (dns.lookup by default; tests give their own). */
export type Resolve = (host: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export class RefusedAddressError extends Error {}

export interface GuardOptions {
  allowPrivate: boolean;
  resolve: Resolve;
  /** WEBHOOK_ALLOWED_HOSTS: when set, any other host is refused before it is looked up. */
  allowedHosts?: readonly string[];
}

/** The addresses of a URL's host, refused (RefusedAddressError) when one is private and private ones are not allowed. */
export async function checkedAddresses(host: string, options: GuardOptions) {
  const bare = host.replace(/^\[|\]$/g, '');
  if (options.allowedHosts && !options.allowedHosts.includes(bare.toLowerCase()))
    throw new RefusedAddressError(`${host} is not one of WEBHOOK_ALLOWED_HOSTS`);
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await options.resolve(bare);
  if (addresses.length === 0) throw new RefusedAddressError(`${host} resolves to no address`);
  const refused = addresses.find((a) => isRefusedAddress(a.address));
  if (refused && !options.allowPrivate)
    throw new RefusedAddressError(`${host} resolves to ${refused.address}, a private, loopback or link-local address`);
  return addresses;
}

/** The lookup a delivery's connection uses: the address it connects to is the one checked, never another. */
export function guardedLookup(options: GuardOptions): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    checkedAddresses(hostname, options).then(
      (addresses) => {
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}
