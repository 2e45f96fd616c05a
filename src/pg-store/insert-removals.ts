// A provider's removals, each kept for itself so that it voids its row even when that row is written after it.
import type { Task } from '../db/postgres.js';
import type { Removal } from '../domain/transaction.js';
import { UnnestInsert } from './unnest-insert.js';

const removalInsert = new UnnestInsert<Removal>('transaction_removals', [
  ['tenant_id', 'text', (r) => r.tenantId],
  ['source', 'text', (r) => r.source],
  ['provider_ref', 'text', (r) => r.providerRef],
  ['raw_id', 'text', (r) => r.rawId],
]);

/** A removal is kept for itself, so it voids its row even when that row is written after it. */
export async function insertRemovals(t: Task, removals: Removal[]): Promise<number> {
  const result = await t.result(removalInsert.query(removals, 'ON CONFLICT DO NOTHING'));
  return result.rowCount ?? 0;
}
