// The history of reconciliation runs: a run is recorded when it starts, and finished with its figures or its error.
import type { Database } from '../db/postgres.js';
import type { RunMode } from './rows.js';

export async function startRun(db: Database, mode: RunMode, trigger: 'schedule' | 'command', worker: string, at: Date): Promise<string> {
  const { id } = await db.one<{ id: string }>(
    'INSERT INTO reconciliation_runs (mode, trigger, worker, started_at) VALUES ($1, $2, $3, $4) RETURNING id::text',
    [mode, trigger, worker, at],
  );
  return id;
}
