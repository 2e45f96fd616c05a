// The lease that lets one processor at a time run the scheduled reconciliation.
import type { Database } from '../db/postgres.js';

/**
 * Takes or renews the scheduled run's lease for `ms`: true when this worker holds it. Another worker takes
 * it over once it lapses (its holder stopped renewing: killed, or scaled down).
 */
export async function takeReconcileLease(db: Database, worker: string, ms: number): Promise<boolean> {
  const row = await db.oneOrNone<{ holder: string }>(
    `INSERT INTO reconciliation_lease (name, holder, until) VALUES ('reconcile', $1, clock_timestamp() + $2 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
      WHERE reconciliation_lease.until < clock_timestamp() OR reconciliation_lease.holder = EXCLUDED.holder
     RETURNING holder`,
    [worker, ms],
  );
  return row?.holder === worker;
}
