// A batch's plain rows (no provider object) inserted once: a replayed batch inserts nothing, and a raw
// document whose external id another already wrote (its first removed by retention, then sent again) becomes
// an alias of that row, in one more statement run only when that happens.
import type { Task } from '../db/postgres.js';
import type { Transaction } from '../domain/transaction.js';
import type { TransactionRow } from './rows.js';
import { transactionInsert } from './transaction-insert.js';

/** Rows without a provider object: inserted once, a replay or an external id already written inserting nothing. */
export async function insertPlainRows(t: Task, rows: TransactionRow[]): Promise<number> {
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
