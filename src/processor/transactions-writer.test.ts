// The batch writer against a real PostgreSQL: set-based upserts, idempotent replays, classified errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPostgres, type TestPostgres } from '../../test/support/databases.js';
import { isPermanent, isTransient } from '../errors.js';
import { connectPostgres } from '../db/postgres.js';
import type { Transaction } from './transform/model.js';
import { writeTransactions } from './transactions-writer.js';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await createTestPostgres();
});
afterAll(() => pg.drop());
beforeEach(() => pg.db.none('TRUNCATE transactions, accounts'));

const tx = (n: number, overrides: Partial<Transaction> = {}): Transaction => ({
  rawId: `raw-${n}`,
  tenantId: n % 2 ? 'acme' : 'globex',
  source: 'generic',
  externalId: `ext-${n}`,
  accountRef: `acc-${n % 7}`,
  direction: n % 3 ? 'credit' : 'debit',
  amountMinor: BigInt(n) * 100n + 1n,
  currency: 'EUR',
  description: `payment ${n}`,
  occurredAt: new Date(Date.UTC(2026, 10, 1, 0, 0, n)),
  receivedAt: new Date(Date.UTC(2026, 10, 2)),
  metadata: { n },
  ...overrides,
});

describe('writeTransactions', () => {
  it('writes a batch with its accounts, one account row per tenant and reference', async () => {
    const batch = Array.from({ length: 300 }, (_, i) => tx(i));
    expect(await writeTransactions(pg.db, batch)).toEqual({ inserted: 300 });
    expect(await pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)).toBe(300);
    // 7 references x 2 tenants.
    expect(await pg.db.one('SELECT count(*)::int AS n FROM accounts', [], (r) => r.n)).toBe(14);
    const row = await pg.db.one(
      `SELECT t.amount_minor, t.currency, t.direction, t.metadata, a.external_ref, a.tenant_id
         FROM transactions t JOIN accounts a ON a.id = t.account_id WHERE t.raw_id = 'raw-9'`,
    );
    expect(row).toEqual({ amount_minor: 901n, currency: 'EUR', direction: 'debit', metadata: { n: 9 }, external_ref: 'acc-2', tenant_id: 'acme' });
  });

  it('a replayed batch writes nothing twice and reuses existing accounts', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => tx(i));
    await writeTransactions(pg.db, batch.slice(0, 30));
    expect(await writeTransactions(pg.db, batch)).toEqual({ inserted: 20 });
    expect(await writeTransactions(pg.db, batch)).toEqual({ inserted: 0 });
    expect(await pg.db.one('SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM transactions')).toEqual({ n: 50, d: 50 });
    expect(await pg.db.one('SELECT count(*)::int AS n FROM accounts', [], (r) => r.n)).toBe(14);
  });

  it('keeps amounts beyond 2^53 minor units exact', async () => {
    const big = 2n ** 62n + 7n;
    await writeTransactions(pg.db, [tx(1, { amountMinor: big })]);
    expect(await pg.db.one('SELECT amount_minor FROM transactions', [], (r) => r.amount_minor)).toBe(big);
  });

  it('a row the schema rejects fails the batch as permanent and leaves nothing behind', async () => {
    const error = await writeTransactions(pg.db, [tx(1), tx(2, { currency: 'eur' })]).catch((e: unknown) => e);
    expect(isPermanent(error)).toBe(true);
    expect((error as { code: string }).code).toBe('pg_23514');
    expect(await pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)).toBe(0);
  });

  it('an unreachable server is a transient error', async () => {
    const url = new URL(pg.url);
    url.port = '1';
    const down = connectPostgres(url.toString(), { max: 1 });
    const error = await writeTransactions(down, [tx(1)]).catch((e: unknown) => e);
    await down.$pool.end();
    expect(isTransient(error)).toBe(true);
  });
});
