// The scheduled reconciliation's lease, given back at shutdown.
import type { Database } from '../db/postgres.js';

/** Gives the lease back at shutdown, so that another processor need not wait for it to lapse. */
export async function leaveReconcileLease(db: Database, worker: string): Promise<void> {
  await db.none(`DELETE FROM reconciliation_lease WHERE name = 'reconcile' AND holder = $1`, [worker]);
}
