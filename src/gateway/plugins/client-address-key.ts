// The key under which requests without a valid API key are counted: one host, however it writes its address.
// An IPv6 host usually holds a whole /64 and may take a new address in it for every request.
import ipaddr from 'ipaddr.js';

/**
 * An IPv4 address as itself (an IPv4-mapped IPv6 one, `::ffff:203.0.113.5`, as its IPv4); an IPv6 address
 * as its /64 (`2001:db8:1:2::/64`). Anything else (it never comes from a socket) is returned as it is.
 */
export function clientAddressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const network = (parsed as ipaddr.IPv6).parts.slice(0, 4).concat([0, 0, 0, 0]);
  return `${new ipaddr.IPv6(network).toString()}/64`;
}
