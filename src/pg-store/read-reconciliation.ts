// The stored reconciliation of a range of days and its mismatches, for GET /api/v1/admin/reconciliation.
import type { Database } from '../db/postgres.js';
import type { StoredDay, StoredMismatch } from './rows.js';

/** The stored days of [from, to] (newest first) and their mismatches (up to `limit`), of a tenant or all. */
export async function readReconciliation(
  db: Database,
  filter: { tenantId?: string; source?: string; from: string; to: string; limit: number },
): Promise<{ days: StoredDay[]; mismatches: StoredMismatch[]; moreMismatches: boolean }> {
  const where = `day >= $1::date AND day <= $2::date AND ($3::text IS NULL OR tenant_id = $3) AND ($4::text IS NULL OR source = $4)`;
  const values = [filter.from, filter.to, filter.tenantId ?? null, filter.source ?? null, filter.limit + 1];
  const [days, mismatches] = await Promise.all([
    db.map(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, tenant_id, source, accepted, processed, failed, dead, waiting, oldest_waiting_at,
              rows_written, revisions, voids, replaced, aliases, sums, mismatches, reconciled_at, retention_removed
         FROM reconciliation_days WHERE ${where} ORDER BY day DESC, tenant_id, source`,
      values,
      (r) => ({
        day: r.day,
        tenantId: r.tenant_id,
        source: r.source,
        accepted: r.accepted,
        processed: r.processed,
        failed: r.failed,
        dead: r.dead,
        waiting: r.waiting,
        oldestWaitingAt: r.oldest_waiting_at?.toISOString() ?? null,
        rows: r.rows_written,
        revisions: r.revisions,
        voids: r.voids,
        replaced: r.replaced,
        aliases: r.aliases,
        sums: r.sums,
        mismatches: r.mismatches,
        reconciledAt: r.reconciled_at.toISOString(),
        retentionRemoved: r.retention_removed,
      }),
    ),
    db.map(
      `SELECT raw_id, kind, tenant_id, source, to_char(day, 'YYYY-MM-DD') AS day, detail, found_at
         FROM reconciliation_mismatches WHERE ${where} ORDER BY day DESC, tenant_id, source, kind, raw_id LIMIT $5`,
      values,
      (r) => ({
        id: r.raw_id,
        kind: r.kind,
        tenantId: r.tenant_id,
        source: r.source,
        day: r.day,
        detail: r.detail,
        foundAt: r.found_at.toISOString(),
      }),
    ),
  ]);
  return { days, mismatches: mismatches.slice(0, filter.limit), moreMismatches: mismatches.length > filter.limit };
}
