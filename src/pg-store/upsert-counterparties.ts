// A batch's counterparties upserted in one multi-row statement, their ids returned for the rows that name them.
import type { Task } from '../db/postgres.js';
import { UnnestInsert } from './unnest-insert.js';

export type CounterpartyRow = {
  tenant_id: string;
  name_normalized: string;
  display_name: string;
  merchant_category_code: string | null;
};
const counterpartyInsert = new UnnestInsert<CounterpartyRow>('counterparties', [
  ['tenant_id', 'text', (r) => r.tenant_id],
  ['name_normalized', 'text', (r) => r.name_normalized],
  ['display_name', 'text', (r) => r.display_name],
  ['merchant_category_code', 'bpchar', (r) => r.merchant_category_code],
]);

/** Upserts the counterparties (distinct, sorted by the caller); every one's id. */
export async function upsertCounterparties(t: Task, counterparties: CounterpartyRow[]) {
  // A merchant category code learnt later fills one that was missing; a known one is kept.
  return t.many<{ id: bigint; tenant_id: string; name_normalized: string }>(
    counterpartyInsert.query(
      counterparties,
      `ON CONFLICT (tenant_id, name_normalized) DO UPDATE
         SET merchant_category_code = COALESCE(counterparties.merchant_category_code, EXCLUDED.merchant_category_code)
       RETURNING id, tenant_id, name_normalized`,
    ),
  );
}
