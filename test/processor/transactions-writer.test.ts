// The batch writer against a real PostgreSQL: set-based upserts, idempotent replays, classified errors.

import pgPromise from 'pg-promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../src/db/postgres.js';
import { isPermanent, isTransient } from '../../src/domain/errors.js';
import { normalizeName } from '../../src/domain/names.js';
import type { Mapped, Transaction } from '../../src/domain/transaction.js';
import { getTransaction } from '../../src/gateway/transactions-query.js';
import { transformRaw } from '../../src/mapping/transform/index.js';
import plaid from '../../src/mapping/transform/vendor/plaid.json' with { type: 'json' };
import { writeTransactions } from '../../src/processor/transactions-writer.js';
import { createTestPostgres, type TestPostgres } from '../support/databases.js';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await createTestPostgres();
});
afterAll(() => pg.drop());
beforeEach(() =>
  pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions, accounts, counterparties, transaction_removals'),
);

const tx = (n: number, overrides: Partial<Transaction> = {}): Transaction => ({
  rawId: `raw-${n}`,
  tenantId: n % 2 ? 'acme' : 'globex',
  source: 'generic',
  externalId: `ext-${n}`,
  providerRef: null,
  supersedes: null,
  revisionKey: null,
  accountRef: `acc-${n % 7}`,
  counterparty:
    n % 5 === 0
      ? null
      : {
          name: [`ACME, Inc.`, 'acme inc', 'Globex Corp', 'Initech', 'Café Zoë'][n % 5]!,
          merchantCategoryCode: n % 5 === 2 ? '5734' : null,
        },
  status: 'posted',
  category: 'sales',
  bookedAt: new Date(Date.UTC(2026, 10, 1, 1)),
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
    expect(row).toEqual({
      amount_minor: 901n,
      currency: 'EUR',
      direction: 'debit',
      metadata: { n: 9 },
      external_ref: 'acc-2',
      tenant_id: 'acme',
    });
  });

  it('a replayed batch writes nothing twice and reuses existing accounts', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => tx(i));
    await writeTransactions(pg.db, batch.slice(0, 30));
    expect(await writeTransactions(pg.db, batch)).toEqual({ inserted: 20 });
    expect(await writeTransactions(pg.db, batch)).toEqual({ inserted: 0 });
    expect(await pg.db.one('SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM transactions')).toEqual({ n: 50, d: 50 });
    expect(await pg.db.one('SELECT count(*)::int AS n FROM accounts', [], (r) => r.n)).toBe(14);
  });

  it('a raw document resending an external id already written becomes an alias of that row, in its batch or a later one', async () => {
    await writeTransactions(pg.db, [tx(1)]);
    // Retention removed raw-1, so MongoDB let the same external id in again as raw-101 and raw-201; raw-3 is new.
    const again = (rawId: string) => ({ ...tx(1), rawId, amountMinor: 999n });
    expect(await writeTransactions(pg.db, [again('raw-101'), tx(3), again('raw-201')])).toEqual({ inserted: 1 });
    const rows = await pg.db.any<{ raw_id: string; amount_minor: bigint }>(
      "SELECT raw_id, amount_minor FROM transactions WHERE external_id = 'ext-1'",
    );
    expect(rows).toEqual([{ raw_id: 'raw-1', amount_minor: 101n }]);
    const aliases = await pg.db.any<{ raw_id: string; first: string }>(
      `SELECT a.raw_id, t.raw_id AS first FROM transaction_aliases a JOIN transactions t ON t.id = a.transaction_id ORDER BY a.raw_id`,
    );
    expect(aliases).toEqual([
      { raw_id: 'raw-101', first: 'raw-1' },
      { raw_id: 'raw-201', first: 'raw-1' },
    ]);
    // Replaying either batch changes nothing; the same external id in another source or tenant is another row.
    await writeTransactions(pg.db, [tx(1), again('raw-101')]);
    expect(
      await writeTransactions(pg.db, [
        { ...tx(1), rawId: 'raw-301', source: 'stripe' },
        { ...tx(1), rawId: 'raw-401', tenantId: 'globex' },
      ]),
    ).toEqual({
      inserted: 2,
    });
    expect(await pg.db.one('SELECT count(*)::int AS n FROM transaction_aliases', [], (r) => r.n)).toBe(2);
  });

  it('keeps amounts beyond 2^53 minor units exact', async () => {
    const big = 2n ** 62n + 7n;
    await writeTransactions(pg.db, [tx(1, { amountMinor: big })]);
    expect(await pg.db.one('SELECT amount_minor FROM transactions', [], (r) => r.amount_minor)).toBe(big);
  });

  it('stores text, times and metadata exactly as given, whatever characters they hold', async () => {
    // Rows travel as one array parameter per column: every character the array syntax gives a meaning to
    // must come back as itself, and the text "NULL" must not become a null.
    const awkward = ['NULL', '', ' a, b ', '{x,y}', 'say "hi"', 'back\\slash\\', "it's", 'tab\tnew\nline', 'Zoë 💶 ¥'];
    const batch = awkward.map((text, i) =>
      tx(i, {
        rawId: `raw-${text}-${i}`,
        externalId: text,
        accountRef: `acc ${text}`,
        description: text,
        category: i % 2 ? null : text,
        counterparty: text.trim() ? { name: `Shop ${text}`, merchantCategoryCode: null } : null,
        occurredAt: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
        bookedAt: i % 2 ? null : new Date(Date.UTC(2026, 1, 28, 12, 0, 0, i)),
        metadata: { text, nested: { list: [text, null, 1.5], quote: '"' } },
      }),
    );
    expect(await writeTransactions(pg.db, batch)).toEqual({ inserted: awkward.length });
    const rows = await pg.db.many(
      `SELECT t.raw_id, t.external_id, t.description, t.category, t.occurred_at, t.booked_at, t.metadata,
              a.external_ref, c.display_name
         FROM transactions t JOIN accounts a ON a.id = t.account_id LEFT JOIN counterparties c ON c.id = t.counterparty_id`,
    );
    const byRawId = new Map(rows.map((row) => [row.raw_id, row]));
    for (const sent of batch) {
      const row = byRawId.get(sent.rawId);
      expect(row).toEqual({
        raw_id: sent.rawId,
        external_id: sent.externalId,
        description: sent.description,
        category: sent.category,
        occurred_at: sent.occurredAt,
        booked_at: sent.bookedAt,
        metadata: sent.metadata,
        external_ref: sent.accountRef,
        display_name: sent.counterparty ? sent.counterparty.name.trim() : null,
      });
    }
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

  it('a 5,000-document batch upserts its accounts and counterparties set-based, in six statements with its events', async () => {
    let statements = 0;
    const counting = pgPromise({ query: () => void statements++ });
    const db = counting({ connectionString: pg.url, max: 1 });
    try {
      const batch = Array.from({ length: 5_000 }, (_, i) => tx(i));
      await writeTransactions(db, batch);
      // BEGIN, accounts, counterparties, rows, events, COMMIT.
      expect(statements).toBe(6);
      statements = 0;
      await writeTransactions(
        db,
        batch.slice(0, 1_000).map((t, i) => ({ ...t, rawId: `again-${i}`, externalId: `again-${i}` })),
      );
      console.log(`[writer] statements for one batch of 1,000: ${statements}`);
      expect(statements).toBe(6);
    } finally {
      await db.$pool.end();
    }
    expect(await pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)).toBe(6_000);
    expect(await pg.db.one('SELECT count(*)::int AS n FROM accounts', [], (r) => r.n)).toBe(14);
    // Four distinct names after normalising ("ACME, Inc." = "acme inc"), per tenant.
    const counterparties = await pg.db.many('SELECT tenant_id, name_normalized, merchant_category_code FROM counterparties ORDER BY 1, 2');
    expect(counterparties).toEqual(
      ['acme', 'globex'].flatMap((tenant) => [
        { tenant_id: tenant, name_normalized: 'acme inc', merchant_category_code: null },
        { tenant_id: tenant, name_normalized: 'café zoë', merchant_category_code: null },
        { tenant_id: tenant, name_normalized: 'globex corp', merchant_category_code: '5734' },
        { tenant_id: tenant, name_normalized: 'initech', merchant_category_code: null },
      ]),
    );
    const linked = await pg.db.one(
      `SELECT count(*) FILTER (WHERE counterparty_id IS NOT NULL)::int AS with_cp, count(*) FILTER (WHERE counterparty_id IS NULL)::int AS without FROM transactions`,
    );
    expect(linked).toEqual({ with_cp: 4_800, without: 1_200 });
  });

  it('normalises counterparty names', () => {
    expect(normalizeName('  ACME, Inc. ')).toBe('acme inc');
    expect(normalizeName('ＡＣＭＥ　inc')).toBe('acme inc');
    expect(normalizeName('Café  Zoë!')).toBe('café zoë');
  });
});

