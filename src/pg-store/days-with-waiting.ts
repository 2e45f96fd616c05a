// The reconciled days still waiting on documents: an incremental run redoes them until they settle.
import type { Database } from '../db/postgres.js';

/** The (tenant, day) pairs whose stored summary still has documents waiting: due at every run until they settle. */
export async function daysWithWaiting(db: Database, from: Date, to: Date): Promise<Array<{ tenantId: string; day: string }>> {
  return db.map(
    `SELECT DISTINCT tenant_id, to_char(day, 'YYYY-MM-DD') AS day FROM reconciliation_days
      WHERE waiting > 0 AND NOT retention_removed AND day >= $1::date AND day < $2::date`,
    [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)],
    (row: { tenant_id: string; day: string }) => ({ tenantId: row.tenant_id, day: row.day }),
  );
}
