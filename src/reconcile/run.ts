// One reconciliation run, kept in PostgreSQL: `full` redoes every retained closed day, `incremental` only the
// days with new documents or outcomes since the last run (and those still waiting), `range` what was asked.
import type { Database } from '../db/postgres.js';
import type { DaySummary, Mismatch, MismatchKind } from '../domain/reconciliation.js';
import { daysWithWaiting } from '../pg-store/days-with-waiting.js';
import { finishRun } from '../pg-store/finish-reconciliation-run.js';
import { lastRunStarted } from '../pg-store/last-run-started.js';
import { markRetentionRemoved } from '../pg-store/mark-retention-removed.js';
import type { RunMode, Scope } from '../pg-store/rows.js';
import { saveResults } from '../pg-store/save-reconciliation.js';
import { startRun } from '../pg-store/start-reconciliation-run.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { changedDays } from './changed-days.js';
import type { ReconcileEvents, RunWindow } from './events.js';
import { reconcile } from './reconcile.js';

export interface RunSettings {
  waitingThresholdMs: number;
  /** RETENTION_PROCESSED_SECONDS: days older than this have lost processed documents and are not redone. */
  retentionSeconds: number;
}

export interface RunRequest {
  mode: RunMode;
  trigger: 'schedule' | 'command';
  worker: string;
  /** For `range`: the days, of one tenant or source or all. */
  range?: { from: Date; to: Date; tenantId?: string; source?: string };
  now?: Date;
  /** Stops a run between chunks (a processor shutting down); the run is recorded with the error. */
  signal?: AbortSignal;
}

export interface RunResult {
  runId: string;
  mode: RunMode;
  days: DaySummary[];
  mismatches: Mismatch[];
}

const DAY_MS = 86_400_000;
const startOfDay = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

/** Runs one reconciliation, stores what it found and records the run; a failed run is recorded with its error. */
export async function runReconciliation(
  mongo: MongoCollections,
  db: Database,
  settings: RunSettings,
  request: RunRequest,
  events?: ReconcileEvents,
): Promise<RunResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const { now, closed, retained, since, mode } = await planRun(db, settings, request);
  const { trigger, worker } = request;
  const runId = await startRun(db, mode, trigger, worker, now);
  const window: RunWindow = mode === 'range' ? request.range! : { from: retained, to: closed };
  const run = { runId, mode, trigger };
  events?.emit('run-started', { ...run, worker, window });
  const options = {
    waitingThresholdMs: settings.waitingThresholdMs,
    retentionSeconds: settings.retentionSeconds,
    now,
    signal: request.signal,
  };
  const result: RunResult = { runId, mode, days: [], mismatches: [] };
  let scopes = 0;
  const redo = async (scope: Scope & { source?: string }, save: boolean) => {
    const found = await reconcile(mongo, db, { ...options, ...scope });
    if (save) await saveResults(db, scope, found, { id: runId, at: now });
    result.days.push(...found.days);
    result.mismatches.push(...found.mismatches);
    scopes++;
  };
  try {
    await markRetentionRemoved(db, retained);
    if (mode === 'range') await redo(request.range!, isWholeDays(request.range!) && !request.range!.source);
    else if (mode === 'full') await redo({ from: retained, to: closed }, true);
    else for (const scope of await dueDays(mongo, db, since!, retained, closed)) await redo(scope, true);
  } catch (error) {
    await finishRun(db, runId, { error: (error as Error).message }).catch(() => undefined);
    events?.emit('run-failed', { ...run, error, durationMs: elapsed() });
    throw error;
  }
  const figures = {
    days: result.days.length,
    documents: result.days.reduce((sum, day) => sum + day.accepted, 0),
    mismatches: result.mismatches.length,
  };
  await finishRun(db, runId, figures);
  const mismatchesByKind = countByKind(result.mismatches);
  events?.emit('run-finished', { ...run, window, scopes, ...figures, mismatchesByKind, durationMs: elapsed() });
  return result;
}

/** The days a run may cover: closed ones only (today's documents are still arriving), and only those retention kept. */
async function planRun(db: Database, settings: RunSettings, request: RunRequest) {
  const now = request.now ?? new Date();
  const closed = startOfDay(now);
  const retained = new Date(startOfDay(new Date(now.getTime() - settings.retentionSeconds * 1000)).getTime() + DAY_MS);
  const since = request.mode === 'incremental' ? await lastRunStarted(db) : null;
  const mode: RunMode = request.mode === 'incremental' && !since ? 'full' : request.mode;
  return { now, closed, retained, since, mode };
}

const countByKind = (mismatches: Mismatch[]) => {
  const counts: Partial<Record<MismatchKind, number>> = {};
  for (const { kind } of mismatches) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
};

/**
 * The scopes an incremental run redoes within [from, to): every tenant's days that closed since the last
 * run, then each (tenant, day) with new documents or outcomes, or still waiting; oldest day first.
 */
async function dueDays(mongo: MongoCollections, db: Database, since: Date, from: Date, to: Date): Promise<Scope[]> {
  const dayScope = (day: string, tenantId?: string): Scope => {
    const start = new Date(`${day}T00:00:00Z`);
    return { ...(tenantId ? { tenantId } : {}), from: start, to: new Date(start.getTime() + DAY_MS) };
  };
  const closedSince = new Set<string>();
  for (let day = startOfDay(since); day < to; day = new Date(day.getTime() + DAY_MS)) closedSince.add(day.toISOString().slice(0, 10));
  const due = [...(await changedDays(mongo, since)), ...(await daysWithWaiting(db, from, to))].filter((d) => !closedSince.has(d.day));
  const keys = [...new Set(due.map((d) => JSON.stringify([d.day, d.tenantId])))].map((key) => JSON.parse(key) as [string, string]);
  return [...[...closedSince].map((day) => dayScope(day)), ...keys.map(([day, tenantId]) => dayScope(day, tenantId))]
    .filter((scope) => scope.from >= from && scope.to <= to)
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** A range is stored only when it covers whole UTC days: a part of a day is not that day's summary. */
const isWholeDays = (range: { from: Date; to: Date }) => range.from.getTime() % DAY_MS === 0 && range.to.getTime() % DAY_MS === 0;
