// The watermark of incremental reconciliation: when the last good run started.
import type { Database } from '../db/postgres.js';
import type { RunMode } from './rows.js';

/**
 * When the last run of these modes that finished without an error started. The watermark of incremental
 * runs is the last full or incremental one's: a range run by hand covers only what it was asked.
 */
export async function lastRunStarted(db: Database, modes: RunMode[] = ['full', 'incremental']): Promise<Date | null> {
  const row = await db.oneOrNone<{ started_at: Date }>(
    `SELECT started_at FROM reconciliation_runs WHERE finished_at IS NOT NULL AND error IS NULL AND mode = ANY($1::text[])
      ORDER BY started_at DESC LIMIT 1`,
    [modes],
  );
  return row?.started_at ?? null;
}
