// The scheduled reconciliation: every RECONCILE_INTERVAL_SECONDS the processor holding the lease runs an
// incremental run (a full one every RECONCILE_FULL_HOURS); the others find the lease held and wait.
import type { Database } from '../db/postgres.js';
import { lastRunStarted } from '../pg-store/last-run-started.js';
import { leaveReconcileLease } from '../pg-store/leave-reconcile-lease.js';
import { takeReconcileLease } from '../pg-store/take-reconcile-lease.js';
import type { MongoCollections } from '../raw-store/collections.js';
import type { ReconcileEvents } from './events.js';
import { type RunSettings, runReconciliation } from './run.js';

export interface ScheduleSettings extends RunSettings {
  intervalMs: number;
  fullEveryMs: number;
}

/** The first run comes this soon after start (or after one interval, if shorter), so a fresh system shows one. */
const FIRST_RUN_MS = 30_000;

export function startReconcileSchedule(options: {
  mongo: MongoCollections;
  db: Database;
  settings: ScheduleSettings;
  worker: string;
  /** Its runs and failures, for the log subscriber (reconcile/log-events.ts) and tests. */
  events: ReconcileEvents;
}): { stop(): Promise<void> } {
  const { mongo, db, settings, worker, events } = options;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  // A holder that stops renewing (killed) hands the duty to another processor within two intervals.
  const tick = async () => {
    if (!(await takeReconcileLease(db, worker, 2 * settings.intervalMs))) {
      events.emit('lease-skipped', { worker });
      return;
    }
    const lastFull = await lastRunStarted(db, ['full']);
    const mode = !lastFull || Date.now() - lastFull.getTime() >= settings.fullEveryMs ? 'full' : 'incremental';
    await runReconciliation(mongo, db, settings, { mode, trigger: 'schedule', worker, signal: abort.signal }, events);
  };
  const start = () => {
    if (running || abort.signal.aborted) return;
    running = tick()
      .catch((error: Error) => {
        if (!abort.signal.aborted) events.emit('schedule-failed', { error });
      })
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(start, Math.min(FIRST_RUN_MS, settings.intervalMs));
  const timer = setInterval(start, settings.intervalMs);
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      abort.abort();
      await running;
      await leaveReconcileLease(db, worker).catch(() => undefined);
    },
  };
}
