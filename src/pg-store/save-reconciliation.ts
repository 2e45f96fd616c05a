// A reconciliation run's findings replace what the scope held: each tenant, source and day's summary with its
// mismatches, in one transaction, so a reader sees the old days or the new, never a mix.
import type { Database } from '../db/postgres.js';
import type { DaySummary, Mismatch, Scope } from './rows.js';

const SCOPE = `day >= $1::date AND day < $2::date AND ($3::text IS NULL OR tenant_id = $3)`;
const scopeValues = (scope: Scope) => [scope.from.toISOString().slice(0, 10), scope.to.toISOString().slice(0, 10), scope.tenantId ?? null];

/** Replaces the scope's stored days and mismatches by a run's, in one transaction. */
export async function saveResults(
  db: Database,
  scope: Scope,
  result: { days: DaySummary[]; mismatches: Mismatch[] },
  run: { id: string; at: Date },
): Promise<void> {
  const mismatchesOf = new Map<string, number>();
  for (const m of result.mismatches) {
    const key = JSON.stringify([m.day, m.tenantId, m.source]);
    mismatchesOf.set(key, (mismatchesOf.get(key) ?? 0) + 1);
  }
  const days = result.days.map((d) => ({
    tenant_id: d.tenantId,
    source: d.source,
    day: d.day,
    accepted: d.accepted,
    processed: d.processed,
    failed: d.failed,
    dead: d.dead,
    waiting: d.waiting,
    oldest_waiting_at: d.oldestWaitingAt,
    rows_written: d.rows,
    revisions: d.revisions,
    voids: d.voids,
    replaced: d.replaced,
    aliases: d.aliases,
    sums: d.sums,
    mismatches: mismatchesOf.get(JSON.stringify([d.day, d.tenantId, d.source])) ?? 0,
  }));
  const mismatches = result.mismatches.map((m) => ({
    tenant_id: m.tenantId,
    source: m.source,
    day: m.day,
    raw_id: m.id,
    kind: m.kind,
    detail: m.detail,
  }));
  await db.tx('reconciliation-save', async (t) => {
    await t.none(`DELETE FROM reconciliation_mismatches WHERE ${SCOPE}`, scopeValues(scope));
    await t.none(`DELETE FROM reconciliation_days WHERE ${SCOPE}`, scopeValues(scope));
    await t.none(
      `INSERT INTO reconciliation_days (tenant_id, source, day, accepted, processed, failed, dead, waiting, oldest_waiting_at,
                                        rows_written, revisions, voids, replaced, aliases, sums, mismatches, reconciled_at, run_id)
       SELECT d.*, $2, $3 FROM jsonb_to_recordset($1::jsonb) AS d(tenant_id text, source text, day date, accepted int, processed int,
              failed int, dead int, waiting int, oldest_waiting_at timestamptz, rows_written int, revisions int, voids int,
              replaced int, aliases int, sums jsonb, mismatches int)`,
      [JSON.stringify(days), run.at, run.id],
    );
    await t.none(
      `INSERT INTO reconciliation_mismatches (tenant_id, source, day, raw_id, kind, detail, found_at)
       SELECT m.*, $2 FROM jsonb_to_recordset($1::jsonb) AS m(tenant_id text, source text, day date, raw_id text, kind text, detail text)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(mismatches), run.at],
    );
  });
}
