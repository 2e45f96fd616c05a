// The public API against the running gateway and ingestion on real servers: the auth matrix, idempotency,
// batch ingest, reads and pagination, limits, OpenAPI, and a fuzz run of hostile requests.
import { ObjectId } from 'mongodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Role, System } from '../src/cli/system.js';
import { EVENT_TYPES } from '../src/domain/events.js';
import type { Transaction } from '../src/domain/transaction.js';
import { type AcceptCollections, acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import { writeTransactions } from '../src/processor/transactions-writer.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { fuzzGateway } from './support/fuzz.js';
import { useSystem } from './support/system.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const STATIC_KEY = 'static-key-acme-0123456789';

describe.skipIf(!mongoUri)('public API', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  let accept: AcceptCollections;
  let system: System;
  let url: string;
  const keys = { writer: '', reader: '', both: '', admin: '', otherTenant: '' };
  const extra: Array<() => Promise<unknown>> = [];

  const sys = useSystem(
    {
      API_KEYS: `acme:${STATIC_KEY}`,
      API_KEY_CACHE_MS: '0',
      POLL_INTERVAL_MS: '200',
      BATCH_MAX_WAIT_MS: '20',
      BODY_LIMIT_BYTES: '65536',
    },
    { resetAfterEach: false },
  );
  const start = (roles: Role[], env: Record<string, string> = {}, mongoUriOverride?: string): Promise<System> =>
    sys.start(roles, env, mongoUriOverride ? { mongoUri: mongoUriOverride } : {});

  beforeAll(async () => {
    ({ pg, mongo } = sys);
    accept = acceptCollections(mongo.db);
    await ensureAcceptIndexes(accept);
    keys.writer = (await createApiKey(accept, 'acme', ['transactions:write'])).key;
    keys.reader = (await createApiKey(accept, 'acme', ['transactions:read'])).key;
    keys.both = (await createApiKey(accept, 'acme', ['transactions:write', 'transactions:read'])).key;
    keys.admin = (await createApiKey(accept, 'acme', ['admin'])).key;
    keys.otherTenant = (await createApiKey(accept, 'globex', ['transactions:write', 'transactions:read'])).key;
    system = await start(['gateway', 'ingest', 'processor']);
    url = system.gatewayUrl!;
  });
  afterEach(async () => {
    for (const stop of extra.splice(0).reverse()) await stop();
  });

  const envelope = (i: number, extraFields: Record<string, unknown> = {}) => ({
    source: 'generic',
    payload: { account: `acc-${i % 3}`, amountMinor: 100 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
    ...extraFields,
  });

  async function call(
    method: string,
    path: string,
    { key, body, headers = {}, base = url }: { key?: string; body?: unknown; headers?: Record<string, string>; base?: string } = {},
  ) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json: json as Record<string, unknown>, text };
  }

  it('the auth matrix: every route x {no key, bad key, wrong scope, other tenant, right key}', async () => {
    const mine = await call('POST', '/api/v1/transactions', { key: keys.writer, body: envelope(1) });
    expect(mine.status).toBe(202);
    const id = mine.json.id as string;
    const routes = [
      { name: 'POST /transactions', method: 'POST', path: '/api/v1/transactions', body: envelope(2), scopeKey: keys.reader, ok: 202 },
      {
        name: 'POST /transactions/batch',
        method: 'POST',
        path: '/api/v1/transactions/batch',
        body: { items: [envelope(3)] },
        scopeKey: keys.reader,
        ok: 207,
      },
      {
        name: 'GET /transactions/:id',
        method: 'GET',
        path: `/api/v1/transactions/${id}`,
        scopeKey: keys.writer,
        ok: 200,
        otherTenant: 404,
      },
      { name: 'GET /transactions', method: 'GET', path: '/api/v1/transactions', scopeKey: keys.writer, ok: 200 },
    ];
    const matrix: Record<string, Record<string, number>> = {};
    for (const route of routes) {
      const as = (key?: string) => call(route.method, route.path, { key, body: route.body }).then((r) => r.status);
      matrix[route.name] = {
        'no key': await as(),
        'bad key': await as('pk_not-a-real-key-0000000000000000'),
        'wrong scope': await as(route.scopeKey),
        'admin only': await as(keys.admin),
        'other tenant': await as(keys.otherTenant),
        'right key': await as(route.method === 'POST' ? keys.writer : keys.reader),
        'static key': await as(STATIC_KEY),
      };
    }
    const admin = (key?: string) => call('POST', '/api/v1/admin/replay', { key, body: { dryRun: true } }).then((r) => r.status);
    matrix['POST /admin/replay'] = {
      'no key': await admin(),
      'bad key': await admin('pk_not-a-real-key-0000000000000000'),
      'wrong scope': await admin(keys.both),
      'other tenant': await admin(keys.otherTenant),
      'right key': await admin(keys.admin),
      'static key': await admin(STATIC_KEY),
    };
    expect(matrix['POST /admin/replay']).toEqual({
      'no key': 401,
      'bad key': 401,
      'wrong scope': 403,
      'other tenant': 403,
      'right key': 200,
      'static key': 403,
    });
    console.log(`[auth-matrix] ${JSON.stringify(matrix)}`);
    for (const route of routes) {
      expect(matrix[route.name], route.name).toEqual({
        'no key': 401,
        'bad key': 401,
        'wrong scope': 403,
        'admin only': 403,
        // Another tenant writes into its own space, and cannot see ours.
        'other tenant': route.otherTenant ?? route.ok,
        'right key': route.ok,
        'static key': route.ok,
      });
    }
    // What the other tenant wrote is its own, and the list it reads holds none of ours.
    expect(await mongo.raw.countDocuments({ tenantId: 'globex' })).toBe(2);
    const theirs = await call('GET', '/api/v1/transactions', { key: keys.otherTenant });
    await waitFor(
      'globex rows',
      async () => (await pg.db.one("SELECT count(*)::int AS n FROM transactions WHERE tenant_id = 'globex'", [], (r) => r.n)) === 2,
    );
    const listed = await call('GET', '/api/v1/transactions', { key: keys.otherTenant });
    expect((listed.json.data as unknown[]).length).toBe(2);
    expect(theirs.status).toBe(200);
    // 403 and 401 are problem+json.
    const forbidden = await call('POST', '/api/v1/transactions', { key: keys.reader, body: envelope(9) });
    expect(forbidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(forbidden.json).toMatchObject({ status: 403, type: '/problems/forbidden' });
  });

  it('Idempotency-Key: replays the first response, 422 for another request, a new request after expiry', async () => {
    const key = `idem-${Date.now()}`;
    const first = await call('POST', '/api/v1/transactions', { key: keys.writer, body: envelope(10), headers: { 'idempotency-key': key } });
    const replay = await call('POST', '/api/v1/transactions', {
      key: keys.writer,
      body: envelope(10),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await mongo.raw.countDocuments({ 'payload.amountMinor': 110 })).toBe(1);

    const reused = await call('POST', '/api/v1/transactions', {
      key: keys.writer,
      body: envelope(11),
      headers: { 'idempotency-key': key },
    });
    expect(reused.status).toBe(422);
    expect(reused.json).toMatchObject({ type: '/problems/idempotency-key-reused', status: 422 });

    // Keys are per tenant: the same key elsewhere is a different key.
    const elsewhere = await call('POST', '/api/v1/transactions', {
      key: keys.otherTenant,
      body: envelope(11),
      headers: { 'idempotency-key': key },
    });
    expect(elsewhere.status).toBe(202);

    await accept.idempotency.updateOne({ _id: JSON.stringify(['acme', key]) }, { $set: { expiresAt: new Date(Date.now() - 1_000) } });
    const afterExpiry = await call('POST', '/api/v1/transactions', {
      key: keys.writer,
      body: envelope(11),
      headers: { 'idempotency-key': key },
    });
    expect(afterExpiry.status).toBe(202);
    expect(afterExpiry.headers.get('idempotent-replayed')).toBeNull();
    expect(afterExpiry.json.id).not.toBe(first.json.id);
  });

  it('Idempotency-Key: a second request while the first is in flight gets 409', async () => {
    // Slow down the raw insert (a separate ingestion service on a slowed MongoDB connection) behind a
    // dedicated gateway, so the first request is still running when the second arrives.
    const target = new URL(mongoUri!.replace(/^mongodb:/, 'http:'));
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    extra.push(() => proxy.close());
    const slowIngest = await start(['ingest'], {}, mongoUri!.replace(`${target.hostname}:${target.port}`, proxy.address));
    extra.push(() => slowIngest.stop());
    const slow = await start(['gateway'], { INGEST_URL: slowIngest.ingestUrl! });
    extra.push(() => slow.stop());
    proxy.setDelay(400);
    const key = `inflight-${Date.now()}`;
    const [a, b] = await Promise.all([
      call('POST', '/api/v1/transactions', {
        key: keys.writer,
        body: envelope(20),
        headers: { 'idempotency-key': key },
        base: slow.gatewayUrl,
      }),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
        call('POST', '/api/v1/transactions', {
          key: keys.writer,
          body: envelope(20),
          headers: { 'idempotency-key': key },
          base: slow.gatewayUrl,
        }),
      ),
    ]);
    expect([a.status, b.status]).toEqual([202, 409]);
    expect(b.json).toMatchObject({ type: '/problems/idempotency-in-flight' });
    expect(b.headers.get('retry-after')).toBe('1');
    proxy.setDelay(0);
    const later = await call('POST', '/api/v1/transactions', {
      key: keys.writer,
      body: envelope(20),
      headers: { 'idempotency-key': key },
      base: slow.gatewayUrl,
    });
    expect(later).toMatchObject({ status: 202 });
    expect(later.json.id).toBe(a.json.id);
  });

  it('externalId: a resubmission returns the first transaction id and stores nothing', async () => {
    const first = await call('POST', '/api/v1/transactions', { key: keys.writer, body: envelope(30, { externalId: 'order-30' }) });
    const again = await call('POST', '/api/v1/transactions', { key: keys.writer, body: envelope(31, { externalId: 'order-30' }) });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ id: first.json.id, duplicate: true });
    expect(await mongo.raw.countDocuments({ externalId: 'order-30' })).toBe(1);
    // Once the first is processed, a resubmission says so rather than "pending".
    await waitFor('order-30 processed', async () => {
      const r = await call('GET', `/api/v1/transactions/${first.json.id}`, { key: keys.reader });
      return r.json.status === 'processed';
    });
    const later = await call('POST', '/api/v1/transactions', { key: keys.writer, body: envelope(32, { externalId: 'order-30' }) });
    expect(later.json).toEqual({ id: first.json.id, status: 'processed', statusUrl: first.json.statusUrl, duplicate: true });
    expect(first.json.status).toBe('pending');
    const batch = await call('POST', '/api/v1/transactions/batch', {
      key: keys.writer,
      body: { items: [envelope(33, { externalId: 'order-30' }), envelope(34, { externalId: 'order-34' })] },
    });
    expect(batch.json.results).toEqual([
      { index: 0, status: 202, id: first.json.id, documentStatus: 'processed', statusUrl: first.json.statusUrl, duplicate: true },
      { index: 1, status: 202, id: expect.any(String), documentStatus: 'pending', statusUrl: expect.any(String) },
    ]);
  });

  it('batch ingest: 207 with a result per item; invalid items never block valid ones', async () => {
    const before = await mongo.raw.countDocuments({ tenantId: 'acme' });
    const items = [
      envelope(40),
      { source: 'generic' },
      envelope(41, { externalId: 'batch-41' }),
      'not an object',
      envelope(42, { externalId: 'batch-41' }),
      { ...envelope(43), payload: { $where: 'x' } },
    ];
    const response = await call('POST', '/api/v1/transactions/batch', { key: keys.writer, body: { items } });
    expect(response.status).toBe(207);
    const results = response.json.results as Array<{
      index: number;
      status: number;
      id?: string;
      duplicate?: boolean;
      problem?: { errors?: Array<{ path: string }> };
    }>;
    expect(results.map((r) => r.status)).toEqual([202, 400, 202, 400, 202, 400]);
    expect(results[4]).toMatchObject({ id: results[2]!.id, duplicate: true });
    expect(results[1]!.problem!.errors!.map((e) => e.path)).toEqual(['items.1.payload']);
    expect(results[5]!.problem!.errors!.map((e) => e.path)).toEqual(['items.5.payload.$where']);
    expect(response.json).toMatchObject({ accepted: 3, rejected: 3 });
    expect((await mongo.raw.countDocuments({ tenantId: 'acme' })) - before).toBe(2);

    const tooMany = await call('POST', '/api/v1/transactions/batch', {
      key: keys.writer,
      body: { items: Array.from({ length: 1_001 }, (_, i) => envelope(i)) },
    });
    expect(tooMany.status).toBe(400);
  });

  it('GET /transactions/:id shows progress, then the structured transaction once processed', async () => {
    const posted = await call('POST', '/api/v1/transactions', {
      key: keys.writer,
      body: {
        source: 'generic',
        payload: {
          account: 'acc-9',
          amount: '-12.34',
          currency: 'EUR',
          occurredAt: '2026-11-24T10:00:00Z',
          counterparty: { name: 'Café Zoë' },
        },
      },
    });
    const id = posted.json.id as string;
    const done = await waitFor('processed', async () => {
      const r = await call('GET', `/api/v1/transactions/${id}`, { key: keys.reader });
      return r.json.status === 'processed' ? r.json : undefined;
    });
    expect(done.transaction).toMatchObject({
      id,
      account: 'acc-9',
      direction: 'debit',
      amount: { minor: '1234', value: '12.34', currency: 'EUR' },
      counterparty: { name: 'Café Zoë', merchantCategoryCode: null },
      status: 'posted',
    });
  });

  it('pagination walks 2,500 rows newest first with no gaps or repeats, on ties too', async () => {
    const tenant = `pager${Date.now()}`;
    const key = (await createApiKey(accept, tenant, ['transactions:read'])).key;
    // 2,500 rows over 1,000 distinct instants: many share an occurred_at, so the id breaks ties.
    const rows: Transaction[] = Array.from({ length: 2_500 }, (_, i) => ({
      rawId: new ObjectId().toHexString(),
      tenantId: tenant,
      source: 'generic',
      externalId: null,
      providerRef: null,
      supersedes: null,
      revisionKey: null,
      accountRef: `acc-${i % 4}`,
      counterparty: null,
      direction: 'credit',
      amountMinor: BigInt(i + 1),
      currency: 'USD',
      status: i % 10 === 0 ? 'pending' : 'posted',
      description: null,
      category: null,
      occurredAt: new Date(Date.UTC(2026, 0, 1) + (i % 1_000) * 60_000),
      bookedAt: null,
      receivedAt: new Date(),
      metadata: {},
    }));
    for (let i = 0; i < rows.length; i += 500) await writeTransactions(pg.db, rows.slice(i, i + 500));

    const seen: Array<{ id: string; occurredAt: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await call('GET', `/api/v1/transactions?limit=100${cursor ? `&starting_after=${cursor}` : ''}`, { key });
      expect(page.status).toBe(200);
      seen.push(...(page.json.data as Array<{ id: string; occurredAt: string }>));
      cursor = page.json.next_starting_after as string | null;
      expect(page.json.has_more).toBe(cursor !== null);
      pages++;
    } while (cursor && pages < 100);
    expect(pages).toBe(25);
    expect(seen).toHaveLength(2_500);
    expect(new Set(seen.map((t) => t.id)).size).toBe(2_500);
    expect(new Set(seen.map((t) => t.id))).toEqual(new Set(rows.map((r) => r.rawId)));
    const times = seen.map((t) => Date.parse(t.occurredAt));
    expect(times.every((t, i) => i === 0 || t <= times[i - 1]!)).toBe(true);

    const filtered = await call('GET', '/api/v1/transactions?limit=100&status=pending&account=acc-0', { key });
    // i % 10 === 0 implies i % 4 is 0 or 2: pending rows on acc-0 are those with i % 20 === 0.
    expect((filtered.json.data as unknown[]).length).toBe(100);
    expect(
      (filtered.json.data as Array<{ status: string; account: string }>).every((t) => t.status === 'pending' && t.account === 'acc-0'),
    ).toBe(true);
    const unknownCursor = await call('GET', `/api/v1/transactions?starting_after=${new ObjectId().toHexString()}`, { key });
    expect(unknownCursor.status).toBe(404);
    expect(unknownCursor.json).toMatchObject({ type: '/problems/not-found', errors: [{ path: 'querystring.starting_after' }] });
  });

  it('limits: 429 with Retry-After per key, 413 over the body limit', async () => {
    const limited = await start(['gateway', 'ingest'], { RATE_LIMIT_PER_MINUTE: '3' });
    extra.push(() => limited.stop());
    const statuses: number[] = [];
    let last!: Awaited<ReturnType<typeof call>>;
    for (let i = 0; i < 4; i++) {
      last = await call('GET', '/api/v1/transactions?limit=1', { key: keys.reader, base: limited.gatewayUrl });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // Another key has its own budget.
    expect((await call('GET', '/api/v1/transactions?limit=1', { key: keys.both, base: limited.gatewayUrl })).status).toBe(200);

    const big = await call('POST', '/api/v1/transactions', {
      key: keys.writer,
      body: { source: 'generic', payload: { blob: 'x'.repeat(70_000) } },
    });
    expect(big.status).toBe(413);
  });

  it('serves the OpenAPI document generated from the route schemas, and a docs page', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toMatch(/^3\./);
    const paths = doc.json.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths).sort()).toEqual([
      '/api/v1/admin/board/overview',
      '/api/v1/admin/documents',
      '/api/v1/admin/documents/{id}',
      '/api/v1/admin/documents/{id}/payload',
      '/api/v1/admin/reconciliation',
      '/api/v1/admin/replay',
      '/api/v1/events',
      '/api/v1/statements',
      '/api/v1/statements/{id}',
      '/api/v1/transactions',
      '/api/v1/transactions/batch',
      '/api/v1/transactions/{id}',
      '/api/v1/webhook-endpoints',
      '/api/v1/webhook-endpoints/{id}',
      '/api/v1/webhook-endpoints/{id}/deliveries',
      '/api/v1/webhook-endpoints/{id}/resends',
    ]);
    // What Prismo sends: one OpenAPI 3.1 webhook per event type.
    expect(Object.keys(doc.json.webhooks as object).sort()).toEqual([...EVENT_TYPES].sort());
    expect(Object.keys(paths['/api/v1/transactions']!).sort()).toEqual(['get', 'post']);
    expect(JSON.stringify(paths['/api/v1/transactions']!.post)).toContain('externalId');
    expect(Object.keys((paths['/api/v1/statements']!.post as { requestBody: { content: object } }).requestBody.content)).toEqual([
      'application/xml',
      'text/xml',
    ]);
    const page = await fetch(`${url}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
  });

  it('fuzz: 2,000 hostile or malformed requests get no 5xx, store nothing when rejected, and the server stays healthy', async () => {
    const tenant = `fuzz${Date.now()}`;
    const key = (await createApiKey(accept, tenant, ['transactions:write', 'transactions:read'])).key;
    const before = await mongo.raw.countDocuments({ tenantId: tenant });
    const { statuses, accepted } = await fuzzGateway(url, key);
    const stored = (await mongo.raw.countDocuments({ tenantId: tenant })) - before;
    console.log(`[fuzz] 2000 requests; statuses ${JSON.stringify(statuses)}; accepted items ${accepted}; stored ${stored}`);
    expect(Object.keys(statuses).every((status) => Number(status) < 500)).toBe(true);
    // Everything stored was accepted (replays and duplicates store nothing new), nothing rejected was stored.
    expect(stored).toBeLessThanOrEqual(accepted);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('POST', '/api/v1/transactions', { key, body: envelope(1) })).status).toBe(202);
  });

  it("admin replay re-queues only the tenant's own dead documents, after a dry run", async () => {
    const dead = (tenantId: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        tenantId,
        source: 'generic',
        externalId: null,
        payload: { account: 'r', amountMinor: i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
        receivedAt: new Date(),
        processed: false,
        status: 'dead' as const,
        attempts: 5,
        lastError: 'was broken',
      }));
    await mongo.raw.insertMany([...dead('acme', 4), ...dead('globex', 2)] as never[]);
    const dry = await call('POST', '/api/v1/admin/replay', { key: keys.admin, body: { statuses: ['dead'], dryRun: true } });
    expect(dry).toMatchObject({ status: 200, json: { matched: 4, replayed: 0, dryRun: true } });
    const real = await call('POST', '/api/v1/admin/replay', { key: keys.admin, body: { statuses: ['dead'] } });
    expect(real.json).toEqual({ matched: 4, replayed: 4, dryRun: false });
    await waitFor(
      'the replayed documents processed',
      async () => (await mongo.raw.countDocuments({ tenantId: 'acme', 'payload.account': 'r', processed: true })) === 4,
    );
    expect(await mongo.raw.countDocuments({ tenantId: 'globex', status: 'dead' })).toBe(2);
    const bad = await call('POST', '/api/v1/admin/replay', { key: keys.admin, body: { ids: ['nope'] } });
    expect(bad.status).toBe(400);
  });
});
