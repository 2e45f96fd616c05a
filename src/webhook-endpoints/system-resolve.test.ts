import { pbkdf2 } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystemResolve, parseHosts } from './system-resolve.js';

// The name server is the test's own, on 127.0.0.1, and never answers: no packet leaves the machine.
describe('looking up a webhook host', () => {
  let blackHole: Socket;
  let server: string;
  let dir: string;
  let hostsFile: string;
  beforeAll(async () => {
    blackHole = createSocket('udp4');
    await new Promise<void>((resolve) => blackHole.bind(0, '127.0.0.1', resolve));
    server = `127.0.0.1:${blackHole.address().port}`;
    dir = await mkdtemp(join(tmpdir(), 'prismo-hosts-'));
    hostsFile = join(dir, 'hosts');
    await writeFile(
      hostsFile,
      '# a comment\n127.0.0.1 localhost\n10.9.8.7  hooks.internal  Alias.Internal # trailing\nnot-an-ip bad\n::1 localhost\n',
    );
  });
  afterAll(async () => {
    blackHole.close();
    await rm(dir, { recursive: true });
  });

  it('reads the hosts file as getaddrinfo does: names case-insensitive, comments and bad lines ignored', () => {
    const hosts = parseHosts('10.9.8.7 a B # c\nx y\n::1 a\n');
    expect(hosts.get('a')).toEqual([
      { address: '10.9.8.7', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(hosts.get('b')).toEqual([{ address: '10.9.8.7', family: 4 }]);
    expect(hosts.has('c')).toBe(false);
    expect(hosts.has('y')).toBe(false);
  });

  it('answers from the hosts file, and localhost as loopback, without asking a name server', async () => {
    const resolve = createSystemResolve({ timeoutMs: 200, hostsFile, servers: [server] });
    expect(await resolve('HOOKS.internal')).toEqual([{ address: '10.9.8.7', family: 4 }]);
    expect(await resolve('alias.internal.')).toEqual([{ address: '10.9.8.7', family: 4 }]);
    expect(await resolve('localhost')).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    const bare = createSystemResolve({ timeoutMs: 200, hostsFile: join(dir, 'missing'), servers: [server] });
    expect((await bare('api.localhost')).map((a) => a.address)).toEqual(['127.0.0.1', '::1']);
  });

  it('a name server that never answers costs the deadline, and leaves the thread pool free meanwhile', async () => {
    const resolve = createSystemResolve({ timeoutMs: 500, hostsFile, servers: [server] });
    const started = performance.now();
    // More lookups than libuv has threads (4): were they on the pool, the key derivations below would queue.
    const lookups = Array.from({ length: 8 }, (_, i) => resolve(`slow-${i}.example.com`).catch((error: NodeJS.ErrnoException) => error));
    const derived = await Promise.all(
      Array.from(
        { length: 4 },
        () => new Promise<number>((done) => pbkdf2('x', 'y', 1, 32, 'sha256', () => done(performance.now() - started))),
      ),
    );
    expect(Math.max(...derived)).toBeLessThan(250);
    const errors = await Promise.all(lookups);
    const elapsed = performance.now() - started;
    for (const error of errors) expect((error as NodeJS.ErrnoException).code).toBe('ETIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
  });
});
