// Reconciliation's results in PostgreSQL: each tenant, source and day's last summary with its mismatches (a
// run replaces what it redid), the history of runs, and the lease that lets one processor run it at a time.
import type { Database } from '../db/postgres.js';
import type { DaySummary, Mismatch } from '../domain/reconciliation.js';

/** What a run redid: whole UTC days [from, to), of one tenant or all. */
export interface Scope {
  tenantId?: string;
  from: Date;
  to: Date;
}

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

/** Days whose raw documents retention has removed keep their last summary, marked as such, and are not redone. */
export async function markRetentionRemoved(db: Database, before: Date): Promise<void> {
  await db.none('UPDATE reconciliation_days SET retention_removed = true WHERE day < $1::date AND NOT retention_removed', [
    before.toISOString().slice(0, 10),
  ]);
}

/** The (tenant, day) pairs whose stored summary still has documents waiting: due at every run until they settle. */
export async function daysWithWaiting(db: Database, from: Date, to: Date): Promise<Array<{ tenantId: string; day: string }>> {
  return db.map(
    `SELECT DISTINCT tenant_id, to_char(day, 'YYYY-MM-DD') AS day FROM reconciliation_days
      WHERE waiting > 0 AND NOT retention_removed AND day >= $1::date AND day < $2::date`,
    [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)],
    (row: { tenant_id: string; day: string }) => ({ tenantId: row.tenant_id, day: row.day }),
  );
}

export type RunMode = 'full' | 'incremental' | 'range';

export async function startRun(db: Database, mode: RunMode, trigger: 'schedule' | 'command', worker: string, at: Date): Promise<string> {
  const { id } = await db.one<{ id: string }>(
    'INSERT INTO reconciliation_runs (mode, trigger, worker, started_at) VALUES ($1, $2, $3, $4) RETURNING id::text',
    [mode, trigger, worker, at],
  );
  return id;
}

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

/** Gives the lease back at shutdown, so that another processor need not wait for it to lapse. */
export async function leaveReconcileLease(db: Database, worker: string): Promise<void> {
  await db.none(`DELETE FROM reconciliation_lease WHERE name = 'reconcile' AND holder = $1`, [worker]);
}

/** What the metrics report: stored mismatches by kind, the latest stored day, the last good run. */
export async function reconciliationFigures(db: Database): Promise<{
  mismatches: Map<string, number>;
  lastDay: Date | null;
  lastRun: { finishedAt: Date; seconds: number } | null;
}> {
  const [kinds, day, run] = await Promise.all([
    db.map(
      'SELECT kind, count(*)::int AS n FROM reconciliation_mismatches GROUP BY kind',
      [],
      (r: { kind: string; n: number }) => [r.kind, r.n] as const,
    ),
    db.one<{ day: string | null }>("SELECT to_char(max(day), 'YYYY-MM-DD') AS day FROM reconciliation_days"),
    db.oneOrNone<{ finished_at: Date; seconds: number }>(
      `SELECT finished_at, extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM reconciliation_runs
        WHERE finished_at IS NOT NULL AND error IS NULL ORDER BY finished_at DESC LIMIT 1`,
    ),
  ]);
  return {
    mismatches: new Map(kinds),
    lastDay: day.day ? new Date(`${day.day}T00:00:00Z`) : null,
    lastRun: run ? { finishedAt: run.finished_at, seconds: run.seconds } : null,
  };
}

/** A day as stored: its summary, its count of mismatches, when it was reconciled, and whether retention removed its documents since. */
export interface StoredDay extends DaySummary {
  mismatches: number;
  reconciledAt: string;
  retentionRemoved: boolean;
}

export interface StoredMismatch {
  id: string;
  kind: string;
  tenantId: string;
  source: string;
  day: string;
  detail: string;
  foundAt: string;
}

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

export interface RunView {
  id: string;
  mode: string;
  trigger: string;
  started_at: Date;
  finished_at: Date | null;
  days: number | null;
  documents: number | null;
  mismatches: number | null;
  error: string | null;
}

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
