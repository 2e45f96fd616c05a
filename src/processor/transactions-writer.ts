// Writes one batch of transactions in one PostgreSQL transaction with set-based statements: the batch's
// accounts and counterparties are upserted in one multi-row statement each, then its transactions are
// inserted in one more. ON CONFLICT (raw_id) DO NOTHING makes a replayed batch a no-op, which is the
// exactly-once effect. A batch is five statements whatever its size: BEGIN, three, COMMIT.
import { PermanentError, TransientError } from '../errors.js';
import { pgp, type Database } from '../db/postgres.js';
import type { Transaction } from './transform/model.js';

const accountColumns = new pgp.helpers.ColumnSet(['tenant_id', 'external_ref'], { table: 'accounts' });
const counterpartyColumns = new pgp.helpers.ColumnSet(['tenant_id', 'name_normalized', 'display_name', 'merchant_category_code'], { table: 'counterparties' });
const transactionColumns = new pgp.helpers.ColumnSet(
  [
    'tenant_id',
    'raw_id',
    'source',
    'external_id',
    'account_id',
    'counterparty_id',
    'direction',
    { name: 'amount_minor', init: (c) => (c.value as bigint).toString() },
    'currency',
    'status',
    'description',
    'category',
    'occurred_at',
    'booked_at',
    'received_at',
    { name: 'metadata', mod: ':json' },
  ],
  { table: 'transactions' },
);

export interface WriteResult {
  /** Rows inserted now; fewer than the batch when some raw documents had been written before. */
  inserted: number;
}

/** "ACME, Inc." and " acme inc " are one counterparty: NFKC, lower case, letters and digits, single spaces. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const keyOf = (...parts: string[]) => parts.join('\u0000');

/** Distinct rows by key, sorted by key, so concurrent batches take row locks in the same order. */
function distinctSorted<T>(items: Array<[string, T]>, merge?: (kept: T, next: T) => T): T[] {
  const byKey = new Map<string, T>();
  for (const [key, item] of items) {
    const kept = byKey.get(key);
    byKey.set(key, kept === undefined ? item : merge ? merge(kept, item) : kept);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

export async function writeTransactions(db: Database, batch: Transaction[]): Promise<WriteResult> {
  if (batch.length === 0) return { inserted: 0 };
  const accounts = distinctSorted(batch.map((t) => [keyOf(t.tenantId, t.accountRef), { tenant_id: t.tenantId, external_ref: t.accountRef }]));
  const counterparties = distinctSorted(
    batch.flatMap((t) => {
      const normalized = t.counterparty ? normalizeName(t.counterparty.name) : '';
      if (!t.counterparty || !normalized) return [];
      const row = { tenant_id: t.tenantId, name_normalized: normalized, display_name: t.counterparty.name.trim(), merchant_category_code: t.counterparty.merchantCategoryCode };
      return [[keyOf(t.tenantId, normalized), row] as [string, typeof row]];
    }),
    (kept, next) => (kept.merchant_category_code ? kept : { ...kept, merchant_category_code: next.merchant_category_code }),
  );
  try {
    return await db.tx('write-batch', async (t) => {
      // DO UPDATE (a no-op for accounts) rather than DO NOTHING, so existing rows are returned too.
      const accountRows = await t.many<{ id: bigint; tenant_id: string; external_ref: string }>(
        `${pgp.helpers.insert(accounts, accountColumns)}
         ON CONFLICT (tenant_id, external_ref) DO UPDATE SET external_ref = EXCLUDED.external_ref
         RETURNING id, tenant_id, external_ref`,
      );
      const accountIds = new Map(accountRows.map((a) => [keyOf(a.tenant_id, a.external_ref), a.id]));
      const counterpartyIds = new Map<string, bigint>();
      if (counterparties.length > 0) {
        // A merchant category code learnt later fills one that was missing; a known one is kept.
        const rows = await t.many<{ id: bigint; tenant_id: string; name_normalized: string }>(
          `${pgp.helpers.insert(counterparties, counterpartyColumns)}
           ON CONFLICT (tenant_id, name_normalized) DO UPDATE
             SET merchant_category_code = COALESCE(counterparties.merchant_category_code, EXCLUDED.merchant_category_code)
           RETURNING id, tenant_id, name_normalized`,
        );
        for (const row of rows) counterpartyIds.set(keyOf(row.tenant_id, row.name_normalized), row.id);
      }
      const rows = batch.map((tx) => ({
        tenant_id: tx.tenantId,
        raw_id: tx.rawId,
        source: tx.source,
        external_id: tx.externalId,
        account_id: accountIds.get(keyOf(tx.tenantId, tx.accountRef))!.toString(),
        counterparty_id: tx.counterparty ? (counterpartyIds.get(keyOf(tx.tenantId, normalizeName(tx.counterparty.name)))?.toString() ?? null) : null,
        direction: tx.direction,
        amount_minor: tx.amountMinor,
        currency: tx.currency,
        status: tx.status,
        description: tx.description,
        category: tx.category,
        occurred_at: tx.occurredAt,
        booked_at: tx.bookedAt,
        received_at: tx.receivedAt,
        metadata: tx.metadata,
      }));
      const result = await t.result(`${pgp.helpers.insert(rows, transactionColumns)} ON CONFLICT (raw_id) DO NOTHING`);
      return { inserted: result.rowCount ?? 0 };
    });
  } catch (error) {
    throw classifyPgError(error);
  }
}

/**
 * Constraint and data errors (SQLSTATE classes 22 and 23, and 08P01) are the rows' fault: permanent, so the
 * batch is split to find them. Everything else (connection loss, shutdown, serialization, timeouts) is transient.
 */
export function classifyPgError(error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  // 08P01 (protocol violation) is what a value the wire format cannot carry, such as a NUL in text, causes.
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '08P01')) {
    return new PermanentError(`pg_${code}`, `PostgreSQL rejected the row: ${message}`, { cause: error });
  }
  return new TransientError(typeof code === 'string' ? `pg_${code}` : 'pg_unavailable', `PostgreSQL: ${message}`, { cause: error });
}
