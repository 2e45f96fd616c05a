// A caller never waits on a database without a bound: a PostgreSQL read held past PG_STATEMENT_TIMEOUT_MS,
// and an admin route's MongoDB read against a server that stops answering, each answer 503 with
// Retry-After within their deadline, instead of holding the request (issue 42, item 7).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MONGO_DEADLINES_MS } from '../../src/db/mongo.js';
import { connectPostgres, PG_QUERY_TIMEOUT_MARGIN_MS } from '../../src/db/postgres.js';
import { type AcceptCollections, acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey } from '../../src/gateway/api-key-store.js';
import { mongoUri, type TestPostgres } from '../support/databases.js';
import { useSystem } from '../support/system.js';
import { startTcpProxy, throughProxy } from '../support/tcp-proxy.js';

const STATEMENT_TIMEOUT_MS = 500;

async function timed(url: string, key: string): Promise<{ status: number; retryAfter: string | null; type: string | null; ms: number }> {
  const startedAt = performance.now();
  const response = await fetch(url, { headers: { 'x-api-key': key } });
  await response.arrayBuffer();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    type: response.headers.get('content-type'),
    ms: Math.round(performance.now() - startedAt),
  };
}

describe.skipIf(!mongoUri)('time bounds', () => {
  const sys = useSystem({ PG_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) });
  let pg: TestPostgres;
  let accept: AcceptCollections;
  const locks: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    pg = sys.pg;
    accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
  });
  afterEach(async () => {
    for (const release of locks.splice(0)) await release();
  });

  const keyFor = async (tenant: string) => (await createApiKey(accept, tenant, ['transactions:read', 'admin'])).key;

  /** Holds an ACCESS EXCLUSIVE lock on `transactions` in a transaction of the test's own until released. */
  async function lockTransactions(): Promise<void> {
    const holder = connectPostgres(pg.url, { max: 1 });
    const connection = await holder.connect();
    await connection.none('BEGIN');
    await connection.none('LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE');
    locks.push(async () => {
      await connection.none('ROLLBACK');
      connection.done();
      await holder.$pool.end();
    });
  }

  it('a PostgreSQL read held past PG_STATEMENT_TIMEOUT_MS answers 503 with Retry-After, not a hung request nor a 500', async () => {
    const { gatewayUrl } = await sys.start(['gateway', 'ingest']);
    const key = await keyFor('pgslow');
    const url = `${gatewayUrl}/api/v1/transactions?limit=5`;
    expect((await timed(url, key)).status).toBe(200);

    await lockTransactions();
    const held = await timed(url, key);
    console.log(
      `[bounds] PostgreSQL read behind a held lock, statement_timeout ${STATEMENT_TIMEOUT_MS} ms: ${held.status} in ${held.ms} ms`,
    );
    expect(held.status).toBe(503);
    expect(held.retryAfter).toBe('1');
    expect(held.type).toMatch(/^application\/problem\+json/);
    // The server cancels the statement (57014) at the timeout; a margin for the shared machine.
    expect(held.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    expect(held.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 2_000);

    for (const release of locks.splice(0)) await release();
    expect((await timed(url, key)).status).toBe(200);
  });

  it('a PostgreSQL that stops answering: a read answers 503 at the statement limit plus the query margin, the connection discarded', async () => {
    const target = new URL(pg.url.replace(/^[a-z]+:/, 'http:'));
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    sys.defer(() => proxy.close());
    const { gatewayUrl } = await sys.start(
      ['gateway', 'ingest'],
      { WORKER_ID: 'bounds-pg-silent' },
      { databaseUrl: throughProxy(pg.url, proxy) },
    );
    const key = await keyFor('pgsilent');
    const url = `${gatewayUrl}/api/v1/transactions?limit=5`;
    expect((await timed(url, key)).status).toBe(200);

    const limitMs = STATEMENT_TIMEOUT_MS + PG_QUERY_TIMEOUT_MARGIN_MS;
    proxy.setDelay(60_000);
    const silent = await timed(url, key);
    console.log(`[bounds] PostgreSQL silent, statement_timeout ${STATEMENT_TIMEOUT_MS} ms: ${silent.status} in ${silent.ms} ms`);
    expect(silent.status).toBe(503);
    expect(silent.retryAfter).toBe('1');
    expect(silent.ms).toBeGreaterThanOrEqual(limitMs - 50);
    expect(silent.ms).toBeLessThan(limitMs + 3_000);

    // The connection that went silent was dropped, not lent again: with the proxy answering, reads succeed at once.
    proxy.setDelay(0);
    const again = await timed(url, key);
    expect(again.status).toBe(200);
    expect(again.ms).toBeLessThan(STATEMENT_TIMEOUT_MS);
  });

  it(
    "an admin route's MongoDB reads under a MongoDB that stops answering answer 503 within the board's deadline",
    async () => {
      const target = new URL(mongoUri!.replace(/^[a-z]+:/, 'http:'));
      const proxy = await startTcpProxy(target.hostname, Number(target.port));
      sys.defer(() => proxy.close());
      const { gatewayUrl } = await sys.start(
        ['gateway', 'ingest'],
        { WORKER_ID: 'bounds-board' },
        { mongoUri: throughProxy(mongoUri!, proxy) },
      );
      const key = await keyFor('boardfrozen');
      const routes = ['/api/v1/admin/documents', '/api/v1/admin/board/overview', '/api/v1/admin/documents/0123456789abcdef01234567'];
      // Answered once while MongoDB answers: the key is cached from then on, so only the route's reads meet the silence.
      for (const route of routes) expect((await timed(`${gatewayUrl}${route}`, key)).status).toBeLessThan(500);

      proxy.setDelay(10 * MONGO_DEADLINES_MS.accept);
      const during = await Promise.all(routes.map((route) => timed(`${gatewayUrl}${route}`, key)));
      console.log(`[bounds] admin routes, MongoDB silent: ${JSON.stringify(during.map((a) => [a.status, a.ms]))}`);
      for (const answer of during) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).toBe('1');
        expect(answer.ms).toBeGreaterThanOrEqual(MONGO_DEADLINES_MS.board - 50);
        expect(answer.ms).toBeLessThan(MONGO_DEADLINES_MS.board + 3_000);
      }
    },
    4 * MONGO_DEADLINES_MS.accept,
  );
});
