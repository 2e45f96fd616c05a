import { describe, expect, it } from 'vitest';
import { checkedAddresses, credentialsOf, embeddedIPv4, guardedLookup, isRefusedAddress, RefusedAddressError } from './address-guard.js';

// Checks of addresses as functions: no packet is sent anywhere (the resolvers are the tests' own).
describe('the webhook address guard', () => {
  it('refuses an IPv6 address that carries a private or loopback IPv4 one, in every form a stack routes', () => {
    for (const address of [
      '::127.0.0.1', // IPv4-compatible
      '::7f00:1', // the same, in hex
      '::a00:1', // ::10.0.0.1
      '::ffff:127.0.0.1', // IPv4-mapped
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe', // 169.254.169.254, the cloud metadata service
      '::ffff:0:10.0.0.1', // IPv4-translated
      '::ffff:0:c0a8:101', // ::ffff:0:192.168.1.1
      '2002:7f00:1::', // 6to4 of 127.0.0.1
      '2002:c0a8:0101::1', // 6to4 of 192.168.1.1
      '64:ff9b::10.0.0.1', // NAT64
      '64:ff9b::8.8.8.8', // NAT64 at all: the gateway is inside the network
      '64:ff9b:1::a00:1', // local-use NAT64
      '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo, client 127.0.0.1 (inverted)
      '0:0:0:0:0:ffff:7f00:0001',
      '::',
      '::1',
      'fec0::1',
    ])
      expect(isRefusedAddress(address), address).toBe(true);
    for (const address of ['::ffff:93.184.216.34', '2002:5db8:d822::1', '2606:4700::1111', '::ffff:0:8.8.8.8', '93.184.216.34'])
      expect(isRefusedAddress(address), address).toBe(false);
  });

  it('reads the IPv4 address inside each form', () => {
    expect(embeddedIPv4('::7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('::ffff:a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('::ffff:0:10.1.2.3')).toBe('10.1.2.3');
    expect(embeddedIPv4('2002:c0a8:0101::')).toBe('192.168.1.1');
    expect(embeddedIPv4('64:ff9b::172.16.0.1')).toBe('172.16.0.1');
    expect(embeddedIPv4('2001:0:4136:e378:8000:63bf:f5ff:fffe')).toBe('10.0.0.1');
    expect(embeddedIPv4('2606:4700::1111')).toBeNull();
  });

  it('names the host in a refusal, never the address it resolved to', async () => {
    const resolve = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    const refusal = await checkedAddresses('hooks.example.com', { allowPrivate: false, resolve }).catch((error: Error) => error);
    expect(refusal).toBeInstanceOf(RefusedAddressError);
    expect((refusal as Error).message).toBe('hooks.example.com resolves to a private, loopback or link-local address');
    expect((refusal as Error).message).not.toContain('10.1.2.3');
    const literal = await checkedAddresses('[::ffff:7f00:1]', { allowPrivate: false, resolve }).catch((error: Error) => error);
    expect((literal as Error).message).toBe('[::ffff:7f00:1] is a private, loopback or link-local address');
    // The connection's own lookup refuses it as well: the socket never gets an address.
    const looked = await new Promise<Error | null>((done) =>
      guardedLookup({ allowPrivate: false, resolve })('hooks.example.com', { all: true }, (error) => done(error)),
    );
    expect(looked).toBeInstanceOf(RefusedAddressError);
  });

  it('finds a user name or password in a URL', () => {
    expect(credentialsOf(new URL('https://user:pass@hooks.example.com/'))).toBe(true);
    expect(credentialsOf(new URL('https://user@hooks.example.com/'))).toBe(true);
    expect(credentialsOf(new URL('https://:pass@hooks.example.com/'))).toBe(true);
    expect(credentialsOf(new URL('https://hooks.example.com/p?token=x@y'))).toBe(false);
  });
});
