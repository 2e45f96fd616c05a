// Writes one batch of transactions in one PostgreSQL transaction, set-based, so a replayed batch changes nothing.
import type { Database, Task } from '../db/postgres.js';
import { classifyPgError } from '../db/postgres-errors.js';
import { normalizeName } from '../domain/names.js';
import { isRemoval, type Mapped, type Removal, type Transaction } from '../domain/transaction.js';
import { recordEvents } from '../pg-store/record-events.js';
import { type TransactionRow, transactionInsert } from '../pg-store/transaction-insert.js';
import { UnnestInsert } from '../pg-store/unnest-insert.js';
import { writeRevisions } from './write-revisions.js';

type AccountRow = { tenant_id: string; external_ref: string };
const accountInsert = new UnnestInsert<AccountRow>('accounts', [
  ['tenant_id', 'text', (r) => r.tenant_id],
  ['external_ref', 'text', (r) => r.external_ref],
]);

type CounterpartyRow = { tenant_id: string; name_normalized: string; display_name: string; merchant_category_code: string | null };
const counterpartyInsert = new UnnestInsert<CounterpartyRow>('counterparties', [
  ['tenant_id', 'text', (r) => r.tenant_id],
  ['name_normalized', 'text', (r) => r.name_normalized],
  ['display_name', 'text', (r) => r.display_name],
  ['merchant_category_code', 'bpchar', (r) => r.merchant_category_code],
]);

const removalInsert = new UnnestInsert<Removal>('transaction_removals', [
  ['tenant_id', 'text', (r) => r.tenantId],
  ['source', 'text', (r) => r.source],
  ['provider_ref', 'text', (r) => r.providerRef],
  ['raw_id', 'text', (r) => r.rawId],
]);

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
      if (lifecycleKeys.length > 0) {
        // Serialises batches touching the same provider objects until commit, so revisions of one object (or
        // a posted row and its pending one, a removal and its row) written concurrently meet one after the other.
        await t.any('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k', [lifecycleKeys]);
      }
      let inserted = 0;
      if (batch.length > 0) {
        const rows = await resolveParties(t, batch);
        const plain = rows.filter((row) => row.tx.providerRef === null);
        const revisions = rows.filter((row) => row.tx.providerRef !== null);
        if (plain.length > 0) inserted += await insertPlain(t, plain);
        if (revisions.length > 0) inserted += await writeRevisions(t, revisions);
      }
      if (removals.length > 0) inserted += await recordRemovals(t, removals);
      if (lifecycleKeys.length > 0)
        await reconcileLifecycle(
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
  // DO UPDATE (a no-op for accounts) rather than DO NOTHING, so existing rows are returned too.
  const accountRows = await t.many<{ id: bigint; tenant_id: string; external_ref: string }>(
    accountInsert.query(
      accounts,
      `ON CONFLICT (tenant_id, external_ref) DO UPDATE SET external_ref = EXCLUDED.external_ref
       RETURNING id, tenant_id, external_ref`,
    ),
  );
  const accountIds = new Map(accountRows.map((a) => [keyOf(a.tenant_id, a.external_ref), a.id]));
  const counterpartyIds = new Map<string, bigint>();
  if (counterparties.length > 0) {
    // A merchant category code learnt later fills one that was missing; a known one is kept.
    const rows = await t.many<{ id: bigint; tenant_id: string; name_normalized: string }>(
      counterpartyInsert.query(
        counterparties,
        `ON CONFLICT (tenant_id, name_normalized) DO UPDATE
           SET merchant_category_code = COALESCE(counterparties.merchant_category_code, EXCLUDED.merchant_category_code)
         RETURNING id, tenant_id, name_normalized`,
      ),
    );
    for (const row of rows) counterpartyIds.set(keyOf(row.tenant_id, row.name_normalized), row.id);
  }
  return batch.map((tx, i) => ({
    tx,
    accountId: accountIds.get(keyOf(tx.tenantId, tx.accountRef))!,
    counterpartyId: counterpartyIds.get(keyOf(tx.tenantId, names[i]!)) ?? null,
  }));
}

