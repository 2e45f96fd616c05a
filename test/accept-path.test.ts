// The accept path (auth -> idempotency -> insert) depends on MongoDB alone: it keeps answering 202 through a
// PostgreSQL outage longer than every cache, answers 503 with Retry-After (never 500) when MongoDB is gone,
// refuses at the door what could never be processed, and fingerprints requests canonically.
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role, System } from '../src/cli/system.js';
import { ACCEPT_PATH_TIMEOUT_MS } from '../src/db/mongo.js';
import { type AcceptCollections, acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey, revokeApiKey } from '../src/gateway/api-key-store.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { fuzzGateway } from './support/fuzz.js';
import { useSystem } from './support/system.js';
import { startTcpProxy, type TcpProxy, throughProxy } from './support/tcp-proxy.js';

const CACHE_MS = 1_000;

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { errors?: Array<{ path: string; message: string }> };
}

async function send(
  url: string,
  init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> },
): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? 'POST',
    headers: {
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : {} };
}

const generic = (i: number, extra: Record<string, unknown> = {}) => ({
  source: 'generic',
  externalId: `accept-${i}`,
  payload: { account: `acc-${i % 5}`, amountMinor: 1_000 + i, currency: 'EUR', occurredAt: '2026-11-25T10:00:00Z', ...extra },
});

