// Reconciled days whose documents retention removed keep their summary, marked, and are not redone.
import type { Database } from '../db/postgres.js';

/** Days whose raw documents retention has removed keep their last summary, marked as such, and are not redone. */
export async function markRetentionRemoved(db: Database, before: Date): Promise<void> {
  await db.none('UPDATE reconciliation_days SET retention_removed = true WHERE day < $1::date AND NOT retention_removed', [
    before.toISOString().slice(0, 10),
  ]);
}
