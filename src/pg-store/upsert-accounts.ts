// A batch's accounts upserted in one multi-row statement, their ids returned for the rows that name them.
import type { Task } from '../db/postgres.js';
import { UnnestInsert } from './unnest-insert.js';

type AccountRow = { tenant_id: string; external_ref: string };
const accountInsert = new UnnestInsert<AccountRow>('accounts', [
  ['tenant_id', 'text', (r) => r.tenant_id],
  ['external_ref', 'text', (r) => r.external_ref],
]);

/** Upserts the accounts (distinct, sorted by the caller so concurrent batches lock in one order); every one's id. */
export async function upsertAccounts(t: Task, accounts: AccountRow[]) {
  // DO UPDATE (a no-op for accounts) rather than DO NOTHING, so existing rows are returned too.
  return t.many<{ id: bigint; tenant_id: string; external_ref: string }>(
    accountInsert.query(
      accounts,
      `ON CONFLICT (tenant_id, external_ref) DO UPDATE SET external_ref = EXCLUDED.external_ref
       RETURNING id, tenant_id, external_ref`,
    ),
  );
}