/** Rows without a provider object: inserted once, a replay or an external id already written inserting nothing. */
async function insertPlain(t: Task, rows: TransactionRow[]): Promise<number> {
  // Both unique keys: raw_id (a replayed batch) and (tenant_id, source, external_id) (a resubmission).
  const result = await t.result(transactionInsert.query(rows, 'ON CONFLICT DO NOTHING'));
  const inserted = result.rowCount ?? 0;
  const withExternalId = rows.map((row) => row.tx).filter((tx) => tx.externalId !== null);
  if (inserted < rows.length && withExternalId.length > 0) await aliasResubmissions(t, withExternalId);
  return inserted;
}

/** Raw documents whose external id another raw document already wrote: their raw ids resolve to that row. */
async function aliasResubmissions(t: Task, batch: Transaction[]) {
  await t.none(
    `INSERT INTO transaction_aliases (raw_id, tenant_id, transaction_id)
     SELECT b.raw_id, t.tenant_id, t.id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS b(raw_id, tenant_id, source, external_id)
       JOIN transactions t ON t.tenant_id = b.tenant_id AND t.source = b.source AND t.external_id = b.external_id
      WHERE t.raw_id <> b.raw_id
     ON CONFLICT (raw_id) DO NOTHING`,
    [batch.map((tx) => tx.rawId), batch.map((tx) => tx.tenantId), batch.map((tx) => tx.source), batch.map((tx) => tx.externalId)],
  );
}

/** A removal is kept for itself, so it voids its row even when that row is written after it. */
async function recordRemovals(t: Task, removals: Removal[]): Promise<number> {
  const result = await t.result(removalInsert.query(removals, 'ON CONFLICT DO NOTHING'));
  return result.rowCount ?? 0;
}

/**
 * Applies the provider lifecycle to the rows this batch wrote or named: a pending row whose posted successor
 * exists is deleted and its raw id kept on the successor (the raw ids aliased to it, and its revisions, move
 * to the successor first, so they keep reading the transaction); a row with a recorded removal is voided, the
 * removal kept as its last revision.
 */
async function reconcileLifecycle(t: Task, rawIds: string[]): Promise<void> {
  const replacedBy = `FROM transactions p
       JOIN transactions s ON s.tenant_id = p.tenant_id AND s.source = p.source AND s.supersedes = p.provider_ref AND s.id <> p.id
      WHERE p.status = 'pending' AND (p.raw_id = ANY($1::text[]) OR s.raw_id = ANY($1::text[]))`;
  await t.none(`UPDATE transaction_aliases a SET transaction_id = s.id ${replacedBy} AND a.transaction_id = p.id`, [rawIds]);
  await t.none(`UPDATE transaction_revisions r SET transaction_id = s.id ${replacedBy} AND r.transaction_id = p.id`, [rawIds]);
  await t.none(
    `WITH replaced AS (
       DELETE FROM transactions p
        USING transactions s
        WHERE s.tenant_id = p.tenant_id AND s.source = p.source AND s.supersedes = p.provider_ref
          AND p.status = 'pending' AND p.id <> s.id
          AND (p.raw_id = ANY($1::text[]) OR s.raw_id = ANY($1::text[]))
       RETURNING s.id AS successor, p.raw_id AS replaced_raw_id)
     UPDATE transactions t SET superseded_raw_id = replaced.replaced_raw_id FROM replaced WHERE t.id = replaced.successor`,
    [rawIds],
  );
  await t.none(
    `WITH targets AS (
       SELECT t.id, t.tenant_id, t.status AS was, r.raw_id AS removal_raw_id
         FROM transactions t
         JOIN transaction_removals r ON r.tenant_id = t.tenant_id AND r.source = t.source AND r.provider_ref = t.provider_ref
        WHERE t.status <> 'void' AND (t.raw_id = ANY($1::text[]) OR r.raw_id = ANY($1::text[]))),
     voided AS (UPDATE transactions t SET status = 'void' FROM targets WHERE t.id = targets.id),
     revision AS (
       INSERT INTO transaction_revisions (transaction_id, tenant_id, raw_id, outcome, changes)
       SELECT id, tenant_id, removal_raw_id, 'removal', jsonb_build_object('status', jsonb_build_object('from', was, 'to', 'void'))
         FROM targets
       ON CONFLICT (raw_id) DO NOTHING)
     INSERT INTO transaction_aliases (raw_id, tenant_id, transaction_id)
     SELECT removal_raw_id, tenant_id, id FROM targets
     ON CONFLICT (raw_id) DO NOTHING`,
    [rawIds],
  );
}
