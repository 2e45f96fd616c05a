// The last reconciliation run, as GET /api/v1/admin/reconciliation shows it: the installation's to an operator,
// a tenant's own figures to its admin key.
import type { Database } from '../db/postgres.js';
import type { RunView } from './rows.js';

/** The last run of any kind, the whole installation's: an operator's view (all tenants). */
export async function lastRun(db: Database) {
  return db.oneOrNone<RunView>(
    `SELECT id::text, mode, trigger, started_at, finished_at, days, documents, mismatches, error FROM reconciliation_runs ORDER BY started_at DESC LIMIT 1`,
  );
}

/**
 * The last run that reconciled this tenant's days, with the tenant's own figures (its days, documents and
 * mismatches in that run), never the installation's: those would tell a tenant how much the others send.
 * A failed run's error names no detail (it may be about another tenant's data).
 */
export async function lastRunOfTenant(db: Database, tenantId: string) {
  return db.oneOrNone<RunView>(
    `SELECT r.id::text, r.mode, r.trigger, r.started_at, r.finished_at, d.days, d.documents, d.mismatches,
            CASE WHEN r.error IS NULL THEN NULL ELSE 'the run failed' END AS error
       FROM (SELECT run_id, count(*)::int AS days, sum(accepted)::int AS documents, sum(mismatches)::int AS mismatches
               FROM reconciliation_days
              WHERE tenant_id = $1 AND run_id = (SELECT max(run_id) FROM reconciliation_days WHERE tenant_id = $1)
              GROUP BY run_id) d
       JOIN reconciliation_runs r ON r.id = d.run_id`,
    [tenantId],
  );
}
