// A batch's rows inserted into `transactions`, the one INSERT on that table, in its two forms: plain rows (no
// provider object) inserted once, a replayed batch inserting nothing and a raw document whose external id
// another already wrote (its first removed by retention, then sent again) becoming an alias of that row; and
// new provider objects' rows, their ids returned for the revisions that follow.
import type { Task } from '../db/postgres.js';
import type { Transaction } from '../domain/transaction.js';
import type { TransactionRow } from './rows.js';
import { keyText, UnnestInsert } from './unnest-insert.js';

/** The transactions table's row as the writer inserts it, one bound array per column. */
const transactionInsert = new UnnestInsert<TransactionRow>('transactions', [
  ['tenant_id', 'text', (r) => r.tx.tenantId],
  ['raw_id', 'text', (r) => r.tx.rawId],
  ['source', 'text', (r) => r.tx.source],
  ['external_id', 'text', (r) => r.tx.externalId],
  ['provider_ref', 'text', (r) => r.tx.providerRef],
  ['supersedes', 'text', (r) => r.tx.supersedes],
  ['account_id', 'bigint', (r) => r.accountId],
  ['counterparty_id', 'bigint', (r) => r.counterpartyId],
  ['direction', 'text', (r) => r.tx.direction],
  ['amount_minor', 'bigint', (r) => r.tx.amountMinor.toString()],
  ['currency', 'bpchar', (r) => r.tx.currency],
  ['status', 'text', (r) => r.tx.status],
  ['description', 'text', (r) => r.tx.description],
  ['category', 'text', (r) => r.tx.category],
  ['occurred_at', 'timestamptz', (r) => r.tx.occurredAt],
  ['booked_at', 'timestamptz', (r) => r.tx.bookedAt],
  ['received_at', 'timestamptz', (r) => r.tx.receivedAt],
  ['metadata', 'jsonb', (r) => JSON.stringify(r.tx.metadata)],
  ['revision_key', 'text', (r) => keyText(r.tx.revisionKey), 'bigint[]'],
]);

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

/** Inserts new provider objects' rows; each one's id with its tenant, source and provider reference. */
export async function insertObjectRows(t: Task, rows: TransactionRow[]) {
  return t.many<{ id: bigint; tenant_id: string; source: string; provider_ref: string }>(
    transactionInsert.query(rows, 'RETURNING id, tenant_id, source, provider_ref'),
  );
}
