// Issue 42, items 2 and 6, as a hostile client tries them against a real gateway in a process of its own:
// bodies nobody asked for, wrong-key floods (behind a proxy too), the internal and operational ports from the public side.
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { acceptCollections } from '../../src/gateway/accept-collections.js';
import { createApiKey, revokeApiKey } from '../../src/gateway/api-key-store.js';
import { hasChromium, launchChromium } from '../support/browser.js';
import { useGatewayProcesses } from '../support/gateway-process.js';
import { probeHealth } from '../support/health-probe.js';
import { peakRssMiB, rssMiB } from '../support/peak-rss.js';
import { useSystem } from '../support/system.js';
import { startTcpProxy, throughProxy } from '../support/tcp-proxy.js';

const KEY = 'edge-key-0123456789abcdef';
const MiB = 1024 * 1024;

const system = useSystem();
const startProcess = useGatewayProcesses();

/** `prismo serve --role gateway,ingest` on the suite's databases, with the suite's key and ingestion token. */
const startGatewayProcess = (env: Record<string, string> = {}) =>
  startProcess(
    { mongoDb: system.mongo.dbName, pgUrl: system.pg.url },
    { API_KEYS: `edge:${KEY}`, INGEST_TOKEN: 'edge-ingest-token-0123456789', ...env },
  );

