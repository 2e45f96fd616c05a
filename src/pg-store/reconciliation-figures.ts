// What /metrics says of reconciliation, read at scrape time from the stored results.
import type { Database } from '../db/postgres.js';

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
