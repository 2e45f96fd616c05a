// Writes one batch of transactions in one PostgreSQL transaction with set-based statements: the batch's
// accounts are upserted in one multi-row statement, then its transactions are inserted in another.
// ON CONFLICT (raw_id) DO NOTHING makes a replayed batch a no-op, which is the exactly-once effect.
import pgPromise from 'pg-promise';
import { PermanentError, TransientError } from '../errors.js';
import { pgp, type Database } from '../db/postgres.js';
import type { Transaction } from './transform/model.js';

const accountColumns = new pgp.helpers.ColumnSet(['tenant_id', 'external_ref'], { table: 'accounts' });
const transactionColumns = new pgp.helpers.ColumnSet(
  [
    'tenant_id',
    'raw_id',
    'source',
    'external_id',
    'account_id',
    'direction',
    { name: 'amount_minor', init: (c) => (c.value as bigint).toString() },
    'currency',
    'description',
    'occurred_at',
    'received_at',
    { name: 'metadata', mod: ':json' },
  ],
  { table: 'transactions' },
);

export interface WriteResult {
  /** Rows inserted now; fewer than the batch when some raw documents had been written before. */
  inserted: number;
}

export async function writeTransactions(db: Database, batch: Transaction[]): Promise<WriteResult> {
  if (batch.length === 0) return { inserted: 0 };
  // One row per account, in a fixed order, so concurrent batches lock accounts in the same order.
  const accountKeys = [...new Map(batch.map((t) => [`${t.tenantId}\u0000${t.accountRef}`, { tenant_id: t.tenantId, external_ref: t.accountRef }])).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row);
  try {
    return await db.tx('write-batch', async (t) => {
      // DO UPDATE (a no-op update) rather than DO NOTHING, so existing accounts are returned too.
      const accounts = await t.many<{ id: bigint; tenant_id: string; external_ref: string }>(
        `${pgp.helpers.insert(accountKeys, accountColumns)}
         ON CONFLICT (tenant_id, external_ref) DO UPDATE SET external_ref = EXCLUDED.external_ref
         RETURNING id, tenant_id, external_ref`,
      );
      const accountIds = new Map(accounts.map((a) => [`${a.tenant_id}\u0000${a.external_ref}`, a.id]));
      const rows = batch.map((tx) => ({
        tenant_id: tx.tenantId,
        raw_id: tx.rawId,
        source: tx.source,
        external_id: tx.externalId,
        account_id: accountIds.get(`${tx.tenantId}\u0000${tx.accountRef}`)!.toString(),
        direction: tx.direction,
        amount_minor: tx.amountMinor,
        currency: tx.currency,
        description: tx.description,
        occurred_at: tx.occurredAt,
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
 * Constraint and data errors (SQLSTATE classes 22 and 23, and 08P01) are the rows' fault: permanent, so the batch is
 * split to find them. Everything else (connection loss, shutdown, serialization, timeouts) is transient.
 */
export function classifyPgError(error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  // 08P01 (protocol violation) is what a value the wire format cannot carry, such as a NUL in text, causes.
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '08P01')) {
    return new PermanentError(`pg_${code}`, `PostgreSQL rejected the row: ${message}`, { cause: error });
  }
  if (error instanceof pgPromise.errors.QueryResultError) return new PermanentError('pg_result', message, { cause: error });
  return new TransientError(typeof code === 'string' ? `pg_${code}` : 'pg_unavailable', `PostgreSQL: ${message}`, { cause: error });
}
