// A reconciliation run recorded as finished: its figures, or the error that stopped it.
import type { Database } from '../db/postgres.js';

export async function finishRun(
  db: Database,
  id: string,
  figures: { days: number; documents: number; mismatches: number } | { error: string },
): Promise<void> {
  const values = 'error' in figures ? [null, null, null, figures.error] : [figures.days, figures.documents, figures.mismatches, null];
  await db.none(
    'UPDATE reconciliation_runs SET finished_at = clock_timestamp(), days = $2, documents = $3, mismatches = $4, error = $5 WHERE id = $1',
    [id, ...values],
  );
}
