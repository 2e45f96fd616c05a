// Reconciliation's log lines, one subscriber of its events: a run once when it finishes, a scheduled turn's failure.
import type { Logger } from '../config/logger.js';
import type { ReconcileEvents } from './events.js';

export function logReconcileEvents(events: ReconcileEvents, parent: Logger): void {
  const logger = parent.child({ component: 'reconcile' });
  events.on('run-finished', ({ runId, mode, days, documents, mismatches }) =>
    logger.info({ runId, mode, days, documents, mismatches }, 'reconciliation run finished'),
  );
  // ops/alerts.yml points operators at this line.
  events.on('schedule-failed', ({ error }) => logger.warn({ err: error }, 'reconciliation run failed; the next interval tries again'));
}