describe('the provider lifecycle (Plaid pending → posted, removals)', () => {
  // Plaid's published posted transaction names its pending one; the pending one is the same purchase,
  // authorised for a different amount before it posted.
  const posted = plaid.syncAdded[0]!;
  const pendingPayload = {
    ...posted,
    transaction_id: posted.pending_transaction_id,
    pending: true,
    pending_transaction_id: null,
    amount: 65.5,
    datetime: null,
  };
  const plaidDoc = (rawId: string, payload: unknown): Mapped =>
    transformRaw({
      rawId,
      tenantId: 'acme',
      source: 'plaid',
      externalId: null,
      payload: payload as Record<string, unknown>,
      receivedAt: new Date(),
    });
  const pendingRow = () => plaidDoc('raw-pending', pendingPayload);
  const postedRow = () => plaidDoc('raw-posted', posted);
  const removal = () => plaidDoc('raw-removal', { removed: { transaction_id: posted.transaction_id, account_id: posted.account_id } });
  const rows = () =>
    pg.db.any('SELECT raw_id, status, amount_minor, provider_ref, supersedes, superseded_raw_id FROM transactions ORDER BY id');

  const onePostedRow = [
    {
      raw_id: 'raw-posted',
      status: 'posted',
      amount_minor: 7210n,
      provider_ref: posted.transaction_id,
      supersedes: posted.pending_transaction_id,
      superseded_raw_id: 'raw-pending',
    },
  ];

  it('a posted transaction replaces its pending row: one row with the posted values, the link kept', async () => {
    await writeTransactions(pg.db, [pendingRow()]);
    expect(await rows()).toMatchObject([{ raw_id: 'raw-pending', status: 'pending', amount_minor: 6550n }]);
    await writeTransactions(pg.db, [postedRow()]);
    expect(await rows()).toEqual(onePostedRow);
    // The pending document's id still reads the transaction, now posted.
    expect(await getTransaction(pg.db, 'acme', 'raw-pending')).toMatchObject({
      id: 'raw-posted',
      status: 'posted',
      amount: { value: '72.10' },
    });
    // Replaying either document changes nothing.
    await writeTransactions(pg.db, [pendingRow()]);
    await writeTransactions(pg.db, [postedRow(), pendingRow()]);
    expect(await rows()).toEqual(onePostedRow);
  });

  it('a raw id aliased to a pending row (a resubmission after retention) follows it to its posted successor', async () => {
    const withExternalId = (mapped: Mapped, externalId: string) => ({ ...(mapped as Transaction), externalId });
    await writeTransactions(pg.db, [withExternalId(pendingRow(), 'order-9')]);
    // The pending document expired; the client sent it again: a new raw id, the same external id.
    await writeTransactions(pg.db, [{ ...withExternalId(pendingRow(), 'order-9'), rawId: 'raw-pending-again' }]);
    expect(await getTransaction(pg.db, 'acme', 'raw-pending-again')).toMatchObject({ id: 'raw-pending', status: 'pending' });
    await writeTransactions(pg.db, [postedRow()]);
    expect(await rows()).toMatchObject([{ raw_id: 'raw-posted', status: 'posted' }]);
    expect(await getTransaction(pg.db, 'acme', 'raw-pending-again')).toMatchObject({ id: 'raw-posted', status: 'posted' });
  });

  it('ends the same when the posted transaction is written first, or in the same batch', async () => {
    await writeTransactions(pg.db, [postedRow()]);
    await writeTransactions(pg.db, [pendingRow()]);
    expect(await rows()).toEqual(onePostedRow);
    await pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions');
    await writeTransactions(pg.db, [pendingRow(), postedRow()]);
    expect(await rows()).toEqual(onePostedRow);
  });

  it('ends with one row when the pair is written by concurrent batches', async () => {
    for (let round = 0; round < 20; round++) {
      await pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions');
      await Promise.all([writeTransactions(pg.db, [pendingRow()]), writeTransactions(pg.db, [postedRow()])]);
      expect(await rows()).toEqual(onePostedRow);
    }
  });

  it('a removal voids its row, whether it arrives after or before it, and replays are no-ops', async () => {
    await writeTransactions(pg.db, [postedRow()]);
    expect(await writeTransactions(pg.db, [removal()])).toEqual({ inserted: 1 });
    expect(await rows()).toMatchObject([{ raw_id: 'raw-posted', status: 'void' }]);
    expect(await writeTransactions(pg.db, [removal(), postedRow()])).toEqual({ inserted: 0 });
    expect(await rows()).toMatchObject([{ raw_id: 'raw-posted', status: 'void' }]);

    await pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions, transaction_removals');
    await writeTransactions(pg.db, [removal()]);
    expect(await rows()).toEqual([]);
    await writeTransactions(pg.db, [postedRow()]);
    expect(await rows()).toMatchObject([{ raw_id: 'raw-posted', status: 'void' }]);
  });

  it('touches only its own tenant', async () => {
    await writeTransactions(pg.db, [pendingRow()]);
    const otherTenant = { ...(postedRow() as Transaction), tenantId: 'globex' };
    await writeTransactions(pg.db, [otherTenant]);
    expect((await rows()).map((r) => r.raw_id)).toEqual(['raw-pending', 'raw-posted']);
  });
});
