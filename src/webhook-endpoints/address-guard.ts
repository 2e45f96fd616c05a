// Webhook URLs must not reach inside Prismo's network (SSRF): each address a host resolves to is checked at
// creation and at every send (by the connection's own lookup, or before it for a literal address), unless
// WEBHOOK_ALLOW_PRIVATE_URLS (development, tests).
import { BlockList, isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

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
  ['fec0::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
] as const)
  REFUSED.addSubnet(network, prefix, 'ipv6');

const dotted = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address carries, in any form a stack may route to it: IPv4-compatible (::a.b.c.d,
 * also written ::7f00:1), IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64
 * (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::) and Teredo (its client, stored inverted). Null for none.
 */
export function embeddedIPv4(address: string): string | null {
  const p = ipaddr.IPv6.parse(address).parts;
  const zeroUpTo = (end: number) => p.slice(0, end).every((part) => part === 0);
  if (zeroUpTo(5) && (p[5] === 0 || p[5] === 0xffff)) return dotted(p[6]!, p[7]!);
  if (zeroUpTo(4) && p[4] === 0xffff && p[5] === 0) return dotted(p[6]!, p[7]!);
  if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((part) => part === 0)) return dotted(p[6]!, p[7]!);
  if (p[0] === 0x2002) return dotted(p[1]!, p[2]!);
  if (p[0] === 0x2001 && p[1] === 0) return dotted(~p[6]! & 0xffff, ~p[7]! & 0xffff);
  return null;
}

/** Whether a literal address is one a webhook must not reach (an IPv6 address carrying an IPv4 one as that one). */
export function isRefusedAddress(address: string): boolean {
  const bare = address.split('%')[0]!;
  const family = isIP(bare);
  if (family === 0) return true;
  if (family === 4) return REFUSED.check(bare, 'ipv4');
  if (REFUSED.check(bare, 'ipv6')) return true;
  const carried = embeddedIPv4(bare);
  return carried !== null && REFUSED.check(carried, 'ipv4');
}

/** Resolves a host name to all its addresses (createSystemResolve in production; tests give their own). */
export type Resolve = (host: string) => Promise<Array<{ address: string; family: number }>>;

export class RefusedAddressError extends Error {}

/**
 * A URL with a user name or password: refused at creation, as the URL is listed, logged and (its origin) sent
 * in events; a receiver authenticates Prismo by the signature instead.
 */
export function credentialsOf(url: URL): boolean {
  return url.username !== '' || url.password !== '';
}

export interface GuardOptions {
  allowPrivate: boolean;
  resolve: Resolve;
  /** WEBHOOK_ALLOWED_HOSTS: when set, any other host is refused before it is looked up. */
  allowedHosts?: readonly string[];
}

/**
 * The addresses of a URL's host, refused (RefusedAddressError) when one is private and private ones are not
 * allowed. The message names the host as the client wrote it, never an address it resolved to (which would
 * map Prismo's network for whoever owns the name).
 */
export async function checkedAddresses(host: string, options: GuardOptions) {
  const bare = host.replace(/^\[|\]$/g, '');
  if (options.allowedHosts && !options.allowedHosts.includes(bare.toLowerCase()))
    throw new RefusedAddressError(`${host} is not one of WEBHOOK_ALLOWED_HOSTS`);
  const literal = isIP(bare) !== 0;
  const addresses = literal ? [{ address: bare, family: isIP(bare) }] : await options.resolve(bare);
  if (addresses.length === 0) throw new RefusedAddressError(`${host} resolves to no address`);
  if (!options.allowPrivate && addresses.some((a) => isRefusedAddress(a.address)))
    throw new RefusedAddressError(`${host} ${literal ? 'is' : 'resolves to'} a private, loopback or link-local address`);
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
