// Writes one batch of transactions in one PostgreSQL transaction, set-based, so a replayed batch changes nothing:
// the order of pg-store's statements and the keys they take, decided here.
import type { Database, Task } from '../db/postgres.js';
import { classifyPgError } from '../db/postgres-errors.js';
import { normalizeName } from '../domain/names.js';
import { isRemoval, type Mapped, type Transaction } from '../domain/transaction.js';
import { applyLifecycle } from '../pg-store/apply-lifecycle.js';
import { insertRemovals } from '../pg-store/insert-removals.js';
import { insertPlainRows } from '../pg-store/insert-transactions.js';
import { lockProviderObjects } from '../pg-store/lock-provider-objects.js';
import { recordEvents } from '../pg-store/record-events.js';
import type { TransactionRow } from '../pg-store/rows.js';
import { upsertAccounts } from '../pg-store/upsert-accounts.js';
import { upsertCounterparties } from '../pg-store/upsert-counterparties.js';
import { writeRevisions } from './write-revisions.js';

export interface WriteResult {
  /** Rows (and removals) recorded now; fewer than the batch when some raw documents had been written before. */
  inserted: number;
}

const keyOf = (...parts: string[]) => parts.join('\u0000');
/** keyOf's NUL cannot travel in PostgreSQL text: lock keys are JSON. */
const lockKey = (...parts: string[]) => JSON.stringify(parts);

/** Distinct rows by key, sorted by key, so concurrent batches take row locks in the same order. */
function distinctSorted<T>(items: Array<[string, T]>, merge?: (kept: T, next: T) => T): T[] {
  const byKey = new Map<string, T>();
  for (const [key, item] of items) {
    const kept = byKey.get(key);
    byKey.set(key, kept === undefined ? item : merge ? merge(kept, item) : kept);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

/**
 * The batch's accounts and counterparties are upserted in one multi-row statement each, then its plain rows
 * inserted in one more; ON CONFLICT DO NOTHING makes a replay a no-op, the exactly-once effect. A batch of
 * plain rows is six statements whatever its size: BEGIN, three, its events (record-events.ts), COMMIT. A
 * row whose external id is already taken (its first raw document removed by retention, then sent again) is
 * not inserted twice: its raw id becomes an alias of the first row, in one more statement run only when
 * that happens.
 *
 * Rows that carry a provider's own id (provider_ref) are provider objects: one row each, moved to its latest
 * revision (write-revisions.ts); a posted row replaces the pending row it names, and a removal voids its row.
 * Those batches add a lock statement, the revision statements and four reconciling statements, each
 * idempotent, so a replay or any arrival order ends the same.
 */
export async function writeTransactions(db: Database, mapped: Mapped[]): Promise<WriteResult> {
  if (mapped.length === 0) return { inserted: 0 };
  const batch = mapped.filter((m): m is Transaction => !isRemoval(m));
  const removals = mapped.filter(isRemoval);
  // The provider references whose rows this batch may revise, replace, void or be replaced by.
  const lifecycleKeys = [
    ...new Set([
      ...batch.flatMap((tx) =>
        [tx.providerRef, tx.supersedes].filter((ref) => ref !== null).map((ref) => lockKey(tx.tenantId, tx.source, ref)),
      ),
      ...removals.map((r) => lockKey(r.tenantId, r.source, r.providerRef)),
    ]),
  ].sort();
  try {
    return await db.tx('write-batch', async (t) => {
      // Batches touching the same provider objects meet one after the other (lock-provider-objects.ts).
      if (lifecycleKeys.length > 0) await lockProviderObjects(t, lifecycleKeys);
      let inserted = 0;
      if (batch.length > 0) {
        const rows = await resolveParties(t, batch);
        const plain = rows.filter((row) => row.tx.providerRef === null);
        const revisions = rows.filter((row) => row.tx.providerRef !== null);
        if (plain.length > 0) inserted += await insertPlainRows(t, plain);
        if (revisions.length > 0) inserted += await writeRevisions(t, revisions);
      }
      if (removals.length > 0) inserted += await insertRemovals(t, removals);
      if (lifecycleKeys.length > 0)
        await applyLifecycle(
          t,
          mapped.map((m) => m.rawId),
        );
      // Last, so that they describe the rows as this transaction leaves them.
      await recordEvents(t, mapped);
      return { inserted };
    });
  } catch (error) {
    throw classifyPgError(error);
  }
}

/** The batch's accounts and counterparties upserted set-based; each transaction with the ids of its own. */
async function resolveParties(t: Task, batch: Transaction[]): Promise<TransactionRow[]> {
  const accounts = distinctSorted(
    batch.map((tx) => [keyOf(tx.tenantId, tx.accountRef), { tenant_id: tx.tenantId, external_ref: tx.accountRef }]),
  );
  // Each counterparty name normalised once: the upsert's keys and the rows' lookups use the same.
  const names = batch.map((tx) => (tx.counterparty ? normalizeName(tx.counterparty.name) : ''));
  const counterparties = distinctSorted(
    batch.flatMap((tx, i) => {
      const normalized = names[i]!;
      if (!tx.counterparty || !normalized) return [];
      const row = {
        tenant_id: tx.tenantId,
        name_normalized: normalized,
        display_name: tx.counterparty.name.trim(),
        merchant_category_code: tx.counterparty.merchantCategoryCode,
      };
      return [[keyOf(tx.tenantId, normalized), row] as [string, typeof row]];
    }),
    (kept, next) => (kept.merchant_category_code ? kept : { ...kept, merchant_category_code: next.merchant_category_code }),
  );
  const accountRows = await upsertAccounts(t, accounts);
  const accountIds = new Map(accountRows.map((a) => [keyOf(a.tenant_id, a.external_ref), a.id]));
  const counterpartyIds = new Map<string, bigint>();
  if (counterparties.length > 0) {
    const rows = await upsertCounterparties(t, counterparties);
    for (const row of rows) counterpartyIds.set(keyOf(row.tenant_id, row.name_normalized), row.id);
  }
  return batch.map((tx, i) => ({
    tx,
    accountId: accountIds.get(keyOf(tx.tenantId, tx.accountRef))!,
    counterpartyId: counterpartyIds.get(keyOf(tx.tenantId, names[i]!)) ?? null,
  }));
}