/** Sends `bytes` of JSON-looking body without reading it into memory here; resolves with the status (or how it ended). */
function sendLargeBody(base: string, path: string, bytes: number, headers: Record<string, string> = {}): Promise<number | string> {
  const url = new URL(path, base);
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      headers: Object.fromEntries(
        Object.entries({ 'content-type': 'application/json', 'content-length': String(bytes), ...headers }).filter(([, v]) => v !== ''),
      ),
    });
    let settled = false;
    const settle = (value: number | string) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    req.on('response', (response) => {
      response.resume();
      settle(response.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
    // Valid JSON of many small objects, as a parser would build it: `[{"k":"v"},…,{}]`.
    const unit = '{"k":"v"},';
    const chunk = Buffer.from(unit.repeat(Math.floor((64 * 1024) / unit.length)));
    let sent = 0;
    const pump = () => {
      if (sent === 0) {
        req.write('[');
        sent = 1;
      }
      while (sent < bytes - 3) {
        const size = Math.min(chunk.length, Math.floor((bytes - 3 - sent) / unit.length) * unit.length);
        if (size === 0) break;
        sent += size;
        if (!req.write(chunk.subarray(0, size))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end(`${' '.repeat(bytes - 3 - sent)}{}]`);
    };
    pump();
  });
}

describe('bodies nobody asked for', () => {
  it('four 24 MiB bodies without a key are refused unread: RSS grows < 64 MiB, /healthz never waits 250 ms', async () => {
    const gateway = await startGatewayProcess();
    // Warm up: the first requests compile routes and serializers.
    for (let i = 0; i < 3; i++) await (await fetch(new URL('/healthz', gateway.gatewayUrl))).text();
    const before = await rssMiB(gateway.pid);
    const probe = probeHealth(gateway.gatewayUrl);
    const statuses = await Promise.all(
      ['/api/v1/nope', '/nope', '/api/v1/transactions/batch', '/api/v1/statements'].map((path) =>
        sendLargeBody(gateway.gatewayUrl, path, 24 * MiB),
      ),
    );
    const { worstMs: longest } = await probe.stop();
    const grown = (await peakRssMiB(gateway.pid)) - before;
    console.log(`four 24 MiB bodies: ${JSON.stringify(statuses)}, RSS +${grown.toFixed(1)} MiB, longest /healthz ${longest.toFixed(0)} ms`);
    expect(statuses).toEqual([404, 404, 401, 401]);
    expect(grown).toBeLessThan(64);
    expect(longest).toBeLessThan(250);
  });

  it('with a key: over the route limit is 413 before reading; without the scope, 403 unread; chunked to nowhere, 404', async () => {
    const gateway = await startGatewayProcess();
    const reader = await createApiKey(acceptCollections(system.mongo.db), 'edge', ['transactions:read']);
    for (let i = 0; i < 3; i++) await (await fetch(new URL('/healthz', gateway.gatewayUrl))).text();
    const before = await rssMiB(gateway.pid);
    const probe = probeHealth(gateway.gatewayUrl);
    const statuses = await Promise.all([
      // BATCH_BODY_LIMIT_BYTES is 16 MiB, BODY_LIMIT_BYTES 1 MiB: refused by Content-Length alone.
      sendLargeBody(gateway.gatewayUrl, '/api/v1/transactions/batch', 24 * MiB, { authorization: `Bearer ${KEY}` }),
      sendLargeBody(gateway.gatewayUrl, '/api/v1/transactions', 24 * MiB, { authorization: `Bearer ${KEY}` }),
      // The statement route's 32 MiB applies only once the key may write.
      sendLargeBody(gateway.gatewayUrl, '/api/v1/statements', 24 * MiB, {
        authorization: `Bearer ${reader.key}`,
        'content-type': 'application/xml',
      }),
      sendLargeBody(gateway.gatewayUrl, '/api/v1/nope', 24 * MiB, { 'content-length': '', 'transfer-encoding': 'chunked' }),
      // A key that may write, the wrong media type: 415 before the 32 MiB limit is used.
      sendLargeBody(gateway.gatewayUrl, '/api/v1/statements', 24 * MiB, { authorization: `Bearer ${KEY}` }),
    ]);
    const { worstMs: longest } = await probe.stop();
    const grown = (await peakRssMiB(gateway.pid)) - before;
    console.log(
      `24 MiB bodies with keys: ${JSON.stringify(statuses)}, RSS +${grown.toFixed(1)} MiB, longest /healthz ${longest.toFixed(0)} ms`,
    );
    expect(statuses).toEqual([413, 413, 403, 404, 415]);
    expect(grown).toBeLessThan(64);
    expect(longest).toBeLessThan(250);
  });
});

describe('a key over its rate', () => {
  it('its 15 and 30 MiB bodies are refused with 429 before they are read: RSS grows < 64 MiB, /healthz never waits 250 ms', async () => {
    const gateway = await startGatewayProcess({ RATE_LIMIT_PER_MINUTE: '2' });
    const auth = { authorization: `Bearer ${KEY}` };
    for (let i = 0; i < 3; i++) await (await fetch(new URL('/healthz', gateway.gatewayUrl))).text();
    // The key's two requests of the minute.
    for (let i = 0; i < 2; i++)
      expect((await fetch(new URL('/api/v1/transactions', gateway.gatewayUrl), { headers: auth })).status).toBe(200);
    const before = await rssMiB(gateway.pid);
    const probe = probeHealth(gateway.gatewayUrl);
    // Each under its route's body limit (16 and 32 MiB), so only the rate can refuse it.
    const xml = { ...auth, 'content-type': 'application/xml' };
    const statuses = await Promise.all([
      sendLargeBody(gateway.gatewayUrl, '/api/v1/transactions/batch', 15 * MiB, auth),
      sendLargeBody(gateway.gatewayUrl, '/api/v1/transactions/batch', 15 * MiB, auth),
      sendLargeBody(gateway.gatewayUrl, '/api/v1/statements', 30 * MiB, xml),
      sendLargeBody(gateway.gatewayUrl, '/api/v1/statements', 30 * MiB, xml),
    ]);
    const { worstMs: longest } = await probe.stop();
    const grown = (await peakRssMiB(gateway.pid)) - before;
    console.log(
      `over its rate, 2 x 15 + 2 x 30 MiB: ${JSON.stringify(statuses)}, RSS +${grown.toFixed(1)} MiB, longest /healthz ${longest.toFixed(0)} ms`,
    );
    expect(statuses).toEqual([429, 429, 429, 429]);
    expect(grown).toBeLessThan(64);
    expect(longest).toBeLessThan(250);

    const refused = await fetch(new URL('/api/v1/statements', gateway.gatewayUrl), { method: 'POST', headers: xml, body: '<Document/>' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('2');
    expect(await refused.json()).toMatchObject({ status: 429, type: '/problems/rate-limited' });
  });
});

describe('keys at the door', () => {
  it('a flood of wrong keys from one address gets 429 with Retry-After, while valid keys still work and stay cached', async () => {
    const gateway = await startGatewayProcess({ UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '20', API_KEY_CACHE_MS: '600000' });
    const accept = acceptCollections(system.mongo.db);
    const stored = await createApiKey(accept, 'edge', ['transactions:read']);
    const list = (key: string) =>
      fetch(new URL('/api/v1/transactions', gateway.gatewayUrl), { headers: { authorization: `Bearer ${key}` } });
    expect((await list(stored.key)).status).toBe(200);

    const answers = [];
    for (let i = 0; i < 200; i++) answers.push(await list(`pk_made-up-${i}-0123456789abcdef`));
    const statuses = answers.map((a) => a.status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(180).fill(429));
    const refused = answers[199]!;
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ status: 429, type: '/problems/rate-limited' });
    // No key at all counts the same.
    expect((await fetch(new URL('/api/v1/transactions', gateway.gatewayUrl))).status).toBe(429);

    // From the same address, during the flood: the static key, and the stored one from the cache. Revoked in
    // MongoDB now, the stored key still answering 200 shows it was not evicted by the 200 made-up keys.
    expect((await list(KEY)).status).toBe(200);
    expect(await revokeApiKey(accept, stored.record.id)).toBe(true);
    expect((await list(stored.key)).status).toBe(200);
  });
});

describe('keys at the door, cache expired', () => {
  it('while an address is limited, a key valid at its last lookup is looked up again; a key never seen waits', async () => {
    const gateway = await startGatewayProcess({ UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '5', API_KEY_CACHE_MS: '0' });
    const accept = acceptCollections(system.mongo.db);
    const [seen, unseen] = [
      await createApiKey(accept, 'edge', ['transactions:read']),
      await createApiKey(accept, 'edge', ['transactions:read']),
    ];
    const list = (key: string) =>
      fetch(new URL('/api/v1/transactions', gateway.gatewayUrl), { headers: { authorization: `Bearer ${key}` } });
    expect((await list(seen.key)).status).toBe(200);
    const flood = [];
    for (let i = 0; i < 10; i++) flood.push((await list(`pk_made-up-${i}-0123456789abcdef`)).status);
    expect(flood).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    // Nothing is cached (API_KEY_CACHE_MS=0): the seen key is looked up again and passes, revoked it is refused.
    expect((await list(seen.key)).status).toBe(200);
    expect((await list(unseen.key)).status).toBe(429);
    expect(await revokeApiKey(accept, seen.record.id)).toBe(true);
    expect((await list(seen.key)).status).toBe(429);
  });
});

describe('clients behind a proxy', () => {
  /** A request without a key, from the test (127.0.0.1), relaying `forwardedFor` as a proxy would. */
  const anonymous = async (base: string, forwardedFor?: string) => {
    const response = await fetch(new URL('/api/v1/transactions', base), {
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    });
    await response.text();
    return response.status;
  };

  it('with TRUST_PROXY naming the proxy, clients it forwards are limited apart, an IPv6 one by its /64', async () => {
    const running = await system.start(['gateway', 'ingest'], { TRUST_PROXY: '127.0.0.1', UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '3' });
    const base = running.gatewayUrl!;
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await anonymous(base, '203.0.113.5'));
    expect(a).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxy has its own budget.
    expect(await anonymous(base, '203.0.113.6')).toBe(401);
    // The proxy appends the address it saw: an entry the client wrote in front changes nothing.
    expect(await anonymous(base, '198.51.100.9, 203.0.113.5')).toBe(429);
    // Written as IPv4-mapped IPv6, the same client.
    expect(await anonymous(base, '::ffff:203.0.113.5')).toBe(429);
    // One IPv6 host taking a new address in its /64 for every request counts once; the next /64 is another client.
    const v6 = [];
    for (let i = 1; i <= 4; i++) v6.push(await anonymous(base, `2001:db8:1:2::${i.toString(16)}`));
    expect(v6).toEqual([401, 401, 401, 429]);
    expect(await anonymous(base, '2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(429);
    expect(await anonymous(base, '2001:db8:1:3::1')).toBe(401);
    // The proxy's own requests (no header) are its own.
    expect(await anonymous(base)).toBe(401);
  });

  it('without TRUST_PROXY, or from a peer it does not name, X-Forwarded-For is not believed: every client shares the limit', async () => {
    const settings: Array<Record<string, string>> = [{}, { TRUST_PROXY: '::1' }];
    for (const env of settings) {
      const running = await system.start(['gateway', 'ingest'], { ...env, UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '3' });
      const base = running.gatewayUrl!;
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await anonymous(base, '203.0.113.5'));
      statuses.push(await anonymous(base, '203.0.113.6'), await anonymous(base, '2001:db8:9::1'), await anonymous(base));
      expect(statuses, JSON.stringify(env)).toEqual([401, 401, 401, 429, 429, 429]);
      await system.stop();
    }
  });
});

describe('internal and operational ports', () => {
  const TOKEN = 'edge-ingest-token-0123456789';
  const envelope = { source: 'generic', payload: { account: 'a', amount: '1.00', currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' } };

  it('the ingestion service refuses a request without INGEST_TOKEN or with a wrong one (401), and stores with it', async () => {
    const gateway = await startGatewayProcess();
    const store = (headers: Record<string, string>) =>
      fetch(new URL('/internal/v1/raw', gateway.ingestUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ tenantId: 'qa-b', envelope }),
      });
    const wrong: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-the-token-0123456789' }, { authorization: TOKEN }];
    for (const headers of wrong) {
      const refused = await store(headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
    }
    const replay = await fetch(new URL('/internal/v1/replay', gateway.ingestUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: null, selectors: {} }),
    });
    expect(replay.status).toBe(401);
    expect(await system.mongo.raw.countDocuments({ tenantId: 'qa-b' })).toBe(0);
    expect((await store({ authorization: `Bearer ${TOKEN}` })).status).toBe(201);
    expect(await system.mongo.raw.countDocuments({ tenantId: 'qa-b' })).toBe(1);
    // Its health checks answer anyone who reaches the port.
    expect((await fetch(new URL('/healthz', gateway.ingestUrl))).status).toBe(200);
  });

  it('a refusal of a request without a body keeps its connection for the next request', async () => {
    const running = await system.start(['gateway', 'ingest']);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    system.defer(async () => agent.destroy());
    const ask = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; connection: string | undefined; socket: unknown }>((resolve, reject) => {
        const req = request(new URL(path, running.gatewayUrl), {
          method,
          agent,
          headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) },
        });
        req.on('response', (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection, socket: req.socket }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const first = await ask('GET', '/nope');
    const second = await ask('GET', '/api/v1/transactions');
    expect([first.status, second.status]).toEqual([404, 401]);
    expect(second.socket).toBe(first.socket);
    expect(first.connection).toBe('keep-alive');
  });

  it('/metrics is not served on the API or ingestion port, only on the ops port', async () => {
    const gateway = await startGatewayProcess();
    expect(
      (
        await fetch(new URL('/api/v1/transactions', gateway.gatewayUrl), {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(envelope),
        })
      ).status,
    ).toBe(202);
    expect((await fetch(new URL('/metrics', gateway.gatewayUrl))).status).toBe(404);
    expect((await fetch(new URL('/metrics', gateway.gatewayUrl), { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(404);
    expect((await fetch(new URL('/metrics', gateway.ingestUrl), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect(gateway.opsUrl).toBeDefined();
    const scraped = await fetch(new URL('/metrics', gateway.opsUrl));
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^prismo_raw_accepted_total\{source="generic"\} 1$/m);
    expect((await fetch(new URL('/readyz', gateway.gatewayUrl))).status).toBe(200);
  });

  it('the ops port listens on OPS_HOST (loopback by default), not on HOST that publishes the API', async () => {
    const apart = await system.start(['gateway', 'ingest'], { HOST: '::1' });
    expect(new URL(apart.gatewayUrl!).hostname).toBe('[::1]');
    expect(new URL(apart.opsUrl!).hostname).toBe('127.0.0.1');
    expect((await fetch(new URL('/metrics', apart.opsUrl))).status).toBe(200);
    expect((await fetch(new URL('/metrics', apart.gatewayUrl))).status).toBe(404);
    await system.stop();
    const told = await system.start(['deliverer'], { OPS_HOST: '::1' });
    expect(new URL(told.opsUrl!).hostname).toBe('[::1]');
    expect((await fetch(new URL('/metrics', told.opsUrl))).status).toBe(200);
  });

  it('/readyz asked 200 times checks the databases a few times, not 200', async () => {
    const target = new URL(system.pg.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    system.defer(() => proxy.close());
    const running = await system.start(['gateway', 'ingest'], {}, { databaseUrl: throughProxy(system.pg.url, proxy) });
    const readyz = async () => {
      const response = await fetch(`${running.gatewayUrl}/readyz`);
      expect(response.status).toBe(200);
      await response.text();
    };
    await readyz();
    // One check's queries, once the cached report has expired.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    let before = proxy.chunksFromClients;
    await readyz();
    const perCheck = proxy.chunksFromClients - before;
    expect(perCheck).toBeGreaterThan(0);
    before = proxy.chunksFromClients;
    const started = performance.now();
    // Over about two seconds: 20 rounds of 10 at once, 100 ms apart.
    for (let i = 0; i < 200; i += 10) {
      await Promise.all(Array.from({ length: 10 }, readyz));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const checks = (proxy.chunksFromClients - before) / perCheck;
    console.log(`/readyz x200 in ${seconds.toFixed(2)} s: ${checks} database checks (${perCheck} queries each)`);
    expect(checks).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });
});

describe('pages that must not be framed', () => {
  it('/docs, its assets, /guide and /board carry a Content-Security-Policy with frame-ancestors none', async () => {
    const running = await system.start(['gateway', 'ingest']);
    const csp = async (path: string) => {
      const response = await fetch(`${running.gatewayUrl}${path}`);
      expect(response.status, path).toBe(200);
      const page = await response.text();
      return { header: response.headers.get('content-security-policy') ?? '', page };
    };
    const docs = await csp('/docs/');
    expect(docs.header).toContain("frame-ancestors 'none'");
    expect(docs.header).not.toContain('unsafe-inline');
    // Everything the page loads is its own (the policy allows nothing else), and none of it is inline.
    expect([...docs.page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => /^(https?:)?\/\//.test(u))).toEqual([]);
    expect(docs.page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(docs.page).not.toMatch(/<style/);
    expect((await csp('/guide/api.md')).header).toContain("frame-ancestors 'none'");
    expect((await csp('/board')).header).toContain("frame-ancestors 'none'");
  });

  it.skipIf(!hasChromium())('/docs still renders under its policy in Chromium, with no violation reported', async () => {
    const running = await system.start(['gateway', 'ingest']);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(`${running.gatewayUrl}/docs/`);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 });
      expect(await page.textContent('.swagger-ui .info .title')).toContain('Prismo Cloud transactions API');
      expect(await page.locator('.opblock').count()).toBeGreaterThan(5);
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