describe.skipIf(!mongoUri)('the accept path', () => {
  const sys = useSystem({
    API_KEY_CACHE_MS: String(CACHE_MS),
    POLL_INTERVAL_MS: '200',
    BATCH_MAX_WAIT_MS: '20',
    RETRY_BASE_MS: '50',
    RETRY_MAX_MS: '1000',
  });
  let pg: TestPostgres;
  let mongo: TestMongo;
  let accept: AcceptCollections;
  beforeAll(async () => {
    ({ pg, mongo } = sys);
    accept = acceptCollections(mongo.db);
    await ensureAcceptIndexes(accept);
  });

  async function keyFor(tenant: string): Promise<string> {
    return (await createApiKey(accept, tenant, ['transactions:write', 'transactions:read', 'admin'])).key;
  }

  async function proxied(roles: Role[], which: 'postgres' | 'mongo'): Promise<{ system: System; proxy: TcpProxy }> {
    const target = new URL((which === 'postgres' ? pg.url : mongoUri!).replace(/^[a-z]+:/, 'http:'));
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    sys.defer(() => proxy.close());
    const system = await sys.start(
      roles,
      { WORKER_ID: `accept-${which}` },
      which === 'postgres' ? { databaseUrl: throughProxy(pg.url, proxy) } : { mongoUri: throughProxy(mongoUri!, proxy) },
    );
    return { system, proxy };
  }

  describe('refused at the door, with the path, storing nothing', () => {
    it('prototype-poisoning keys: 400 naming the path; in a batch only that item is refused', async () => {
      const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
      const key = await keyFor('door1');
      const url = `${gatewayUrl}/api/v1/transactions`;
      const proto = await send(url, { key, body: '{"source":"generic","payload":{"account":"a","__proto__":{"polluted":true}}}' });
      expect(proto.status).toBe(400);
      expect(proto.json.errors).toEqual([{ path: 'payload.__proto__', message: 'the key "__proto__" is not allowed' }]);
      const ctor = await send(url, { key, body: '{"source":"generic","payload":{"constructor":{"prototype":{"x":1}}}}' });
      expect(ctor.status).toBe(400);
      expect(ctor.json.errors?.[0]?.path).toBe('payload.constructor.prototype');
      const topLevel = await send(url, { key, body: '{"__proto__":{"polluted":true},"source":"generic","payload":{}}' });
      expect(topLevel.json.errors?.[0]?.path).toBe('__proto__');

      const batch = await send(`${url}/batch`, {
        key,
        body: `{"items":[${JSON.stringify(generic(1))},{"source":"generic","payload":{"__proto__":{}}},${JSON.stringify(generic(2))}]}`,
      });
      expect(batch.status).toBe(207);
      const results = batch.json.results as Array<{ status: number; problem?: { errors: Array<{ path: string }> } }>;
      expect(results.map((r) => r.status)).toEqual([202, 400, 202]);
      expect(results[1]!.problem!.errors[0]!.path).toBe('items.1.payload.__proto__');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await mongo.raw.countDocuments({ tenantId: 'door1' })).toBe(2);
    });

    it('text/plain is 415 like every non-JSON type', async () => {
      const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
      const key = await keyFor('door2');
      const answer = await send(`${gatewayUrl}/api/v1/transactions`, {
        key,
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(generic(1)),
      });
      expect(answer.status).toBe(415);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await mongo.raw.countDocuments({ tenantId: 'door2' })).toBe(0);
    });

    it('NUL anywhere: in a value, in a key, in the externalId, in a query parameter', async () => {
      const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
      const key = await keyFor('door3');
      const url = `${gatewayUrl}/api/v1/transactions`;
      const cases: Array<[unknown, string]> = [
        [generic(1, { metadata: { note: 'a\u0000b' } }), 'payload.metadata.note'],
        [generic(2, { metadata: { 'ke\u0000y': 'v' } }), 'payload.metadata.ke\\u0000y'],
        [{ ...generic(3), externalId: 'x\u0000y' }, 'externalId'],
        [generic(4, { description: '\u0000' }), 'payload.description'],
      ];
      for (const [body, path] of cases) {
        const answer = await send(url, { key, body });
        expect(answer.status, path).toBe(400);
        expect(answer.json.errors?.[0]).toEqual({ path, message: expect.stringContaining('NUL') });
      }
      for (const query of ['account=a%00b', 'source=s%00', 'currency=%00']) {
        const answer = await send(`${url}?${query}`, { method: 'GET', key });
        expect(answer.status, query).toBe(400);
        expect(answer.json.errors?.[0]?.path).toBe(`querystring.${query.split('=')[0]}`);
      }
      expect(await mongo.raw.countDocuments({ tenantId: 'door3' })).toBe(0);
    });

    it('money no mapper could hold: XXX, XTS, unknown codes at payload.currency; amounts outside the one grammar; numbers beyond 2^53', async () => {
      const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
      const key = await keyFor('door4');
      const url = `${gatewayUrl}/api/v1/transactions`;
      const withAmount = (amount: unknown, currency = 'EUR') => ({
        source: 'generic',
        payload: { account: 'a', amount, currency, occurredAt: '2026-11-25T10:00:00Z' },
      });
      const cases: Array<[unknown, string, RegExp]> = [
        [withAmount('1.00', 'XXX'), 'payload.currency', /"no currency"/],
        [withAmount('1.00', 'XTS'), 'payload.currency', /"testing"/],
        [withAmount('1.00', 'ZZZ'), 'payload.currency', /not an ISO 4217/],
        [{ source: 'stripe', payload: { object: 'charge', id: 'ch_1', amount: 100, currency: 'xts' } }, 'payload.currency', /"testing"/],
        [withAmount('  12.30 '), 'payload.amount', /not a decimal amount/],
        [withAmount('+5'), 'payload.amount', /not a decimal amount/],
        [withAmount('1.5', 'JPY'), 'payload.amount', /more than 0 decimal places/],
      ];
      for (const [body, path, message] of cases) {
        const answer = await send(url, { key, body });
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.json.errors?.[0]?.path).toBe(path);
        expect(answer.json.errors?.[0]?.message).toMatch(message);
      }
      // 2^53 + 1 arrives as 9007199254740992 after JSON.parse: refused, and that rounded value is never quoted.
      const big = await send(url, {
        key,
        body: '{"source":"generic","payload":{"account":"a","amount":9007199254740993,"currency":"EUR","occurredAt":"2026-11-25T10:00:00Z"}}',
      });
      expect(big.status).toBe(400);
      expect(big.json.errors?.[0]?.path).toBe('payload.amount');
      expect(big.json.detail).toMatch(/beyond 2\^53.*as a string/);
      expect(JSON.stringify(big.json)).not.toContain('9007199254740992');
      expect(await mongo.raw.countDocuments({ tenantId: 'door4' })).toBe(0);
      // The same amount as a string is exact.
      expect((await send(url, { key, body: withAmount('90071992547409.93') })).status).toBe(202);
      // A refusal at the door is not kept for the Idempotency-Key: the corrected request under the same key
      // is a first request, not a reuse.
      const headers = { 'idempotency-key': `door-${Date.now()}` };
      expect((await send(url, { key, headers, body: withAmount('1.00', 'XTS') })).status).toBe(400);
      expect((await send(url, { key, headers, body: withAmount('1.00') })).status).toBe(202);
    });
  });

  it('an Idempotency-Key fingerprint is canonical JSON: the same request with keys reordered is replayed, not a 422', async () => {
    const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
    const key = await keyFor('canon');
    const url = `${gatewayUrl}/api/v1/transactions`;
    const headers = { 'idempotency-key': `canon-${Date.now()}` };
    const first = await send(url, {
      key,
      headers,
      body: '{"source":"generic","externalId":"c-1","payload":{"account":"a","amountMinor":5,"currency":"EUR","occurredAt":"2026-11-25T10:00:00Z"}}',
    });
    const reordered = await send(url, {
      key,
      headers,
      body: '{ "payload": { "occurredAt": "2026-11-25T10:00:00Z", "currency": "EUR", "amountMinor": 5, "account": "a" },\n  "externalId": "c-1", "source": "generic" }',
    });
    expect(first.status).toBe(202);
    expect(reordered.status).toBe(202);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(reordered.json.id).toBe(first.json.id);
    const changed = await send(url, { key, headers, body: generic(99) });
    expect(changed.status).toBe(422);
  });

  it('a revoked key stops working once API_KEY_CACHE_MS has passed', async () => {
    const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
    const { key, record } = await createApiKey(accept, 'revoked', ['transactions:write']);
    const url = `${gatewayUrl}/api/v1/transactions`;
    expect((await send(url, { key, body: generic(1) })).status).toBe(202);
    await revokeApiKey(accept, record.id);
    const revokedAt = Date.now();
    await sleep(CACHE_MS + 100 - (Date.now() - revokedAt));
    expect((await send(url, { key, body: generic(2) })).status).toBe(401);
  });

  it('PostgreSQL cut for 65 s: every POST answers 202 with never-used keys and Idempotency-Keys, reads 503 + Retry-After, and everything lands once after', async () => {
    const { system, proxy } = await proxied(['gateway', 'ingest', 'processor'], 'postgres');
    const url = `${system.gatewayUrl}/api/v1/transactions`;
    // Stored keys never used before the outage: no cache could be hiding PostgreSQL.
    const keys = await Promise.all(['out1', 'out2', 'out3', 'out4'].map(keyFor));
    // One transaction processed before the outage, whose structured part then lives only in PostgreSQL.
    const readerKey = await keyFor('outreader');
    const earlier = await send(url, { key: readerKey, body: generic(1) });
    await waitFor('the earlier transaction processed', () => mongo.raw.findOne({ processed: true, tenantId: 'outreader' }));
    proxy.cut();
    const outageMs = Number(process.env.OUTAGE_MS ?? 65_000);
    const startedAt = Date.now();
    const bySecond = new Map<number, Record<number, number>>();
    const accepted = new Map<string, number>();
    const reads: Array<Promise<Answer>> = [];
    let i = 0;
    while (Date.now() - startedAt < outageMs) {
      const tick = Date.now();
      const burst = Array.from({ length: 5 }, async () => {
        const n = i++;
        const amount = 1_000 + n;
        const answer = await send(url, {
          key: keys[n % keys.length]!,
          body: {
            source: 'generic',
            externalId: `outage-${n}`,
            payload: { account: `acc-${n % 7}`, amountMinor: amount, currency: 'EUR', occurredAt: '2026-11-25T10:00:00Z' },
          },
          headers: n % 2 === 0 ? { 'idempotency-key': `outage-key-${n}` } : {},
        });
        const second = Math.floor((Date.now() - startedAt) / 1000);
        const counts = bySecond.get(second) ?? {};
        counts[answer.status] = (counts[answer.status] ?? 0) + 1;
        bySecond.set(second, counts);
        if (answer.status === 202) accepted.set(answer.json.id as string, amount);
      });
      if (i % 25 === 0) {
        reads.push(send(`${url}?limit=5`, { method: 'GET', key: keys[0]! }));
      }
      await Promise.all(burst);
      await sleep(Math.max(0, 500 - (Date.now() - tick)));
    }
    // GET by id answers from MongoDB while it needs nothing else (a pending transaction), and 503 once the
    // answer needs PostgreSQL (a processed transaction's structured part).
    const posted = await send(url, { key: readerKey, body: generic(2) });
    const pending = await send(`${url}/${posted.json.id as string}`, { method: 'GET', key: readerKey });
    expect(pending).toMatchObject({ status: 200, json: { status: 'pending', transaction: null } });
    const byId = await send(`${url}/${earlier.json.id as string}`, { method: 'GET', key: readerKey });
    const readAnswers = await Promise.all(reads);
    proxy.restore();

    const all = [...bySecond.values()].reduce<Record<number, number>>((sum, counts) => {
      for (const [status, n] of Object.entries(counts)) sum[Number(status)] = (sum[Number(status)] ?? 0) + n;
      return sum;
    }, {});
    console.log(
      `[outage] PostgreSQL cut ${outageMs / 1000} s: POSTs by status ${JSON.stringify(all)}; reads ${JSON.stringify(readAnswers.map((r) => r.status))}; by second ${JSON.stringify(Object.fromEntries(bySecond))}`,
    );
    expect(Object.keys(all)).toEqual(['202']);
    expect(accepted.size).toBe(i);
    expect(readAnswers.length).toBeGreaterThan(0);
    for (const read of [...readAnswers, byId]) {
      expect(read.status).toBe(503);
      expect(read.headers.get('retry-after')).toBe('1');
    }

    const ids = [...accepted.keys()];
    await waitFor(
      'every accepted transaction in PostgreSQL',
      async () => (await pg.db.one('SELECT count(*)::int AS n FROM transactions WHERE raw_id = ANY($1)', [ids], (r) => r.n)) === ids.length,
      {
        timeoutMs: 90_000,
      },
    );
    const { n, d, sum } = await pg.db.one(
      'SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d, sum(amount_minor)::text AS sum FROM transactions WHERE raw_id = ANY($1)',
      [ids],
    );
    expect({ n, d }).toEqual({ n: ids.length, d: ids.length });
    expect(BigInt(sum)).toBe([...accepted.values()].reduce((a, b) => a + BigInt(b), 0n));
  }, 240_000);

  it('no request answers 500 while PostgreSQL is down: 2,000 hostile requests, writes unaffected, reads 503 with Retry-After', async () => {
    const { system, proxy } = await proxied(['gateway', 'ingest'], 'postgres');
    const key = await keyFor('fuzzout');
    proxy.cut();
    const { statuses } = await fuzzGateway(system.gatewayUrl!, key, { readsMayBeUnavailable: true });
    proxy.restore();
    console.log(`[fuzz, PostgreSQL down] statuses ${JSON.stringify(statuses)}`);
    expect(statuses[500]).toBeUndefined();
    expect(statuses[202] ?? 0).toBeGreaterThan(0);
  }, 180_000);

  it('MongoDB cut: POSTs answer 503 with Retry-After, never 500; nothing half-stored; after it returns nothing is lost', async () => {
    const { system, proxy } = await proxied(['gateway', 'ingest', 'processor'], 'mongo');
    const key = await keyFor('mongoout');
    const url = `${system.gatewayUrl}/api/v1/transactions`;
    const before = await Promise.all(Array.from({ length: 20 }, (_, n) => send(url, { key, body: generic(500 + n) })));
    expect(before.map((a) => a.status)).toEqual(Array(20).fill(202));

    proxy.cut();
    const cutAt = performance.now();
    const during = await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        send(url, { key, body: generic(600 + n), headers: n % 2 ? { 'idempotency-key': `mongo-cut-${n}` } : {} }),
      ),
    );
    console.log(
      `[outage] MongoDB cut: POSTs ${JSON.stringify(during.map((a) => a.status))} in ${Math.round(performance.now() - cutAt)} ms`,
    );
    for (const answer of during) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    proxy.restore();

    // Nothing half-stored: none of the refused transactions exists; the accepted ones all land once.
    await waitFor('MongoDB back', async () => (await send(url, { key, body: generic(700) })).status === 202, { timeoutMs: 60_000 });
    expect(await mongo.raw.countDocuments({ externalId: { $in: during.map((_, n) => `accept-${600 + n}`) } })).toBe(0);
    const ids = [...before.map((a) => a.json.id as string)];
    await waitFor(
      'the accepted transactions processed',
      async () => (await pg.db.one('SELECT count(*)::int AS n FROM transactions WHERE raw_id = ANY($1)', [ids], (r) => r.n)) === ids.length,
      {
        timeoutMs: 60_000,
      },
    );
    // A key whose request failed with MongoDB down works again once the abandoned-request window has passed
    // at the latest; a key never recorded works at once.
    const retried = await send(url, { key, body: generic(600), headers: {} });
    expect(retried.status).toBe(202);
  }, 180_000);

  // A partition, not a refusal: the connections stay open and nothing comes back. Only the accept path's
  // deadline (ACCEPT_PATH_TIMEOUT_MS, an AbortSignal on each operation) ends these requests; without it they
  // waited 70 s, until the driver's monitor gave up on the server, and this test fails on its own timeout.
  it(
    'MongoDB stops answering: POSTs answer 503 with Retry-After within the accept path deadline, never hang',
    async () => {
      const { system, proxy } = await proxied(['gateway', 'ingest'], 'mongo');
      const key = await keyFor('mongosilent');
      const url = `${system.gatewayUrl}/api/v1/transactions`;
      expect((await send(url, { key, body: generic(800) })).status).toBe(202);

      proxy.setDelay(10 * ACCEPT_PATH_TIMEOUT_MS);
      const silentAt = performance.now();
      const during = await Promise.all([
        send(url, { key, body: generic(801) }),
        send(url, { key, body: generic(802), headers: { 'idempotency-key': 'silent-1' } }),
        send(`${url}/batch`, { key, body: { items: [generic(803), generic(804)] } }),
      ]);
      console.log(
        `[outage] MongoDB silent: ${JSON.stringify(during.map((a) => a.status))} in ${Math.round(performance.now() - silentAt)} ms`,
      );
      for (const answer of during) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    },
    4 * ACCEPT_PATH_TIMEOUT_MS,
  );
});
